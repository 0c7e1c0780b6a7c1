// `--metrics ADDR:PORT` (doc/metrics.md), the same on `arrival migrate` and `arrival run`: the Prometheus
// endpoint over a run's registry (engine/run_metrics.hpp), up for as long as the returned server lives.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "engine/run_metrics.hpp"
#include "protocol/http/metrics_server.hpp"

namespace arrival::cli {

// Serves `registry` at `address` into `out` and prints its URL on stderr. On failure prints why, prefixed by
// `command`, and returns the exit status: exit_usage for a bad address, exit_nothing_ran when it cannot listen.
// `registry` must outlive `out`.
[[nodiscard]] std::optional<int> serve_metrics(const std::string& address, const engine::run_metrics& registry,
                                               const char* command, std::unique_ptr<http::metrics_server>& out);

}  // namespace arrival::cli
