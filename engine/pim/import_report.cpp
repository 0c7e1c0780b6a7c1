#include "engine/pim/import_report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace arrival::pim {

import_totals totals(const std::vector<user_result>& results) {
    import_totals t;
    t.users = results.size();
    for (const auto& r : results) {
        switch (r.status) {
            case user_status::ok: ++t.ok; break;
            case user_status::partial: ++t.partial; break;
            case user_status::failed: ++t.failed; break;
            case user_status::no_file: ++t.no_file; break;
        }
        t.imported += r.imported;
        t.existing += r.existing;
        t.items_failed += r.failed;
        t.todo_skipped += r.todo_skipped;
    }
    return t;
}

std::string progress_line(const user_result& r, std::size_t done, std::size_t total) {
    auto line = fmt::format("[{}/{}] {} {}", done, total, r.user, to_string(r.status));
    if (r.status == user_status::no_file) return line;
    line += fmt::format(": {} imported, {} already present, {} failed", r.imported, r.existing, r.failed);
    if (r.todo_skipped > 0) line += fmt::format(", {} VTODO not posted", r.todo_skipped);
    line += fmt::format(" ({:.1f} s)", r.seconds);
    if (!r.error.empty()) line += " - " + r.error;
    return line;
}

std::string report_json(pim_kind kind, std::string_view destination, const std::vector<user_result>& results) {
    using nlohmann::json;
    const auto t = totals(results);
    json users = json::array();
    for (const auto& r : results) {
        json failures = json::array();
        for (const auto& f : r.failures) failures.push_back({{"item", f.item}, {"reason", f.reason}});
        json skipped = json::array();
        for (const auto& k : r.skipped) {
            skipped.push_back({{"item", k.item}, {"uid", k.uid}, {"folder", k.folder}, {"reason", k.reason}});
        }
        json u = {{"user", r.user},           {"file", r.file},
                  {"status", to_string(r.status)}, {"imported", r.imported},
                  {"skipped_existing", r.existing}, {"todo_skipped", r.todo_skipped},
                  {"failed", r.failed},       {"failures", std::move(failures)},
                  {"skipped", std::move(skipped)}, {"collection", r.collection},
                  {"detail", r.detail},       {"seconds", r.seconds}};
        if (!r.error.empty()) {
            u["error"] = r.error;
            u["error_kind"] = to_string(r.kind);
        }
        users.push_back(std::move(u));
    }
    json doc = {{"stage", kind == pim_kind::calendars ? "calendars" : "contacts"},
                {"destination", destination},
                {"totals",
                 {{"users", t.users},
                  {"ok", t.ok},
                  {"partial", t.partial},
                  {"failed", t.failed},
                  {"no_file", t.no_file},
                  {"imported", t.imported},
                  {"skipped_existing", t.existing},
                  {"todo_skipped", t.todo_skipped},
                  {"items_failed", t.items_failed}}},
                {"users", std::move(users)}};
    // Replace invalid UTF-8 (a Windows-1252 name in an error) rather than throwing while writing the report.
    return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace arrival::pim
