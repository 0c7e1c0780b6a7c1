#include "engine/public_folders.hpp"

#include <map>

#include <fmt/format.h>

namespace arrival::engine {

namespace {

// The prefix's root: "Public/" -> "Public", "shared." -> "shared"; a prefix without a trailing delimiter
// is its own root.
std::string_view root_of(const namespace_info& ns) noexcept {
    std::string_view p = ns.prefix;
    if (ns.delimiter != '\0' && !p.empty() && p.back() == ns.delimiter) p.remove_suffix(1);
    return p;
}

// A full name in `ns` -> the name relative to its prefix; the root itself -> "".
std::string relative_name(std::string_view name, const namespace_info& ns) {
    if (name.size() <= ns.prefix.size()) return {};
    return std::string(name.substr(ns.prefix.size()));
}

// Entries of `ns` (without its root), renamed relative to the prefix; `full` remembers the original names.
std::vector<mailbox_entry> relative_entries(const std::vector<mailbox_entry>& entries, const namespace_info& ns,
                                            std::map<std::string, std::string>* full) {
    std::vector<mailbox_entry> out;
    for (const auto& e : entries) {
        if (!in_namespace(e.name, ns)) continue;
        auto rel = relative_name(e.name, ns);
        if (rel.empty()) continue;   // the namespace root: it exists as long as the namespace does
        mailbox_entry r = e;
        r.name = rel;
        if (full) full->emplace(rel, e.name);
        out.push_back(std::move(r));
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

bool in_namespace(std::string_view name, const namespace_info& ns) noexcept {
    if (ns.prefix.empty()) return false;
    if (name.size() >= ns.prefix.size() && name.substr(0, ns.prefix.size()) == ns.prefix) return true;
    return name == root_of(ns);
}

std::vector<mailbox_entry> outside_namespaces(const std::vector<mailbox_entry>& entries, const std::vector<namespace_info>& others) {
    std::vector<mailbox_entry> out;
    for (const auto& e : entries) {
        bool inside = false;
        for (const auto& ns : others) inside = inside || in_namespace(e.name, ns);
        if (!inside) out.push_back(e);
    }
    return out;
}

folder_plan plan_public_folders(const std::vector<mailbox_entry>& source, const namespace_info& source_ns,
                                const std::vector<mailbox_entry>& dest, const namespace_info& dest_ns, const folder_filter& filter) {
    if (source_ns.prefix.empty() || dest_ns.prefix.empty()) {
        folder_plan p;
        p.errors.push_back(fmt::format("the {}'s shared namespace has an empty prefix: its folders cannot be told apart from "
                                       "private ones, so none is migrated",
                                       source_ns.prefix.empty() ? "source" : "destination"));
        return p;
    }
    // Relative to the prefixes both sides are a plain hierarchy with their own delimiter: folder_map's
    // translation, parent creation and filtering apply unchanged, without the special-use rule.
    std::map<std::string, std::string> source_full;
    const auto src = relative_entries(source, source_ns, &source_full);
    const auto dst = relative_entries(dest, dest_ns, nullptr);
    auto plan = plan_folders(src, namespace_info{"", source_ns.delimiter}, dst, namespace_info{"", dest_ns.delimiter}, filter,
                             /*map_special_use=*/false);
    for (auto& e : plan.entries) {
        if (!e.source_name.empty()) e.source_name = source_full.at(e.source_name);
        e.dest_name = dest_ns.prefix + e.dest_name;
    }
    for (auto& x : plan.excluded) x = source_full.at(x);
    for (auto& err : plan.errors) err = fmt::format("shared namespace '{}': {}", source_ns.prefix, err);
    return plan;
}

}  // namespace arrival::engine
