#include "engine/plan/stage_table.hpp"

#include <array>

namespace arrival::plan {
namespace {

using vt = value_type;
using sv = std::string_view;

constexpr sv imap_servers[] = {"source", "dest"};
constexpr sv ldap_servers[] = {"ldap"};
constexpr sv dav_servers[] = {"dav"};
constexpr sv files_servers[] = {"files"};
constexpr sv carbonio_servers[] = {"carbonio"};

constexpr sv account_formats[] = {"detect", "imapsync", "csv", "list"};
constexpr sv csv_formats[] = {"outlook", "google", "thunderbird", "zimbra"};
constexpr sv vcard_versions[] = {"3.0", "4.0"};

constexpr sv after_provision[] = {"provision"};
constexpr sv after_provision_and_migrate[] = {"provision", "migrate"};
constexpr sv after_migrate[] = {"migrate"};
// Carbonio grants name folders that migrate, calendars or contacts made, for grantees provision made.
constexpr sv after_folders_exist[] = {"provision", "migrate", "calendars", "contacts"};

constexpr option_spec provision_options[] = {
    {"ldif", "", vt::path_list, true},
    {"dl_csv", "--dl-csv", vt::path_list},
    {"rename_domain", "--rename-domain", vt::text_list},
    {"schema", "--schema", vt::path_list},
    {"rules", "--rules", vt::path_list},
    {"no_default_rules", "--no-default-rules", vt::boolean},
    {"keep_server_entries", "--keep-server-entries", vt::boolean},
    {"no_base_entries", "--no-base-entries", vt::boolean},
    {"window", "--window", vt::integer},
};

// Shared by migrate, shares and verify (tools/arrival/migrate_options.cpp).
constexpr option_spec imap_options[] = {
    {"accounts_format", "--accounts-format", vt::text, false, account_formats},
    {"jobs", "--jobs", vt::integer},
    {"max_source_connections", "--max-source-connections", vt::integer},
    {"max_dest_connections", "--max-dest-connections", vt::integer},
    {"timeout", "--timeout", vt::integer},
    {"include", "--include", vt::text_list},
    {"exclude", "--exclude", vt::text_list},
    {"max_message_size", "--max-message-size", vt::integer},
    {"public", "--public", vt::boolean},
    {"public_account", "--public-account", vt::text},
    {"public_dest_account", "--public-dest-account", vt::text},
};

constexpr option_spec migrate_options[] = {
    {"batch", "--batch", vt::integer},
    {"memory_mb", "--memory-mb", vt::integer},
    {"spill_dir", "--spill-dir", vt::path},
    {"connections_per_account", "--connections-per-account", vt::integer},
    {"fixed_concurrency", "--fixed-concurrency", vt::boolean},
    {"collapse_duplicates", "--collapse-duplicates", vt::boolean},
    {"no_sync_flags", "--no-sync-flags", vt::boolean},
    {"sync_deletes", "--sync-deletes", vt::boolean},
};

// The IMAP form of `arrival shares` (folder ACLs); its CSV form is the grants stage below.
constexpr option_spec shares_options[] = {
    {"map_domain", "--map-domain", vt::text_list},
};

// The CSV form of `arrival shares` (--from: owner,folder,grantee,rights into Carbonio folder grants).
constexpr option_spec grants_options[] = {
    {"from", "--from", vt::path, true},
    {"map_domain", "--map-domain", vt::text_list},
    {"jobs", "--jobs", vt::integer},
    {"retries", "--retries", vt::integer},
    {"timeout", "--timeout", vt::integer},
};

constexpr option_spec verify_options[] = {
    {"flags", "--flags", vt::boolean},
};

constexpr option_spec calendars_options[] = {
    {"dir", "--dir", vt::path, true},
    {"dest", "", vt::text},   // this stage's URL instead of [servers.dav] url (e.g. .../{user}/calendar/)
    {"jobs", "--jobs", vt::integer},
    {"collection", "--collection", vt::text},
    {"folder", "--folder", vt::text},
    {"retries", "--retries", vt::integer},
    {"timeout", "--timeout", vt::integer},
};

constexpr option_spec contacts_options[] = {
    {"dir", "--dir", vt::path, true},
    {"dest", "", vt::text},   // this stage's URL instead of [servers.dav] url (e.g. .../{user}/calendar/)
    {"jobs", "--jobs", vt::integer},
    {"collection", "--collection", vt::text},
    {"folder", "--folder", vt::text},
    {"retries", "--retries", vt::integer},
    {"timeout", "--timeout", vt::integer},
    {"csv_format", "--csv-format", vt::text, false, csv_formats},
    {"vcard_version", "--vcard-version", vt::text, false, vcard_versions},
};

constexpr option_spec files_options[] = {
    {"source", "--source", vt::text, true},   // a directory, a Zimbra tgz directory or a WebDAV URL
    {"source_admin", "--source-admin", vt::text},
    {"source_credentials", "", vt::text},     // a [credentials.NAME]: stage_command.hpp maps it
    {"jobs", "--jobs", vt::integer},
    {"retries", "--retries", vt::integer},
    {"timeout", "--timeout", vt::integer},
    {"spool_dir", "--spool-dir", vt::path},
};

constexpr stage_spec stages[] = {
    {"provision", "provision", "domains, COSes, accounts and lists into the destination's LDAP", ldap_servers, {}, provision_options},
    {"migrate", "migrate", "every mailbox of the accounts file, source IMAP to destination IMAP", imap_servers, after_provision,
     migrate_options, imap_options},
    {"calendars", "calendars", "ICS exports into CalDAV or Carbonio", dav_servers, after_provision, calendars_options},
    {"contacts", "contacts", "CSV exports into CardDAV or Carbonio", dav_servers, after_provision, contacts_options},
    {"files", "files", "private files into Carbonio Files or WebDAV", files_servers, after_provision, files_options},
    // After migrate: the folders must exist on the destination; after provision: the grantees must.
    {"shares", "shares", "folder ACLs (RFC 4314), source IMAP to destination IMAP", imap_servers, after_provision_and_migrate,
     shares_options, imap_options},
    {"grants", "shares", "a CSV of shares (owner,folder,grantee,rights) into Carbonio folder grants", carbonio_servers,
     after_folders_exist, grants_options},
    {"verify", "verify", "source and destination compared folder by folder", imap_servers, after_migrate, verify_options, imap_options},
};

constexpr sv imap_keys[] = {"url", "ca_file", "login", "credentials", "insecure"};
constexpr sv dest_keys[] = {"url", "ca_file", "login", "credentials", "insecure", "profile"};
constexpr sv ldap_keys[] = {"url", "bind_dn", "credentials", "ca_file", "insecure", "starttls"};
constexpr sv dav_keys[] = {"url", "login", "credentials", "ca_file", "insecure", "admin_url", "carbonio_auth"};
constexpr sv files_keys[] = {"url", "login", "credentials", "ca_file", "insecure", "admin_url"};

constexpr server_spec servers[] = {
    {"source", imap_keys}, {"dest", dest_keys}, {"ldap", ldap_keys}, {"dav", dav_keys}, {"files", files_keys},
    {"carbonio", files_keys},   // the grants stage's admin SOAP access: the same keys as files
};

}  // namespace

std::string_view to_string(value_type t) noexcept {
    switch (t) {
    case value_type::text: return "a string";
    case value_type::path: return "a path (string)";
    case value_type::integer: return "an integer";
    case value_type::boolean: return "true or false";
    case value_type::text_list: return "a string or an array of strings";
    case value_type::path_list: return "a path or an array of paths";
    }
    return "?";
}

std::span<const stage_spec> stage_table() noexcept { return stages; }

const stage_spec* find_stage_spec(std::string_view name) noexcept {
    for (const auto& s : stages) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

std::span<const server_spec> server_table() noexcept { return servers; }

const server_spec* find_server_spec(std::string_view role) noexcept {
    for (const auto& s : servers) {
        if (s.role == role) return &s;
    }
    return nullptr;
}

}  // namespace arrival::plan
