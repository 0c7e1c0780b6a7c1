// `arrival preflight --rest carbonio+https://host`: the Carbonio REST side checked as `arrival calendars` and
// `arrival contacts` will use it (engine/pim/import_job.hpp: check_carbonio_access), read-only, for one user.
// The admin and the password are the destination's (--dest-admin, --dest-password-file or
// ARRIVAL_DEST_PASSWORD), the CA file the destination's.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

#include "engine/mail/account_job.hpp"
#include "engine/mail/preflight.hpp"

namespace arrival::cli {

struct rest_check_args {
    std::string url;             // carbonio+https://host[:port]
    std::string admin_url;       // admin SOAP URL; default https://HOST:7071/service/admin/soap
    std::string auth = "delegate";
    unsigned timeout = 30;
};

void add_rest_check_options(CLI::App& app, rest_check_args& a);

// Never throws: a usage problem (a URL that is not carbonio+https://) is a failed check saying so.
[[nodiscard]] engine::side_check check_rest(const rest_check_args& a, const std::string& user, const engine::job_options& job);

}  // namespace arrival::cli
