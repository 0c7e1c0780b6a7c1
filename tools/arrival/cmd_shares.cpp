// `arrival shares`: the sharing between users. Contract (issue 10):
//   arrival shares --source imap://... --dest imap://... --accounts FILE [--map-domain old=new] [--report F]
//   arrival shares --from shares.csv --dest carbonio+https://host ...
// The IMAP form takes migrate's connection options (tools/arrival/migrate_options: logins, TLS, --public,
// --include/--exclude, --dest-profile) so the folders are the ones migrate made; engine/shares does the work.
// Exit statuses as migrate's.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "engine/account_list.hpp"
#include "engine/owner_only.hpp"
#include "engine/shares/carbonio_grants.hpp"
#include "engine/shares/grant_plan.hpp"
#include "engine/shares/shares_job.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/http_flags.hpp"
#include "tools/arrival/migrate_options.hpp"
#include "tools/arrival/secret.hpp"

namespace arrival::cli {

namespace {

// --map-domain old=new, repeatable; keys lower-case (domains compare case-insensitively).
std::map<std::string, std::string> parse_domain_map(const std::vector<std::string>& pairs) {
    std::map<std::string, std::string> out;
    for (const auto& p : pairs) {
        const auto eq = p.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == p.size() || p.find('@') != std::string::npos) {
            throw usage_error(fmt::format("--map-domain {}: expected old.example=new.example", p));
        }
        out[shares::lower_ascii(p.substr(0, eq))] = p.substr(eq + 1);
    }
    return out;
}

int finish(const std::vector<shares::account_result>& results, const std::string& source, const std::string& dest,
           bool dry_run, const std::string& report_file, const engine::shard_spec& shard);

void print_grants(const std::vector<shares::account_result>& results, bool dry_run) {
    for (const auto& r : results) {
        const std::string who = r.shared_scope ? r.source_user + " (public)" : r.source_user;
        if (!r.error.empty()) std::printf("problem: %s: %s\n", who.c_str(), r.error.c_str());
        for (const auto& f : r.folders) {
            if (!f.error.empty()) std::printf("problem: %s: %s\n", who.c_str(), f.error.c_str());
            for (const auto& g : f.grants) {
                if (g.status == shares::grant_status::added) {
                    std::printf("%s: %s: %s %s +%s\n", who.c_str(), f.dest.c_str(), dry_run ? "would grant" : "granted",
                                g.dest_identifier.c_str(), g.granted.c_str());
                }
                if (!g.refused.empty() || g.status == shares::grant_status::failed) {
                    std::printf("%s: %s: %s %s '%s': %s\n", who.c_str(), f.dest.c_str(),
                                g.status == shares::grant_status::failed ? "failed" : "refused",
                                g.identifier.c_str(), g.refused.empty() ? g.rights.c_str() : g.refused.c_str(),
                                g.why.c_str());
                }
            }
        }
    }
}

int run_imap_shares(int argc, char** argv) {
    CLI::App app{"arrival shares: copy the folder ACLs (RFC 4314) of every account from the source server to the destination"};
    app.name("arrival shares");
    migrate_args a;
    std::vector<std::string> map_domain;
    add_connection_options(app, a);
    add_public_options(app, a);
    app.add_option("--map-domain", map_domain,
                   "old.example=new.example: grantees in old.example that the accounts file does not list get the new "
                   "domain; repeatable");
    app.add_flag("--dry-run", a.dry_run, "read both sides and list the grants that would be written, writing nothing");
    // The CSV form's own options, listed here so one --help shows both forms; run_csv_shares parses them.
    std::string from, admin, password_file, admin_url;
    unsigned retries = 3;
    app.add_option("--from", from, "CSV owner,folder,grantee,rights: Carbonio grants instead (--dest carbonio+https://host)");
    app.add_option("--admin", admin, "with --from: the Carbonio admin that acts for every owner");
    app.add_option("--password-file", password_file, "with --from: the Carbonio admin's password; else $ARRIVAL_PASSWORD");
    app.add_option("--admin-url", admin_url, "with --from: the admin SOAP URL (default https://HOST:7071/service/admin/soap)");
    app.add_option("--retries", retries, "with --from: retries of a transient failure");
    resolved_run run;
    if (const auto stop = parse_and_resolve(app, argc, argv, a, "arrival shares", run)) return *stop;
    if (!admin.empty() || !password_file.empty() || !admin_url.empty()) {
        std::fprintf(stderr, "arrival shares: --admin, --password-file and --admin-url go with --from; the IMAP form "
                             "logs in with --source-admin/--dest-admin and their password files\n");
        return exit_usage;
    }
    shares::shares_options o;
    try {
        o.domains = parse_domain_map(map_domain);
    } catch (const usage_error& e) {
        std::fprintf(stderr, "arrival shares: %s\n", e.what());
        return exit_usage;
    }
    o.job = run.job;
    o.jobs = run.sched.jobs;
    std::fprintf(stderr, "arrival shares: %zu account(s) from %s to %s, %zu at a time%s\n", run.accounts.accounts.size(),
                 run.job.source.url.c_str(), run.job.dest.url.c_str(), std::min(o.jobs, run.accounts.accounts.size()),
                 a.dry_run ? " (dry run)" : "");
    const auto results = shares::run_shares(o, run.accounts.accounts);
    return finish(results, a.source_url, a.dest_url, a.dry_run, a.report_file, run.shard);
}

// The grants printed, the totals on stderr, the report, the exit status: the same for both forms.
int finish(const std::vector<shares::account_result>& results, const std::string& source, const std::string& dest,
           bool dry_run, const std::string& report_file, const engine::shard_spec& shard) {
    print_grants(results, dry_run);
    std::size_t added = 0, unchanged = 0, refused = 0, failed = 0;
    std::vector<bool> ok;
    std::vector<std::optional<engine::error_kind>> kinds;
    bool partial = false;
    for (const auto& r : results) {
        added += r.added;
        unchanged += r.unchanged;
        refused += r.refused;
        failed += r.failed;
        ok.push_back(r.error.empty());
        kinds.push_back(r.kind);
        partial = partial || r.failed > 0;
    }
    std::fprintf(stderr, "shares%s: %zu accounts: %zu grants %sadded, %zu unchanged, %zu refused, %zu failed\n",
                 dry_run ? " (dry run)" : "", results.size(), added, dry_run ? "to be " : "", unchanged, refused, failed);
    if (!report_file.empty()) {
        auto out = engine::open_owner_only(report_file);
        auto report = shares::shares_report_json(source, dest, dry_run, results);
        stamp_shard(report, shard);
        out << report.dump(2) << "\n";
        if (!out) {
            std::fprintf(stderr, "arrival shares: cannot write report %s\n", report_file.c_str());
            return exit_partial;
        }
    }
    std::fflush(stdout);
    return exit_status_for(ok, kinds, partial);
}

int run_csv_shares(int argc, char** argv) {
    CLI::App app{"arrival shares --from: turn a CSV owner,folder,grantee,rights into Carbonio folder grants"};
    app.name("arrival shares");
    std::string from, dest, admin, password_file, admin_url, accounts, report, ca_file;
    std::vector<std::string> map_domain;
    unsigned jobs = 4, retries = 3, timeout = 120;
    bool insecure = false, dry_run = false;
    credential_flags credentials;
    shard_option shard;
    app.add_option("--from", from, "CSV with the columns owner,folder,grantee,rights (Carbonio perm letters rwidxapf)")
        ->required();
    app.add_option("--dest", dest, "carbonio+https://host")->required();
    app.add_option("--admin", admin, "the Carbonio admin that acts for every owner (DelegateAuthRequest)")->required();
    app.add_option("--password-file", password_file, "file whose first line is the admin's password; else $ARRIVAL_PASSWORD");
    app.add_option("--admin-url", admin_url, "the admin SOAP URL (default https://HOST:7071/service/admin/soap)");
    app.add_option("--accounts", accounts, "accounts file: owners and grantees it lists get their destination names");
    app.add_option("--map-domain", map_domain, "old.example=new.example for owners and grantees not in --accounts; repeatable");
    app.add_option("--jobs", jobs, "owners handled concurrently")->check(CLI::Range(1u, 256u));
    app.add_option("--report", report, "write a JSON report here");
    app.add_flag("--dry-run", dry_run, "read the grants each folder has and list the ones that would be written");
    app.add_option("--ca-file", ca_file, ca_file_help);
    app.add_flag("--insecure", insecure, "do not verify TLS certificates (testing only)");
    add_credential_flags(app, credentials);
    app.add_option("--retries", retries, "retries of a transient failure (connection reset, 429, 5xx)");
    app.add_option("--timeout", timeout, "seconds allowed for each connect, write or read step")->check(CLI::Range(1u, 3600u));
    shard.add_to(app);
    try {
        app.parse(argc, argv);
        shard.resolve();
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    }
    auto usage = [](const std::string& what) {
        std::fprintf(stderr, "arrival shares: %s\n", what.c_str());
        return exit_usage;
    };
    shares::carbonio_grant_options o;
    std::string error;
    auto d = pim::parse_destination(dest, error);
    if (!d) return usage("--dest " + dest + ": " + error);
    if (d->kind != pim::destination::type::carbonio) return usage("--from writes Carbonio grants: --dest carbonio+https://host");
    o.conn.dest = std::move(*d);
    auto soap_url = pim::carbonio_admin_url(o.conn.dest.url, admin_url, error);
    if (!soap_url) return usage("--admin-url " + admin_url + ": " + error);
    o.conn.admin_url = std::move(*soap_url);
    for (const auto* u : {&o.conn.dest.url, &o.conn.admin_url}) {
        if (!u->tls && !credentials.allow_cleartext) {
            std::fprintf(stderr, "arrival shares: %s\n", cleartext_refusal(u->origin(), "is plain http:// (no TLS)").c_str());
            return exit_tls_failed;
        }
    }
    auto password = read_secret(password_file, "ARRIVAL_PASSWORD");
    if (!password) return usage("--admin needs --password-file or ARRIVAL_PASSWORD");
    o.conn.admin = admin;
    o.conn.admin_password = *password;
    apply_http_flags(o.conn, ca_file, insecure, timeout, retries);
    o.jobs = jobs;
    o.dry_run = dry_run;
    try {
        o.domains = parse_domain_map(map_domain);
    } catch (const usage_error& e) {
        return usage(e.what());
    }
    if (!accounts.empty()) {
        for (const auto& a : engine::load_account_list(accounts).accounts) {
            o.accounts[shares::lower_ascii(a.source_user)] = a.dest_user;
        }
    }
    if (insecure) std::fprintf(stderr, "arrival shares: WARNING: --insecure: TLS certificates are not verified\n");
    auto csv = shares::read_shares_csv(from);
    for (const auto& e : csv.errors) std::fprintf(stderr, "arrival shares: %s\n", e.c_str());
    // A shard writes the grants of the owners it owns: an owner is one account, partitioned as migrate's.
    const auto all_rows = csv.rows.size();
    std::erase_if(csv.rows, [&](const shares::csv_share& r) { return !shard.spec.owns(r.owner); });
    if (csv.rows.empty()) {
        std::fprintf(stderr, "arrival shares: %s: no shares to write%s\n", from.c_str(),
                     all_rows > 0 ? fmt::format(" for shard {} ({} row(s) are other shards')", shard.spec.str(), all_rows).c_str() : "");
        if (!report.empty() && csv.errors.empty()) (void)finish({}, from, dest, dry_run, report, shard.spec);
        return csv.errors.empty() ? exit_ok : exit_nothing_ran;
    }
    const auto results = shares::run_carbonio_grants(o, csv.rows);
    const int status = finish(results, from, dest, dry_run, report, shard.spec);
    // Rows the CSV could not give are failures too: the run is partial.
    return status == exit_ok && !csv.errors.empty() ? exit_partial : status;
}

bool wants_csv(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--from" || a.rfind("--from=", 0) == 0) return true;
    }
    return false;
}

}  // namespace

int run_shares(int argc, char** argv) {
    return wants_csv(argc, argv) ? run_csv_shares(argc, argv) : run_imap_shares(argc, argv);
}

}  // namespace arrival::cli
