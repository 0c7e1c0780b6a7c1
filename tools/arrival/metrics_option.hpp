// `--metrics ADDR:PORT` (doc/metrics.md), the same on `arrival migrate`, `verify`, `preflight` and `run`: the
// Prometheus endpoint over a run's registry (engine/run_metrics.hpp), up for as long as the returned server lives.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "engine/run_metrics.hpp"
#include "protocol/http/metrics_server.hpp"

namespace arrival::cli {

// Serves `registry` at `address` into `out` and prints its URL on stderr. On failure prints why, prefixed by
// `command`, and returns the exit status: exit_usage for a bad address, exit_nothing_ran when it cannot listen.
// `registry` must outlive `out`.
[[nodiscard]] std::optional<int> serve_metrics(const std::string& address, const engine::run_metrics& registry,
                                               const char* command, std::unique_ptr<http::metrics_server>& out);

// Adds --metrics ADDR:PORT to a command, with one help text everywhere.
void add_metrics_option(CLI::App& app, std::string& address);

// The registry a stage command counts into: its own `own`, served at `address` (`server` keeps it up), when
// --metrics was given; else the one `arrival run --metrics` lent (nullptr when none). Returns the exit status to
// stop with, as serve_metrics.
[[nodiscard]] std::optional<int> attach_metrics(const std::string& address, engine::run_metrics& own, const char* command,
                                                std::unique_ptr<http::metrics_server>& server, engine::run_metrics*& registry);

}  // namespace arrival::cli
