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

}  // namespace arrival::cli
