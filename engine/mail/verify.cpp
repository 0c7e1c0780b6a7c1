#include "engine/mail/verify.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "engine/mail/account_workers.hpp"
#include "engine/mail/public_plan.hpp"
#include "engine/run_metrics.hpp"

namespace arrival::engine {

namespace net = boost::asio;

std::uint64_t account_verification::missing() const {
    std::uint64_t n = 0;
    for (const auto& f : folders) n += f.missing.size();
    return n;
}

std::uint64_t account_verification::flags_differ() const {
    std::uint64_t n = 0;
    for (const auto& f : folders) n += f.flags_differ.size();
    return n;
}

std::uint64_t account_verification::bytes_differ() const {
    std::uint64_t n = 0;
    for (const auto& f : folders) n += f.bytes_differ.size();
    return n;
}

folder_verification compare_folder(const std::vector<source_message>& source, const std::vector<source_message>& dest) {
    folder_verification v;
    v.source_messages = source.size();
    v.dest_messages = dest.size();
    std::map<dedupe_key, std::vector<const source_message*>> by_key;
    for (const auto& m : source) by_key[m.key].push_back(&m);
    key_multiset d;
    for (const auto& m : dest) d.add(m.key);
    for (auto& [key, msgs] : by_key) {
        std::sort(msgs.begin(), msgs.end(), [](const auto* a, const auto* b) { return a->uid < b->uid; });
        const std::size_t j = d.count(key);
        for (std::size_t i = j; i < msgs.size(); ++i) v.missing.push_back({msgs[i]->uid, key.to_string(), msgs[i]->size});
        if (j > msgs.size()) v.extra += j - msgs.size();
    }
    for (const auto& [key, n] : d.counts()) {
        if (!by_key.count(key)) v.extra += n;
    }
    std::sort(v.missing.begin(), v.missing.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
    return v;
}

namespace {

// Takes out of `source` what migrate does not send under the profile (only carbonio keeps messages back
// without calling them failures) and lists it.
std::vector<folder_verification::kept_back> kept_back_by_profile(const dest_profile& profile, std::vector<source_message>& source) {
    std::vector<folder_verification::kept_back> out;
    if (profile.kind != dest_profile_kind::carbonio) return out;
    std::erase_if(source, [&](const source_message& m) {
        const auto d = decide_message(profile, m.size, "");
        if (d.what == message_decision::action::send) return false;
        out.push_back({m.uid, m.size, d.what == message_decision::action::empty ? "empty" : "too_large"});
        return true;
    });
    return out;
}

struct body_print {
    std::uint64_t size = 0;
    body_digest digest{};
    std::string traits;
};

std::vector<std::pair<std::uint32_t, std::uint64_t>> uids_and_sizes(const std::vector<source_message>& index) {
    std::vector<std::pair<std::uint32_t, std::uint64_t>> out;
    out.reserve(index.size());
    for (const auto& m : index) out.emplace_back(m.uid, m.size);
    return out;
}

// --content, source side (its folder selected): every body scanned into `content`, its digest kept by UID.
net::awaitable<std::map<std::uint32_t, body_print>> scan_source(async_session& src, const std::vector<source_message>& index,
                                                                const job_options& o, folder_content& content) {
    std::map<std::uint32_t, body_print> out;
    const auto messages = uids_and_sizes(index);
    const std::function<void(scanned_body&&)> keep = [&](scanned_body&& b) {
        content.add(b.uid, b.findings);
        out[b.uid] = {b.size, b.digest, b.findings.describe()};
    };
    co_await scan_bodies(src, messages, body_batch_limits::from(o.pipeline), keep);
    co_return out;
}

// --content, destination side (its folder selected): the bodies of the messages matched by key, compared with
// the source's.
net::awaitable<void> compare_bytes(async_session& dst, const std::vector<source_message>& sidx, const std::vector<source_message>& didx,
                                   const std::map<std::uint32_t, body_print>& source_prints, const job_options& o, folder_verification& v) {
    std::vector<keyed_uid> s, d;
    for (const auto& m : sidx) s.push_back({m.uid, m.key});
    for (const auto& m : didx) d.push_back({m.uid, m.key});
    std::map<std::uint32_t, std::uint32_t> source_of;   // destination UID -> source UID
    for (const auto& [su, du] : match_by_key(std::move(s), std::move(d))) {
        if (source_prints.count(su)) source_of[du] = su;
    }
    std::vector<std::pair<std::uint32_t, std::uint64_t>> wanted;
    for (const auto& m : didx) {
        if (source_of.count(m.uid)) wanted.emplace_back(m.uid, m.size);
    }
    const std::function<void(scanned_body&&)> compare = [&](scanned_body&& b) {
        const auto su = source_of.at(b.uid);
        const auto& sp = source_prints.at(su);
        ++v.bytes_compared;
        if (sp.size != b.size || sp.digest != b.digest) v.bytes_differ.push_back({su, b.uid, sp.size, b.size, sp.traits, b.findings.describe()});
    };
    co_await scan_bodies(dst, wanted, body_batch_limits::from(o.pipeline), compare);
    std::sort(v.bytes_differ.begin(), v.bytes_differ.end(), [](const auto& a, const auto& b) { return a.source_uid < b.source_uid; });
}

// The account's folders compared one after the other; throws what the sessions throw.
net::awaitable<void> compare_account(const account_pair& a, const job_options& o, account_verification& out) {
    // --metrics: its source messages as compared, what differs, and the index FETCHes' time.
    auto* m = o.pipeline.metrics;
    const auto index_of = [&](async_session& s, server_side side) -> net::awaitable<std::vector<source_message>> {
        const auto t0 = std::chrono::steady_clock::now();
        auto index = co_await s.fetch_index(1, o.verify_flags);
        if (m) m->observe(side, imap_operation::index, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        co_return index;
    };
    // Logged in as migrate logs in, so the destination's profile maps names as migrate mapped them.
    const auto src = co_await async_open_account_side(a, o, account_side::source);
    const auto dst = co_await async_open_account_side(a, o, account_side::destination);
    const auto source_view = co_await read_side(*src);
    const auto dest_view = co_await read_side(*dst);
    const auto plan = plan_scope(source_view, &dest_view, o.filter, a.scope);
    for (const auto& e : plan.entries) {
        if (!e.copy_messages || e.source_name.empty()) continue;
        const auto ss = co_await src->examine(e.source_name);
        std::vector<source_message> sidx;
        if (ss.messages) sidx = co_await index_of(*src, server_side::source);
        std::optional<folder_content> content;
        std::map<std::uint32_t, body_print> source_prints;
        if (o.verify_content) {
            content.emplace();
            content->account = job_label(a.source_user, a.scope);
            content->folder = e.source_name;
            source_prints = co_await scan_source(*src, sidx, o, *content);
        }
        const auto not_sent = kept_back_by_profile(dst->profile(), sidx);
        std::vector<source_message> didx;
        bool missing_folder = e.create;
        permanent_flags dest_flags;
        if (!missing_folder) {
            const auto ds = co_await dst->examine(e.dest_name);
            // EXAMINE answers PERMANENTFLAGS () (read-only): every keyword counts as allowed here, but for
            // Cyrus's keyword limit, which counts the keywords its FLAGS list names (engine/mail/flag_map.hpp).
            if (dst->profile().kind == dest_profile_kind::cyrus) dest_flags = permanent_flags({}, dest_profile_kind::cyrus, ds.flags);
            if (ds.messages) didx = co_await index_of(*dst, server_side::destination);
        }
        auto v = compare_folder(sidx, didx);
        v.flags_compared = o.verify_flags;
        if (o.verify_flags) v.flags_differ = flag_differences(sidx, didx, dest_flags, dst->profile().kind, e.dest_name);
        v.source_folder = e.source_name;
        v.dest_folder = e.dest_name;
        v.dest_missing = missing_folder;
        v.not_sent = not_sent;
        if (o.verify_content) {
            v.content = std::move(content);
            if (!didx.empty()) co_await compare_bytes(*dst, sidx, didx, source_prints, o, v);
        }
        if (m) {
            m->checked(check_command::verify, v.source_messages);
            m->differences(difference_kind::missing, v.missing.size());
            m->differences(difference_kind::flags, v.flags_differ.size());
            m->differences(difference_kind::bytes, v.bytes_differ.size());
        }
        out.folders.push_back(std::move(v));
    }
    co_await src->logout();
    co_await dst->logout();
}

}  // namespace

net::awaitable<account_verification> verify_account(const account_pair& a, const job_options& o) {
    account_verification out;
    out.source_user = a.source_user;
    out.dest_user = a.dest_user;
    out.scope = a.scope;
    // --metrics: the account as a job.
    auto* m = o.pipeline.metrics;
    if (m) m->account_started();
    try {
        co_await compare_account(a, o, out);
    } catch (const session_error& e) {
        out.error = e.what();
        out.error_kind_ = e.kind();
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    if (m) m->account_finished(out.error.empty());
    co_return out;
}

std::vector<account_verification> verify_accounts(const std::vector<account_pair>& accounts, const job_options& options, std::size_t jobs) {
    std::vector<account_verification> results(accounts.size());
    run_account_workers(accounts.size(), jobs, [&](std::size_t i) -> net::awaitable<void> {
        results[i] = co_await verify_account(accounts[i], options);   // each account writes only its own slot
    });
    return results;
}

nlohmann::json to_json(const std::vector<account_verification>& v, double seconds) {
    nlohmann::json accounts = nlohmann::json::array();
    std::uint64_t missing = 0, failed_accounts = 0, flags_differ = 0, bytes_differ = 0, bytes_compared = 0;
    std::vector<const folder_content*> content;
    for (const auto& a : v) {
        nlohmann::json folders = nlohmann::json::array();
        for (const auto& f : a.folders) {
            nlohmann::json m = nlohmann::json::array();
            for (const auto& x : f.missing) m.push_back({{"uid", x.uid}, {"key", x.key}, {"size", x.size}});
            nlohmann::json jf = {{"source_folder", f.source_folder},
                                 {"dest_folder", f.dest_folder},
                                 {"source_messages", f.source_messages},
                                 {"dest_messages", f.dest_messages},
                                 {"dest_folder_missing", f.dest_missing},
                                 {"missing", std::move(m)},
                                 {"extra", f.extra}};
            if (f.flags_compared) {
                auto& fd = jf["flags_differ"] = nlohmann::json::array();
                for (const auto& x : f.flags_differ) {
                    fd.push_back({{"source_uid", x.source_uid}, {"dest_uid", x.dest_uid}, {"source_flags", x.expected}, {"dest_flags", x.actual}});
                }
            }
            if (f.content) {
                jf["content"] = to_json(*f.content);
                jf["bytes_compared"] = f.bytes_compared;
                auto& bd = jf["bytes_differ"] = nlohmann::json::array();
                for (const auto& x : f.bytes_differ) {
                    bd.push_back({{"source_uid", x.source_uid}, {"dest_uid", x.dest_uid}, {"source_size", x.source_size},
                                  {"dest_size", x.dest_size}, {"source_traits", x.source_traits}, {"dest_traits", x.dest_traits}});
                }
            }
            if (!f.not_sent.empty()) {
                auto& ns = jf["not_sent"] = nlohmann::json::array();
                for (const auto& x : f.not_sent) ns.push_back({{"uid", x.uid}, {"size", x.size}, {"reason", x.reason}});
            }
            folders.push_back(std::move(jf));
        }
        missing += a.missing();
        flags_differ += a.flags_differ();
        bytes_differ += a.bytes_differ();
        for (const auto& f : a.folders) {
            bytes_compared += f.bytes_compared;
            if (f.content) content.push_back(&*f.content);
        }
        failed_accounts += a.ok() ? 0 : 1;
        nlohmann::json entry = {{"source_user", a.source_user},
                                {"dest_user", a.dest_user},
                                {"status", a.ok() ? "ok" : "failed"},
                                {"error", a.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.error)},
                                {"missing", a.missing()},
                                {"folders", std::move(folders)}};
        // As in migrate's report (engine/mail/report.cpp): only the public entry names its namespace.
        if (a.scope == folder_scope::shared) entry["namespace"] = to_string(a.scope);
        accounts.push_back(std::move(entry));
    }
    nlohmann::json j = {
        {"command", "verify"},
        {"seconds", seconds},
        {"totals", {{"accounts", v.size()}, {"accounts_failed", failed_accounts}, {"missing", missing}, {"flags_differ", flags_differ}, {"seconds", seconds}}},
        {"accounts", std::move(accounts)}};
    if (!content.empty()) {
        j["totals"]["bytes_compared"] = bytes_compared;
        j["totals"]["bytes_differ"] = bytes_differ;
        j["totals"]["content"] = content_totals(content);
    }
    return j;
}

std::string describe_differences(const std::vector<account_verification>& v) {
    std::string out;
    for (const auto& a : v) {
        const auto who = job_label(a.source_user, a.scope);
        if (!a.error.empty()) out += fmt::format("{}: could not verify: {}\n", who, a.error);
        for (const auto& f : a.folders) {
            if (f.dest_missing && f.source_messages) {
                // Every UID is in the JSON report; one line is enough here.
                out += fmt::format("{}: folder '{}' -> '{}' does not exist on the destination ({} messages missing)\n", who,
                                   f.source_folder, f.dest_folder, f.source_messages);
                continue;
            }
            // The folder's count first, so a long list of UIDs still says where and how many.
            if (!f.missing.empty()) {
                out += fmt::format("{}: folder '{}' -> '{}': {} of {} message(s) missing\n", who, f.source_folder, f.dest_folder,
                                   f.missing.size(), f.source_messages);
            }
            for (const auto& m : f.missing) {
                out += fmt::format("{}: '{}' UID {} ({} bytes, key {}) is missing from '{}'\n", who, f.source_folder, m.uid,
                                   m.size, m.key, f.dest_folder);
            }
            if (!f.not_sent.empty()) {
                out += fmt::format("{}: '{}': {} message(s) kept back by the destination profile (too large or empty), as migrate "
                                   "reports them; not counted as missing\n",
                                   who, f.source_folder, f.not_sent.size());
            }
            for (const auto& d : f.flags_differ) {
                out += fmt::format("{}: '{}' UID {} -> '{}' UID {}: flags differ: source ({}) destination ({})\n", who, f.source_folder,
                                   d.source_uid, f.dest_folder, d.dest_uid, fmt::join(d.expected, " "), fmt::join(d.actual, " "));
            }
            for (const auto& d : f.bytes_differ) {
                out += fmt::format("{}: '{}' UID {} -> '{}' UID {}: bytes differ: source {} bytes{}, destination {} bytes{}\n", who,
                                   f.source_folder, d.source_uid, f.dest_folder, d.dest_uid, d.source_size,
                                   d.source_traits.empty() ? "" : " (" + d.source_traits + ")", d.dest_size,
                                   d.dest_traits.empty() ? "" : " (" + d.dest_traits + ")");
            }
            if (f.content) out += describe(*f.content, "");
            if (f.extra) out += fmt::format("{}: '{}' holds {} message(s) not on the source (not an error)\n", who, f.dest_folder, f.extra);
        }
    }
    return out;
}

}  // namespace arrival::engine
