#include "engine/mail/copy_planner.hpp"

#include <algorithm>
#include <set>

namespace arrival::engine {

copy_plan plan_copies(std::vector<source_message> source, key_multiset dest, bool collapse) {
    std::sort(source.begin(), source.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
    copy_plan plan;
    std::set<dedupe_key> seen;   // only used when collapsing
    for (auto& m : source) {
        const bool on_dest = dest.take(m.key);
        const bool repeat = collapse && !seen.insert(m.key).second;
        if (on_dest || repeat) {
            ++plan.skipped_duplicate;
            continue;
        }
        plan.bytes_to_copy += m.size;
        plan.to_copy.push_back(std::move(m));
    }
    return plan;
}

}  // namespace arrival::engine
