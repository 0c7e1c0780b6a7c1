// A run's finished accounts, on disk while the run goes on. Each account's report (every folder, every
// adaptation, every UID) is written out as the account finishes, and only what the end of the run reads stays
// in memory: the account's totals (account_totals), its name and status, and the folders whose messages failed
// (printed as "not copied"). A run's memory then stays nearly flat in its accounts: the folders were ~7 KB
// of the ~11 KB each account kept (heaptrack, 500 accounts of 15 folders; bench/README.md, "Growth").
// write_report and to_json read the accounts back one at a time, in input order.
#pragma once
#include <cstdint>
#include <filesystem>
#include <mutex>

#include <nlohmann/json_fwd.hpp>

#include "engine/mail/report.hpp"

namespace arrival::engine {

class report_spool {
public:
    // An unnamed owner-only file in `dir` (O_TMPFILE: nothing is left behind when the process ends, by
    // kill -9 included). Throws std::runtime_error naming the directory.
    explicit report_spool(const std::filesystem::path& dir);
    ~report_spool();
    report_spool(const report_spool&) = delete;
    report_spool& operator=(const report_spool&) = delete;

    // Writes `a` out and leaves in it its totals and its failed messages (account_report::spooled). Safe from
    // any thread. When the write fails (a full disk) `a` stays whole in memory: false, and nothing is lost.
    bool fold(account_report& a);
    // The folded account's to_json, read back. Throws std::runtime_error when the file cannot be read.
    [[nodiscard]] nlohmann::json read(const account_report& a) const;

private:
    int fd_ = -1;
    std::mutex append_;
    std::uint64_t end_ = 0;   // under append_
};

}  // namespace arrival::engine
