#include "engine/shares/grant_plan.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "protocol/imap/acl.hpp"

namespace arrival::shares {
namespace {

bool iequal(std::string_view a, std::string_view b) { return lower_ascii(a) == lower_ascii(b); }

bool contains_all(std::string_view set, std::string_view letters) {
    return std::all_of(letters.begin(), letters.end(), [&](char c) { return set.find(c) != std::string_view::npos; });
}

std::string only_in(std::string_view letters, std::string_view set) {
    std::string out;
    for (char c : letters) {
        if (set.find(c) != std::string_view::npos && out.find(c) == std::string::npos) out += c;
    }
    return out;
}

// The group's name when `id` names a group in Dovecot's or Cyrus's syntax, else nullopt.
std::optional<std::string> group_name(std::string_view id) {
    if (id.size() > 1 && id[0] == '$') return std::string(id.substr(1));
    if (id.size() > 6 && iequal(id.substr(0, 6), "group:")) return std::string(id.substr(6));
    return std::nullopt;
}

std::string group_identifier(const std::string& name, group_syntax syntax, std::string_view owner_dest) {
    switch (syntax) {
        case group_syntax::dovecot: return "$" + name;
        case group_syntax::cyrus: return "group:" + name;
        case group_syntax::carbonio: {
            if (name.find('@') != std::string::npos) return name;
            const auto at = owner_dest.find('@');
            return at == std::string_view::npos ? name : name + std::string(owner_dest.substr(at));
        }
    }
    return name;
}

}  // namespace

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

group_syntax group_syntax_for(engine::dest_profile_kind k) noexcept {
    switch (k) {
        case engine::dest_profile_kind::cyrus: return group_syntax::cyrus;
        case engine::dest_profile_kind::carbonio: return group_syntax::carbonio;
        case engine::dest_profile_kind::generic: break;
    }
    return group_syntax::dovecot;
}

std::string map_domain(std::string_view address, const std::map<std::string, std::string>& domains) {
    const auto at = address.rfind('@');
    if (at == std::string_view::npos) return std::string(address);
    const auto it = domains.find(lower_ascii(address.substr(at + 1)));
    if (it == domains.end()) return std::string(address);
    return std::string(address.substr(0, at + 1)) + it->second;
}

mapped_identifier map_identifier(std::string_view source_identifier, const identifier_rules& rules,
                                 std::string_view owner_dest) {
    std::string_view id = source_identifier;
    if (!id.empty() && id[0] == '#') return {"", "a global ACL entry (Dovecot's '#': server configuration, not settable over IMAP)"};
    const bool negative = id.size() > 1 && id[0] == '-';
    if (negative) id.remove_prefix(1);
    const std::string prefix = negative ? "-" : "";
    if (iequal(id, "anyone")) return {prefix + "anyone", ""};
    if (iequal(id, "authenticated")) {
        if (rules.dest == group_syntax::carbonio) {
            return {prefix + "anyone", "authenticated -> anyone (Carbonio's anyone is every authenticated user)"};
        }
        return {prefix + "authenticated", ""};
    }
    if (iequal(id, "owner")) return {"", "owner: implicit on the destination"};
    if (auto g = group_name(id)) {
        const std::string mapped = group_identifier(map_domain(*g, rules.domains), rules.dest, owner_dest);
        const std::string out = prefix + mapped;
        return {out, out == source_identifier ? "" : fmt::format("group {} -> {}", source_identifier, out)};
    }
    if (const auto it = rules.accounts.find(lower_ascii(id)); it != rules.accounts.end()) {
        const std::string out = prefix + it->second;
        return {out, out == source_identifier ? "" : fmt::format("{} -> {} (accounts file)", source_identifier, out)};
    }
    const std::string out = prefix + map_domain(id, rules.domains);
    return {out, out == source_identifier ? "" : fmt::format("{} -> {} (--map-domain)", source_identifier, out)};
}

rights_decision decide_rights(std::string_view source_rights, std::string_view current,
                              const std::optional<rights_offer>& offer) {
    rights_decision d;
    const std::string want = imap::normalize_rights(source_rights);
    const std::string have = imap::normalize_rights(current);
    std::string grant;
    if (!offer) {
        grant = want;
    } else {
        const std::string required = imap::normalize_rights(offer->required);
        if (!contains_all(want, required)) {
            d.refused = want;
            d.why = fmt::format("the destination always grants '{}' with any right here; the source granted '{}'",
                                required, want);
            return d;
        }
        std::string offered = required;
        grant = required;
        std::string tied;
        for (const auto& raw : offer->optional) {
            const std::string set = imap::normalize_rights(raw);
            offered += set;
            if (set.empty()) continue;
            if (contains_all(want, set)) grant += set;
            else if (!only_in(set, want).empty()) tied += set + " ";
        }
        grant = imap::normalize_rights(grant);
        std::string not_offered;
        for (char c : want) {
            if (offered.find(c) == std::string::npos) not_offered += c;
        }
        for (char c : want) {
            if (grant.find(c) == std::string::npos) d.refused += c;
        }
        if (!d.refused.empty()) {
            std::vector<std::string> why;
            if (!not_offered.empty()) why.push_back(fmt::format("the destination has no right '{}'", not_offered));
            if (!tied.empty()) {
                tied.pop_back();
                why.push_back(fmt::format("the destination grants '{}' only as a whole", tied));
            }
            d.why = fmt::format("{}", fmt::join(why, "; "));
        }
    }
    d.grant = grant;
    d.unchanged = !grant.empty() && contains_all(have, grant);
    return d;
}

}  // namespace arrival::shares
