#include "engine/verify.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "engine/public_plan.hpp"

namespace arrival::engine {

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

}  // namespace

account_verification verify_account(const account_pair& a, const job_options& o) noexcept {
    account_verification out;
    out.source_user = a.source_user;
    out.dest_user = a.dest_user;
    out.scope = a.scope;
    try {
        // Logged in as migrate logs in, so the destination's profile maps names as migrate mapped them.
        const auto src = open_account_side(a, o, account_side::source);
        const auto dst = open_account_side(a, o, account_side::destination);
        const auto plan = plan_scope(*src, dst.get(), o.filter, a.scope);
        for (const auto& e : plan.entries) {
            if (!e.copy_messages || e.source_name.empty()) continue;
            const auto ss = src->examine(e.source_name);
            auto sidx = ss.messages ? src->fetch_index(1, o.verify_flags) : std::vector<source_message>{};
            const auto not_sent = kept_back_by_profile(dst->profile(), sidx);
            std::vector<source_message> didx;
            bool missing_folder = e.create;
            permanent_flags dest_flags;
            if (!missing_folder) {
                const auto ds = dst->examine(e.dest_name);
                (void)ds;   // EXAMINE answers PERMANENTFLAGS () (read-only): every keyword counts as allowed here
                if (ds.messages) didx = dst->fetch_index(1, o.verify_flags);
            }
            auto v = compare_folder(sidx, didx);
            v.flags_compared = o.verify_flags;
            if (o.verify_flags) v.flags_differ = flag_differences(sidx, didx, dest_flags, dst->profile().kind, e.dest_name);
            v.source_folder = e.source_name;
            v.dest_folder = e.dest_name;
            v.dest_missing = missing_folder;
            v.not_sent = not_sent;
            out.folders.push_back(std::move(v));
        }
        src->logout();
        dst->logout();
    } catch (const session_error& e) {
        out.error = e.what();
        out.error_kind_ = e.kind();
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

nlohmann::json to_json(const std::vector<account_verification>& v, double seconds) {
    nlohmann::json accounts = nlohmann::json::array();
    std::uint64_t missing = 0, failed_accounts = 0, flags_differ = 0;
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
            if (!f.not_sent.empty()) {
                auto& ns = jf["not_sent"] = nlohmann::json::array();
                for (const auto& x : f.not_sent) ns.push_back({{"uid", x.uid}, {"size", x.size}, {"reason", x.reason}});
            }
            folders.push_back(std::move(jf));
        }
        missing += a.missing();
        flags_differ += a.flags_differ();
        failed_accounts += a.ok() ? 0 : 1;
        nlohmann::json entry = {{"source_user", a.source_user},
                                {"dest_user", a.dest_user},
                                {"status", a.ok() ? "ok" : "failed"},
                                {"error", a.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.error)},
                                {"missing", a.missing()},
                                {"folders", std::move(folders)}};
        // As in migrate's report (engine/report.cpp): only the public entry names its namespace.
        if (a.scope == folder_scope::shared) entry["namespace"] = to_string(a.scope);
        accounts.push_back(std::move(entry));
    }
    return {{"command", "verify"},
            {"seconds", seconds},
            {"totals", {{"accounts", v.size()}, {"accounts_failed", failed_accounts}, {"missing", missing}, {"flags_differ", flags_differ}, {"seconds", seconds}}},
            {"accounts", std::move(accounts)}};
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
            if (f.extra) out += fmt::format("{}: '{}' holds {} message(s) not on the source (not an error)\n", who, f.dest_folder, f.extra);
        }
    }
    return out;
}

}  // namespace arrival::engine
