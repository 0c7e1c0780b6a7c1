// The model of a run plan (PLAN.toml): which servers, which credential sources, which accounts file, which
// stages with which options. Built by plan_parser.hpp from TOML; turned into each stage command's argv by
// stage_command.hpp. A plan never holds a password: a credential is a file path or the NAME of an
// environment variable, and the parser refuses anything that looks like a literal secret.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace arrival::plan {

// Where something is in the plan file (1-based; 0 when unknown).
struct position {
    std::size_t line = 0;
    std::size_t column = 0;
};

// A password source: exactly one of `file` (a path, relative to the plan's directory) or `env` (the NAME of
// an environment variable, read only when the stage runs).
struct credential {
    std::string name;
    std::string file;
    std::string env;
    position where;
};

// A server the stages talk to, by role: "source" and "dest" (IMAP), "ldap" (provision), "dav" (calendars,
// contacts), "files" (files), "carbonio" (grants).
struct server {
    std::string role;
    std::string url;
    std::string ca_file;
    std::string login;         // an admin that acts for every user (the stage's --admin / --source-admin ...)
    std::string bind_dn;       // ldap
    std::string profile;       // dest: auto, carbonio, cyrus, generic
    std::string admin_url;     // dav, files, carbonio: Carbonio's admin SOAP URL
    std::string carbonio_auth; // dav: delegate or basic
    std::string credentials;   // the name of a [credentials.NAME] table; empty: none (per-user passwords)
    bool insecure = false;
    bool starttls = false;     // ldap
    position where;
};

// One stage and its options, already turned into the stage command's flags (in the order of the stage's
// schema, engine/plan/stage_table.hpp), paths made absolute against the plan's directory.
// A file or directory the plan names, where it names it (for `arrival plan check`'s existence checks).
struct named_path {
    std::string path;    // absolute
    std::string what;    // "accounts", "[stages.provision] ldif", ...
    position where;
};

struct stage {
    std::string name;
    std::vector<std::string> args;
    // A credential named by the stage itself (files: source_credentials), empty when none.
    std::string source_credentials;
    // calendars, contacts: this stage's URL instead of [servers.dav] url (CalDAV and CardDAV collections differ).
    std::string dest;
    // `after = [...]`: stages of this plan it runs after besides those the stage table names (checked: each
    // one is in the plan and earlier in run order).
    std::vector<std::string> after;
    std::vector<position> after_where;   // where each name of `after` is
    position where;
};

struct run_plan {
    std::string directory;   // the plan file's directory: relative paths are from here
    std::string accounts;    // absolute
    bool allow_cleartext = false;
    // `shard = "K/N"`: the shard this plan's run works on (engine/shard.hpp), already checked; empty: none
    // named (`arrival run --shard` wins over it).
    std::string shard;
    position shard_where;
    std::map<std::string, credential> credentials;
    std::map<std::string, server> servers;   // by role
    std::vector<named_path> paths;           // every path the plan names, in file order
    std::vector<stage> stages;               // in run order (stage_table.hpp)

    [[nodiscard]] const stage* find_stage(const std::string& name) const;
    // The stages of this plan that `st` runs after: the stage table's (those in the plan) and its `after`, in
    // run order, each once. `arrival run` blocks `st` when one of them did not succeed.
    [[nodiscard]] std::vector<std::string> runs_after(const stage& st) const;
    [[nodiscard]] const server* find_server(const std::string& role) const;
};

}  // namespace arrival::plan
