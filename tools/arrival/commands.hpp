// One function per `arrival` subcommand. Each lives in its own cmd_<name>.cpp, parses its own options
// (argv[0] is the subcommand name) and returns an exit_status. Only main() catches everything.
#pragma once

namespace arrival::cli {

// The --help of every --ca-file: IMAP, HTTP and LDAP follow one TLS policy (protocol/tls_policy.hpp), in which
// the file replaces the system's CA store, as curl's --cacert does.
inline constexpr const char* ca_file_help =
    "PEM file of the CA certificates to trust instead of the system's CA store (not in addition to it)";

// Add one declaration per subcommand here, and one row in main.cpp's table.
int run_probe(int argc, char** argv);
int run_calendars(int argc, char** argv);
int run_contacts(int argc, char** argv);
int run_files(int argc, char** argv);
int run_shares(int argc, char** argv);
int run_provision(int argc, char** argv);
int run_migrate(int argc, char** argv);
int run_verify(int argc, char** argv);
int run_preflight(int argc, char** argv);
int run_plan_command(int argc, char** argv);   // `arrival plan check`
int run_run(int argc, char** argv);
int run_report(int argc, char** argv);

}  // namespace arrival::cli
