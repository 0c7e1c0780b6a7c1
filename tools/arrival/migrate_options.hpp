// The command line shared by `arrival migrate` and `arrival verify` (the contract of issue 3), turned into
// the engine's job options. Passwords come from --*-password-file or ARRIVAL_SOURCE_PASSWORD /
// ARRIVAL_DEST_PASSWORD only, never from argv.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/account_list.hpp"
#include "engine/mail/account_job.hpp"
#include "engine/mail/scheduler.hpp"
#include "tools/arrival/secret.hpp"
#include "tools/arrival/shard_option.hpp"

namespace arrival::cli {

struct migrate_args {
    std::string source_url, dest_url, accounts_file, accounts_format = "detect";
    std::string source_admin, dest_admin, source_password_file, dest_password_file;
    std::string ca_file, source_ca_file, dest_ca_file;
    bool insecure = false, starttls = false, no_starttls = false;
    credential_flags credentials;  // --allow-cleartext, --strict-permissions
    std::vector<std::string> include, exclude;
    std::string dest_profile = "auto";                // --dest-profile auto|carbonio|generic
    std::optional<std::uint64_t> max_message_size;    // --max-message-size BYTES
    std::size_t jobs = 4, max_source_connections = 0, max_dest_connections = 0;
    unsigned timeout = 0;                              // --timeout SECONDS (0: the connection's defaults)
    std::string report_file;
    shard_option shard;                                // --shard K/N: only this shard's accounts (and state dir)
    // --public (add_public_options): one more entry for the source's shared namespace, logged in as public_account
    bool with_public = false;
    std::string public_account;
    std::string public_dest_account;   // --public-dest-account: the public job's destination login, when not the account's
    // migrate only
    std::string state_dir = "arrival-state";
    bool dry_run = false, collapse_duplicates = false;
    bool no_sync_flags = false, sync_deletes = false;   // a rerun's changes (engine/mail/delta_sync.hpp)
    bool verify_flags = false;                          // verify --flags
    bool verify_content = false;                        // verify --content
    std::size_t batch = 50;
    std::size_t memory_mb = 48;
    std::string spill_dir = "/tmp";
    std::string progress_mode = "auto";
    std::string metrics;                                // --metrics ADDR:PORT (migrate, verify, preflight)
    std::size_t connections_per_account = 2;
    bool fixed_concurrency = false;                     // --fixed-concurrency (migrate): no adaptive window
};

// Registers the options common to migrate, verify and preflight on `app` (--shard among them).
void add_connection_options(CLI::App& app, migrate_args& a);

// Registers --public and --public-account; resolve() then appends the public entry after the accounts
// (engine/mail/public_plan.hpp: public_job_account), so verify plans it exactly as migrate does.
void add_public_options(CLI::App& app, migrate_args& a);

// Everything a run needs, resolved and validated. Throws usage_error (exit 2) for bad values and
// std::runtime_error (exit 3) for files that cannot be read.
struct resolved_run {
    engine::account_list accounts;
    engine::job_options job;
    engine::scheduler_options sched;
    engine::shard_spec shard;             // the accounts are this shard's; the public job only on shard 0
    std::filesystem::path state_dir;      // --state-dir, per shard (shard_state_dir)
};

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[nodiscard]] resolved_run resolve(const migrate_args& a);

// Parses the command line and resolves it, as `command` ("arrival migrate") reports it: returns the exit
// status to stop with (help printed, usage error, unreadable file), or nullopt to go on with `run`.
// Warns on stderr when --insecure is in effect.
[[nodiscard]] std::optional<int> parse_and_resolve(CLI::App& app, int argc, char** argv, const migrate_args& a,
                                                   const char* command, resolved_run& run);

// Exit status of a finished run: 0 all copied; 1 some accounts/messages failed; 4-7 when every account
// failed for the same connection-level reason (unreachable, TLS, credentials, protocol).
[[nodiscard]] int exit_status_for(const std::vector<bool>& account_ok, const std::vector<std::optional<engine::error_kind>>& kinds,
                                  bool messages_failed);

}  // namespace arrival::cli
