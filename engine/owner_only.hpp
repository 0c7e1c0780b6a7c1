// Files and directories that hold personal data (reports, the state store, exported LDIF) are created
// owner-only, whatever the process umask: files 0600, directories 0700. A file that already exists is
// narrowed to 0600 before it is rewritten, so a report first written by an older run does not stay 0644.
// Directories that already exist are left as they are: the user may have named a shared one.
#pragma once
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arrival::engine {

// Creates `dir` and any missing parents with mode 0700. Fails like std::filesystem::create_directories.
inline void create_owner_only_dirs(const std::filesystem::path& dir, std::error_code& ec) {
    ec.clear();
    std::filesystem::path built;
    for (const auto& part : dir) {
        built /= part;
        if (::mkdir(built.c_str(), 0700) == 0) continue;
        if (errno == EEXIST && std::filesystem::is_directory(built, ec)) continue;
        if (!ec) ec = std::error_code(errno == EEXIST ? ENOTDIR : errno, std::generic_category());
        return;
    }
}

// Makes sure `file` exists with mode 0600 (creating it empty if needed) without changing its content.
inline void make_owner_only_file(const std::filesystem::path& file, std::error_code& ec) {
    ec.clear();
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        ec = std::error_code(errno, std::generic_category());
        return;
    }
    if (::fchmod(fd, 0600) != 0) ec = std::error_code(errno, std::generic_category());
    ::close(fd);
}

// An ofstream on `file`, which is created (or narrowed) to 0600 first. On failure the stream is not open
// and errno says why, as after a failed std::ofstream constructor.
inline std::ofstream open_owner_only(const std::filesystem::path& file,
                                     std::ios::openmode mode = std::ios::binary | std::ios::trunc) {
    std::error_code ec;
    make_owner_only_file(file, ec);
    if (ec) {
        errno = ec.value();
        return {};
    }
    return std::ofstream(file, mode | std::ios::out);
}

}  // namespace arrival::engine
