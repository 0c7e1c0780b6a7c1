// `arrival verify`: compares source and destination folder by folder, with the same folder plan migrate
// uses, by counts and dedupe-key multisets, and lists every difference. Read-only on both sides (EXAMINE,
// BODY.PEEK of header fields only). An account_pair of scope shared (verify --public) compares the source's
// public namespace with the destination's, planned exactly as migrate --public plans it (plan_scope).
//
// A source message is "missing" when its key occurs fewer times on the destination than on the source
// (k > j: the last k - j source UIDs of that key are listed). Destination messages without a source
// counterpart are "extra" — reported, but not an error (the destination may hold mail of its own).
// The destination profile is resolved as migrate resolves it (--dest-profile, --max-message-size): folder
// names map alike, and under carbonio what migrate keeps back (too large, 0 bytes) is listed as "not_sent",
// not as missing.
// With --flags (job_options::verify_flags) each pair of messages matched by key also compares flags: the
// source's as migrate maps them against the destination's; a destination-side change users made is listed too.
// With --content (job_options::verify_content) every source body is scanned (engine/mail/content_check.hpp: bare LF,
// NUL, 8-bit headers, long lines, malformed MIME, per folder with UIDs), and each pair of messages matched by
// key (match_by_key) compares the bytes: SHA-256 and size of both bodies, streamed in bounded batches. Nothing
// may be rewritten on the way, so any difference is listed (with the traits of both sides) and fails the account.
#pragma once
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/mail/account_job.hpp"
#include "engine/mail/content_check.hpp"
#include "engine/mail/delta_plan.hpp"

namespace arrival::engine {

struct missing_message {
    std::uint32_t uid = 0;   // source UID
    std::string key;         // dedupe key (engine/mail/dedupe_key.hpp)
    std::uint64_t size = 0;
};

struct folder_verification {
    std::string source_folder;
    std::string dest_folder;
    std::uint64_t source_messages = 0;
    std::uint64_t dest_messages = 0;
    std::vector<missing_message> missing;
    std::uint64_t extra = 0;
    bool dest_missing = false;   // the destination folder does not exist
    // Source messages the destination profile keeps back (too large, empty: engine/mail/dest_profile.hpp), as
    // migrate reports them; not counted as missing.
    struct kept_back {
        std::uint32_t uid = 0;
        std::uint64_t size = 0;
        std::string reason;   // "too_large" | "empty"
    };
    std::vector<kept_back> not_sent;
    bool flags_compared = false;                  // verify --flags
    std::vector<flag_difference> flags_differ;    // messages whose flags differ (engine/mail/delta_plan.hpp)
    // verify --content
    std::optional<folder_content> content;        // the source's bodies, scanned
    std::uint64_t bytes_compared = 0;             // matched pairs whose bodies were compared
    struct bytes_difference {
        std::uint32_t source_uid = 0, dest_uid = 0;
        std::uint64_t source_size = 0, dest_size = 0;
        std::string source_traits, dest_traits;   // content_findings::describe() of each side
    };
    std::vector<bytes_difference> bytes_differ;
};

struct account_verification {
    std::string source_user;
    std::string dest_user;
    folder_scope scope = folder_scope::personal;   // shared: the --public entry (the source's public namespace)
    std::string error;   // could not verify (login, ...); empty when compared
    std::optional<error_kind> error_kind_;   // set when a connection-level error stopped it
    std::vector<folder_verification> folders;
    [[nodiscard]] std::uint64_t missing() const;
    [[nodiscard]] std::uint64_t flags_differ() const;
    [[nodiscard]] std::uint64_t bytes_differ() const;
    [[nodiscard]] bool ok() const { return error.empty() && missing() == 0 && flags_differ() == 0 && bytes_differ() == 0; }
};

// Compares the multisets: exposed for tests (pure).
[[nodiscard]] folder_verification compare_folder(const std::vector<source_message>& source,
                                                 const std::vector<source_message>& dest);

// One account compared, as a coroutine on the caller's executor (its two sessions live there). Never throws:
// what stopped it is in the result's error, with the server's words.
[[nodiscard]] boost::asio::awaitable<account_verification> verify_account(const account_pair& account, const job_options& options);
// Every account compared, `jobs` at once (engine/mail/account_workers.hpp); results in input order. One
// account that cannot be compared never stops the others.
[[nodiscard]] std::vector<account_verification> verify_accounts(const std::vector<account_pair>& accounts, const job_options& options,
                                                              std::size_t jobs);

[[nodiscard]] nlohmann::json to_json(const std::vector<account_verification>& v, double seconds);
// Human-readable list of every difference (empty string when none).
[[nodiscard]] std::string describe_differences(const std::vector<account_verification>& v);

}  // namespace arrival::engine
