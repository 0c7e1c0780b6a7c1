// The outcome of a run, per account and folder, and its two renderings: the JSON --report (field names
// are a contract, see issue 3) and the summary table printed at the end.
//
// JSON shape:
//   { "command": "migrate", "dry_run": false, "started": "2026-11-29T05:40:00Z", "seconds": 12.3, "shard": "0/1",
//     "totals": { "accounts": 4, "accounts_failed": 0, "copied": N, "skipped_duplicate": N, "failed": N,
//                 "bytes": N, "seconds": S },
//     "accounts": [ { "source_user", "dest_user", "status": "ok"|"failed", "error": null|"...", "seconds",
//                     "copied", "skipped_duplicate", "failed", "bytes",
//                     "folders": [ { "source_folder", "dest_folder", "created": bool, "copied",
//                                    "skipped_duplicate", "failed": [ {"uid", "reason"} ], "bytes", "seconds",
//                                    "note"?, "flags_changed"?: [ {"from", "to"|null, "reason", "messages"} ],
//                                    "renamed"?: {"from", "to"}, "too_large"?: [ {"uid", "size", "limit"} ],
//                                    "empty_skipped"?: [ uid ],
//                                    "date_dropped"?: [ {"uid", "date", "used", "sent", "reason"} ],
//                                    "keywords_dropped"?: [ {"uid", "keywords": [..], "reason"} ] } ],
//                     "dest_profile"?: {"name", "evidence", "max_message_size"|null},
//                     "connection_pairs"?: N (the pairs that copied its folders, account_job.cpp pairs_worth),
//                     "errors"?: [ "folder-level problems" ],
//                     "other_users_folders"?: [ "user.bob.Projects" ] } ] }
// ("other_users_folders": folders other users share with this account, which their owners' jobs copy,
// engine/mail/namespace_map.hpp.)
// (the destination profile's adaptations, engine/mail/dest_profile.hpp: "renamed" when its name rule changed the
// folder's name, "too_large" messages over the size limit, "empty_skipped" 0-byte messages, "date_dropped"
// messages not sent with their source INTERNALDATE ("date": it, "" when the source had none; "used":
// "date_header" when the message's own Date field was sent instead, "none" when no date was; "sent"; "reason");
// "keywords_dropped": each message that lost keywords to the destination folder's keyword limit (Cyrus: 100 per
// folder, engine/mail/flag_map.hpp), with the keywords it lost; they are in "flags_changed" too, counted;
// totals gain "too_large" and "largest_too_large", "date_dropped" and "date_from_header", "keywords_dropped"
// (messages) when any.)
// A rerun's changes (issue 13): every folder has "flags_updated" and "deleted" (counts), "vanished" when the
// source expunged copied messages, "changes_read_by" when the source's changes were read ("vanished": QRESYNC
// UID FETCH ... VANISHED; "search": CONDSTORE CHANGEDSINCE and a UID SEARCH; "full_read": every flag), "deletions": [ {"source_uid", "dest_uid"} ] when any were removed,
// "renamed": {"from", "to", "on": "source"} for a folder renamed on the source, "deleted_on_source": true for a
// folder gone from the source; accounts and totals have "flags_updated", "deleted" and "renamed".
// "throughput": {"every_seconds": S, "samples": [[seconds, messages, bytes], ...]}: messages (copied or failed)
// and bytes done since the start, sampled every S seconds (engine/progress.hpp), the last sample at the end;
// absent when nothing sampled (a dry run).
// Totals' "failed" is a count; a folder's "failed" lists every message not copied, with the server's words.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/mail/dest_profile.hpp"
#include "engine/mail/public_folders.hpp"

namespace arrival::engine {

struct message_failure {
    std::uint32_t uid = 0;
    std::string reason;
};

struct folder_report {
    std::string source_folder;
    std::string dest_folder;
    bool created = false;
    std::uint64_t copied = 0;
    std::uint64_t skipped_duplicate = 0;
    std::vector<message_failure> failed;
    std::uint64_t bytes = 0;
    double seconds = 0;
    std::string note;
    // (from, to) -> number of messages; to is "" when dropped.
    struct flag_key {
        std::string from, to, reason;
        friend bool operator<(const flag_key& a, const flag_key& b) {
            return std::tie(a.from, a.to, a.reason) < std::tie(b.from, b.to, b.reason);
        }
    };
    std::map<flag_key, std::uint64_t> flags_changed;
    // The destination profile's adaptations (not failures: the profile decided them).
    bool renamed = false;
    struct too_large_message {
        std::uint32_t uid = 0;
        std::uint64_t size = 0;
        std::uint64_t limit = 0;
    };
    std::vector<too_large_message> too_large;
    std::vector<std::uint32_t> empty_skipped;
    // A message not APPENDed with its source INTERNALDATE (choose_append_date, engine/mail/dest_profile.hpp).
    struct dropped_date {
        std::uint32_t uid = 0;
        std::string date;                                        // the source's INTERNALDATE ("" when none)
        append_date::source used = append_date::source::none;    // date_header: its Date field; none: no date
        std::string sent;                                        // the date sent; "" with none
        std::string reason;                                      // why the INTERNALDATE was not used
    };
    std::vector<dropped_date> date_dropped;
    // A message copied without some of its keywords: the destination folder had no room for them.
    struct dropped_keywords {
        std::uint32_t uid = 0;
        std::vector<std::string> keywords;
        std::string reason;
    };
    std::vector<dropped_keywords> keywords_dropped;
    // A rerun's changes (engine/mail/delta_sync.hpp, issue 13).
    std::uint64_t flags_updated = 0;       // copied messages whose destination flags followed the source's
    std::uint64_t deleted = 0;             // destination copies expunged because the source expunged them
    std::uint64_t vanished = 0;            // copied messages the source no longer has (deleted only with --sync-deletes)
    std::string changes_read_by;           // how: "vanished" (QRESYNC), "search" (CONDSTORE), "full_read"; "" none
    struct deletion {
        std::uint32_t source_uid = 0;      // 0 in a dry run's list
        std::uint32_t dest_uid = 0;
    };
    std::vector<deletion> deletions;
    std::string renamed_from;              // the source folder's name at the last run, when it was renamed since
    bool deleted_on_source = false;        // the folder is gone from the source (its destination copy is kept)
};

// What an account adds to the run's totals: all the end of a run reads of its folders once they are in a
// report_spool (engine/mail/report_spool.hpp).
struct account_totals {
    std::uint64_t copied = 0;
    std::uint64_t skipped_duplicate = 0;
    std::uint64_t failed = 0;
    std::uint64_t bytes = 0;
    std::uint64_t flags_updated = 0;
    std::uint64_t deleted = 0;
    std::uint64_t renamed = 0;
    std::uint64_t too_large = 0;
    std::uint64_t largest_too_large = 0;         // its size, and the limit it was over
    std::uint64_t largest_too_large_limit = 0;
    std::uint64_t date_dropped = 0;
    std::uint64_t date_from_header = 0;
    std::uint64_t keywords_dropped = 0;

    // Adds `o` in: sums, and the largest too-large message with its limit (the later one on a tie).
    void add(const account_totals& o);
};

struct account_report {
    std::string source_user;
    std::string dest_user;
    bool ok = true;
    std::string error;                    // why the account failed (server's words); empty when ok
    std::vector<std::string> errors;      // folder-level problems that did not fail the account
    std::vector<folder_report> folders;
    std::vector<std::string> other_users_folders;  // left to their owners' jobs
    double seconds = 0;
    folder_scope scope = folder_scope::personal;   // shared: the --public entry, "namespace": "shared" in JSON
    std::string dest_profile;                      // the destination profile followed; empty: never connected
    std::string dest_profile_evidence;             // what decided it
    std::optional<std::uint64_t> max_message_size; // the size limit it applied
    std::size_t connection_pairs = 0;              // the pairs that copied its folders; 0: it was never planned
    // Set when a report_spool holds the whole account: then `folders` keeps only the folders with failed
    // messages (their names and failures), and the totals are these.
    struct spooled_detail {
        account_totals totals;
        std::uint64_t offset = 0;
        std::uint64_t length = 0;
    };
    std::optional<spooled_detail> spooled;

    [[nodiscard]] account_totals totals() const;
    [[nodiscard]] std::uint64_t copied() const { return totals().copied; }
    [[nodiscard]] std::uint64_t skipped_duplicate() const { return totals().skipped_duplicate; }
    [[nodiscard]] std::uint64_t failed() const { return totals().failed; }
    [[nodiscard]] std::uint64_t bytes() const { return totals().bytes; }
    [[nodiscard]] std::uint64_t flags_updated() const { return totals().flags_updated; }
    [[nodiscard]] std::uint64_t deleted() const { return totals().deleted; }
    [[nodiscard]] std::uint64_t renamed() const { return totals().renamed; }   // folders renamed on the source and the destination
};

class report_spool;

// One point of the throughput series: seconds since the run started, messages and bytes done by then.
struct throughput_sample {
    double seconds = 0;
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
};

// The run's adaptive window of connection pairs (engine/mail/adaptive_concurrency.hpp): where it started, where it
// went, and the last reason it was cut. cap == 0: the run had none (a dry run, calendars/contacts).
struct concurrency_report {
    std::size_t cap = 0;
    std::size_t initial = 0;
    std::size_t final_window = 0;
    std::size_t smallest = 0;
    std::size_t largest = 0;
    std::uint64_t increases = 0;
    std::uint64_t decreases = 0;
    std::string last_decrease;   // the signal's words: a server's answer, "a reset ...", "logging in got slow ..."
};

struct run_report {
    std::string command = "migrate";
    bool dry_run = false;
    std::string started;   // ISO 8601 UTC
    double seconds = 0;
    std::string shard = "0/1";   // --shard K/N of the run (engine/shard.hpp)
    std::vector<account_report> accounts;
    std::vector<throughput_sample> throughput;
    double throughput_every = 0;   // seconds between samples
    concurrency_report concurrency;
    // Where the folded accounts are (scheduler_options::spool); null when every account is whole in memory.
    std::shared_ptr<const report_spool> spool;

    // Every account's totals added up: one pass over the accounts (each folded one costs no folder).
    [[nodiscard]] account_totals totals() const;
    [[nodiscard]] std::uint64_t copied() const { return totals().copied; }
    [[nodiscard]] std::uint64_t skipped_duplicate() const { return totals().skipped_duplicate; }
    [[nodiscard]] std::uint64_t failed() const { return totals().failed; }
    [[nodiscard]] std::uint64_t bytes() const { return totals().bytes; }
    [[nodiscard]] std::size_t accounts_failed() const;
    [[nodiscard]] std::uint64_t flags_updated() const { return totals().flags_updated; }
    [[nodiscard]] std::uint64_t deleted() const { return totals().deleted; }
    [[nodiscard]] std::uint64_t renamed() const { return totals().renamed; }
    // Messages over the destination's size limit, and the largest of them (0 when none).
    [[nodiscard]] std::uint64_t too_large() const { return totals().too_large; }
    [[nodiscard]] std::uint64_t largest_too_large() const { return totals().largest_too_large; }
    // Messages not sent with their INTERNALDATE, and those of them sent with their Date field instead.
    [[nodiscard]] std::uint64_t date_dropped() const { return totals().date_dropped; }
    [[nodiscard]] std::uint64_t date_from_header() const { return totals().date_from_header; }
    // Messages copied without some of their keywords (the destination folder's keyword limit).
    [[nodiscard]] std::uint64_t keywords_dropped() const { return totals().keywords_dropped; }
    // Every account ok and no message failed.
    [[nodiscard]] bool complete() const { return accounts_failed() == 0 && failed() == 0; }
};

[[nodiscard]] nlohmann::json to_json(const run_report& r);
// One account's report; for a folded one, use the run's account_json, which reads it back from the spool.
[[nodiscard]] nlohmann::json to_json(const account_report& a);
[[nodiscard]] nlohmann::json account_json(const run_report& r, const account_report& a);

// Writes the JSON atomically (temporary file + rename), so a reader never sees half a report.
// Throws std::runtime_error naming the file.
void write_report(const std::filesystem::path& file, const run_report& r);
// The same for any report's text (JSON, HTML): owner-only, temporary file + rename.
void write_report_text(const std::filesystem::path& file, std::string_view text);

// The table printed at the end of a run: one row per account, then the totals.
[[nodiscard]] std::string summary_table(const run_report& r);

[[nodiscard]] std::string iso8601_utc_now();
[[nodiscard]] std::string human_bytes(std::uint64_t bytes);

}  // namespace arrival::engine
