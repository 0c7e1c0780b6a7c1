#include "engine/mail/namespace_map.hpp"

#include <optional>

namespace arrival::engine {

namespace {

bool is_inbox(std::string_view name) noexcept {
    if (name.size() != 5) return false;
    for (std::size_t i = 0; i < 5; ++i) {
        const char c = (name[i] >= 'a' && name[i] <= 'z') ? static_cast<char>(name[i] - 'a' + 'A') : name[i];
        if (c != "INBOX"[i]) return false;
    }
    return true;
}

std::string_view root_of(const folder_namespace& ns) noexcept {
    std::string_view p = ns.prefix;
    if (ns.delimiter != '\0' && !p.empty() && p.back() == ns.delimiter) p.remove_suffix(1);
    return p;
}

// How much of `name` the namespace's prefix matches: nothing when the name lies outside it.
std::optional<std::size_t> match_length(std::string_view name, const folder_namespace& ns) noexcept {
    if (name.substr(0, ns.prefix.size()) == ns.prefix) return ns.prefix.size();
    if (!ns.prefix.empty() && name == root_of(ns)) return ns.prefix.size();
    return std::nullopt;
}

}  // namespace

std::string_view to_string(namespace_kind k) noexcept {
    switch (k) {
    case namespace_kind::personal: return "personal";
    case namespace_kind::other_users: return "other users";
    case namespace_kind::shared: return "shared";
    }
    return "";
}

namespace_map::namespace_map(std::vector<folder_namespace> personal, std::vector<folder_namespace> other_users,
                             std::vector<folder_namespace> shared)
    : personal_(std::move(personal)), other_users_(std::move(other_users)), shared_(std::move(shared)) {
    if (personal_.empty()) personal_.push_back(folder_namespace{});
}

namespace_place namespace_map::classify(std::string_view name) const {
    if (is_inbox(name)) return {namespace_kind::personal, 0};
    namespace_place best{namespace_kind::personal, 0};
    std::optional<std::size_t> best_len;
    const auto consider = [&](const std::vector<folder_namespace>& group, namespace_kind kind) {
        for (std::size_t i = 0; i < group.size(); ++i) {
            const auto len = match_length(name, group[i]);
            if (len && (!best_len || *len >= *best_len)) {   // a tie goes to the later group
                best_len = len;
                best = {kind, i};
            }
        }
    };
    consider(personal_, namespace_kind::personal);
    consider(other_users_, namespace_kind::other_users);
    consider(shared_, namespace_kind::shared);
    // A name no prefix matches (personal "INBOX." and nothing at ""): the server's own folders, as a
    // server without NAMESPACE would have them.
    return best;
}

const folder_namespace& namespace_map::at(namespace_place p) const {
    switch (p.kind) {
    case namespace_kind::personal: return personal_.at(p.index);
    case namespace_kind::other_users: return other_users_.at(p.index);
    case namespace_kind::shared: return shared_.at(p.index);
    }
    return personal_.front();
}

std::vector<mailbox_entry> namespace_map::entries_in(const std::vector<mailbox_entry>& entries, namespace_place p) const {
    std::vector<mailbox_entry> out;
    for (const auto& e : entries) {
        if (classify(e.name) == p) out.push_back(e);
    }
    return out;
}

std::vector<std::string> namespace_map::names_in(const std::vector<mailbox_entry>& entries, namespace_kind k) const {
    std::vector<std::string> out;
    for (const auto& e : entries) {
        if (classify(e.name).kind == k) out.push_back(e.name);
    }
    return out;
}

std::string relative_name(std::string_view name, const folder_namespace& ns) {
    if (!match_length(name, ns)) return std::string(name);
    if (name.size() <= ns.prefix.size()) return {};
    return std::string(name.substr(ns.prefix.size()));
}

}  // namespace arrival::engine
