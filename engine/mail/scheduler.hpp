// Runs the account jobs of a run: `jobs` account pairs at once, as coroutines (engine/mail/account_job.hpp) on a
// couple of io_contexts, one thread each; each job on a strand of its own. Separate caps on connections per
// server (async semaphores the jobs await, never a thread) keep a large --jobs or --connections-per-account
// from overloading either side, and within them an adaptive window of connection pairs
// (engine/mail/adaptive_concurrency.hpp) follows what the servers take. One account's failure never stops the others.
#pragma once
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "engine/mail/account_job.hpp"

namespace arrival::engine {

class report_spool;   // engine/mail/report_spool.hpp

struct scheduler_options {
    std::size_t jobs = 4;
    std::size_t max_source_connections = 0;   // 0: jobs x connections_per_account
    std::size_t max_dest_connections = 0;
    // --fixed-concurrency: every pair the caps allow from the start, no adaptive window.
    bool fixed_concurrency = false;
    // Where each account's report goes as it finishes (engine/mail/report_spool.hpp); null keeps them whole in memory.
    std::shared_ptr<report_spool> spool;
};

struct run_outcome {
    run_report report;
    // The worst connection-level error seen, for the exit status when every account failed the same way.
    std::vector<std::optional<error_kind>> fatal_kinds;   // per account, in input order
};

[[nodiscard]] run_outcome run_accounts(const std::vector<account_pair>& accounts, const job_options& job,
                                       const scheduler_options& options);

}  // namespace arrival::engine
