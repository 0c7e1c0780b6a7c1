// The exit status of a run of per-user results (calendars, contacts, files): 0 when every user is ok (or had
// nothing to move), 1 when some failed, and when every failed user failed for one reason, that reason
// (4 unreachable, 5 TLS, 6 auth, 7 protocol).
#pragma once
#include <optional>
#include <set>
#include <vector>

#include "engine/pim/import_job.hpp"
#include "tools/arrival/exit_status.hpp"

namespace arrival::cli {

template <class Result>
[[nodiscard]] int exit_for_users(const std::vector<Result>& results) {
    std::size_t good = 0, failed = 0;
    std::set<std::optional<pim::failure_kind>> kinds;
    for (const auto& r : results) {
        if (r.status == pim::user_status::failed) {
            ++failed;
            kinds.insert(r.kind);
        } else if (r.status == pim::user_status::ok || r.status == pim::user_status::partial) {
            ++good;
        }
        if (r.status == pim::user_status::partial) ++failed;  // partial users make the run partial
    }
    if (failed == 0) return exit_ok;
    if (good > 0 || kinds.size() != 1 || !*kinds.begin()) return exit_partial;
    return exit_status_of(**kinds.begin()).value_or(exit_partial);
}

}  // namespace arrival::cli
