// `arrival preflight`: what the real destination will do with this migration, found before the night,
// read-only on both sides.
//
//  1. Each side is reached with its TLS settings (verified unless --insecure) and the admin acts for the
//     first account (SASL PLAIN authzid): the source as migrate logs in, the destination as migrate will,
//     which also decides its profile (engine/mail/dest_profile.hpp) and the limits that profile applies.
//  2. Every account's source folders are planned onto the destination's namespace under that profile
//     (the destination's own folder list is not read: creation is not a finding), and every message's
//     UID, RFC822.SIZE, FLAGS and INTERNALDATE are fetched — never a body. Each folder, flag, size and date
//     goes through the same decisions migrate makes (plan_folders, adapt_flags, decide_message), so what
//     preflight predicts is what migrate does.
//  3. What would change or be refused is tallied per kind, with counts and the first examples.
//  4. With --content, every source body is fetched in bounded batches and scanned for what strict
//     destinations refuse or alter (engine/mail/content_check.hpp): counted per folder, with UIDs.
//
// Blocking: a side that cannot be reached, verified or logged into, and an account whose source cannot be
// read. Changes and refused messages are findings, not blockers: the migration goes on and reports them.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/mail/account_job.hpp"
#include "engine/mail/content_check.hpp"
#include "engine/mail/dest_profile.hpp"

namespace arrival::engine {

// One side (or the REST service) as preflight found it.
struct side_check {
    std::string role;                  // "source", "destination", "rest"
    std::string url;
    std::string account;               // the account the admin acted for
    bool ok = false;
    std::string error;                 // the server's words, when not ok
    std::optional<error_kind> kind;    // for the exit status
    std::vector<std::string> details;  // what was checked, one line each ("GET /Calendar: 200, 3 items", ...)
};

struct finding_example {
    std::string account;
    std::string folder;
    std::uint32_t uid = 0;   // 0: about the folder, not a message
    std::string detail;
};

// One kind of change or refusal: folder_renamed, keyword_rewritten, keyword_dropped, flag_dropped, too_large,
// empty_message, date_dropped, date_from_header, folder_clash, other_users_folder (not a change: its owner's job copies it).
struct finding {
    std::string kind;
    std::uint64_t count = 0;
    std::uint64_t largest = 0;   // too_large: the largest size refused
    std::vector<finding_example> examples;
};

// Tallies findings; keeps the first `examples_per_kind` examples of each kind. Pure.
class finding_tally {
public:
    explicit finding_tally(std::size_t examples_per_kind = 3) : examples_per_kind_(examples_per_kind) {}
    void add(const std::string& kind, finding_example example, std::uint64_t size = 0);
    // One message as migrate would send it under `profile`: too_large / empty_message / date_dropped and
    // its flag changes. `folder_keywords`: the destination folder's keywords as the copy would leave them so
    // far (Cyrus's keyword limit counts them, engine/mail/flag_map.hpp), kept up to date; null: none counted.
    void add_message(const dest_profile& profile, const std::string& account, const std::string& folder,
                     const std::string& dest_folder, const source_message& m, permanent_flags* folder_keywords = nullptr);
    void merge(const finding_tally& other);
    [[nodiscard]] const std::map<std::string, finding>& findings() const noexcept { return findings_; }

private:
    std::size_t examples_per_kind_;
    std::map<std::string, finding> findings_;
};

struct account_scan {
    std::string source_user;
    std::string dest_user;
    std::string error;   // the source could not be read; empty when scanned
    std::optional<error_kind> kind;
    std::uint64_t folders = 0, messages = 0, bytes = 0;
    std::vector<folder_content> content;   // --content: one per folder scanned
};

struct preflight_report {
    side_check source, dest;
    std::optional<side_check> rest;
    dest_profile profile;
    std::string profile_evidence;      // what decided the profile ("greeting ... Zimbra ...", "--dest-profile")
    std::vector<account_scan> accounts;
    finding_tally tally;
    bool content_scanned = false;   // --content
    double seconds = 0;

    // A side failed, or an account could not be scanned.
    [[nodiscard]] bool blocks() const;
};

struct preflight_options {
    job_options job;       // the sides, credentials, --dest-profile and --max-message-size, as migrate takes them
    std::size_t jobs = 4;  // accounts scanned at once
    // --content: every source body is also fetched and scanned (engine/mail/content_check.hpp); without it no body
    // is ever fetched.
    bool content = false;
};

// Steps 1 and 2 for the IMAP sides (the REST check is the CLI's: it speaks HTTP): the accounts are scanned as
// coroutines, options.jobs at once (engine/mail/account_workers.hpp). An account that cannot be read is
// reported in its account_scan and never stops the others.
[[nodiscard]] preflight_report run_preflight(const std::vector<account_pair>& accounts, const preflight_options& options);

[[nodiscard]] nlohmann::json to_json(const preflight_report& r);
// The human-readable report: sides, profile and limits, then each finding with its count and examples.
[[nodiscard]] std::string describe(const preflight_report& r);

}  // namespace arrival::engine
