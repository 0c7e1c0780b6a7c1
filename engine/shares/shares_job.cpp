#include "engine/shares/shares_job.hpp"

#include <utility>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "engine/mail/account_workers.hpp"
#include "engine/mail/public_plan.hpp"
#include "engine/shares/grant_plan.hpp"
#include "protocol/imap/acl.hpp"
#include "protocol/imap/connection.hpp"

namespace arrival::shares {

namespace net = boost::asio;

std::string_view to_string(grant_status s) noexcept {
    switch (s) {
        case grant_status::added: return "added";
        case grant_status::unchanged: return "unchanged";
        case grant_status::refused: return "refused";
        case grant_status::skipped: return "skipped";
        case grant_status::failed: return "failed";
    }
    return "failed";
}

namespace {

// A command that failed on one folder: the folder's error, or (connection lost) the account's.
struct folder_failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class account_run {
public:
    account_run(const shares_options& o, const engine::account_pair& a, const identifier_rules& rules)
        : o_(o), a_(a), rules_(rules) {}

    net::awaitable<account_result> run() {
        account_result r;
        r.source_user = a_.source_user;
        r.dest_user = a_.dest_user;
        r.shared_scope = a_.scope == engine::folder_scope::shared;
        try {
            src_ = co_await engine::async_open_account_side(a_, o_.job, engine::account_side::source);
            dst_ = co_await engine::async_open_account_side(a_, o_.job, engine::account_side::destination);
            rules_.dest = group_syntax_for(dst_->profile().kind);
            const auto sv = co_await engine::read_side(*src_);
            const auto dv = co_await engine::read_side(*dst_);
            const auto plan = engine::plan_scope(sv, &dv, o_.job.filter, a_.scope);
            for (const auto& e : plan.errors) r.folders.push_back({"", "", {}, e});
            for (const auto& entry : plan.entries) {
                if (entry.source_name.empty()) continue;   // a parent migrate only creates
                r.folders.push_back(co_await folder(entry));
            }
        } catch (const engine::session_error& e) {
            r.error = e.what();
            r.kind = e.kind();
        } catch (const std::exception& e) {
            r.error = fmt::format("{}: {}", a_.source_user, e.what());
        }
        for (const auto& f : r.folders) {
            if (!f.error.empty()) ++r.failed;
            for (const auto& g : f.grants) {
                if (g.status == grant_status::added) ++r.added;
                else if (g.status == grant_status::unchanged) ++r.unchanged;
                else if (g.status == grant_status::refused) ++r.refused;
                else if (g.status == grant_status::failed) ++r.failed;
            }
        }
        // Closed here, on the executor the connections live on.
        if (src_) co_await src_->logout();
        if (dst_) co_await dst_->logout();
        src_.reset();
        dst_.reset();
        co_return r;
    }

private:
    // The folder's error text for a failed command; a lost connection ends the account (throw_error).
    std::string failure(engine::async_session& s, const imap::error_code& ec, const std::string& what) {
        if (imap::is_fatal(ec)) s.throw_error(ec, what);
        return fmt::format("{}: {} failed: {}", a_.source_user, what, s.connection().diag().to_string());
    }

    // After a refused GETACL: what MYRIGHTS says the login may do there (reading an ACL needs 'a' or 'l'+'a',
    // RFC 4314 §4), so the report says why; nothing when MYRIGHTS fails too.
    net::awaitable<std::string> rights_hint(engine::async_session& s, const std::string& folder) {
        imap::error_code ec;
        const auto mine = co_await s.connection().async_myrights(folder, ec);
        if (ec) {
            if (imap::is_fatal(ec)) s.throw_error(ec, "MYRIGHTS " + folder);
            co_return std::string();
        }
        co_return fmt::format(" (MYRIGHTS: this login has '{}' there; reading an ACL needs 'a')", mine);
    }

    // GETACL of one folder on one side. Refused: `error` says so (with MYRIGHTS' hint) and nothing comes back.
    net::awaitable<std::optional<std::vector<imap::acl_grant>>> acl_of(engine::async_session& s, const std::string& folder,
                                                                      const char* side, std::string& error) {
        imap::error_code ec;
        auto acl = co_await s.connection().async_getacl(folder, ec);
        if (!ec) co_return std::optional<std::vector<imap::acl_grant>>(std::move(acl));
        error = failure(s, ec, fmt::format("GETACL {} on the {}", folder, side));
        const auto hint = co_await rights_hint(s, folder);
        error += hint;
        co_return std::nullopt;
    }

    net::awaitable<folder_result> folder(const engine::folder_plan_entry& entry) {
        folder_result f;
        f.source = entry.source_name;
        f.dest = entry.dest_name;
        const auto source_acl = co_await acl_of(*src_, entry.source_name, "source", f.error);
        if (!source_acl) co_return f;
        if (entry.create) {
            if (!source_acl->empty()) {
                f.error = fmt::format("{}: {} is not on the destination yet (run arrival migrate first); its {} "
                                      "grant(s) wait", a_.source_user, entry.dest_name, source_acl->size());
            }
            co_return f;
        }
        const auto dest_acl = co_await acl_of(*dst_, entry.dest_name, "destination", f.error);
        if (!dest_acl) co_return f;
        for (const auto& g : *source_acl) f.grants.push_back(co_await grant(entry.dest_name, g, *dest_acl));
        co_return f;
    }

    net::awaitable<grant_result> grant(const std::string& dest_folder, const imap::acl_grant& g,
                                       const std::vector<imap::acl_grant>& dest_acl) {
        grant_result out;
        out.identifier = g.identifier;
        out.rights = g.rights;
        const auto mapped = map_identifier(g.identifier, rules_, a_.dest_user);
        out.note = mapped.note;
        if (mapped.identifier.empty() || lower_ascii(mapped.identifier) == lower_ascii(a_.dest_user)) {
            out.status = grant_status::skipped;
            out.why = mapped.identifier.empty() ? mapped.note : "the folder's owner (implicit on the destination)";
            co_return out;
        }
        out.dest_identifier = mapped.identifier;
        std::string current;
        for (const auto& d : dest_acl) {
            if (lower_ascii(d.identifier) == lower_ascii(mapped.identifier)) current = d.rights;
        }
        // Already there in full: no question to the destination at all (what makes a rerun cheap).
        auto decision = decide_rights(g.rights, current, std::nullopt);
        if (!decision.unchanged) {
            imap::error_code ec;
            auto& dc = dst_->connection();
            const auto offer = co_await dc.async_listrights(dest_folder, mapped.identifier, ec);
            std::optional<rights_offer> known;
            if (!ec) known = rights_offer{offer.required, offer.optional};
            else if (imap::is_fatal(ec)) dst_->throw_error(ec, "LISTRIGHTS " + dest_folder);
            decision = decide_rights(g.rights, current, known);
        }
        out.granted = decision.unchanged ? imap::normalize_rights(current) : "";
        out.refused = decision.refused;
        out.why = decision.why;
        if (decision.grant.empty()) {
            out.status = grant_status::refused;
            co_return out;
        }
        if (decision.unchanged) {
            out.status = grant_status::unchanged;
            co_return out;
        }
        out.status = grant_status::added;
        if (o_.job.dry_run) {
            out.granted = decision.grant;
            co_return out;
        }
        imap::error_code ec;
        auto& dc = dst_->connection();
        const std::string mod = "+" + decision.grant;
        co_await dc.async_setacl(dest_folder, mapped.identifier, mod, ec);
        if (ec) {
            out.status = grant_status::failed;
            out.why = failure(*dst_, ec, fmt::format("SETACL {} {} {}", dest_folder, mapped.identifier, mod));
            co_return out;
        }
        out.granted = decision.grant;
        co_return out;
    }

    const shares_options& o_;
    const engine::account_pair& a_;
    identifier_rules rules_;
    std::unique_ptr<engine::async_session> src_, dst_;
};

}  // namespace

std::vector<account_result> run_shares(const shares_options& o, const std::vector<engine::account_pair>& accounts) {
    identifier_rules rules;
    for (const auto& a : accounts) {
        if (a.scope == engine::folder_scope::personal) rules.accounts[lower_ascii(a.source_user)] = a.dest_user;
    }
    rules.domains = o.domains;
    std::vector<account_result> results(accounts.size());
    // Each account on its own pair of connections, as a coroutine (engine/mail/account_workers.hpp).
    engine::run_account_workers(accounts.size(), o.jobs, [&](std::size_t i) -> net::awaitable<void> {
        try {
            account_run job(o, accounts[i], rules);
            results[i] = co_await job.run();
        } catch (const std::exception& e) {   // bad_alloc and the like: still one account's problem
            results[i].source_user = accounts[i].source_user;
            results[i].dest_user = accounts[i].dest_user;
            results[i].error = e.what();
        }
    });
    return results;
}

nlohmann::json shares_report_json(const std::string& source, const std::string& dest, bool dry_run,
                                  const std::vector<account_result>& results) {
    nlohmann::json j;
    j["command"] = "shares";
    j["source"] = source;
    j["dest"] = dest;
    j["dry_run"] = dry_run;
    std::size_t added = 0, unchanged = 0, refused = 0, failed = 0;
    auto& accounts = j["accounts"] = nlohmann::json::array();
    for (const auto& r : results) {
        nlohmann::json a;
        a["source_user"] = r.source_user;
        a["dest_user"] = r.dest_user;
        a["scope"] = r.shared_scope ? "shared" : "personal";
        a["status"] = r.ok() ? "ok" : "failed";
        if (!r.error.empty()) a["error"] = r.error;
        a["added"] = r.added;
        a["unchanged"] = r.unchanged;
        a["refused"] = r.refused;
        a["failed"] = r.failed;
        auto& folders = a["folders"] = nlohmann::json::array();
        for (const auto& f : r.folders) {
            nlohmann::json fj;
            fj["source"] = f.source;
            fj["dest"] = f.dest;
            if (!f.error.empty()) fj["error"] = f.error;
            auto& grants = fj["grants"] = nlohmann::json::array();
            for (const auto& g : f.grants) {
                nlohmann::json gj{{"identifier", g.identifier}, {"dest_identifier", g.dest_identifier},
                                  {"rights", g.rights}, {"granted", g.granted}, {"status", to_string(g.status)}};
                if (!g.refused.empty()) gj["refused_rights"] = g.refused;
                if (!g.why.empty()) gj["why"] = g.why;
                if (!g.note.empty()) gj["note"] = g.note;
                grants.push_back(std::move(gj));
            }
            folders.push_back(std::move(fj));
        }
        accounts.push_back(std::move(a));
        added += r.added;
        unchanged += r.unchanged;
        refused += r.refused;
        failed += r.failed;
    }
    j["totals"] = {{"accounts", results.size()}, {"added", added}, {"unchanged", unchanged}, {"refused", refused},
                   {"failed", failed}};
    return j;
}

}  // namespace arrival::shares
