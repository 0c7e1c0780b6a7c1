// One account pair end to end, as a coroutine: log in on both sides, plan the folders, create what is missing,
// then copy the folders in parallel over up to `connections_per_account` connection pairs (those worth their logins:
// adaptive_concurrency.hpp pairs_worth_opening). Per folder both
// indexes are read at once (source on the source connection, the dedupe index on the destination's), the
// copies planned (engine/mail/copy_planner.hpp) and the folder copied (engine/mail/message_pipeline.hpp); a pair
// starts its next folder once the last one has read its bodies, while its APPENDs are still answered (where both
// may share the destination connection); a run of small folders is opened together, each read whole with its
// index in one FETCH (a chain, account_job.cpp claim_next). Returns an account_outcome and never throws: every failure ends up in
// it with the server's words.
//
// Threading: migrate_account runs on a strand (every connection of the job lives on it, so the job's state
// needs no lock); only awaits, never blocks a thread.
//
// Faults: a transient error (reset, a stalled connection past --timeout, BYE, [UNAVAILABLE]) closes that
// connection pair and, after an exponential backoff on a steady_timer, resumes the folders it happened in on a
// fresh pair, up to `max_attempts` times per pair; each folder is re-planned against the destination, so
// nothing is copied twice. A permanent error for the account (refused login, unreachable server) fails the
// account; a message the destination refuses fails only that message.
#pragma once
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include "engine/account_list.hpp"
#include "engine/mail/async_semaphore.hpp"
#include "engine/mail/async_session.hpp"
#include "engine/mail/folder_map.hpp"
#include "engine/mail/message_pipeline.hpp"
#include "engine/mail/report.hpp"
#include "engine/mail/state_store.hpp"
#include "engine/progress.hpp"

namespace arrival::engine {

class adaptive_concurrency;

struct job_options {
    server_endpoint source;
    server_endpoint dest;
    std::string source_admin;            // log in as this admin for every user (SASL PLAIN authzid)
    std::string dest_admin;
    secret_string source_password;       // the admin's, or every user's when the accounts file has none
    secret_string dest_password;
    folder_filter filter;
    dest_profile_choice dest_profile = dest_profile_choice::automatic;   // --dest-profile
    std::optional<std::uint64_t> max_message_size;                      // --max-message-size
    bool dry_run = false;
    bool collapse_duplicates = false;
    bool sync_flags = true;              // a rerun carries flag changes (--no-sync-flags: off); engine/mail/delta_sync.hpp
    bool sync_deletes = false;           // a rerun expunges what the source expunged (--sync-deletes)
    bool verify_flags = false;           // arrival verify --flags: compare flags too
    bool verify_content = false;         // arrival verify --content: scan bodies, compare their bytes (engine/mail/verify.hpp)
    pipeline_config pipeline;
    state_store* state = nullptr;        // null: no resume information (dry run)
    progress* progress_sink = nullptr;
    std::FILE* plan_out = nullptr;       // dry run: where the plan is printed
    int max_attempts = 4;
    std::chrono::milliseconds backoff{500};
    std::size_t connections_per_account = 2;        // --connections-per-account: folders copied at once
    // The run's caps on connections per server (engine/mail/scheduler.hpp sets them; null: no cap). A job's first
    // pair waits for a slot on each side; its further pairs are opened only when a slot is free right away.
    async_semaphore* source_connections = nullptr;
    async_semaphore* dest_connections = nullptr;
    // The run's adaptive window of connection pairs (engine/mail/adaptive_concurrency.hpp; null: none). Jobs take
    // a unit before the server slots, report transient failures, login times and bytes done to it.
    adaptive_concurrency* concurrency = nullptr;
};

enum class account_side { source, destination };

// Connects and logs in to one side of the pair as every job does: the admin acting for the user (SASL PLAIN
// authzid), or the user's own password from the accounts file. The destination resolves its profile
// (--dest-profile, --max-message-size) with `guard` as its refusal policy (null: the session's own).
// Throws session_error naming the side, the URL and the user. The session lives on the calling coroutine's
// executor.
[[nodiscard]] boost::asio::awaitable<std::unique_ptr<async_session>> async_open_account_side(const account_pair& a, const job_options& o,
                                                                                            account_side side, append_guard* guard = nullptr);

// The error kind that failed the account (for the CLI's exit status), when it was a connection-level one.
struct account_outcome {
    account_report report;
    std::optional<error_kind> fatal_kind;
};
[[nodiscard]] boost::asio::awaitable<account_outcome> migrate_account(const account_pair& account, const job_options& options);

}  // namespace arrival::engine
