// Reading secrets for the CLI. Passwords never come from argv: only from a file named on the command line
// or from an environment variable. They are never logged, printed or written to reports.
#pragma once
#include <optional>
#include <string>

namespace arrival::cli {

// Returns the secret from `file` if it is non-empty (first line, trailing CR/LF stripped), else from the
// environment variable `env_var`, else nullopt. Throws std::runtime_error naming the file (never its content)
// when the file cannot be read.
std::optional<std::string> read_secret(const std::string& file, const char* env_var);

}  // namespace arrival::cli
