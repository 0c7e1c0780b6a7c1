#include "engine/mail/preflight.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/mail/account_workers.hpp"
#include "engine/mail/public_plan.hpp"
#include "engine/mail/report.hpp"
#include "engine/run_metrics.hpp"

namespace arrival::engine {

namespace net = boost::asio;

void finding_tally::add(const std::string& kind, finding_example example, std::uint64_t size) {
    auto& f = findings_[kind];
    f.kind = kind;
    ++f.count;
    f.largest = std::max(f.largest, size);
    if (f.examples.size() < examples_per_kind_) f.examples.push_back(std::move(example));
}

void finding_tally::add_message(const dest_profile& profile, const std::string& account, const std::string& folder,
                                const std::string& dest_folder, const source_message& m, permanent_flags* folder_keywords) {
    const auto d = decide_message(profile, m.size, m.internaldate);
    if (d.what == message_decision::action::too_large) {
        add("too_large", {account, folder, m.uid, fmt::format("{} bytes, limit {}", m.size, profile.max_message_size.value_or(0))}, m.size);
        return;   // not sent: its flags and date do not matter
    }
    if (d.what == message_decision::action::empty) {
        add("empty_message", {account, folder, m.uid, "0 bytes"});
        return;
    }
    // As migrate's apply_profile decides it: date_dropped counts every INTERNALDATE not sent, date_from_header
    // those of them replaced by the message's own Date field.
    if (const auto when = choose_append_date(profile, m.internaldate, m.header_date, std::time(nullptr));
        when.from != append_date::source::internaldate) {
        add("date_dropped", {account, folder, m.uid, when.reason});
        if (when.from == append_date::source::date_header) add("date_from_header", {account, folder, m.uid, fmt::format("sent as {}", when.date)});
    }
    std::vector<flag_change> changes;
    // PERMANENTFLAGS are the destination folder's, which preflight does not open: any keyword is assumed
    // allowed, as migrate assumes before SELECT tells it otherwise (an empty folder, under a keyword limit).
    const auto sent = adapt_flags(profile.kind, dest_folder, m.flags, folder_keywords ? *folder_keywords : permanent_flags{}, changes);
    if (folder_keywords) folder_keywords->note_sent(sent);
    for (const auto& c : changes) {
        const bool system = !c.from.empty() && c.from.front() == '\\';
        const auto kind = system ? "flag_dropped" : c.to.empty() ? "keyword_dropped" : "keyword_rewritten";
        add(kind, {account, folder, m.uid,
                   c.to.empty() ? fmt::format("'{}': {}", c.from, c.reason) : fmt::format("'{}' -> '{}'", c.from, c.to)});
    }
}

void finding_tally::merge(const finding_tally& other) {
    for (const auto& [kind, f] : other.findings_) {
        auto& mine = findings_[kind];
        mine.kind = kind;
        mine.count += f.count;
        mine.largest = std::max(mine.largest, f.largest);
        for (const auto& e : f.examples) {
            if (mine.examples.size() < examples_per_kind_) mine.examples.push_back(e);
        }
    }
}

bool preflight_report::blocks() const {
    if (!source.ok || !dest.ok || (rest && !rest->ok)) return true;
    return std::any_of(accounts.begin(), accounts.end(), [](const account_scan& a) { return !a.error.empty(); });
}

namespace {

// Step 2 for one account, into `s` and the account's `tally`: plan its folders onto the destination's
// namespace and profile, and read every message's index (no bodies). Throws what the session throws.
net::awaitable<void> scan_folders(const account_pair& a, const preflight_options& options, const folder_namespace& dest_ns,
                                  const dest_profile& profile, account_scan& s, finding_tally& tally) {
    const auto& o = options.job;
    // --metrics: its messages as scanned, the index FETCHes' time.
    auto* m = o.pipeline.metrics;
    const auto src = co_await async_open_account_side(a, o, account_side::source);
    const auto view = co_await read_side(*src);
    const auto plan = plan_personal_onto(view, dest_ns, profile.kind, o.filter);
    for (const auto& e : plan.errors) tally.add("folder_clash", {a.source_user, "", 0, e});
    for (const auto& n : plan.other_users) tally.add("other_users_folder", {a.source_user, n, 0, "another user's folder: its owner's job copies it"});
    for (const auto& e : plan.entries) {
        if (e.renamed_by_profile) tally.add("folder_renamed", {a.source_user, e.source_name, 0, fmt::format("-> '{}': {}", e.dest_name, e.note)});
        if (!e.copy_messages || e.source_name.empty()) continue;
        ++s.folders;
        const auto st = co_await src->examine(e.source_name);
        if (!st.messages) continue;
        std::vector<std::pair<std::uint32_t, std::uint64_t>> bodies;
        permanent_flags folder_keywords({"\\*"}, profile.kind);
        const auto t0 = std::chrono::steady_clock::now();
        const auto index = co_await src->fetch_index(1, true);
        if (m) {
            m->observe(server_side::source, imap_operation::index, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            m->checked(check_command::preflight, index.size());
        }
        for (const auto& msg : index) {
            ++s.messages;
            s.bytes += msg.size;
            tally.add_message(profile, a.source_user, e.source_name, e.dest_name, msg, &folder_keywords);
            if (options.content) bodies.emplace_back(msg.uid, msg.size);
        }
        if (options.content) {
            folder_content c;
            c.account = a.source_user;
            c.folder = e.source_name;
            const std::function<void(scanned_body&&)> count = [&](scanned_body&& b) { c.add(b.uid, b.findings); };
            co_await scan_bodies(*src, bodies, body_batch_limits::from(o.pipeline), count);
            s.content.push_back(std::move(c));
        }
    }
    co_await src->logout();
}

net::awaitable<account_scan> scan_account(const account_pair& a, const preflight_options& options, const folder_namespace& dest_ns,
                                          const dest_profile& profile, finding_tally& tally) {
    account_scan s;
    s.source_user = a.source_user;
    s.dest_user = a.dest_user;
    // --metrics: the account as a job.
    auto* m = options.job.pipeline.metrics;
    if (m) m->account_started();
    try {
        co_await scan_folders(a, options, dest_ns, profile, s, tally);
    } catch (const session_error& e) {
        s.error = e.what();
        s.kind = e.kind();
    } catch (const std::exception& e) {
        s.error = e.what();
    }
    if (m) m->account_finished(s.error.empty());
    co_return s;
}

net::awaitable<side_check> check_side(const account_pair& a, const job_options& o, account_side side, std::unique_ptr<async_session>& session) {
    side_check c;
    c.role = side == account_side::source ? "source" : "destination";
    c.url = side == account_side::source ? o.source.url : o.dest.url;
    c.account = side == account_side::source ? a.source_user : a.dest_user;
    const auto& ep = side == account_side::source ? o.source : o.dest;
    const auto& admin = side == account_side::source ? o.source_admin : o.dest_admin;
    try {
        session = co_await async_open_account_side(a, o, side);
        c.ok = true;
        c.details.push_back(!session->tls_active() ? "NO TLS: the server offers no STARTTLS; the password went in cleartext"
                            : ep.insecure                ? "TLS, but certificate and host name NOT verified (--insecure)"
                                                         : "TLS: certificate and host name verified");
        c.details.push_back(admin.empty() ? fmt::format("logged in as {}", c.account)
                                          : fmt::format("{} acts for {} (SASL PLAIN authzid)", admin, c.account));
    } catch (const session_error& e) {
        c.error = e.what();
        c.kind = e.kind();
    } catch (const std::exception& e) {
        c.error = e.what();
    }
    co_return c;
}

// Step 1: both sides reached as the first account, the destination's profile and personal namespace read.
// False when a side failed (the report says which).
net::awaitable<bool> check_sides(const account_pair& first, const job_options& o, preflight_report& r, folder_namespace& dest_ns) {
    std::unique_ptr<async_session> src, dst;
    r.source = co_await check_side(first, o, account_side::source, src);
    r.dest = co_await check_side(first, o, account_side::destination, dst);
    if (src) co_await src->logout();
    if (!dst) co_return false;
    r.profile = dst->profile();
    r.profile_evidence = dst->profile_evidence();
    dest_ns = co_await dst->personal_namespace();
    co_await dst->logout();
    co_return r.source.ok;
}

}  // namespace

preflight_report run_preflight(const std::vector<account_pair>& accounts, const preflight_options& options) {
    preflight_report r;
    const auto t0 = std::chrono::steady_clock::now();
    if (accounts.empty()) return r;
    folder_namespace dest_ns;
    bool sides_ok = false;
    run_account_workers(1, 1, [&](std::size_t) -> net::awaitable<void> { sides_ok = co_await check_sides(accounts.front(), options.job, r, dest_ns); });
    if (!sides_ok) {
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return r;
    }

    r.content_scanned = options.content;
    r.accounts.resize(accounts.size());
    // Each account tallies apart and its tally joins the run's as it finishes (the accounts run on two
    // threads), so memory holds the run's examples, not every account's.
    std::mutex tally_mu;
    run_account_workers(accounts.size(), options.jobs, [&](std::size_t i) -> net::awaitable<void> {
        finding_tally tally;
        r.accounts[i] = co_await scan_account(accounts[i], options, dest_ns, r.profile, tally);   // each account writes only its own slot
        const std::lock_guard lock(tally_mu);
        r.tally.merge(tally);
    });
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

namespace {

nlohmann::json to_json(const side_check& c) {
    nlohmann::json j{{"url", c.url}, {"account", c.account}, {"ok", c.ok}, {"details", c.details}};
    j["error"] = c.ok ? nlohmann::json(nullptr) : nlohmann::json(c.error);
    return j;
}

std::string limit_text(const dest_profile& p) {
    if (!p.max_message_size) return "no message size limit known";
    return fmt::format("messages up to {} bytes ({})", *p.max_message_size,
                       p.max_from_appendlimit ? "the server's APPENDLIMIT" : "--max-message-size or the profile's default");
}

// One line per finding kind: what it means to the admin.
std::string_view meaning(std::string_view kind) {
    if (kind == "folder_renamed") return "folders renamed (the destination refuses their names)";
    if (kind == "folder_clash") return "folders not migrated (two source folders map onto one name)";
    if (kind == "other_users_folder") return "other users' folders seen by an account (their owners' jobs copy them)";
    if (kind == "keyword_rewritten") return "keywords rewritten";
    if (kind == "keyword_dropped") return "keywords dropped";
    if (kind == "flag_dropped") return "system flags dropped";
    if (kind == "too_large") return "messages over the size limit: NOT copied";
    if (kind == "empty_message") return "0-byte messages: NOT copied";
    if (kind == "date_dropped") return "messages not sent with their INTERNALDATE (lost, implausible, or refused by the destination)";
    if (kind == "date_from_header") return "of those, sent with their own Date field instead (the rest with none: the arrival time)";
    return kind;
}

}  // namespace

nlohmann::json to_json(const preflight_report& r) {
    nlohmann::json j;
    j["command"] = "preflight";
    j["ok"] = !r.blocks();
    j["seconds"] = r.seconds;
    j["source"] = to_json(r.source);
    j["destination"] = to_json(r.dest);
    if (r.rest) j["rest"] = to_json(*r.rest);
    j["profile"] = {{"name", std::string(to_string(r.profile.kind))},
                    {"evidence", r.profile_evidence},
                    {"max_message_size", r.profile.max_message_size ? nlohmann::json(*r.profile.max_message_size) : nlohmann::json(nullptr)},
                    {"max_message_size_from_appendlimit", r.profile.max_from_appendlimit}};
    std::uint64_t folders = 0, messages = 0, bytes = 0;
    auto accounts = nlohmann::json::array();
    for (const auto& a : r.accounts) {
        folders += a.folders;
        messages += a.messages;
        bytes += a.bytes;
        nlohmann::json ja{{"source_user", a.source_user}, {"dest_user", a.dest_user}, {"folders", a.folders},
                          {"messages", a.messages}, {"bytes", a.bytes}};
        ja["error"] = a.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.error);
        accounts.push_back(std::move(ja));
    }
    j["totals"] = {{"accounts", r.accounts.size()}, {"folders", folders}, {"messages", messages}, {"bytes", bytes}};
    j["accounts"] = std::move(accounts);
    auto findings = nlohmann::json::array();
    for (const auto& [kind, f] : r.tally.findings()) {
        auto examples = nlohmann::json::array();
        for (const auto& e : f.examples) {
            nlohmann::json je{{"account", e.account}, {"folder", e.folder}, {"detail", e.detail}};
            if (e.uid) je["uid"] = e.uid;
            examples.push_back(std::move(je));
        }
        nlohmann::json jf{{"kind", kind}, {"count", f.count}, {"examples", std::move(examples)}};
        if (kind == "too_large") jf["largest"] = f.largest;
        findings.push_back(std::move(jf));
    }
    j["findings"] = std::move(findings);
    if (r.content_scanned) {
        std::vector<const folder_content*> all;
        auto per_folder = nlohmann::json::array();
        for (const auto& a : r.accounts) {
            for (const auto& c : a.content) {
                all.push_back(&c);
                per_folder.push_back(to_json(c));
            }
        }
        j["content"] = content_totals(all);
        j["content"]["folders"] = std::move(per_folder);
    }
    return j;
}

std::string describe(const preflight_report& r) {
    std::string out;
    auto side = [&](const side_check& c) {
        out += fmt::format("{:<12} {}  {}\n", c.role, c.url, c.ok ? "ok" : "FAILED");
        if (!c.ok) out += fmt::format("             {}\n", c.error);
        for (const auto& d : c.details) out += fmt::format("             {}\n", d);
    };
    side(r.source);
    side(r.dest);
    if (r.rest) side(*r.rest);
    if (r.dest.ok) {
        out += fmt::format("profile      {}{}\n", to_string(r.profile.kind),
                           r.profile_evidence.empty() ? "" : fmt::format(" ({})", r.profile_evidence));
        out += fmt::format("limits       {}\n", limit_text(r.profile));
        if (r.profile.kind == dest_profile_kind::carbonio) {
            out += "             no INTERNALDATE after 2038-01-19; command lines under 10,240 bytes; never 5 refusals in a row\n"
                   "             nor 26 identical APPENDs in 5 minutes on one account (Carbonio drops the connection)\n";
        }
    }
    std::uint64_t messages = 0, bytes = 0, folders = 0, failed = 0;
    for (const auto& a : r.accounts) {
        messages += a.messages;
        bytes += a.bytes;
        folders += a.folders;
        if (!a.error.empty()) ++failed;
    }
    if (!r.accounts.empty()) {
        out += fmt::format("scanned      {} account(s), {} folder(s), {} message(s), {}{}\n", r.accounts.size(), folders, messages,
                           human_bytes(bytes), r.content_scanned ? "" : " (no bodies fetched)");
    }
    for (const auto& a : r.accounts) {
        if (!a.error.empty()) out += fmt::format("  account {}: NOT scanned: {}\n", a.source_user, a.error);
    }
    if (r.tally.findings().empty() && !r.accounts.empty() && failed == 0) out += "changes      none: every folder, flag, size and date goes as it is\n";
    for (const auto& [kind, f] : r.tally.findings()) {
        out += fmt::format("{:>8}  {}", f.count, meaning(kind));
        if (kind == "too_large") out += fmt::format(" (largest {} bytes; raise the destination's limit to copy them)", f.largest);
        out += '\n';
        for (const auto& e : f.examples) {
            out += fmt::format("          e.g. {}{}{}: {}\n", e.account, e.folder.empty() ? "" : fmt::format(" '{}'", e.folder),
                               e.uid ? fmt::format(" UID {}", e.uid) : "", e.detail);
        }
    }
    if (r.content_scanned) {
        std::uint64_t scanned = 0, with_traits = 0;
        std::string lines;
        for (const auto& a : r.accounts) {
            for (const auto& c : a.content) {
                scanned += c.scanned;
                with_traits += c.with_traits;
                lines += describe(c, "  ");
            }
        }
        out += fmt::format("content      {} message(s) scanned, {} with bytes a strict destination may refuse or alter{}\n", scanned,
                           with_traits, with_traits ? ":" : " (none)");
        out += lines;
    }
    out += r.blocks() ? "preflight: BLOCKED (see above)\n" : "preflight: nothing blocks the migration\n";
    return out;
}

}  // namespace arrival::engine
