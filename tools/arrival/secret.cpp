#include "tools/arrival/secret.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace arrival::cli {

std::optional<std::string> read_secret(const std::string& file, const char* env_var) {
    if (!file.empty()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            throw std::runtime_error("cannot read password file " + file + ": " + std::strerror(errno));
        }
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

}  // namespace arrival::cli
