#include "engine/mail/folder_map.hpp"

#include "engine/mail/dest_profile.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include "protocol/ascii.hpp"

namespace arrival::engine {

namespace {

bool has_attribute(const mailbox_entry& e, std::string_view a) {
    return std::any_of(e.attributes.begin(), e.attributes.end(), [&](const std::string& x) { return ascii::iequals(x, a); });
}

special_use attribute_use(const mailbox_entry& e) {
    for (const auto& a : e.attributes) {
        if (auto u = special_use_from_attribute(a); u != special_use::none) return u;
    }
    return special_use::none;
}

// Common names, in order of preference when the destination has several.
struct common_names {
    special_use use;
    std::array<std::string_view, 4> names;
};
constexpr common_names common[] = {
    {special_use::sent, {"Sent", "Sent Items", "Sent Messages", "Sent Mail"}},
    {special_use::drafts, {"Drafts", "Draft", "", ""}},
    {special_use::trash, {"Trash", "Deleted Items", "Deleted Messages", "Deleted"}},
    {special_use::junk, {"Junk", "Spam", "Junk E-mail", "Junk Mail"}},
    {special_use::archive, {"Archive", "Archives", "", ""}},
};

std::string path_of(const std::vector<std::string>& levels) {
    std::string p;
    for (const auto& l : levels) {
        if (!p.empty()) p += '/';
        p += l;
    }
    return p;
}

std::string key_of(std::string_view dest_name) {
    // INBOX is case-insensitive (RFC 3501 §5.1); everything else is compared exactly.
    if (ascii::iequals(dest_name, "INBOX")) return "INBOX";
    return std::string(dest_name);
}

}  // namespace

std::string_view to_string(special_use s) noexcept {
    switch (s) {
    case special_use::none: return "";
    case special_use::sent: return "\\Sent";
    case special_use::drafts: return "\\Drafts";
    case special_use::trash: return "\\Trash";
    case special_use::junk: return "\\Junk";
    case special_use::archive: return "\\Archive";
    }
    return "";
}

special_use special_use_from_attribute(std::string_view a) noexcept {
    if (ascii::iequals(a, "\\Sent")) return special_use::sent;
    if (ascii::iequals(a, "\\Drafts")) return special_use::drafts;
    if (ascii::iequals(a, "\\Trash")) return special_use::trash;
    if (ascii::iequals(a, "\\Junk")) return special_use::junk;
    if (ascii::iequals(a, "\\Archive")) return special_use::archive;
    return special_use::none;
}

std::vector<std::string> split_levels(std::string_view name, const folder_namespace& ns) {
    if (ascii::iequals(name, "INBOX")) return {"INBOX"};
    if (!ns.prefix.empty() && ascii::istarts_with(name, ns.prefix) && name.size() > ns.prefix.size()) {
        name.remove_prefix(ns.prefix.size());
    }
    std::vector<std::string> levels;
    if (ns.delimiter == '\0') {
        levels.emplace_back(name);
    } else {
        while (true) {
            const auto d = name.find(ns.delimiter);
            levels.emplace_back(name.substr(0, d));
            if (d == std::string_view::npos) break;
            name.remove_prefix(d + 1);
        }
    }
    if (ascii::iequals(levels.front(), "INBOX")) levels.front() = "INBOX";
    return levels;
}

std::string join_levels(const std::vector<std::string>& levels, const folder_namespace& ns) {
    if (levels.size() == 1 && levels.front() == "INBOX") return "INBOX";
    // A flat destination cannot nest: levels are kept visible with '_' between them.
    const char delim = ns.delimiter == '\0' ? '_' : ns.delimiter;
    std::string out;
    std::size_t first = 0;
    if (levels.front() == "INBOX" && !ns.prefix.empty() && ascii::istarts_with(ns.prefix, "INBOX")) {
        // On an "INBOX." server, INBOX's children and top-level folders are the same thing.
        out = ns.prefix;
        first = 1;
    } else if (levels.front() != "INBOX") {
        out = ns.prefix;
    }
    for (std::size_t i = first; i < levels.size(); ++i) {
        if (i > first) out += delim;
        std::string level = levels[i];
        std::replace(level.begin(), level.end(), delim, '_');
        out += level;
    }
    return out;
}

void check_folder_filter(const folder_filter& filter) {
    for (const auto* list : {&filter.include, &filter.exclude}) {
        for (const auto& p : *list) {
            try {
                std::regex re(p, std::regex::ECMAScript);
            } catch (const std::regex_error& e) {
                throw std::invalid_argument(fmt::format("invalid folder pattern '{}': {}", p, e.what()));
            }
        }
    }
}

folder_plan plan_folders(const std::vector<mailbox_entry>& source, const folder_namespace& source_ns,
                         const std::vector<mailbox_entry>& dest, const folder_namespace& dest_ns, const folder_filter& filter,
                         bool map_special_use, dest_profile_kind profile) {
    check_folder_filter(filter);
    std::vector<std::regex> inc, exc;
    for (const auto& p : filter.include) inc.emplace_back(p, std::regex::ECMAScript);
    for (const auto& p : filter.exclude) exc.emplace_back(p, std::regex::ECMAScript);

    folder_plan plan;

    // Destination: what exists, and where each special use lives.
    std::map<std::string, const mailbox_entry*> dest_by_name;
    for (const auto& d : dest) dest_by_name.emplace(key_of(d.name), &d);
    std::map<special_use, std::string> dest_special;
    for (const auto& d : dest) {
        if (auto u = attribute_use(d); u != special_use::none) dest_special.emplace(u, d.name);
    }
    for (const auto& c : common) {
        if (dest_special.count(c.use)) continue;
        for (auto n : c.names) {
            if (n.empty()) continue;
            const auto it = std::find_if(dest.begin(), dest.end(), [&](const mailbox_entry& d) {
                const auto lv = split_levels(d.name, dest_ns);
                return lv.size() == 1 && ascii::iequals(lv.front(), n);
            });
            if (it != dest.end()) {
                dest_special.emplace(c.use, it->name);
                break;
            }
        }
    }

    // Source: which folder is "the" Sent, Trash, ... One per kind, so two source folders never merge into
    // one destination folder (that would break the per-folder duplicate counting).
    std::set<special_use> source_marks;
    for (const auto& s : source) {
        if (auto u = attribute_use(s); u != special_use::none) source_marks.insert(u);
    }
    std::map<special_use, std::size_t> source_special;   // use -> index in `source`
    for (std::size_t i = 0; i < source.size(); ++i) {
        if (const auto u = attribute_use(source[i]); u != special_use::none) source_special.emplace(u, i);
    }
    for (const auto& c : common) {
        if (source_marks.count(c.use)) continue;   // the server told us; names do not override it
        for (auto n : c.names) {
            if (n.empty() || source_special.count(c.use)) continue;
            for (std::size_t i = 0; i < source.size(); ++i) {
                const auto lv = split_levels(source[i].name, source_ns);
                if (lv.size() == 1 && ascii::iequals(lv.front(), n)) {
                    source_special.emplace(c.use, i);
                    break;
                }
            }
        }
    }
    // Source top-level name of each special folder -> (use, destination levels).
    struct special_target {
        special_use use;
        std::vector<std::string> src_levels;
        std::vector<std::string> dst_levels;
    };
    std::vector<special_target> targets;
    for (const auto& [use, idx] : source_special) {
        if (!map_special_use) break;
        auto it = dest_special.find(use);
        if (it == dest_special.end()) continue;
        targets.push_back({use, split_levels(source[idx].name, source_ns), split_levels(it->second, dest_ns)});
    }

    // Pass 1: each source folder's destination levels (namespace, special use). Folders the filter leaves
    // out are kept here too, only for the profile's name rule below: its numbering of siblings then does not
    // change with --include/--exclude, so runs with different filters map a folder alike.
    struct candidate {
        const mailbox_entry* source;
        folder_plan_entry entry;
        std::vector<std::string> dlevels;
        bool taken = true;
    };
    std::vector<candidate> candidates;
    for (const auto& s : source) {
        if (has_attribute(s, "\\NonExistent")) continue;
        auto levels = split_levels(s.name, source_ns);
        const auto path = path_of(levels);
        const bool included = inc.empty() || std::any_of(inc.begin(), inc.end(), [&](const std::regex& r) { return std::regex_search(path, r); });
        const bool excluded = std::any_of(exc.begin(), exc.end(), [&](const std::regex& r) { return std::regex_search(path, r); });
        if (!included || excluded) plan.excluded.push_back(s.name);
        folder_plan_entry e;
        e.source_name = s.name;
        e.path = path;
        e.copy_messages = !has_attribute(s, "\\Noselect");

        std::vector<std::string> dlevels = levels;
        for (const auto& t : targets) {
            if (levels.size() >= t.src_levels.size() && std::equal(t.src_levels.begin(), t.src_levels.end(), levels.begin())) {
                dlevels = t.dst_levels;
                dlevels.insert(dlevels.end(), levels.begin() + static_cast<std::ptrdiff_t>(t.src_levels.size()), levels.end());
                if (levels.size() == t.src_levels.size()) e.use = t.use;
                break;
            }
        }
        if (e.use == special_use::none && map_special_use) {
            // The destination has no folder of this kind: the source's keeps its name and is created with
            // the attribute.
            const auto idx = static_cast<std::size_t>(&s - source.data());
            for (const auto& [use, i] : source_special) {
                if (i == idx && !dest_special.count(use)) e.use = use;
            }
        }
        candidates.push_back({&s, std::move(e), std::move(dlevels), included && !excluded});
    }
    // The destination profile's name rule sees every path at once (siblings stay apart, parents and
    // children map alike): engine/mail/dest_profile.hpp.
    std::vector<std::vector<std::string>> all_levels;
    for (const auto& c : candidates) all_levels.push_back(c.dlevels);
    const auto adapted = adapt_folder_paths(profile, all_levels);

    // Pass 2: names, notes, what to create and subscribe.
    std::map<std::string, std::size_t> planned;   // dest key -> index in plan.entries
    for (std::size_t ci = 0; ci < candidates.size(); ++ci) {
        if (!candidates[ci].taken) continue;
        const auto& s = *candidates[ci].source;
        auto& e = candidates[ci].entry;
        const auto levels = split_levels(s.name, source_ns);
        const auto& dlevels = candidates[ci].dlevels;
        e.dest_name = join_levels(adapted[ci].levels, dest_ns);
        if (e.use != special_use::none && split_levels(e.dest_name, dest_ns) != levels) {
            e.note = fmt::format("special-use {} mapped onto the destination's", to_string(e.use));
        }
        if (dest_ns.delimiter != '\0') {
            for (std::size_t i = 0; i < dlevels.size(); ++i) {
                if (dlevels[i].find(dest_ns.delimiter) != std::string::npos) {
                    e.note = fmt::format("'{}' replaced by '_' in level '{}': it is the destination's hierarchy delimiter",
                                         dest_ns.delimiter, dlevels[i]);
                }
            }
        }
        if (!adapted[ci].note.empty()) {
            e.note = e.note.empty() ? adapted[ci].note : e.note + "; " + adapted[ci].note;
            e.renamed_by_profile = true;
        }
        const auto key = key_of(e.dest_name);
        const auto d = dest_by_name.find(key);
        e.create = d == dest_by_name.end();
        e.subscribe = s.subscribed && (d == dest_by_name.end() || !d->second->subscribed);
        if (auto p = planned.find(key); p != planned.end()) {
            auto& prev = plan.entries[p->second];
            if (prev.source_name.empty()) {   // only a parent so far: this folder takes its place
                e.create = prev.create;
                prev = std::move(e);
            } else {
                plan.errors.push_back(fmt::format("source folders '{}' and '{}' both map to destination folder '{}'; "
                                                  "the second is not migrated",
                                                  prev.source_name, s.name, e.dest_name));
            }
            continue;
        }
        planned.emplace(key, plan.entries.size());
        plan.entries.push_back(std::move(e));

        // Parents the destination lacks are created first (they get sorted ahead below).
        const auto dl = split_levels(plan.entries.back().dest_name, dest_ns);
        for (std::size_t n = 1; n < dl.size(); ++n) {
            const std::vector<std::string> parent(dl.begin(), dl.begin() + static_cast<std::ptrdiff_t>(n));
            const auto pname = join_levels(parent, dest_ns);
            const auto pkey = key_of(pname);
            if (planned.count(pkey) || dest_by_name.count(pkey) || pkey == "INBOX") continue;
            folder_plan_entry pe;
            pe.dest_name = pname;
            pe.path = path_of(parent);
            pe.copy_messages = false;
            pe.create = true;
            pe.note = "parent created for its subfolders";
            planned.emplace(pkey, plan.entries.size());
            plan.entries.push_back(std::move(pe));
        }
    }
    // Parents before children: order by destination levels (a prefix sorts first). INBOX leads.
    std::stable_sort(plan.entries.begin(), plan.entries.end(), [&](const folder_plan_entry& a, const folder_plan_entry& b) {
        const bool ai = a.dest_name == "INBOX", bi = b.dest_name == "INBOX";
        if (ai != bi) return ai;
        return split_levels(a.dest_name, dest_ns) < split_levels(b.dest_name, dest_ns);
    });
    return plan;
}

}  // namespace arrival::engine
