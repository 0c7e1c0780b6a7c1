// Reading secrets for the CLI, and the two flags that lower the defaults about credentials. Passwords never
// come from argv: only from a file named on the command line or from an environment variable. They are never
// logged, printed or written to reports.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "engine/account_list.hpp"

namespace CLI {
class App;
}

namespace arrival::cli {

// Returns the secret from `file` if it is non-empty (first line, trailing CR/LF stripped), else from the
// environment variable `env_var`, else nullopt. Throws std::runtime_error naming the file (never its content)
// when the file cannot be read. A file readable by group or others gets a warning on stderr naming it and its
// mode, as ssh does for keys; with --strict-permissions (see add_credential_flags) it is an error instead.
std::optional<std::string> read_secret(const std::string& file, const char* env_var);

// The same check for any other file that holds passwords (e.g. an accounts file with a password column):
// warns, or throws std::runtime_error under --strict-permissions. Does nothing when the file is private.
void check_secret_file_mode(const std::string& file);
// An accounts file with a password column (any account with a source or destination password) is a password
// file: checked as check_secret_file_mode does.
void check_accounts_file_mode(const std::string& file, const std::vector<engine::account_pair>& accounts);

struct credential_flags {
    // --allow-cleartext: send credentials over a connection without TLS (imap:// without STARTTLS, http://,
    // ldap:// without StartTLS). Off by default, loopback included, so the choice shows in the command line.
    bool allow_cleartext = false;
};

// Adds --allow-cleartext (into `flags`) and --strict-permissions (process-wide, read by read_secret) to `app`.
void add_credential_flags(CLI::App& app, credential_flags& flags);

// The message for a refused cleartext connection: names the server, what it lacked and the flag.
[[nodiscard]] std::string cleartext_refusal(const std::string& server, const std::string& lacking);

}  // namespace arrival::cli
