#include "tools/arrival/migrate_options.hpp"

#include <algorithm>
#include <fstream>

#include <cstdio>

#include <fmt/format.h>

#include "engine/mail/folder_map.hpp"
#include "engine/mail/public_plan.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/secret.hpp"

namespace arrival::cli {

void add_connection_options(CLI::App& app, migrate_args& a) {
    app.add_option("--source", a.source_url, "source server, imaps://host[:993] or imap://host[:143] (STARTTLS)")->required();
    app.add_option("--dest", a.dest_url, "destination server URL")->required();
    app.add_option("--accounts", a.accounts_file,
                   "accounts file: imapsync lines host1;user1;pw1;host2;user2;pw2; | CSV source_user,dest_user[,source_password,dest_password] | one address per line")
        ->required();
    app.add_option("--accounts-format", a.accounts_format, "detect (default), imapsync, csv or list")
        ->check(CLI::IsMember({"detect", "imapsync", "csv", "list"}));
    app.add_option("--source-admin", a.source_admin, "log in to the source as this admin for every user (SASL PLAIN authzid)");
    app.add_option("--source-password-file", a.source_password_file,
                   "file holding the source password (admin's, or every user's); else ARRIVAL_SOURCE_PASSWORD");
    app.add_option("--dest-admin", a.dest_admin, "log in to the destination as this admin for every user");
    app.add_option("--dest-password-file", a.dest_password_file, "file holding the destination password; else ARRIVAL_DEST_PASSWORD");
    app.add_option("--jobs", a.jobs, "account pairs migrated at once (default 4)")->check(CLI::Range(1, 1024));
    app.add_option("--max-source-connections", a.max_source_connections,
                   "cap on connections to the source (default: --jobs x --connections-per-account; used by migrate only)");
    app.add_option("--max-dest-connections", a.max_dest_connections,
                   "cap on connections to the destination (default: --jobs x --connections-per-account; used by migrate only)");
    app.add_option("--timeout", a.timeout,
                   "seconds a connection may stay silent while a reply is due (and a connect or write may take) before "
                   "it is given up as stalled and the work resumed on a fresh one (default 120)")
        ->check(CLI::Range(1u, 3600u));
    app.add_option("--report", a.report_file, "write a JSON report here");
    a.shard.add_to(app);
    app.add_option("--include", a.include, "only folders whose path (levels joined by '/') matches this regex; repeatable");
    app.add_option("--exclude", a.exclude, "skip folders whose path matches this regex; repeatable");
    app.add_option("--ca-file", a.ca_file, ca_file_help);
    app.add_option("--source-ca-file", a.source_ca_file, "trust this CA on the source only (overrides --ca-file there)");
    app.add_option("--dest-ca-file", a.dest_ca_file, "trust this CA on the destination only (overrides --ca-file there)");
    app.add_flag("--insecure", a.insecure, "do NOT verify certificates or host names (says so on stderr)");
    app.add_flag("--starttls", a.starttls, "with imap:// URLs, refuse to log in unless STARTTLS succeeds (the default)");
    app.add_flag("--no-starttls", a.no_starttls,
                 "with imap:// URLs, stay in cleartext even when STARTTLS is offered (needs --allow-cleartext; "
                 "benchmarks on one transport, servers whose STARTTLS is broken)")
        ->excludes("--starttls");
    add_credential_flags(app, a.credentials);
    app.add_option("--dest-profile", a.dest_profile,
                   "what the destination accepts: auto (default: carbonio when its greeting, ID or CAPABILITY name "
                   "Zimbra/Carbonio, cyrus when its ID or greeting name Cyrus), carbonio, cyrus or generic; folder names "
                   "map the same way in migrate and verify")
        ->check(CLI::IsMember({"auto", "carbonio", "cyrus", "generic"}));
    app.add_option("--max-message-size", a.max_message_size,
                   "messages larger than this many bytes are not sent (reported as too_large) when the destination "
                   "advertises no APPENDLIMIT (default under carbonio: 10240000, zimbraMtaMaxMessageSize)")
        ->check(CLI::PositiveNumber);
}

void add_public_options(CLI::App& app, migrate_args& a) {
    auto* flag = app.add_flag("--public", a.with_public,
                              "also take the source's shared/public namespace, once, against the destination's (off by default)");
    app.add_option("--public-account", a.public_account, "log in as this account for --public (default: the first listed)")->needs(flag);
    app.add_option("--public-dest-account", a.public_dest_account,
                   "for --public, log in to the destination as this account instead (e.g. Cyrus's admin: only an admin "
                   "creates top-level shared folders there)")
        ->needs(flag);
}

std::optional<int> parse_and_resolve(CLI::App& app, int argc, char** argv, const migrate_args& a, const char* command,
                                     resolved_run& run) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    }
    try {
        run = resolve(a);
    } catch (const usage_error& e) {
        std::fprintf(stderr, "%s: %s\n", command, e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", command, e.what());
        return exit_nothing_ran;
    }
    if (a.insecure) std::fprintf(stderr, "%s: WARNING: --insecure: certificates and host names are NOT verified\n", command);
    return std::nullopt;
}

resolved_run resolve(const migrate_args& a) {
    resolved_run r;
    auto& j = r.job;
    try {
        r.shard = engine::parse_shard(a.shard.text);
    } catch (const std::invalid_argument& e) {
        throw usage_error(std::string("--shard: ") + e.what());
    }
    r.state_dir = shard_state_dir(a.state_dir, r.shard);
    try {
        j.source = engine::server_endpoint::parse(a.source_url);
        j.dest = engine::server_endpoint::parse(a.dest_url);
    } catch (const std::invalid_argument& e) {
        throw usage_error(e.what());
    }
    j.source.ca_file = a.source_ca_file.empty() ? a.ca_file : a.source_ca_file;
    j.dest.ca_file = a.dest_ca_file.empty() ? a.ca_file : a.dest_ca_file;
    j.source.insecure = j.dest.insecure = a.insecure;
    j.source.require_starttls = j.dest.require_starttls = a.starttls;
    j.source.allow_cleartext = j.dest.allow_cleartext = a.credentials.allow_cleartext;
    if (a.no_starttls && !a.credentials.allow_cleartext)
        throw usage_error("--no-starttls sends login_identity in cleartext: it needs --allow-cleartext as well");
    j.source.never_starttls = j.dest.never_starttls = a.no_starttls;
    j.source.timeout = j.dest.timeout = std::chrono::seconds(a.timeout);
    j.connections_per_account = a.connections_per_account;
    j.source_admin = a.source_admin;
    j.dest_admin = a.dest_admin;
    if (auto p = read_secret(a.source_password_file, "ARRIVAL_SOURCE_PASSWORD")) j.source_password = engine::secret_string(std::move(*p));
    if (auto p = read_secret(a.dest_password_file, "ARRIVAL_DEST_PASSWORD")) j.dest_password = engine::secret_string(std::move(*p));
    if (!a.source_admin.empty() && j.source_password.empty()) {
        throw usage_error("--source-admin needs the admin's password: --source-password-file or ARRIVAL_SOURCE_PASSWORD");
    }
    if (!a.dest_admin.empty() && j.dest_password.empty()) {
        throw usage_error("--dest-admin needs the admin's password: --dest-password-file or ARRIVAL_DEST_PASSWORD");
    }
    if (const auto c = engine::parse_dest_profile_choice(a.dest_profile)) j.dest_profile = *c;
    else throw usage_error(fmt::format("--dest-profile {}: expected auto, carbonio or generic", a.dest_profile));
    j.max_message_size = a.max_message_size;
    j.filter.include = a.include;
    j.filter.exclude = a.exclude;
    try {
        engine::check_folder_filter(j.filter);
    } catch (const std::invalid_argument& e) {
        throw usage_error(e.what());
    }
    const auto fmt_ = a.accounts_format == "imapsync" ? engine::account_format::imapsync
                      : a.accounts_format == "csv"    ? engine::account_format::csv
                      : a.accounts_format == "list"   ? engine::account_format::address_list
                                                      : engine::account_format::detect;
    {
        std::ifstream probe(a.accounts_file);
        if (!probe) throw std::runtime_error(fmt::format("cannot read accounts file {}", a.accounts_file));
    }
    try {
        r.accounts = engine::load_account_list(a.accounts_file, fmt_);
    } catch (const std::runtime_error& e) {
        throw usage_error(e.what());
    }
    // The public job's acting account comes from the whole list, so every shard would pick the same one; only
    // shard 0 runs it.
    std::optional<engine::account_pair> public_job;
    if (a.with_public && r.shard.owns_shared()) {
        try {
            public_job = engine::public_job_account(r.accounts.accounts, a.public_account,
                                                    !j.source_password.empty() && !j.dest_password.empty());
            if (!a.public_dest_account.empty()) public_job->dest_user = a.public_dest_account;
        } catch (const std::invalid_argument& e) {
            throw usage_error(e.what());
        }
    }
    keep_shard_accounts(r.accounts.accounts, r.shard);
    check_accounts_file_mode(a.accounts_file, r.accounts.accounts);
    // Every account needs a password on each side: its own, or the shared one.
    for (const auto& acc : r.accounts.accounts) {
        if (acc.source_password.empty() && j.source_password.empty()) {
            throw usage_error(fmt::format("{}:{}: no source password for {}: give --source-password-file (with --source-admin "
                                          "for an admin) or ARRIVAL_SOURCE_PASSWORD, or a password column",
                                          a.accounts_file, acc.line, acc.source_user));
        }
        if (acc.dest_password.empty() && j.dest_password.empty()) {
            throw usage_error(fmt::format("{}:{}: no destination password for {}: give --dest-password-file (with --dest-admin "
                                          "for an admin) or ARRIVAL_DEST_PASSWORD, or a password column",
                                          a.accounts_file, acc.line, acc.dest_user));
        }
    }
    // One more entry, after the accounts: the public namespace, taken once.
    if (public_job) r.accounts.accounts.push_back(std::move(*public_job));
    j.dry_run = a.dry_run;
    j.collapse_duplicates = a.collapse_duplicates;
    j.sync_flags = !a.no_sync_flags;
    j.sync_deletes = a.sync_deletes;
    j.verify_flags = a.verify_flags;
    j.verify_content = a.verify_content;
    j.pipeline.batch_messages = std::max<std::size_t>(1, a.batch);
    j.pipeline.spill_dir = a.spill_dir;
    r.sched.jobs = a.jobs;
    r.sched.max_source_connections = a.max_source_connections;
    r.sched.max_dest_connections = a.max_dest_connections;
    r.sched.fixed_concurrency = a.fixed_concurrency;
    return r;
}

int exit_status_for(const std::vector<bool>& account_ok, const std::vector<std::optional<engine::error_kind>>& kinds,
                    bool messages_failed) {
    const bool all_ok = std::all_of(account_ok.begin(), account_ok.end(), [](bool b) { return b; });
    if (all_ok) return messages_failed ? exit_partial : exit_ok;
    const bool none_ok = std::none_of(account_ok.begin(), account_ok.end(), [](bool b) { return b; });
    if (none_ok && !kinds.empty() && kinds.front() &&
        std::all_of(kinds.begin(), kinds.end(), [&](const auto& k) { return k == kinds.front(); })) {
        if (const auto status = exit_status_of(*kinds.front())) return *status;
    }
    return exit_partial;
}

}  // namespace arrival::cli
