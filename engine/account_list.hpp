// The list of account pairs to migrate, read from the files admins already have:
//
//   imapsync batch file   host1;user1;password1;host2;user2;password2;      (one pair per line, as in
//                         imapsync's FAQ `file.txt`; the trailing ';' is optional; hosts and passwords may
//                         be empty, then --source/--dest and the admin or password file supply them)
//   CSV with a header     source_user,dest_user[,source_password,dest_password]   (RFC 4180 quoting;
//                         columns in any order; the file `arrival provision --accounts-out` writes is this)
//   address list          one address per line, the same name on both sides (what
//                         `carbonio prov -l gaa DOMAIN` prints); for the admin-acts-for-everyone case
//
// In every format blank lines and lines whose first non-blank character is '#' are ignored. The format is
// detected from the first meaningful line: a ';' means imapsync, a header naming source_user means CSV,
// anything else is an address list. Passwords are kept in secret_string and never appear in errors.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/public_folders.hpp"
#include "engine/secret_string.hpp"

namespace arrival::engine {

enum class account_format { detect, imapsync, csv, address_list };

struct account_pair {
    std::string source_user;
    std::string dest_user;
    std::string source_host;   // imapsync files only; empty = use --source
    std::string dest_host;     // imapsync files only; empty = use --dest
    secret_string source_password;   // empty = from the admin / password file
    secret_string dest_password;
    std::size_t line = 0;      // 1-based line of the file it came from, for error messages
    // shared: the run's one job for the public namespace (--public), logged in as this account.
    folder_scope scope = folder_scope::personal;
};

struct account_list_error {
    std::size_t line = 0;
    std::string message;   // never contains a password
};

struct account_list {
    account_format format = account_format::detect;   // what was detected
    std::vector<account_pair> accounts;
    std::vector<account_list_error> errors;           // every bad line, not only the first

    [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};

// Parses `text`. Every malformed line becomes one error (the rest is still parsed, so the admin sees all
// problems at once); a source user listed twice is an error too, because two jobs would race on it.
[[nodiscard]] account_list parse_account_list(std::string_view text, account_format format = account_format::detect);

// Reads and parses `path`. Throws std::runtime_error naming the file when it cannot be read, and when it has
// errors: "FILE:LINE: message" for each (up to 20), never a password.
[[nodiscard]] account_list load_account_list(const std::string& path, account_format format = account_format::detect);

[[nodiscard]] std::string_view to_string(account_format f) noexcept;

}  // namespace arrival::engine
