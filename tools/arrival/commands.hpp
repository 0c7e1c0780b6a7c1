// One function per `arrival` subcommand. Each lives in its own cmd_<name>.cpp, parses its own options
// (argv[0] is the subcommand name) and returns an exit_status. Only main() catches everything.
#pragma once

namespace arrival::cli {

// Add one declaration per subcommand here, and one row in main.cpp's table.
int run_probe(int argc, char** argv);
int run_calendars(int argc, char** argv);
int run_contacts(int argc, char** argv);
int run_files(int argc, char** argv);
int run_provision(int argc, char** argv);
int run_migrate(int argc, char** argv);
int run_verify(int argc, char** argv);
int run_preflight(int argc, char** argv);

}  // namespace arrival::cli
