// Presentation of import results: one progress line per finished user (as the mail stage prints them) and
// the JSON report (--report). Neither ever contains a password: results hold none.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "engine/pim/import_job.hpp"

namespace arrival::pim {

struct import_totals {
    std::size_t users = 0, ok = 0, partial = 0, failed = 0, no_file = 0;
    std::size_t imported = 0, existing = 0, items_failed = 0, todo_skipped = 0;
};

[[nodiscard]] import_totals totals(const std::vector<user_result>& results);

// "[3/10] user003@example.test ok: 12 imported, 2 already present, 0 failed (0.4 s)"
[[nodiscard]] std::string progress_line(const user_result& r, std::size_t done, std::size_t total);

// {"stage": "calendars", "destination": ..., "totals": {...}, "users": [{user, file, status, imported,
//  skipped_existing, todo_skipped, failed, failures: [{item, reason}], skipped: [{item, uid, folder, reason}],
//  error, error_kind, collection, detail, seconds}]}
[[nodiscard]] std::string report_json(pim_kind kind, std::string_view destination,
                                      const std::vector<user_result>& results);

}  // namespace arrival::pim
