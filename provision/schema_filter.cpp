#include "provision/schema_filter.hpp"

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <unordered_set>

namespace arrival::provision {

namespace {

// Attribute description -> the same with the primary NAME ("" when already primary or unknown). A plan
// has a few hundred distinct descriptions and millions of values, so each is looked up in the schema once.
class primary_name_cache {
public:
    explicit primary_name_cache(const schema& s) : s_(s) {}
    const std::string& operator()(std::string_view description) {
        if (const auto it = cache_.find(description); it != cache_.end()) return it->second;
        std::string out;
        const auto base = base_type(description);
        if (const auto* a = s_.attribute(base); a != nullptr && !a->names.empty() && a->names[0] != base) {
            out = a->names[0];
            out.append(description.substr(base.size()));
        }
        keys_.emplace_back(description);
        return cache_.emplace(keys_.back(), std::move(out)).first->second;
    }

private:
    const schema& s_;
    std::deque<std::string> keys_;  // stable storage for the map's views
    std::unordered_map<std::string_view, std::string> cache_;
};

}  // namespace

std::size_t use_primary_names(directory_model& model, const schema& s) {
    primary_name_cache primary(s);
    const std::size_t changed = model.update_each([&](std::size_t, entry& e) {
        bool c = false;
        e.rewrite([&](std::string_view type, std::string_view, std::string& out_type, std::string&) {
            const auto& p = primary(type);
            if (!p.empty()) {
                out_type = p;
                c = true;
            }
            return true;
        });
        return c;
    });
    for (auto& ch : model.changes()) {
        for (auto& m : ch.mods) {
            if (const auto& p = primary(m.type); !p.empty()) m.type = p;
            for (auto& v : m.values) {
                if (const auto& p = primary(v.type); !p.empty()) v.type = p;
            }
        }
    }
    return changed;
}

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
    model.update_each([&](std::size_t, entry& e) {
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
        const bool changed = !drops.empty() || !class_drops.empty();
        if (changed) ++r.entries_changed;
        return changed;
    });
    return r;
}

}  // namespace arrival::provision
