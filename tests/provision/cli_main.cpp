// `arrival provision` alone, for the tests: the same run_provision() the `arrival` binary dispatches to, so
// the CLI contract is tested even while the rest of the CLI is being built. Mirrors main()'s catch-all.
#include <cstdio>
#include <exception>

#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"

int main(int argc, char** argv) {
    try {
        return arrival::cli::run_provision(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "arrival provision: %s\n", e.what());
        return arrival::cli::exit_nothing_ran;
    }
}
