// One account pair end to end: log in on both sides, plan the folders, create what is missing, then per
// folder index both sides, plan the copies (engine/copy_planner.hpp) and run the message pipeline.
// Returns an account_report and never throws: every failure ends up in it with the server's words.
//
// Faults: a transient error (reset, timeout, BYE, [UNAVAILABLE]) reconnects both sides and resumes at the
// folder it happened in, up to `max_attempts` times with exponential backoff; the folder is re-planned
// against the destination, so nothing is copied twice. A permanent error for the account (refused login,
// unreachable server) fails the account; a message the destination refuses fails only that message.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>

#include "engine/account_list.hpp"
#include "engine/folder_map.hpp"
#include "engine/imap_session.hpp"
#include "engine/message_pipeline.hpp"
#include "engine/progress.hpp"
#include "engine/report.hpp"
#include "engine/state_store.hpp"

namespace arrival::engine {

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
    bool sync_flags = true;              // a rerun carries flag changes (--no-sync-flags: off); engine/delta_sync.hpp
    bool sync_deletes = false;           // a rerun expunges what the source expunged (--sync-deletes)
    bool verify_flags = false;           // arrival verify --flags: compare flags too
    pipeline_config pipeline;
    state_store* state = nullptr;        // null: no resume information (dry run)
    progress* progress_sink = nullptr;
    std::FILE* plan_out = nullptr;       // dry run: where the plan is printed
    int max_attempts = 4;
    std::chrono::milliseconds backoff{500};
};

enum class account_side { source, destination };

// Connects and logs in to one side of the pair as every job does: the admin acting for the user (SASL PLAIN
// authzid), or the user's own password from the accounts file. The destination resolves its profile
// (--dest-profile, --max-message-size) with `guard` as its refusal policy (null: the session's own).
// Throws session_error naming the side, the URL and the user.
[[nodiscard]] std::unique_ptr<imap_session> open_account_side(const account_pair& a, const job_options& o, account_side side,
                                                              append_guard* guard = nullptr);

[[nodiscard]] account_report run_account(const account_pair& account, const job_options& options) noexcept;

// The error kind that failed the account (for the CLI's exit status), when it was a connection-level one.
struct account_outcome {
    account_report report;
    std::optional<error_kind> fatal_kind;
};
[[nodiscard]] account_outcome run_account_outcome(const account_pair& account, const job_options& options) noexcept;

}  // namespace arrival::engine
