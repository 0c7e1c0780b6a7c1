#include "engine/mail/public_folders.hpp"

#include <map>

#include <fmt/format.h>

namespace arrival::engine {

namespace {

constexpr namespace_place first_shared{namespace_kind::shared, 0};

// Entries of the first shared namespace (without its root), renamed relative to the prefix; `full`
// remembers the original names.
std::vector<mailbox_entry> relative_entries(const std::vector<mailbox_entry>& entries, const namespace_map& map,
                                            std::map<std::string, std::string>* full) {
    std::vector<mailbox_entry> out;
    for (auto& e : map.entries_in(entries, first_shared)) {
        auto rel = relative_name(e.name, map.at(first_shared));
        if (rel.empty()) continue;   // the namespace root: it exists as long as the namespace does
        if (full) full->emplace(rel, e.name);
        e.name = std::move(rel);
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace

std::string_view to_string(folder_scope s) noexcept {
    switch (s) {
    case folder_scope::personal: return "personal";
    case folder_scope::shared: return "shared";
    }
    return "";
}

std::string job_label(std::string_view user, folder_scope s) {
    return s == folder_scope::shared ? fmt::format("{} (public)", user) : std::string(user);
}

folder_plan plan_public_folders(const std::vector<mailbox_entry>& source, const namespace_map& source_ns,
                                const std::vector<mailbox_entry>& dest, const namespace_map& dest_ns, const folder_filter& filter) {
    if (source_ns.shared().empty() || dest_ns.shared().empty()) {
        folder_plan p;
        p.errors.push_back(fmt::format("the {} has no shared namespace, so no public folder is migrated",
                                       source_ns.shared().empty() ? "source" : "destination"));
        return p;
    }
    const auto& src_shared = source_ns.at(first_shared);
    const auto& dst_shared = dest_ns.at(first_shared);
    // Relative to the prefixes both sides are a plain hierarchy with their own delimiter: folder_map's
    // translation, parent creation and filtering apply unchanged, without the special-use rule.
    std::map<std::string, std::string> source_full;
    const auto src = relative_entries(source, source_ns, &source_full);
    const auto dst = relative_entries(dest, dest_ns, nullptr);
    auto plan = plan_folders(src, folder_namespace{"", src_shared.delimiter}, dst, folder_namespace{"", dst_shared.delimiter}, filter,
                             /*map_special_use=*/false);
    for (auto& e : plan.entries) {
        if (!e.source_name.empty()) e.source_name = source_full.at(e.source_name);
        e.dest_name = dst_shared.prefix + e.dest_name;
    }
    for (auto& x : plan.excluded) x = source_full.at(x);
    for (auto& err : plan.errors) err = fmt::format("shared namespace '{}': {}", src_shared.prefix, err);
    return plan;
}

}  // namespace arrival::engine
