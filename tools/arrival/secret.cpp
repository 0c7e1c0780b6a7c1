#include "tools/arrival/secret.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace arrival::cli {

namespace {
// One command runs per process, so the flag is process-wide: every secret file the command reads obeys it.
bool strict_permissions = false;
}  // namespace

void check_secret_file_mode(const std::string& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return;
    const auto mode = static_cast<unsigned>(st.st_mode & 07777);
    if (strict_permissions) {
        throw std::runtime_error(fmt::format(
            "permissions {:04o} for password file {} are too open: it is readable by group or others "
            "(--strict-permissions); chmod 600 {}", mode, file, file));
    }
    std::fprintf(stderr,
                 "arrival: WARNING: permissions %04o for password file %s are too open: it is readable by group "
                 "or others; chmod 600 it (--strict-permissions makes this an error)\n",
                 mode, file.c_str());
}

void check_accounts_file_mode(const std::string& file, const std::vector<engine::account_pair>& accounts) {
    for (const auto& a : accounts) {
        if (!a.source_password.empty() || !a.dest_password.empty()) return check_secret_file_mode(file);
    }
}

std::optional<std::string> read_secret(const std::string& file, const char* env_var) {
    if (!file.empty()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            throw std::runtime_error("cannot read password file " + file + ": " + std::strerror(errno));
        }
        check_secret_file_mode(file);
        std::string line;
        std::getline(in, line);
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
        return line;
    }
    if (env_var != nullptr) {
        if (const char* v = std::getenv(env_var); v != nullptr) return std::string(v);
    }
    return std::nullopt;
}

void add_credential_flags(CLI::App& app, credential_flags& flags) {
    app.add_flag("--allow-cleartext", flags.allow_cleartext,
                 "allow sending login_identity without TLS (imap:// without STARTTLS, http://, ldap:// without "
                 "StartTLS), loopback included");
    app.add_flag("--strict-permissions", strict_permissions,
                 "refuse a password file readable by group or others (default: a warning)");
}

std::string cleartext_refusal(const std::string& server, const std::string& lacking) {
    return fmt::format("{} {}: refusing to send login_identity in cleartext (--allow-cleartext allows it)", server,
                       lacking);
}

}  // namespace arrival::cli
