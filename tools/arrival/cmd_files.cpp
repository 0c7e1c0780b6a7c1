// `arrival files`: command line, accounts file and password handling; engine/files does the work. Contract
// (issue 10):
//   arrival files --source DIR|zimbra-tgz:DIR|https://dav.old.example/{user}/ --accounts FILE
//                 --dest carbonio+https://host | https://dav.new.example/{user}/
//                 [--admin USER --password-file F] [--jobs N] [--report F] [--dry-run]
//   (+ --source-admin, --source-password-file, --admin-url, --ca-file, --insecure, --allow-cleartext,
//    --retries, --timeout, --spool-dir, --progress, --quiet)
// --admin/--password-file are the destination's (Carbonio: the admin that acts for every user; WebDAV: an
// admin allowed into every user's tree, or none and each user's password). A WebDAV source has its own.
// Progress is the other commands' (engine/progress): files and bytes.
#include <cstdio>
#include <filesystem>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "engine/account_list.hpp"
#include "engine/files/files_job.hpp"
#include "engine/owner_only.hpp"
#include "engine/progress.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/http_flags.hpp"
#include "tools/arrival/pim_exit.hpp"
#include "tools/arrival/secret.hpp"
#include "tools/arrival/shard_option.hpp"

namespace arrival::cli {

namespace {

class files_progress_observer final : public files::files_observer {
public:
    files_progress_observer(engine::progress& p, bool lines, bool tty) : p_(p), lines_(lines), tty_(tty) {}
    void user_started(const files::files_user& u) override { p_.account_started(u.dest_user); }
    void files_found(std::size_t n, std::uint64_t bytes) override { p_.add_expected(n, bytes); }
    void file_done(std::uint64_t bytes) override { p_.add_done(1, bytes); }
    void user_finished(const files::files_result& r, std::size_t done, std::size_t total) override {
        p_.account_finished(r.user);
        if (lines_ && (!tty_ || r.status != pim::user_status::ok)) {
            std::fprintf(stderr, "%sfiles: %s\n", tty_ ? "\r\x1b[K" : "", files::files_progress_line(r, done, total).c_str());
        }
    }

private:
    engine::progress& p_;
    bool lines_;
    bool tty_;
};

}  // namespace

int run_files(int argc, char** argv) {
    CLI::App app{"Move each user's private files into Carbonio Files or a WebDAV server", "arrival files"};
    std::string source, accounts, dest, admin, password_file, source_admin, source_password_file, report, ca_file;
    std::string admin_url, spool_dir, progress_mode = "auto";
    unsigned jobs = 4, retries = 3, timeout = 120;
    bool insecure = false, quiet = false, dry_run = false;
    credential_flags credentials;
    app.add_option("--source", source,
                   "DIR (DIR/<user>/...), zimbra-tgz:DIR (DIR/<user>.tgz, a Zimbra ?fmt=tgz export: its Briefcase) "
                   "or https://host/path/{user}/ (a WebDAV tree)")
        ->required();
    app.add_option("--accounts", accounts, "accounts file (address list, CSV source_user,dest_user, imapsync)")
        ->required();
    app.add_option("--dest", dest, "carbonio+https://host (Carbonio Files) or https://host/path/{user}/ (WebDAV)")
        ->required();
    app.add_option("--admin", admin, "destination admin: acts for every user (required for carbonio+https)");
    app.add_option("--password-file", password_file,
                   "file whose first line is the destination password (the admin's with --admin); else "
                   "$ARRIVAL_PASSWORD");
    app.add_option("--source-admin", source_admin, "WebDAV source: log in as this admin for every user");
    app.add_option("--source-password-file", source_password_file,
                   "WebDAV source: the password (the source admin's, or every user's); else $ARRIVAL_SOURCE_PASSWORD");
    app.add_option("--admin-url", admin_url, "carbonio+https: the admin SOAP URL (default https://HOST:7071/service/admin/soap)");
    app.add_option("--jobs", jobs, "users moved concurrently")->check(CLI::Range(1u, 256u));
    app.add_option("--report", report, "write a JSON report here");
    shard_option shard;
    shard.add_to(app);
    app.add_flag("--dry-run", dry_run, "read both sides and report what would be written, writing nothing");
    app.add_option("--ca-file", ca_file, ca_file_help);
    app.add_flag("--insecure", insecure, "do not verify TLS certificates (testing only)");
    add_credential_flags(app, credentials);
    app.add_option("--retries", retries, "retries of a transient failure (connection reset, 429, 5xx)");
    app.add_option("--timeout", timeout, "seconds allowed for each connect, write or read step")
        ->check(CLI::Range(1u, 3600u));
    app.add_option("--spool-dir", spool_dir, "where tgz members and WebDAV source files are spooled, one at a time "
                                              "(default $TMPDIR or /tmp)");
    app.add_option("--progress", progress_mode, "auto (bar on a terminal, log lines otherwise), bar, log or none")
        ->check(CLI::IsMember({"auto", "bar", "log", "none"}));
    app.add_flag("--quiet", quiet, "no progress (same as --progress none)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    }
    shard.resolve();

    files::files_options o;
    std::string error;
    auto usage = [](const std::string& what) {
        std::fprintf(stderr, "arrival files: %s\n", what.c_str());
        return exit_usage;
    };
    if (source.rfind("https://", 0) == 0 || source.rfind("http://", 0) == 0) {
        auto u = http::parse_url(source, error);
        if (!u) return usage("--source " + source + ": " + error);
        if (u->target.find("{user}") == std::string::npos) {
            return usage("a WebDAV --source needs a {user} placeholder: https://host/path/{user}/");
        }
        o.source = files::source_kind::webdav;
        o.source_url = std::move(*u);
    } else if (source.rfind("zimbra-tgz:", 0) == 0) {
        o.source = files::source_kind::zimbra_tgz;
        o.source_dir = source.substr(11);
    } else {
        o.source_dir = source;
    }
    if (o.source != files::source_kind::webdav && !std::filesystem::is_directory(o.source_dir)) {
        std::fprintf(stderr, "arrival files: --source %s is not a directory\n", o.source_dir.c_str());
        return exit_nothing_ran;
    }
    auto d = pim::parse_destination(dest, error);
    if (!d) return usage("--dest " + dest + ": " + error);
    o.conn.dest = std::move(*d);
    if (o.conn.dest.kind == pim::destination::type::carbonio) {
        o.dest = files::dest_kind::carbonio;
        if (admin.empty()) return usage("a carbonio+https destination needs --admin (DelegateAuthRequest per user)");
        auto u = pim::carbonio_admin_url(o.conn.dest.url, admin_url, error);
        if (!u) return usage("--admin-url " + admin_url + ": " + error);
        o.conn.admin_url = std::move(*u);
    } else {
        o.dest = files::dest_kind::webdav;
        if (o.conn.dest.url.target.find("{user}") == std::string::npos) {
            return usage("a WebDAV --dest needs a {user} placeholder: https://host/path/{user}/");
        }
        if (!admin_url.empty()) return usage("--admin-url is for a carbonio+https destination");
    }
    if (o.source != files::source_kind::webdav && (!source_admin.empty() || !source_password_file.empty())) {
        return usage("--source-admin and --source-password-file are for a WebDAV source");
    }
    // Every request carries a password or a token: never over plain http:// unless asked.
    std::vector<const http::url*> urls{&o.conn.dest.url};
    if (o.dest == files::dest_kind::carbonio) urls.push_back(&o.conn.admin_url);
    if (o.source == files::source_kind::webdav) urls.push_back(&o.source_url);
    for (const auto* u : urls) {
        if (!u->tls && !credentials.allow_cleartext) {
            std::fprintf(stderr, "arrival files: %s\n", cleartext_refusal(u->origin(), "is plain http:// (no TLS)").c_str());
            return exit_tls_failed;
        }
    }
    auto password = read_secret(password_file, "ARRIVAL_PASSWORD");
    o.conn.admin = admin;
    if (!admin.empty()) {
        if (!password) return usage("--admin needs --password-file or ARRIVAL_PASSWORD");
        o.conn.admin_password = *password;
    } else if (password) {
        o.conn.default_password = *password;
    }
    if (o.source == files::source_kind::webdav) {
        auto source_password = read_secret(source_password_file, "ARRIVAL_SOURCE_PASSWORD");
        if (!source_admin.empty() && !source_password) {
            return usage("--source-admin needs --source-password-file or ARRIVAL_SOURCE_PASSWORD");
        }
        o.source_admin = source_admin;
        o.source_password = source_password.value_or("");
    }
    apply_http_flags(o.conn, ca_file, insecure, timeout, retries);
    o.jobs = jobs;
    o.dry_run = dry_run;
    o.spool_dir = spool_dir;
    if (insecure) std::fprintf(stderr, "arrival files: WARNING: --insecure: TLS certificates are not verified\n");

    auto list = engine::load_account_list(accounts);
    keep_shard_accounts(list.accounts, shard.spec);
    std::vector<files::files_user> users;
    check_accounts_file_mode(accounts, list.accounts);
    for (const auto& a : list.accounts) {
        files::files_user u;
        u.source_user = a.source_user;
        u.dest_user = a.dest_user;
        u.dest_password = a.dest_password.reveal();
        u.source_password = a.source_password.reveal();
        if (o.dest == files::dest_kind::webdav && admin.empty() && u.dest_password.empty() &&
            o.conn.default_password.empty()) {
            return usage(fmt::format("{}:{}: no destination password for {}; give --admin, --password-file, "
                                     "ARRIVAL_PASSWORD or a dest_password column",
                                     accounts, a.line, a.dest_user));
        }
        if (o.source == files::source_kind::webdav && u.source_password.empty() && o.source_password.empty()) {
            return usage(fmt::format("{}:{}: no source password for {}; give --source-password-file, "
                                     "ARRIVAL_SOURCE_PASSWORD or a source_password column",
                                     accounts, a.line, a.source_user));
        }
        users.push_back(std::move(u));
    }

    const bool tty = ::isatty(STDERR_FILENO) != 0;
    const bool show = !quiet && progress_mode != "none";
    // Counted even when not shown: `arrival run` draws them in its own display (engine/run_progress.hpp).
    engine::progress prog(show ? stderr : nullptr, progress_mode == "bar" || (progress_mode == "auto" && tty));
    prog.set_units(engine::progress_units{"files", "files", "files/s", "users", "users"});
    prog.set_accounts(users.size());
    files_progress_observer observer(prog, show, tty);
    prog.start();
    const auto results = files::run_files(o, users, observer);
    prog.stop();
    std::size_t uploaded = 0, skipped = 0, versions = 0, failed = 0, files_n = 0;
    for (const auto& r : results) {
        files_n += r.files;
        uploaded += r.uploaded;
        skipped += r.skipped_existing;
        versions += r.versions;
        failed += r.failed.size();
        if (dry_run) {
            for (const auto& p : r.planned) std::printf("%s: %s\n", r.user.c_str(), p.c_str());
        }
    }
    std::fprintf(stderr, "files%s: %zu users: %zu files, %zu %suploaded, %zu already there, %zu %sversions, %zu failed\n",
                 dry_run ? " (dry run)" : "", results.size(), files_n, uploaded, dry_run ? "to be " : "", skipped,
                 versions, dry_run ? "new " : "", failed);
    if (!report.empty()) {
        auto out = engine::open_owner_only(report);
        out << stamp_shard(files::files_report_json(source, dest, dry_run, results), shard.spec);
        if (!out) throw std::runtime_error("cannot write report " + report);
    }
    return exit_for_users(results);
}

}  // namespace arrival::cli
