// Runs the account jobs of a run: `jobs` account pairs at once, each holding one source and one destination
// connection, with separate caps on connections per server so a large --jobs never overloads the source
// (a job waits for a slot on both sides before it connects). One account's failure never stops the others.
#pragma once
#include <cstddef>
#include <optional>
#include <vector>

#include "engine/account_job.hpp"

namespace arrival::engine {

struct scheduler_options {
    std::size_t jobs = 4;
    std::size_t max_source_connections = 0;   // 0: same as jobs
    std::size_t max_dest_connections = 0;
};

struct run_outcome {
    run_report report;
    // The worst connection-level error seen, for the exit status when every account failed the same way.
    std::vector<std::optional<error_kind>> fatal_kinds;   // per account, in input order
};

[[nodiscard]] run_outcome run_accounts(const std::vector<account_pair>& accounts, const job_options& job,
                                       const scheduler_options& options);

}  // namespace arrival::engine
