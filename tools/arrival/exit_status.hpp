// Process exit statuses of the `arrival` CLI. Documented in README.md and doc/*.md; scripts depend on them.
#pragma once
#include <optional>

#include "protocol/failure.hpp"

namespace arrival::cli {

enum exit_status : int {
    exit_ok = 0,               // everything completed
    exit_partial = 1,          // ran, but some accounts / entries / items failed (see the report)
    exit_usage = 2,            // bad command line or configuration; nothing was done
    exit_nothing_ran = 3,      // a fatal error before any item could run (e.g. unreadable input)
    exit_unreachable = 4,      // could not connect (DNS, refused, timeout)
    exit_tls_failed = 5,       // TLS handshake or certificate verification failed
    exit_auth_failed = 6,      // the server refused the credentials
    exit_protocol_error = 7,   // the server spoke something we could not accept
    exit_interrupted = 130,    // Ctrl-C or SIGTERM: in-flight work committed, state saved; a rerun resumes (128+SIGINT)
};

// The one table from a failure (protocol/failure.hpp) to its exit status, for every command: the status of a
// run that failed for that one reason (every account, user or entry, or the one server it needed). transient,
// refused and input have none of their own: what they mean for the run is the command's (usually exit_partial:
// some items failed; provision's bad option is exit_usage).
[[nodiscard]] constexpr std::optional<exit_status> exit_status_of(failure f) noexcept {
    switch (f) {
    case failure::unreachable: return exit_unreachable;
    case failure::tls: return exit_tls_failed;
    case failure::auth: return exit_auth_failed;
    case failure::protocol: return exit_protocol_error;
    case failure::transient:
    case failure::refused:
    case failure::input: return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace arrival::cli
