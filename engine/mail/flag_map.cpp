#include "engine/mail/flag_map.hpp"

#include <algorithm>
#include "protocol/ascii.hpp"

namespace arrival::engine {

namespace {

bool portable_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '$' || c == '_' ||
           c == '-' || c == '.' || c == '+';
}

constexpr std::string_view system_flags[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"};

}  // namespace

permanent_flags::permanent_flags(const std::vector<std::string>& flags, dest_profile_kind profile, const std::vector<std::string>& defined)
    : any_keyword_(false) {
    for (const auto& f : flags) {
        if (f == "\\*") any_keyword_ = true;
        else if (!f.empty() && f.front() != '\\') keywords_.push_back(f);
    }
    if (profile != dest_profile_kind::cyrus) return;
    keyword_limit_ = cyrus_max_folder_keywords;
    if (flags.empty()) {
        // EXAMINE: Cyrus answers PERMANENTFLAGS () (read-only); its FLAGS list names the folder's keywords.
        any_keyword_ = true;
        note_sent(defined);
    }
}

bool permanent_flags::has_keyword(std::string_view keyword) const {
    // Keywords compare case-insensitively (RFC 3501 §2.3.2: flags are atoms, matched without case).
    return std::any_of(keywords_.begin(), keywords_.end(), [&](const std::string& k) { return ascii::iequals(k, keyword); });
}

std::string_view permanent_flags::refusal(std::string_view keyword, std::size_t pending) const {
    if (has_keyword(keyword)) return {};
    if (!any_keyword_) return "the destination folder does not allow this keyword (PERMANENTFLAGS)";
    if (keyword_limit_ && keywords_.size() + pending >= *keyword_limit_) {
        return cyrus_keyword_limit_reason;
    }
    return {};
}

void permanent_flags::note_sent(const std::vector<std::string>& flags) {
    if (!keyword_limit_) return;   // only the limit needs the list kept up to date
    for (const auto& f : flags) {
        if (!f.empty() && f.front() != '\\' && !has_keyword(f)) keywords_.push_back(f);
    }
}

bool is_portable_keyword(std::string_view k) noexcept {
    return !k.empty() && std::all_of(k.begin(), k.end(), portable_char);
}

std::string_view strip_zimbra_tag_suffix(std::string_view k) noexcept {
    // Zimbra exports tags as "Name:FLAG<id>"; the name is what the user knows.
    if (const auto pos = k.rfind(":FLAG"); pos != std::string_view::npos && pos > 0 && pos + 5 < k.size() &&
        std::all_of(k.begin() + static_cast<std::ptrdiff_t>(pos + 5), k.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return k.substr(0, pos);
    }
    return k;
}

bool is_carbonio_keyword(std::string_view k) noexcept {
    // ImapRequest.readFlags: printable ASCII but ( ) { % * " \ ]; Tag.validateItemName: no ':' (nor '\'),
    // at most 255 characters.
    constexpr std::string_view refused = "(){%*\"\\]:";
    return !k.empty() && k.size() <= 255 && std::all_of(k.begin(), k.end(), [&](char c) {
        return c > ' ' && c < 0x7f && refused.find(c) == std::string_view::npos;
    });
}

std::string rewrite_keyword(std::string_view k) {
    if (is_portable_keyword(k)) return std::string(k);
    std::string out(strip_zimbra_tag_suffix(k));
    std::replace_if(out.begin(), out.end(), [](char c) { return !portable_char(c); }, '_');
    if (std::all_of(out.begin(), out.end(), [](char c) { return c == '_'; })) out.clear();
    return out;
}

namespace {

// The keyword to send under the profile ("" = drop), with the reason for the report.
std::string keyword_for(std::string_view f, dest_profile_kind profile, const char*& why_dropped, const char*& why_rewritten) {
    if (profile == dest_profile_kind::carbonio) {
        if (is_carbonio_keyword(f)) return std::string(f);
        const auto name = strip_zimbra_tag_suffix(f);
        if (name.size() != f.size() && is_carbonio_keyword(name)) {
            why_rewritten = "Zimbra tag export Name:FLAGn sent as its tag name";
            return std::string(name);
        }
        why_dropped = name.size() != f.size() ? "Zimbra tag export whose name Carbonio refuses as a tag name"
                                              : "Carbonio refuses keywords with ( ) { % * \" \\ ] : or non-ASCII characters";
        return {};
    }
    why_dropped = "no portable characters left after rewriting";
    why_rewritten = "rewritten to a portable keyword";
    return rewrite_keyword(f);
}

}  // namespace

std::vector<std::string> map_flags(const std::vector<std::string>& source_flags, const permanent_flags& dest,
                                   std::vector<flag_change>& changes, dest_profile_kind profile) {
    std::vector<std::string> out;
    std::size_t pending = 0;   // keywords taken for this message that the folder does not have yet
    auto in_out = [&](std::string_view f) {
        return std::any_of(out.begin(), out.end(), [&](const std::string& x) { return ascii::iequals(x, f); });
    };
    for (const auto& f : source_flags) {
        if (f.empty()) continue;
        if (f.front() == '\\') {
            if (ascii::iequals(f, "\\Recent")) continue;
            const auto sys = std::find_if(std::begin(system_flags), std::end(system_flags), [&](std::string_view s) { return ascii::iequals(s, f); });
            if (sys != std::end(system_flags)) {
                if (!in_out(*sys)) out.emplace_back(*sys);
            }
            else changes.push_back({f, "", "not a system flag a destination can store"});
            continue;
        }
        const char* why_dropped = "";
        const char* why_rewritten = "";
        auto k = keyword_for(f, profile, why_dropped, why_rewritten);
        if (k.empty()) {
            changes.push_back({f, "", why_dropped});
            continue;
        }
        const bool taken = in_out(k);
        if (const auto why = dest.refusal(k, pending); !taken && !why.empty()) {
            changes.push_back({f, "", std::string(why)});
            continue;
        }
        if (k != f) changes.push_back({f, k, why_rewritten});
        if (taken) continue;
        if (!dest.has_keyword(k)) ++pending;
        out.push_back(std::move(k));
    }
    return out;
}

}  // namespace arrival::engine
