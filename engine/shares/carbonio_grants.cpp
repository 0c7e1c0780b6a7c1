#include "engine/shares/carbonio_grants.hpp"

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/pim/carbonio_login.hpp"
#include "engine/pim/carbonio_rest.hpp"
#include "engine/pim/carbonio_soap.hpp"
#include "engine/pim/csv_reader.hpp"
#include "engine/shares/grant_plan.hpp"
#include "protocol/http/client.hpp"
#include "protocol/tls_policy.hpp"

namespace arrival::shares {

namespace net = boost::asio;

namespace {

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// An address through the accounts file, else --map-domain.
std::string map_address(const std::string& a, const carbonio_grant_options& o) {
    if (const auto it = o.accounts.find(lower_ascii(a)); it != o.accounts.end()) return it->second;
    return map_domain(a, o.domains);
}

// FACTS.md §4, ACL l.556-585: the perm letters Carbonio knows; c is accepted with no effect.
constexpr std::string_view carbonio_perms = "rwidxapf";

bool covers(std::string_view have, std::string_view want) {
    return std::all_of(want.begin(), want.end(), [&](char c) { return have.find(c) != std::string_view::npos; });
}

std::string merged(std::string_view have, std::string_view add) {
    std::string out;
    for (char c : carbonio_perms) {
        if (have.find(c) != std::string_view::npos || add.find(c) != std::string_view::npos) out += c;
    }
    return out;
}

bool same_grantee(const pim::folder_grant& existing, const pim::folder_grant& wanted) {
    if (existing.gt != wanted.gt) return false;
    if (wanted.gt == "all" || wanted.gt == "pub") return true;   // one grant of each per folder; no d
    return lower_ascii(existing.d) == lower_ascii(wanted.d);
}

class owner_job {
public:
    owner_job(const carbonio_grant_options& o, pim::carbonio_session& session, std::string owner,
              std::vector<const csv_share*> rows)
        : o_(o), session_(session), owner_(std::move(owner)), rows_(std::move(rows)) {}

    net::awaitable<account_result> run() {
        account_result r;
        r.source_user = owner_;
        r.dest_user = map_address(owner_, o_);
        const auto ex = co_await net::this_coro::executor;
        auto origin = o_.conn.dest.url;
        origin.target = "/";
        auto login = co_await pim::delegate_login(o_.conn, session_, r.dest_user);
        if (!login.error.empty()) {
            r.error = fmt::format("{}: {}", r.dest_user, login.error);
            r.kind = login.kind;
            co_return r;
        }
        token_ = std::move(login.token);
        auto context = origin.tls ? tls::make_client_context(o_.conn.tls) : nullptr;
        client_ = std::make_unique<http::client>(ex, origin, std::move(context), std::string(), o_.conn.timeouts);
        std::vector<pim::mail_folder> folders;
        {
            const http::request req{"POST", "/service/soap", {{"Content-Type", std::string(pim::soap_content_type)}},
                                    pim::get_folder_request(token_.reveal())};
            boost::system::error_code ec;
            const auto resp = co_await pim::send_retrying(*client_, o_.conn, req, ec, true);
            const auto out = ec ? pim::soap_outcome{ec.message(), ""} : pim::read_folders(resp.status, resp.body, folders);
            if (!out.error.empty()) {
                r.error = fmt::format("GetFolderRequest for {} at {}: {}", r.dest_user, origin.origin(), out.error);
                r.kind = out.auth_refused() ? engine::error_kind::auth : engine::error_kind::protocol;
                co_return r;
            }
        }
        std::vector<std::string> paths;
        for (const auto& f : folders) paths.push_back(f.path);
        for (const auto* row : rows_) {
            const std::string wanted_path = row->folder.empty() || row->folder[0] != '/' ? "/" + row->folder : row->folder;
            const auto path = pim::find_folder(paths, wanted_path);
            auto fit = std::find_if(r.folders.begin(), r.folders.end(),
                                    [&](const folder_result& f) { return f.source == row->folder; });
            if (fit == r.folders.end()) {
                r.folders.push_back({row->folder, path.empty() ? wanted_path : path, {}, ""});
                fit = std::prev(r.folders.end());
            }
            if (path.empty()) {
                fit->grants.push_back({row->grantee, "", row->rights, "", "",
                                       fmt::format("line {}: {} has no folder {}", row->line, r.dest_user, wanted_path),
                                       "", grant_status::failed});
                continue;
            }
            auto& folder = *std::find_if(folders.begin(), folders.end(), [&](const auto& f) { return f.path == path; });
            fit->grants.push_back(co_await grant(*row, folder));
        }
        for (const auto& f : r.folders) {
            for (const auto& g : f.grants) {
                if (g.status == grant_status::added) ++r.added;
                else if (g.status == grant_status::unchanged) ++r.unchanged;
                else if (g.status == grant_status::refused) ++r.refused;
                else if (g.status == grant_status::failed) ++r.failed;
            }
        }
        co_return r;
    }

private:
    net::awaitable<grant_result> grant(const csv_share& row, pim::mail_folder& folder) {
        grant_result out;
        out.identifier = row.grantee;
        out.rights = row.rights;
        const auto plan = plan_carbonio_grant(row, o_);
        out.refused = plan.refused;
        out.why = plan.why;
        out.note = plan.note;
        out.dest_identifier = plan.grant.d.empty() ? plan.grant.gt : plan.grant.gt + ":" + plan.grant.d;
        if (plan.grant.perm.empty()) {
            out.status = grant_status::refused;
            co_return out;
        }
        std::string have;
        for (const auto& g : folder.grants) {
            if (same_grantee(g, plan.grant)) have = g.perm;
        }
        if (covers(have, plan.grant.perm)) {
            out.status = grant_status::unchanged;
            out.granted = merged(have, "");
            co_return out;
        }
        auto send = plan.grant;
        send.perm = merged(have, plan.grant.perm);
        out.status = grant_status::added;
        out.granted = send.perm;
        if (o_.dry_run) co_return out;
        const http::request req{"POST", "/service/soap", {{"Content-Type", std::string(pim::soap_content_type)}},
                                pim::folder_grant_request(token_.reveal(), folder.id, send)};
        boost::system::error_code ec;
        const auto resp = co_await pim::send_retrying(*client_, o_.conn, req, ec, true);
        const auto result = ec ? pim::soap_outcome{ec.message(), ""} : pim::read_folder_action(resp.status, resp.body);
        if (!result.error.empty()) {
            out.status = grant_status::failed;
            out.granted.clear();
            out.why = fmt::format("line {}: FolderActionRequest grant {} on {}'s {}: {}", row.line, out.dest_identifier,
                                  owner_, folder.path, result.error);
            co_return out;
        }
        // A later row for the same grantee on this folder sees what this one wrote.
        folder.grants.push_back(send);
        co_return out;
    }

    const carbonio_grant_options& o_;
    pim::carbonio_session& session_;
    std::string owner_;
    std::vector<const csv_share*> rows_;
    engine::secret_string token_;
    std::unique_ptr<http::client> client_;
};

}  // namespace

csv_shares read_shares_csv(const std::string& path) {
    csv_shares out;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(fmt::format("cannot read {}", path));
    std::stringstream ss;
    ss << in.rdbuf();
    const auto table = pim::read_csv(ss.str());
    for (const auto& i : table.issues) out.errors.push_back(fmt::format("{}:{}: {}", path, i.line, i.message));
    std::map<std::string, std::size_t> col;
    for (std::size_t i = 0; i < table.header.size(); ++i) col[lower_ascii(trim(table.header[i]))] = i;
    for (const char* need : {"owner", "folder", "grantee", "rights"}) {
        if (!col.count(need)) {
            out.errors.push_back(fmt::format("{}:1: no '{}' column (the header must name owner,folder,grantee,rights)",
                                             path, need));
            return out;
        }
    }
    for (const auto& rec : table.rows) {
        auto field = [&](const char* name) {
            const auto i = col[name];
            return i < rec.fields.size() ? trim(rec.fields[i]) : std::string();
        };
        csv_share s{rec.line, field("owner"), field("folder"), field("grantee"), field("rights")};
        if (s.owner.empty() || s.folder.empty() || s.grantee.empty()) {
            out.errors.push_back(fmt::format("{}:{}: owner, folder and grantee are required", path, rec.line));
            continue;
        }
        out.rows.push_back(std::move(s));
    }
    return out;
}

planned_grant plan_carbonio_grant(const csv_share& row, const carbonio_grant_options& o) {
    planned_grant p;
    const std::string g = lower_ascii(row.grantee);
    if (g == "anyone" || g == "authenticated") {
        p.grant.gt = "all";
        if (g == "anyone") p.note = "anyone -> all (Carbonio: every authenticated user)";
    } else if (g.rfind("group:", 0) == 0) {
        p.grant.gt = "grp";
        p.grant.d = map_address(row.grantee.substr(6), o);
    } else if (g.rfind("domain:", 0) == 0) {
        p.grant.gt = "dom";
        p.grant.d = map_domain("x@" + row.grantee.substr(7), o.domains).substr(2);
    } else {
        p.grant.gt = "usr";
        p.grant.d = map_address(row.grantee, o);
        if (lower_ascii(p.grant.d) != g) p.note = fmt::format("{} -> {}", row.grantee, p.grant.d);
    }
    std::string unknown, admin;
    for (char c : row.rights) {
        const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (l == 'c') continue;   // accepted by Carbonio with no effect (ACL l.556-585)
        if (carbonio_perms.find(l) == std::string_view::npos) unknown += c;
        else if (l == 'a' && p.grant.gt != "usr" && p.grant.gt != "grp") admin += l;
        else if (p.grant.perm.find(l) == std::string::npos) p.grant.perm += l;
    }
    p.grant.perm = merged("", p.grant.perm);   // canonical order
    p.refused = unknown + admin;
    std::vector<std::string> why;
    if (!unknown.empty()) why.push_back(fmt::format("Carbonio has no right '{}' (its letters: rwidxapf)", unknown));
    if (!admin.empty()) why.push_back("Carbonio grants 'a' only to users and groups");
    if (p.grant.perm.empty() && why.empty()) why.emplace_back("no rights");
    p.why = fmt::format("{}", fmt::join(why, "; "));
    return p;
}

std::vector<account_result> run_carbonio_grants(const carbonio_grant_options& o, const std::vector<csv_share>& rows) {
    // One job per owner, in the order owners first appear.
    std::vector<std::pair<std::string, std::vector<const csv_share*>>> owners;
    for (const auto& r : rows) {
        auto it = std::find_if(owners.begin(), owners.end(), [&](const auto& x) { return lower_ascii(x.first) == lower_ascii(r.owner); });
        if (it == owners.end()) owners.push_back({r.owner, {&r}});
        else it->second.push_back(&r);
    }
    std::vector<account_result> results(owners.size());
    if (owners.empty()) return results;
    net::io_context ioc(1);
    std::exception_ptr failure;
    pim::carbonio_session session;
    net::co_spawn(ioc, pim::admin_login(o.conn, session), [&](std::exception_ptr e) { failure = e; });
    ioc.run();
    if (failure) std::rethrow_exception(failure);
    if (!session.error.empty()) {
        for (std::size_t i = 0; i < owners.size(); ++i) {
            results[i].source_user = owners[i].first;
            results[i].error = session.error;
            results[i].kind = session.kind;
        }
        return results;
    }
    ioc.restart();
    std::size_t next = 0;
    auto worker = [&]() -> net::awaitable<void> {
        while (next < owners.size()) {
            const auto i = next++;
            owner_job job(o, session, owners[i].first, owners[i].second);
            results[i] = co_await job.run();
        }
    };
    const auto workers = std::max<std::size_t>(1, std::min<std::size_t>(o.jobs, owners.size()));
    for (std::size_t w = 0; w < workers; ++w) {
        net::co_spawn(ioc, worker(), [&](std::exception_ptr e) {
            if (e && !failure) failure = e;
        });
    }
    ioc.run();
    if (failure) std::rethrow_exception(failure);
    return results;
}

}  // namespace arrival::shares
