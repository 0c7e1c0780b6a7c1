#include "tools/arrival/metrics_option.hpp"

#include <cstdio>
#include <stdexcept>

#include "tools/arrival/exit_status.hpp"

namespace arrival::cli {

std::optional<int> serve_metrics(const std::string& address, const engine::run_metrics& registry, const char* command,
                                 std::unique_ptr<http::metrics_server>& out) {
    try {
        out = std::make_unique<http::metrics_server>(http::parse_listen_address(address), [&registry] { return registry.render(); },
                                                     std::string(engine::metrics_content_type));
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "%s: --metrics %s\n", command, e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", command, e.what());
        return exit_nothing_ran;
    }
    std::fprintf(stderr, "%s: metrics at %s\n", command, out->url().c_str());
    return std::nullopt;
}

void add_metrics_option(CLI::App& app, std::string& address) {
    app.add_option("--metrics", address,
                   "serve Prometheus metrics over HTTP at ADDR:PORT/metrics while the run lasts (:PORT binds 127.0.0.1; doc/metrics.md)");
}

std::optional<int> attach_metrics(const std::string& address, engine::run_metrics& own, const char* command,
                                  std::unique_ptr<http::metrics_server>& server, engine::run_metrics*& registry) {
    if (address.empty()) {
        registry = engine::lent_run_metrics();   // under `arrival run --metrics`: the run's, served for the whole run
        return std::nullopt;
    }
    if (const auto stop = serve_metrics(address, own, command, server)) return stop;
    registry = &own;
    return std::nullopt;
}

}  // namespace arrival::cli
