// `arrival calendars` (and the shared body of `arrival contacts`, see cmd_contacts.cpp): command line,
// accounts file and password handling, then engine/pim does the work. Contract (issue 5):
//   arrival calendars --dir DIR --accounts FILE --dest URL [--admin USER] [--password-file F] [--jobs N]
//                     [--report F]   (+ --ca-file, --insecure, --collection, --retries, --timeout, --progress,
//                     --quiet; for carbonio+https: --carbonio-auth delegate|basic, --admin-url URL, --folder P)
// Progress is the mail stage's (engine/progress): a bar on a terminal, else a log line every 5 s, counting
// events or contacts, users and export-file bytes (so the ETA holds before every file has been read).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "engine/account_list.hpp"
#include "engine/owner_only.hpp"
#include "engine/pim/import_job.hpp"
#include "engine/pim/import_report.hpp"
#include "engine/progress.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/http_flags.hpp"
#include "tools/arrival/pim_exit.hpp"
#include "tools/arrival/secret.hpp"
#include "tools/arrival/shard_option.hpp"

namespace arrival::cli {

// Shared by run_calendars and run_contacts (declared again in cmd_contacts.cpp).
int run_pim_stage(pim::pim_kind kind, int argc, char** argv);

namespace {

// Feeds engine/progress from the import, and writes a line per finished user.
class import_progress_observer final : public pim::import_observer {
public:
    import_progress_observer(engine::progress& p, const char* stage, bool lines, bool tty)
        : p_(p), stage_(stage), lines_(lines), tty_(tty) {}
    void user_started(const pim::import_user& u) override { p_.account_started(u.dest_user); }
    void items_found(std::size_t items) override { p_.add_expected(items, 0); }
    void items_done(std::size_t items, std::uint64_t bytes) override { p_.add_done(items, bytes); }
    void user_finished(const pim::user_result& r, std::size_t done, std::size_t total) override {
        p_.account_finished(r.user);
        // In a log every user gets its line; on a terminal only those worth a look, above the bar.
        if (lines_ && (!tty_ || (r.status != pim::user_status::ok && r.status != pim::user_status::no_file))) {
            std::fprintf(stderr, "%s%s: %s\n", tty_ ? "\r\x1b[K" : "", stage_,
                         pim::progress_line(r, done, total).c_str());
        }
    }

private:
    engine::progress& p_;
    const char* stage_;
    bool lines_;
    bool tty_;
};

}  // namespace

int run_pim_stage(pim::pim_kind kind, int argc, char** argv) {
    const bool calendars = kind == pim::pim_kind::calendars;
    const char* stage = calendars ? "calendars" : "contacts";
    CLI::App app{calendars ? "arrival calendars: import ICS calendar exports (DIR/<user>.ics) into CalDAV or Carbonio"
                           : "arrival contacts: import CSV contact exports (DIR/<user>.csv) into CardDAV or Carbonio",
                 std::string("arrival ") + stage};
    std::string dir, accounts, dest, admin, password_file, report, ca_file, collection, csv_format, vcard;
    std::string carbonio_auth_mode = "delegate", admin_url, folder;
    unsigned jobs = 4, retries = 3, timeout = 120;
    bool insecure = false, quiet = false;
    credential_flags credentials;
    app.add_option("--dir", dir, "directory holding one export per user, named after the source address")
        ->required();
    app.add_option("--accounts", accounts, "accounts file (address list, CSV source_user,dest_user, imapsync)")
        ->required();
    app.add_option("--dest", dest,
                   "http(s)://host/... (CalDAV/CardDAV; may contain {user}) or carbonio+https://host (REST)")
        ->required();
    app.add_option("--admin", admin, "authenticate as this admin for every user (required for carbonio+https)");
    app.add_option("--password-file", password_file,
                   "file whose first line is the password (admin's with --admin); else $ARRIVAL_PASSWORD");
    app.add_option("--carbonio-auth", carbonio_auth_mode,
                   "carbonio+https: delegate (as zmmailbox: admin SOAP AuthRequest, DelegateAuthRequest per user, "
                   "token as cookie; default) or basic (the admin's HTTP basic auth on REST; only /Calendar is "
                   "checked for existing UIDs)")
        ->check(CLI::IsMember({"delegate", "basic"}));
    app.add_option("--admin-url", admin_url,
                   "carbonio+https: the admin SOAP URL (default https://HOST:7071/service/admin/soap; a URL "
                   "without a path gets /service/admin/soap)");
    app.add_option("--folder", folder,
                   std::string("carbonio+https: the mailbox folder to import into, which must exist (default ") +
                       (calendars ? "/Calendar)" : "/Contacts)"));
    app.add_option("--jobs", jobs, "users imported at once (default 4)")->check(CLI::Range(1u, 256u));
    app.add_option("--report", report, "write a JSON report here");
    shard_option shard;
    shard.add_to(app);
    app.add_option("--ca-file", ca_file, ca_file_help);
    app.add_flag("--insecure", insecure, "do NOT verify the server's TLS certificate (testing only; says so on stderr)");
    add_credential_flags(app, credentials);
    app.add_option("--collection", collection,
                   std::string("name of the collection created when the user has none (default ") +
                       (calendars ? "calendar)" : "contacts)"));
    app.add_option("--retries", retries, "retries of a transient failure (connection reset, timeout, HTTP 408, 429, 500, 502, 503, 504; default 3)");
    app.add_option("--timeout", timeout, "seconds allowed for each write or read (default 120), and for each connect up to 30")->check(CLI::Range(1u, 3600u));
    std::string progress_mode = "auto";
    app.add_option("--progress", progress_mode, "auto (bar on a terminal, log lines otherwise), bar, log or none")
        ->check(CLI::IsMember({"auto", "bar", "log", "none"}));
    app.add_flag("--quiet", quiet, "no progress (same as --progress none)");
    if (!calendars) {
        app.add_option("--csv-format", csv_format, "force the CSV dialect instead of detecting it")
            ->check(CLI::IsMember({"outlook", "google", "thunderbird", "zimbra"}));
        app.add_option("--vcard-version", vcard, "force the vCard version (default: 3.0 unless the server only "
                                                  "lists 4.0)")
            ->check(CLI::IsMember({"3.0", "4.0"}));
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    }
    shard.resolve();

    pim::import_options o;
    o.kind = kind;
    std::string error;
    auto d = pim::parse_destination(dest, error);
    if (!d) {
        std::fprintf(stderr, "arrival %s: --dest %s: %s\n", stage, dest.c_str(), error.c_str());
        return exit_usage;
    }
    o.dest = std::move(*d);
    if (o.dest.kind == pim::destination::type::carbonio && admin.empty()) {
        std::fprintf(stderr, "arrival %s: a carbonio+https destination needs --admin (REST import as admin)\n", stage);
        return exit_usage;
    }
    if (o.dest.kind == pim::destination::type::carbonio) {
        o.rest_auth = carbonio_auth_mode == "basic" ? pim::carbonio_auth::basic : pim::carbonio_auth::delegate;
        o.carbonio_folder = folder;
        auto u = pim::carbonio_admin_url(o.dest.url, admin_url, error);
        if (!u) {
            std::fprintf(stderr, "arrival %s: --admin-url %s: %s\n", stage, admin_url.c_str(), error.c_str());
            return exit_usage;
        }
        o.admin_url = std::move(*u);
    } else if (!admin_url.empty() || carbonio_auth_mode != "delegate" || !folder.empty()) {
        std::fprintf(stderr,
                     "arrival %s: --admin-url, --carbonio-auth and --folder are for a carbonio+https destination\n",
                     stage);
        return exit_usage;
    }
    // Every request carries a password (Basic, or the SOAP AuthRequest) or a token: never over plain http://
    // unless asked, and refused before any connection.
    for (const http::url* u : {&o.dest.url, o.dest.kind == pim::destination::type::carbonio ? &o.admin_url : nullptr}) {
        if (u != nullptr && !u->tls && !credentials.allow_cleartext) {
            std::fprintf(stderr, "arrival %s: %s\n", stage,
                         cleartext_refusal(u->origin(), "is plain http:// (no TLS)").c_str());
            return exit_tls_failed;
        }
    }
    if (o.dest.kind == pim::destination::type::dav && !admin.empty() &&
        o.dest.url.target.find("{user}") == std::string::npos) {
        std::fprintf(stderr,
                     "arrival %s: with --admin the --dest URL needs a {user} placeholder (discovery would find "
                     "the admin's own collections)\n",
                     stage);
        return exit_usage;
    }
    auto password = read_secret(password_file, "ARRIVAL_PASSWORD");
    o.admin = admin;
    if (!admin.empty()) {
        if (!password) {
            std::fprintf(stderr, "arrival %s: --admin needs --password-file or ARRIVAL_PASSWORD\n", stage);
            return exit_usage;
        }
        o.admin_password = *password;
    } else if (password) {
        o.default_password = *password;
    }
    apply_http_flags(o, ca_file, insecure, timeout, retries);
    o.jobs = jobs;
    o.collection_name = collection.empty() ? (calendars ? "calendar" : "contacts") : collection;
    if (!csv_format.empty()) o.forced_format = pim::parse_csv_format(csv_format);
    if (!vcard.empty()) o.forced_vcard = vcard == "4.0" ? pim::vcard_version::v4 : pim::vcard_version::v3;
    if (insecure) std::fprintf(stderr, "arrival %s: WARNING: --insecure: TLS certificates are not verified\n", stage);

    auto list = engine::load_account_list(accounts);
    keep_shard_accounts(list.accounts, shard.spec);
    std::vector<pim::import_user> users;
    check_accounts_file_mode(accounts, list.accounts);
    for (const auto& a : list.accounts) {
        pim::import_user u;
        u.source_user = a.source_user;
        u.dest_user = a.dest_user;
        u.password = a.dest_password.reveal();
        u.file = fmt::format("{}/{}{}", dir, a.source_user, calendars ? ".ics" : ".csv");
        if (admin.empty() && u.password.empty() && o.default_password.empty()) {
            std::fprintf(stderr,
                         "arrival %s: %s:%zu: no password for %s; give --password-file, ARRIVAL_PASSWORD or a "
                         "dest_password column\n",
                         stage, accounts.c_str(), a.line, a.dest_user.c_str());
            return exit_usage;
        }
        users.push_back(std::move(u));
    }

    const bool tty = ::isatty(STDERR_FILENO) != 0;
    const bool show = !quiet && progress_mode != "none";
    // Counted even when not shown: `arrival run` draws them in its own display (engine/run_progress.hpp).
    engine::progress prog(show ? stderr : nullptr, progress_mode == "bar" || (progress_mode == "auto" && tty));
    prog.set_units(calendars ? engine::progress_units{"events", "events", "events/s", "users", "users"}
                             : engine::progress_units{"contacts", "contacts", "contacts/s", "users", "users"});
    prog.set_accounts(users.size());
    std::uint64_t export_bytes = 0;
    for (const auto& u : users) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(u.file, ec);
        if (!ec) export_bytes += size;
    }
    prog.add_expected(0, export_bytes);
    import_progress_observer observer(prog, stage, show, tty);
    prog.start();
    const auto results = pim::run_import(o, users, observer);
    prog.stop();
    const auto t = pim::totals(results);
    std::fprintf(stderr,
                 "%s: %zu users (%zu ok, %zu partial, %zu failed, %zu without export): %zu imported, %zu already "
                 "present, %zu failed%s\n",
                 stage, t.users, t.ok, t.partial, t.failed, t.no_file, t.imported, t.existing, t.items_failed,
                 t.todo_skipped > 0 ? fmt::format(", {} VTODO not posted", t.todo_skipped).c_str() : "");
    if (!report.empty()) {
        auto out = engine::open_owner_only(report);
        out << stamp_shard(pim::report_json(kind, dest, results), shard.spec);
        if (!out) throw std::runtime_error("cannot write report " + report);
    }
    return exit_for_users(results);
}

int run_calendars(int argc, char** argv) { return run_pim_stage(pim::pim_kind::calendars, argc, argv); }

}  // namespace arrival::cli
