// Process exit statuses of the `arrival` CLI. Documented in README.md and doc/*.md; scripts depend on them.
#pragma once

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
};

}  // namespace arrival::cli
