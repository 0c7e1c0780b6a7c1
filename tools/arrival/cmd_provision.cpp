// `arrival provision`: LDIF (and list CSV) of domains, COSes, accounts, aliases, signatures and lists into
// the destination's LDAP: online through libldap, or as slapadd-ready LDIF. Everything is validated before
// anything is written; the accounts file for `arrival migrate` comes out of the same plan.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "engine/owner_only.hpp"
#include "provision/directory_model.hpp"
#include "provision/ldap_writer.hpp"
#include "provision/ldif_emitter.hpp"
#include "provision/ldif_file.hpp"
#include "provision/plan.hpp"
#include "provision/report.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/secret.hpp"
#include "tools/arrival/shard_option.hpp"

namespace arrival::cli {
namespace {

namespace pv = arrival::provision;

constexpr const char* description =
    "arrival provision: load LDIF (Carbonio/Zimbra export, or inetOrgPerson/posixAccount from any OpenLDAP)\n"
    "and distribution-list CSV into the destination's OpenLDAP. Everything is validated first; nothing is\n"
    "written if any check fails. Change records (changetype: modify/delete/modrdn) apply in file order to the\n"
    "entries before them (their end state is validated, emitted, written), or online to the destination's.\n"
    "Modes:\n"
    "  --ldap URL --bind-dn DN   write online (idempotent: unchanged entries are left alone, differing ones\n"
    "                            modified to match); password from --bind-password-file or ARRIVAL_LDAP_PASSWORD\n"
    "  --emit FILE.ldif          write ordered, validated LDIF for slapadd. slapadd writes the database files\n"
    "                            directly: run it ONLY while slapd is STOPPED (slapadd -f slapd.conf -l FILE)\n"
    "  --check                   validate and print the plan; with --ldap, also compare with the destination\n"
    "Exit status: 0 done; 1 some entries failed to write; 2 usage; 3 the input was refused (nothing written);\n"
    "4 LDAP server unreachable or lost; 5 TLS failed; 6 bind refused; 7 unexpected server reply.";

bool write_file(const std::string& path, const std::string& data) {
    auto out = arrival::engine::open_owner_only(path);
    out << data;
    out.flush();
    return static_cast<bool>(out);
}

int exit_for(failure k) {
    if (k == failure::input) return exit_usage;   // a bad --ldap URL or option
    if (k == failure::transient) return exit_unreachable;  // the one server went away mid-read
    return exit_status_of(k).value_or(exit_nothing_ran);
}

// The destination could not be used (unreachable, TLS, bind, protocol): said on stderr and, with --report,
// in the report as its one problem, so scripts see the reason too.
int connection_failed(const pv::ldap_failure& e, const std::string& report_path, const std::vector<std::string>& inputs,
                      const std::string& url) {
    std::fprintf(stderr, "arrival provision: %s\n", e.what());
    if (!report_path.empty()) {
        pv::plan_result none;
        pv::problem p;
        using k = failure;
        p.code = e.which() == k::tls ? "tls_failed" : e.which() == k::auth ? "bind_refused"
               : e.which() == k::unreachable ? "unreachable" : e.which() == k::transient ? "connection_lost"
               : e.which() == k::input ? "usage" : "protocol_error";
        p.message = e.what();
        none.problems.push_back(std::move(p));
        pv::report_input ri;
        ri.mode = "ldap";
        ri.inputs = inputs;
        ri.destination = url;
        ri.plan = &none;
        if (!write_file(report_path, pv::render_report_json(ri))) {
            std::fprintf(stderr, "arrival provision: cannot write report %s\n", report_path.c_str());
        }
    }
    return exit_for(e.which());
}

void print_problems(const std::vector<pv::problem>& ps, std::size_t max_lines) {
    std::size_t shown = 0, errors = 0;
    for (const auto& p : ps) {
        if (p.level != pv::problem::severity::error) continue;
        ++errors;
        if (shown++ < max_lines) std::fprintf(stderr, "error: %s\n", pv::format_problem(p).c_str());
    }
    if (errors > max_lines) std::fprintf(stderr, "... and %zu more errors (see --report)\n", errors - max_lines);
    shown = 0;
    std::size_t warnings = 0;
    for (const auto& p : ps) {
        if (p.level != pv::problem::severity::warning) continue;
        ++warnings;
        if (shown++ < max_lines) std::fprintf(stderr, "warning: %s\n", pv::format_problem(p).c_str());
    }
    if (warnings > max_lines) std::fprintf(stderr, "... and %zu more warnings (see --report)\n", warnings - max_lines);
}

}  // namespace

int run_provision(int argc, char** argv) {
    CLI::App app{description};
    app.name("arrival provision");
    std::vector<std::string> ldif_files, dl_csv, renames, schema_files, rule_files;
    std::string ldap_url, bind_dn, password_file, ca_file, emit, accounts_out, report_path;
    bool starttls = false, insecure = false, check = false, no_default_rules = false, keep_server = false,
         no_base = false;
    std::size_t window = 64;
    app.add_option("ldif", ldif_files, "LDIF files (RFC 2849), read in order")->check(CLI::ExistingFile);
    app.add_option("--dl-csv", dl_csv, "distribution lists as CSV: dl@domain,Description,Name,member1,...")
        ->check(CLI::ExistingFile);
    app.add_option("--ldap", ldap_url, "destination: ldap://host:port or ldaps://host:port");
    app.add_option("--bind-dn", bind_dn, "DN to bind as (simple bind)");
    app.add_option("--bind-password-file", password_file, "file holding the bind password (else ARRIVAL_LDAP_PASSWORD)")
        ->check(CLI::ExistingFile);
    app.add_flag("--starttls", starttls, "upgrade ldap:// with StartTLS (must succeed; the default)");
    credential_flags credentials;
    add_credential_flags(app, credentials);
    app.add_option("--ca-file", ca_file, ca_file_help)->check(CLI::ExistingFile);
    app.add_flag("--insecure", insecure, "do NOT verify the server certificate");
    app.add_option("--emit", emit, "write slapadd-ready LDIF here (run slapadd only while slapd is stopped)");
    app.add_option("--accounts-out", accounts_out,
                   "write the accounts file for `arrival migrate` (CSV: source_user,dest_user)");
    app.add_option("--rename-domain", renames, "OLD=NEW: rename a domain in DNs and every address (repeatable)");
    app.add_option("--schema", schema_files,
                   "destination schema as OpenLDAP .schema files (all of them, as slapd includes them); "
                   "default with --ldap: the server's subschema entry")
        ->check(CLI::ExistingFile);
    app.add_option("--rules", rule_files, "attribute rules file, one rule a line: drop ATTR, set ATTR VALUE, replace ATTR OLD NEW, default CLASS ATTR VALUE (doc/provision.md)")
        ->check(CLI::ExistingFile);
    app.add_flag("--no-default-rules", no_default_rules, "do not apply the built-in rules (drop old-server attributes)");
    app.add_flag("--keep-server-entries", keep_server,
                 "also provision zimbraServer / global config / MIME / zimlet entries (left out by default)");
    app.add_flag("--no-base-entries", no_base, "do not add Carbonio's base entries (cn=zimbra, ou=people, ...)");
    app.add_flag("--check", check, "validate and print the plan; write nothing");
    app.add_option("--report", report_path, "write a JSON report here");
    shard_option shard;
    shard.add_to(app);
    app.add_option("--window", window, "LDAP requests in flight (default 64)")->check(CLI::Range(1, 1024));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    }
    shard.resolve();
    const auto started = std::chrono::steady_clock::now();
    auto fail_usage = [](const std::string& msg) {
        std::fprintf(stderr, "arrival provision: %s\n", msg.c_str());
        return exit_usage;
    };
    if (ldif_files.empty() && dl_csv.empty()) return fail_usage("give at least one LDIF file or --dl-csv");
    if (!ldap_url.empty() && bind_dn.empty()) return fail_usage("--ldap needs --bind-dn");
    if (ldap_url.empty() && (starttls || !ca_file.empty() || insecure || !password_file.empty())) {
        return fail_usage("--starttls/--ca-file/--insecure/--bind-password-file need --ldap");
    }

    pv::plan_options opts;
    opts.ldif_files = ldif_files;
    opts.dl_csv_files = dl_csv;
    opts.keep_server_entries = keep_server;
    opts.add_base_entries = !no_base;
    opts.rules = pv::rewrite_rules(!no_default_rules);
    for (const auto& r : renames) {
        pv::domain_rename dr;
        std::string err;
        if (!pv::parse_domain_rename(r, dr, err)) return fail_usage(err);
        opts.renames.push_back(dr);
    }
    for (const auto& f : rule_files) {
        std::string err;
        if (!opts.rules.parse(pv::read_text_file(f), f, err)) return fail_usage(err);
    }
    pv::schema dest_schema;
    if (!schema_files.empty()) dest_schema.add_slapd_system_schema();
    for (const auto& f : schema_files) {
        pv::schema_error err;
        if (!dest_schema.add_schema_file(pv::read_text_file(f), err)) {
            return fail_usage(fmt::format("{}:{}: {}", f, err.line, err.message));
        }
    }

    std::unique_ptr<pv::ldap_writer> writer;
    pv::destination_index existing;
    if (!ldap_url.empty()) {
        const auto password = read_secret(password_file, "ARRIVAL_LDAP_PASSWORD");
        if (!password) return fail_usage("no bind password: use --bind-password-file or ARRIVAL_LDAP_PASSWORD");
        pv::ldap_options lo;
        lo.url = ldap_url;
        lo.bind_dn = bind_dn;
        lo.password = *password;
        lo.ca_file = ca_file;
        lo.starttls = starttls;
        lo.allow_cleartext = credentials.allow_cleartext;
        lo.insecure = insecure;
        lo.window = window;
        if (insecure) std::fprintf(stderr, "arrival provision: WARNING: --insecure: the server certificate is NOT verified\n");
        try {
            writer = std::make_unique<pv::ldap_writer>(lo);
            if (schema_files.empty()) writer->read_schema(dest_schema);
            writer->read_index(existing);
        } catch (const pv::ldap_failure& e) {
            return connection_failed(e, report_path, ldif_files, ldap_url);
        }
        opts.existing = &existing;
        opts.fetch_entry = [&](const std::string& dn, pv::entry& e) { return writer->read_entry(dn, e); };
    }
    opts.destination_schema = dest_schema.empty() ? nullptr : &dest_schema;
    opts.emit = !emit.empty() && !check;

    pv::plan_result plan;
    try {
        pv::build_plan(opts, plan);
    } catch (const pv::ldap_failure& e) {
        return connection_failed(e, report_path, ldif_files, ldap_url);
    }

    const std::string mode = check ? "check" : !ldap_url.empty() ? "ldap" : !emit.empty() ? "emit" : "check";
    auto write_report = [&](const pv::write_result* w) {
        if (report_path.empty()) return true;
        pv::report_input ri;
        ri.mode = mode;
        ri.inputs = ldif_files;
        ri.inputs.insert(ri.inputs.end(), dl_csv.begin(), dl_csv.end());
        ri.destination = ldap_url;
        ri.plan = &plan;
        ri.written = w;
        ri.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (!write_file(report_path, stamp_shard(pv::render_report_json(ri), shard.spec))) {
            std::fprintf(stderr, "arrival provision: cannot write report %s\n", report_path.c_str());
            return false;
        }
        return true;
    };

    // The whole input is validated; only then is it cut to this shard's entries, so every shard refuses the same
    // bad input and none writes half of it.
    std::size_t other_shards = 0;
    if (plan.ok() && shard.spec.sharded()) {
        other_shards = pv::keep_shard_entries(
            plan, [&](const std::string& address) { return shard.spec.owns(address); }, shard.spec.owns_shared());
    }
    print_problems(plan.problems, 50);
    if (shard.spec.sharded()) {
        std::printf("shard %s: %zu entries belong to the other shards\n", shard.spec.str().c_str(), other_shards);
    }
    std::printf("plan: %zu entries from %zu records", plan.model.size(), plan.records_read);
    for (const auto& [k, n] : plan.kinds) std::printf(", %s %zu", k.c_str(), n);
    if (plan.changes_read) {
        std::printf(", %zu change record(s) (%zu entries read from the destination for them), %zu delete(s)",
                    plan.changes_read, plan.fetched, plan.model.deletes().size());
    }
    std::printf("\n");
    if (plan.dropped.entries_changed) {
        std::printf("schema: %zu attribute(s) and %zu object class(es) the destination lacks dropped from %zu entries\n",
                    plan.dropped.attributes.size(), plan.dropped.object_classes.size(), plan.dropped.entries_changed);
    }
    if (!plan.ok()) {
        std::size_t errors = 0;
        for (const auto& p : plan.problems) errors += p.level == pv::problem::severity::error;
        std::fprintf(stderr, "arrival provision: input refused: %zu error(s); nothing was written\n", errors);
        write_report(nullptr);
        return exit_nothing_ran;
    }

    if (!accounts_out.empty()) {
        std::string csv;
        pv::emit_accounts_csv(plan.model, csv);
        if (!write_file(accounts_out, csv)) {
            std::fprintf(stderr, "arrival provision: cannot write %s\n", accounts_out.c_str());
            return exit_nothing_ran;
        }
    }
    if (!emit.empty() && !check) {
        auto out = arrival::engine::open_owner_only(emit);
        if (out) pv::emit_ldif(plan.model, [&](std::string_view piece) { out.write(piece.data(), static_cast<std::streamsize>(piece.size())); });
        out.flush();
        if (!out) {
            std::fprintf(stderr, "arrival provision: cannot write %s\n", emit.c_str());
            return exit_nothing_ran;
        }
        std::printf("emitted %zu entries to %s (load with slapadd while slapd is stopped)\n",
                    plan.model.size(), emit.c_str());
    }
    pv::write_result written;
    const pv::write_result* wp = nullptr;
    if (writer) {
        written = writer->write(plan.model, check);
        wp = &written;
        print_problems(written.failures, 50);
        std::printf("%s: created %zu, modified %zu, unchanged %zu, deleted %zu, failed %zu, dropped-attribute %zu\n",
                    check ? "would be (dry run)" : "ldap", written.created, written.modified, written.unchanged,
                    written.deleted, written.failed, plan.dropped.entries_changed);
    } else if (check || emit.empty()) {
        std::printf("check: the plan is valid; nothing written\n");
    }
    if (!write_report(wp)) return exit_partial;
    return written.failed ? exit_partial : exit_ok;
}

}  // namespace arrival::cli
