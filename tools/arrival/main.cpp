// arrival: move a whole mail server onto a new one. This file only dispatches to the subcommands and is the
// one place that catches every exception, turning it into a one-line error and an exit status.
#include <csignal>
#include <cstdio>
#include <exception>
#include <string_view>

#include <sys/resource.h>

#include "engine/stop_request.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"

namespace {

struct command {
    std::string_view name;
    int (*run)(int, char**);
    std::string_view summary;
};

// One row per subcommand.
constexpr command commands[] = {
    {"preflight", arrival::cli::run_preflight, "check both servers and scan the source for what the migration will change or refuse"},
    {"probe", arrival::cli::run_probe, "log in to an IMAP server and list capabilities, namespaces and folders"},
    {"calendars", arrival::cli::run_calendars, "import ICS calendar exports into CalDAV or Carbonio"},
    {"contacts", arrival::cli::run_contacts, "import CSV contact exports into CardDAV or Carbonio"},
    {"files", arrival::cli::run_files, "move each user's private files (directory, Zimbra tgz, WebDAV) into Carbonio Files or WebDAV"},
    {"shares", arrival::cli::run_shares, "copy folder ACLs between IMAP servers, or a CSV of shares into Carbonio grants"},
    {"provision", arrival::cli::run_provision, "load LDIF of domains, COSes, accounts and lists into the destination's LDAP"},
    {"migrate", arrival::cli::run_migrate, "copy every mailbox of an accounts file from one IMAP server to another"},
    {"plan", arrival::cli::run_plan_command, "check a run plan (PLAN.toml): every error with its line, then the stage list"},
    {"run", arrival::cli::run_run, "run a plan's stages (provision, migrate, calendars, contacts, files, shares, grants, verify) in order, resumably"},
    {"verify", arrival::cli::run_verify, "compare source and destination mailboxes folder by folder and list every difference"},
    {"report", arrival::cli::run_report, "merge the shards' reports into one JSON and one HTML report, or render one as HTML"},
};

void print_usage(std::FILE* out) {
    std::fputs("usage: arrival COMMAND [OPTIONS]   (arrival COMMAND --help for its options)\n\ncommands:\n", out);
    for (const auto& c : commands) {
        std::fprintf(out, "  %-11.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                     static_cast<int>(c.summary.size()), c.summary.data());
    }
    std::fputs("\nexit status: 0 all done; 1 some items failed; 2 usage error; 3 nothing could run;\n"
               "             4 unreachable; 5 TLS failed; 6 authentication failed; 7 protocol error;\n"
               "             130 interrupted (Ctrl-C/SIGTERM: work in flight committed, state saved)\n",
               out);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace arrival::cli;
    // A peer that resets a connection must surface as EPIPE on that connection (retried, reported), not kill
    // the whole run: Asio's sockets send with MSG_NOSIGNAL, but other writes (libldap, a closed stdout pipe)
    // would still raise SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    // The process holds admin passwords and Carbonio tokens: a crash must not write them into a core file.
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (argc < 2) {
        print_usage(stderr);
        return exit_usage;
    }
    const std::string_view name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        print_usage(stdout);
        return exit_ok;
    }
    // Every command stops the same way on Ctrl-C or SIGTERM (engine/stop_request.hpp): no new work, what is
    // in flight committed, the report written, exit status 130. A second signal ends the process at once.
    arrival::engine::stop_on_signals();
    for (const auto& c : commands) {
        if (c.name != name) continue;
        try {
            const int status = c.run(argc - 1, argv + 1);
            if (arrival::engine::stop_requested() && status != exit_ok) {
                std::fprintf(stderr, "arrival %s: interrupted; work in flight was committed, rerun to resume\n", argv[1]);
                return exit_interrupted;
            }
            return status;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "arrival %s: %s\n", argv[1], e.what());
            return exit_nothing_ran;
        }
    }
    std::fprintf(stderr, "arrival: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return exit_usage;
}
