#include "engine/mail/report_spool.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace arrival::engine {

report_spool::report_spool(const std::filesystem::path& dir) {
    fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        // A file system without O_TMPFILE: a named file, unlinked at once.
        std::string name = (dir / "arrival-report-spool.XXXXXX").string();
        fd_ = ::mkostemp(name.data(), O_CLOEXEC);
        if (fd_ >= 0) ::unlink(name.c_str());
    }
    if (fd_ < 0) throw std::runtime_error(fmt::format("cannot create the report spool in {}: {}", dir.string(), std::strerror(errno)));
}

report_spool::~report_spool() {
    if (fd_ >= 0) ::close(fd_);
}

bool report_spool::fold(account_report& a) {
    if (a.spooled) return true;
    const std::string text = to_json(a).dump();
    std::uint64_t offset = 0;
    {
        std::lock_guard lock(append_);
        offset = end_;
        for (std::size_t done = 0; done < text.size();) {
            const auto n = ::pwrite(fd_, text.data() + done, text.size() - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;   // the account stays whole; the bytes written so far are never read
            done += static_cast<std::size_t>(n);
        }
        end_ += text.size();
    }
    a.spooled = account_report::spooled_detail{a.totals(), offset, text.size()};
    // What stays: the failed messages of each folder that has any, for the "not copied" lines at the end.
    std::vector<folder_report> failed;
    for (auto& f : a.folders) {
        if (f.failed.empty()) continue;
        folder_report kept;
        kept.source_folder = std::move(f.source_folder);
        kept.failed = std::move(f.failed);
        failed.push_back(std::move(kept));
    }
    a.folders = std::move(failed);
    a.other_users_folders = {};
    a.dest_profile_evidence = {};
    return true;
}

nlohmann::json report_spool::read(const account_report& a) const {
    if (!a.spooled) throw std::logic_error("report_spool::read: the account was not folded");
    std::string text(a.spooled->length, '\0');
    for (std::size_t done = 0; done < text.size();) {
        const auto n = ::pread(fd_, text.data() + done, text.size() - done, static_cast<off_t>(a.spooled->offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            throw std::runtime_error(fmt::format("cannot read the report of {} back from the spool: {}", a.source_user,
                                                 n == 0 ? "the file is short" : std::strerror(errno)));
        }
        done += static_cast<std::size_t>(n);
    }
    return nlohmann::json::parse(text);
}

}  // namespace arrival::engine
