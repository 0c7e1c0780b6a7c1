// The HTTP connection flags of calendars, contacts, files and shares (--ca-file, --insecure, --timeout,
// --retries), put into pim::import_options, the connection settings all four commands hand to their jobs.
#pragma once
#include <algorithm>
#include <chrono>
#include <string>

#include "engine/pim/import_job.hpp"

namespace arrival::cli {

// A connect gets the --timeout too, but at most 30 s: an unreachable server should not hold a job for minutes.
inline void apply_http_flags(pim::import_options& o, const std::string& ca_file, bool insecure, unsigned timeout,
                             unsigned retries) {
    o.tls.ca_file = ca_file;
    o.tls.insecure = insecure;
    o.timeouts.io = std::chrono::seconds(timeout);
    o.timeouts.connect = std::chrono::seconds(std::min(timeout, 30u));
    o.retries = retries;
}

}  // namespace arrival::cli
