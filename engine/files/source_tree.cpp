#include "engine/files/source_tree.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "engine/files/zimbra_meta.hpp"

namespace arrival::files {

namespace fs = std::filesystem;

source_tree scan_directory(const std::string& root) {
    source_tree t;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot read {}: {}", root, ec.message()));
    std::vector<std::pair<std::vector<std::string>, source_file>> found;
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) {
            t.problems.push_back({root, ec.message()});
            break;
        }
        const auto& p = it->path();
        std::vector<std::string> segs;
        for (const auto& s : fs::relative(p, root)) segs.push_back(s.string());
        const auto st = it->symlink_status(ec);
        if (ec) {
            t.problems.push_back({p.string(), ec.message()});
            continue;
        }
        if (fs::is_directory(st)) {
            t.folders.push_back(segs);
        } else if (fs::is_regular_file(st)) {
            struct ::stat sb {};
            if (::stat(p.c_str(), &sb) != 0) {
                t.problems.push_back({p.string(), std::strerror(errno)});
                continue;
            }
            source_file f;
            f.name = segs.back();
            segs.pop_back();
            f.dirs = segs;
            f.size = static_cast<std::uint64_t>(sb.st_size);
            f.mtime = sb.st_mtime;
            f.origin = p.string();
            t.files.push_back(std::move(f));
        } else {
            t.problems.push_back({p.string(), fs::is_symlink(st) ? "a symbolic link (not followed)"
                                                                  : "not a regular file or directory"});
        }
    }
    std::sort(t.folders.begin(), t.folders.end(), [](const auto& a, const auto& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
    std::sort(t.files.begin(), t.files.end(),
              [](const auto& a, const auto& b) { return std::tie(a.dirs, a.name) < std::tie(b.dirs, b.name); });
    return t;
}

namespace {

struct archive_reader {
    archive* a = archive_read_new();
    explicit archive_reader(const std::string& path) {
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        if (archive_read_open_filename(a, path.c_str(), 1 << 16) != ARCHIVE_OK) {
            const std::string why = archive_error_string(a) ? archive_error_string(a) : "unknown error";
            archive_read_free(a);
            a = nullptr;
            throw std::runtime_error(fmt::format("cannot open {} as tar.gz: {}", path, why));
        }
    }
    ~archive_reader() {
        if (a) archive_read_free(a);
    }
    archive_reader(const archive_reader&) = delete;
    archive_reader& operator=(const archive_reader&) = delete;
    [[nodiscard]] std::string error() const {
        return archive_error_string(a) ? archive_error_string(a) : "unknown archive error";
    }
};

// MailItem.Type bytes of what a Zimbra export also holds, for the "left out" counts.
std::string kind_name(int type) {
    switch (type) {
        case 1: return "folder";
        case 2: return "search folder";
        case 3: return "tag";
        case 5: return "message";
        case 6: return "contact";
        case 9: return "note";
        case 11: return "appointment";
        case 13: return "mountpoint";
        case 14: return "wiki page";
        case 15: return "task";
        case 16: return "chat";
        default: return fmt::format("item type {}", type);
    }
}

}  // namespace

source_tree scan_zimbra_tgz(const std::string& path) {
    archive_reader r(path);
    source_tree t;
    std::set<std::vector<std::string>> folders;
    archive_entry* e = nullptr;
    int rc;
    while ((rc = archive_read_next_header(r.a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        const std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
        if (name.size() < 5 || name.compare(name.size() - 5, 5, ".meta") != 0) continue;  // data: skipped
        const auto size = archive_entry_size(e);
        if (size < 0 || size > (1 << 20)) {
            t.problems.push_back({name, "a .meta entry larger than 1 MB"});
            continue;
        }
        std::string meta(static_cast<std::size_t>(size), '\0');
        if (archive_read_data(r.a, meta.data(), meta.size()) != size) {
            throw std::runtime_error(fmt::format("{}: reading {}: {}", path, name, r.error()));
        }
        zimbra_item item;
        if (const auto why = parse_zimbra_meta(meta, item); !why.empty()) {
            t.problems.push_back({name, ".meta: " + why});
            continue;
        }
        if (item.type != zimbra_type_document) {
            if (item.type != 1) ++t.left_out[kind_name(item.type)];  // folders come with their documents
            continue;
        }
        source_file f;
        if (!split_document_path(item.path.empty() ? "/" + item.name : item.path, f.dirs, f.name)) {
            t.problems.push_back({name, "a document without a path or name"});
            continue;
        }
        f.size = item.size;
        f.mtime = item.date > 100000000000LL ? item.date / 1000 : item.date;
        f.version = item.version;
        f.origin = name.substr(0, name.size() - 5);
        for (std::size_t i = 1; i <= f.dirs.size(); ++i) {
            folders.insert(std::vector<std::string>(f.dirs.begin(), f.dirs.begin() + static_cast<long>(i)));
        }
        t.files.push_back(std::move(f));
    }
    if (rc != ARCHIVE_EOF) throw std::runtime_error(fmt::format("{}: {}", path, r.error()));
    t.folders.assign(folders.begin(), folders.end());
    std::sort(t.folders.begin(), t.folders.end(), [](const auto& a, const auto& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
    return t;
}

struct tgz_extractor::impl {
    explicit impl(const std::string& p) : path(p), reader(p) {}
    std::string path;
    archive_reader reader;
};

tgz_extractor::tgz_extractor(const std::string& path) : impl_(std::make_unique<impl>(path)) {}
tgz_extractor::~tgz_extractor() = default;

std::string tgz_extractor::extract(const std::string& member, const std::string& dest) {
    auto& r = impl_->reader;
    archive_entry* e = nullptr;
    int rc;
    while ((rc = archive_read_next_header(r.a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        if (archive_entry_pathname(e) == nullptr || member != archive_entry_pathname(e)) continue;
        const int fd = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) return fmt::format("cannot create {}: {}", dest, std::strerror(errno));
        const int out = archive_read_data_into_fd(r.a, fd);
        const bool closed = ::close(fd) == 0;
        if (out != ARCHIVE_OK && out != ARCHIVE_WARN) return fmt::format("reading {}: {}", member, r.error());
        if (!closed) return fmt::format("writing {}: {}", dest, std::strerror(errno));
        return {};
    }
    return rc == ARCHIVE_EOF ? fmt::format("{} is not in the archive (or not after the previous member)", member)
                             : fmt::format("reading {}: {}", impl_->path, r.error());
}

}  // namespace arrival::files
