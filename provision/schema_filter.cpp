#include "provision/schema_filter.hpp"

#include <algorithm>
#include <unordered_set>

namespace arrival::provision {

filter_result apply_schema(directory_model& model, const schema& s) {
    filter_result r;
    auto note = [&](std::map<std::string, dropped_attribute>& m, std::string_view name, const entry& e,
                    const char* reason) {
        auto& d = m[std::string(name)];
        if (d.entries++ == 0) {
            d.first_file = model.file(e.loc.file);
            d.first_line = e.loc.line;
            d.reason = reason;
        }
    };
    for (auto& e : model.entries()) {
        bool changed = false;
        std::vector<std::string_view> classes;
        bool extensible = false;
        for (std::size_t i = 0; i < e.size(); ++i) {
            const auto av = e[i];
            if (!iequals(av.type, "objectClass")) continue;
            if (s.knows_class(av.value)) {
                classes.push_back(av.value);
                if (iequals(av.value, "extensibleObject")) extensible = true;
            }
        }
        const auto& allowed_set = s.rules_for(classes).allowed;
        // Keep strings alive: `classes` views into e, which rewrite() rebuilds.
        std::vector<std::pair<std::string, const char*>> drops;
        std::vector<std::string> class_drops;
        e.rewrite([&](std::string_view type, std::string_view value, std::string&, std::string&) {
            if (iequals(type, "objectClass")) {
                if (s.knows_class(value)) return true;
                class_drops.emplace_back(value);
                return false;
            }
            const auto canon = s.canonical_attribute(type);
            if (canon.empty()) {
                drops.emplace_back(std::string(type), "unknown to the destination");
                return false;
            }
            if (!extensible && canon != "objectclass" && !allowed_set.count(canon)) {
                drops.emplace_back(std::string(type), "not allowed by the entry's object classes");
                return false;
            }
            return true;
        });
        // Count each name once per entry.
        std::sort(drops.begin(), drops.end());
        drops.erase(std::unique(drops.begin(), drops.end(),
                                [](const auto& a, const auto& b) { return a.first == b.first; }),
                    drops.end());
        for (const auto& [name, reason] : drops) note(r.attributes, name, e, reason);
        for (const auto& c : class_drops) note(r.object_classes, c, e, "unknown to the destination");
        changed = !drops.empty() || !class_drops.empty();
        if (changed) ++r.entries_changed;
    }
    return r;
}

}  // namespace arrival::provision
