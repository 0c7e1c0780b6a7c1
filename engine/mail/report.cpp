#include "engine/mail/report.hpp"

#include "engine/mail/public_folders.hpp"
#include "engine/mail/report_spool.hpp"
#include "engine/owner_only.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace arrival::engine {

void account_totals::add(const account_totals& o) {
    copied += o.copied;
    skipped_duplicate += o.skipped_duplicate;
    failed += o.failed;
    bytes += o.bytes;
    flags_updated += o.flags_updated;
    deleted += o.deleted;
    renamed += o.renamed;
    if (o.too_large && o.largest_too_large >= largest_too_large) {
        largest_too_large = o.largest_too_large;
        largest_too_large_limit = o.largest_too_large_limit;
    }
    too_large += o.too_large;
    date_dropped += o.date_dropped;
    date_from_header += o.date_from_header;
    keywords_dropped += o.keywords_dropped;
}

account_totals account_report::totals() const {
    if (spooled) return spooled->totals;
    account_totals t;
    for (const auto& f : folders) {
        t.copied += f.copied;
        t.skipped_duplicate += f.skipped_duplicate;
        t.failed += f.failed.size();
        t.bytes += f.bytes;
        t.flags_updated += f.flags_updated;
        t.deleted += f.deleted;
        t.renamed += f.renamed_from.empty() ? 0 : 1;
        t.too_large += f.too_large.size();
        for (const auto& m : f.too_large) {
            if (m.size >= t.largest_too_large) t.largest_too_large = m.size, t.largest_too_large_limit = m.limit;
        }
        t.date_dropped += f.date_dropped.size();
        t.date_from_header += static_cast<std::uint64_t>(std::count_if(
            f.date_dropped.begin(), f.date_dropped.end(), [](const auto& d) { return d.used == append_date::source::date_header; }));
        t.keywords_dropped += f.keywords_dropped.size();
    }
    return t;
}

account_totals run_report::totals() const {
    account_totals t;
    for (const auto& a : accounts) t.add(a.totals());
    return t;
}

std::size_t run_report::accounts_failed() const {
    std::size_t n = 0;
    for (const auto& a : accounts) n += a.ok ? 0 : 1;
    return n;
}

namespace {

void add_adaptations(nlohmann::json& jf, const folder_report& f) {
    if (f.renamed) jf["renamed"] = {{"from", f.source_folder}, {"to", f.dest_folder}};
    if (!f.renamed_from.empty()) jf["renamed"] = {{"from", f.renamed_from}, {"to", f.source_folder}, {"on", "source"}};
    if (f.deleted_on_source) jf["deleted_on_source"] = true;
    if (f.vanished) jf["vanished"] = f.vanished;
    if (!f.changes_read_by.empty()) jf["changes_read_by"] = f.changes_read_by;
    if (!f.deletions.empty()) {
        auto& d = jf["deletions"] = nlohmann::json::array();
        for (const auto& m : f.deletions) d.push_back({{"source_uid", m.source_uid}, {"dest_uid", m.dest_uid}});
    }
    if (!f.too_large.empty()) {
        auto& t = jf["too_large"] = nlohmann::json::array();
        for (const auto& m : f.too_large) t.push_back({{"uid", m.uid}, {"size", m.size}, {"limit", m.limit}});
    }
    if (!f.empty_skipped.empty()) jf["empty_skipped"] = f.empty_skipped;
    if (!f.date_dropped.empty()) {
        auto& d = jf["date_dropped"] = nlohmann::json::array();
        for (const auto& m : f.date_dropped) {
            d.push_back({{"uid", m.uid}, {"date", m.date}, {"used", to_string(m.used)},
                         {"sent", m.sent.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.sent)}, {"reason", m.reason}});
        }
    }
    if (!f.keywords_dropped.empty()) {
        auto& d = jf["keywords_dropped"] = nlohmann::json::array();
        for (const auto& m : f.keywords_dropped) d.push_back({{"uid", m.uid}, {"keywords", m.keywords}, {"reason", m.reason}});
    }
}

}  // namespace

nlohmann::json to_json(const account_report& a) {
    nlohmann::json folders = nlohmann::json::array();
    for (const auto& f : a.folders) {
        nlohmann::json failed = nlohmann::json::array();
        for (const auto& m : f.failed) failed.push_back({{"uid", m.uid}, {"reason", m.reason}});
        nlohmann::json jf = {
            {"source_folder", f.source_folder},
            {"dest_folder", f.dest_folder},
            {"created", f.created},
            {"copied", f.copied},
            {"skipped_duplicate", f.skipped_duplicate},
            {"failed", std::move(failed)},
            {"bytes", f.bytes},
            {"seconds", f.seconds},
            {"flags_updated", f.flags_updated},
            {"deleted", f.deleted},
        };
        if (!f.note.empty()) jf["note"] = f.note;
        if (!f.flags_changed.empty()) {
            nlohmann::json changes = nlohmann::json::array();
            for (const auto& [k, n] : f.flags_changed) {
                changes.push_back({{"from", k.from},
                                   {"to", k.to.empty() ? nlohmann::json(nullptr) : nlohmann::json(k.to)},
                                   {"reason", k.reason},
                                   {"messages", n}});
            }
            jf["flags_changed"] = std::move(changes);
        }
        add_adaptations(jf, f);
        folders.push_back(std::move(jf));
    }
    nlohmann::json j = {
        {"source_user", a.source_user},
        {"dest_user", a.dest_user},
        {"status", a.ok ? "ok" : "failed"},
        {"error", a.ok ? nlohmann::json(nullptr) : nlohmann::json(a.error)},
        {"seconds", a.seconds},
        {"copied", a.copied()},
        {"skipped_duplicate", a.skipped_duplicate()},
        {"failed", a.failed()},
        {"bytes", a.bytes()},
        {"flags_updated", a.flags_updated()},
        {"deleted", a.deleted()},
        {"renamed", a.renamed()},
        {"folders", std::move(folders)},
    };
    if (!a.errors.empty()) j["errors"] = a.errors;
    if (!a.other_users_folders.empty()) j["other_users_folders"] = a.other_users_folders;
    if (!a.dest_profile.empty()) {
        j["dest_profile"] = {{"name", a.dest_profile},
                             {"evidence", a.dest_profile_evidence},
                             {"max_message_size", a.max_message_size ? nlohmann::json(*a.max_message_size) : nlohmann::json(nullptr)}};
    }
    if (a.connection_pairs) j["connection_pairs"] = a.connection_pairs;
    if (a.scope == folder_scope::shared) j["namespace"] = to_string(a.scope);
    return j;
}

namespace {

// The run's members but "accounts": to_json adds them to this tree, write_report streams them beside it.
nlohmann::json run_fields(const run_report& r) {
    const auto t = r.totals();
    nlohmann::json j = {
        {"command", r.command},
        {"dry_run", r.dry_run},
        {"started", r.started},
        {"seconds", r.seconds},
        {"shard", r.shard},
        {"totals",
         {{"accounts", r.accounts.size()},
          {"accounts_failed", r.accounts_failed()},
          {"copied", t.copied},
          {"skipped_duplicate", t.skipped_duplicate},
          {"failed", t.failed},
          {"bytes", t.bytes},
          {"flags_updated", t.flags_updated},
          {"deleted", t.deleted},
          {"renamed", t.renamed},
          {"seconds", r.seconds}}},
    };
    if (!r.throughput.empty()) {
        nlohmann::json samples = nlohmann::json::array();
        for (const auto& s : r.throughput) samples.push_back({std::round(s.seconds * 10) / 10, s.messages, s.bytes});
        j["throughput"] = {{"every_seconds", r.throughput_every}, {"samples", std::move(samples)}};
    }
    if (const auto& c = r.concurrency; c.cap > 0) {
        j["concurrency"] = {{"cap", c.cap},
                            {"initial", c.initial},
                            {"final", c.final_window},
                            {"smallest", c.smallest},
                            {"largest", c.largest},
                            {"increases", c.increases},
                            {"decreases", c.decreases}};
        if (!c.last_decrease.empty()) j["concurrency"]["last_decrease"] = c.last_decrease;
    }
    if (t.too_large) {
        j["totals"]["too_large"] = t.too_large;
        j["totals"]["largest_too_large"] = t.largest_too_large;
    }
    if (t.date_dropped) {
        j["totals"]["date_dropped"] = t.date_dropped;
        j["totals"]["date_from_header"] = t.date_from_header;
    }
    if (t.keywords_dropped) j["totals"]["keywords_dropped"] = t.keywords_dropped;
    return j;
}

// Writes into FILE.tmp with `write`, then renames it to FILE: a reader never sees half a report.
template <class Write>
void write_atomically(const std::filesystem::path& file, Write&& write) {
    const auto tmp = std::filesystem::path(file.string() + ".tmp");
    {
        auto out = open_owner_only(tmp);
        if (!out) throw std::runtime_error(fmt::format("cannot write report {}: {}", tmp.string(), std::strerror(errno)));
        write(out);
        out.flush();
        if (!out) throw std::runtime_error(fmt::format("cannot write report {}: {}", tmp.string(), std::strerror(errno)));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot write report {}: {}", file.string(), ec.message()));
}

// A value's dump(2) as the member of an object nested `depth` levels deep: every line after the first
// indented by 2 x depth more (JSON text has no raw line break inside a string).
void write_nested(std::ostream& out, std::string_view text, std::size_t depth) {
    const std::string pad(2 * depth, ' ');
    for (std::size_t from = 0;;) {
        const auto to = text.find('\n', from);
        out << text.substr(from, to == std::string_view::npos ? to : to + 1 - from);
        if (to == std::string_view::npos) return;
        out << pad;
        from = to + 1;
    }
}

}  // namespace

nlohmann::json account_json(const run_report& r, const account_report& a) {
    if (!a.spooled) return to_json(a);
    if (!r.spool) throw std::logic_error("account_json: a folded account in a run without a spool");
    return r.spool->read(a);
}

nlohmann::json to_json(const run_report& r) {
    auto j = run_fields(r);
    nlohmann::json accounts = nlohmann::json::array();
    for (const auto& a : r.accounts) accounts.push_back(account_json(r, a));
    j["accounts"] = std::move(accounts);
    return j;
}

// The same text as to_json(r).dump(2), written one account at a time: the whole tree and its text were the
// largest part of a run's peak memory, ~25 KB per account (heaptrack at 500 accounts of 15 folders: 21 MB of
// heap, 13 MB of it here). The members go in the tree's (sorted) key order, "accounts" in its place.
void write_report(const std::filesystem::path& file, const run_report& r) {
    const auto fields = run_fields(r);
    write_atomically(file, [&](std::ostream& out) {
        const char* separator = "{\n  ";
        const auto member = [&](const std::string& key) {
            out << separator << nlohmann::json(key).dump() << ": ";
            separator = ",\n  ";
        };
        const auto accounts = [&] {
            member("accounts");
            if (r.accounts.empty()) {
                out << "[]";
                return;
            }
            out << '[';
            for (std::size_t i = 0; i < r.accounts.size(); ++i) {
                out << (i ? ",\n    " : "\n    ");
                write_nested(out, account_json(r, r.accounts[i]).dump(2), 2);
            }
            out << "\n  ]";
        };
        bool accounts_written = false;
        for (auto it = fields.begin(); it != fields.end(); ++it) {
            if (!accounts_written && it.key() > "accounts") {
                accounts();
                accounts_written = true;
            }
            member(it.key());
            write_nested(out, it.value().dump(2), 1);
        }
        if (!accounts_written) accounts();
        out << "\n}\n";
    });
}

void write_report_text(const std::filesystem::path& file, std::string_view text) {
    write_atomically(file, [&](std::ostream& out) { out << text; });
}

std::string human_bytes(std::uint64_t b) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = static_cast<double>(b);
    int u = 0;
    while (v >= 1000.0 && u < 4) {
        v /= 1000.0;
        ++u;
    }
    return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string summary_table(const run_report& r) {
    std::size_t w = 7;
    for (const auto& a : r.accounts) w = std::max(w, a.source_user.size());
    w = std::min<std::size_t>(w, 40);
    std::string out = fmt::format("{:<{}}  {:>6}  {:>8}  {:>8}  {:>6}  {:>10}  {:>7}  {:>7}  {:>7}  {:>7}\n", "account", w, "status",
                                  "copied", "dup-skip", "failed", "bytes", "seconds", "flags", "deleted", "renamed");
    account_totals run;
    for (const auto& a : r.accounts) {
        const auto name = job_label(a.source_user, a.scope);
        const auto t = a.totals();
        run.add(t);
        out += fmt::format("{:<{}}  {:>6}  {:>8}  {:>8}  {:>6}  {:>10}  {:>7.1f}  {:>7}  {:>7}  {:>7}\n", name, w, a.ok ? "ok" : "FAILED",
                           t.copied, t.skipped_duplicate, t.failed, human_bytes(t.bytes), a.seconds, t.flags_updated, t.deleted,
                           t.renamed);
        if (!a.ok) out += fmt::format("  error: {}\n", a.error);
    }
    const double mps = r.seconds > 0 ? static_cast<double>(run.copied) / r.seconds : 0.0;
    const double mbs = r.seconds > 0 ? static_cast<double>(run.bytes) / 1e6 / r.seconds : 0.0;
    out += fmt::format("{:<{}}  {:>6}  {:>8}  {:>8}  {:>6}  {:>10}  {:>7.1f}  {:>7}  {:>7}  {:>7}\n", "total", w,
                       fmt::format("{}/{}", r.accounts.size() - r.accounts_failed(), r.accounts.size()), run.copied,
                       run.skipped_duplicate, run.failed, human_bytes(run.bytes), r.seconds, run.flags_updated, run.deleted, run.renamed);
    out += fmt::format("{:.0f} messages/s, {:.1f} MB/s{}\n", mps, mbs, r.dry_run ? " (dry run: nothing was written)" : "");
    if (const auto n = run.too_large) {
        out += fmt::format("too large for the destination: {} message(s) not sent, the largest {} bytes over a limit of {} bytes; "
                           "raise the destination's limit (Carbonio: zimbraMtaMaxMessageSize) to at least {} and run again\n",
                           n, run.largest_too_large, run.largest_too_large_limit, run.largest_too_large);
    }
    if (const auto n = run.date_dropped) {
        const auto header = run.date_from_header;
        out += fmt::format("dates: {} message(s) not sent with their INTERNALDATE (lost, implausible or refused by the destination): "
                           "{} with their own Date field instead, {} with none (the destination's arrival time); UIDs in the report\n",
                           n, header, n - header);
    }
    if (const auto n = run.keywords_dropped) {
        out += fmt::format("keywords: {} message(s) copied without some of their keywords: the destination folder had no room for "
                           "more (Cyrus: 100 per folder); accounts, folders, UIDs and keywords under keywords_dropped in the report\n", n);
    }
    return out;
}

std::string iso8601_utc_now() {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace arrival::engine
