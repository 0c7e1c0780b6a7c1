#include "protocol/imap/list_decoder.hpp"

#include <array>
#include <utility>

namespace arrival::imap {
namespace {

constexpr std::array<std::pair<std::string_view, special_use>, 8> uses{{
    {"\\All", special_use::all},
    {"\\Archive", special_use::archive},
    {"\\Drafts", special_use::drafts},
    {"\\Flagged", special_use::flagged},
    {"\\Junk", special_use::junk},
    {"\\Sent", special_use::sent},
    {"\\Trash", special_use::trash},
    {"\\Important", special_use::important},  // RFC 8457
}};

}  // namespace

special_use special_use_of(std::string_view attribute) noexcept {
    for (const auto& [n, u] : uses)
        if (iequals(n, attribute)) return u;
    return special_use::none;
}

std::string_view to_string(special_use u) noexcept {
    for (const auto& [n, v] : uses)
        if (v == u) return n;
    return "";
}

void list_entry::clear() noexcept {
    lsub = false;
    attributes.clear();
    delimiter.reset();
    name = {};
    use = special_use::none;
    noselect = noinferiors = subscribed = nonexistent = has_children = has_no_children = false;
}

// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox [SP mbox-list-extended]
error_code decode_list(const response& r, list_entry& out) {
    out.clear();
    if (r.is("LSUB")) out.lsub = true;
    else if (!r.is("LIST")) return errc::unexpected_response;
    const auto a = r.args;
    std::size_t i = 0;
    if (a.size() < 4 || a[0].type != token_type::list_begin) return errc::bad_syntax;
    for (i = 1; i < a.size() && a[i].type == token_type::atom; ++i) {
        const std::string_view f = a[i].text;
        out.attributes.push_back(f);
        if (const auto u = special_use_of(f); u != special_use::none && out.use == special_use::none) out.use = u;
        if (iequals(f, "\\Noselect")) out.noselect = true;
        else if (iequals(f, "\\NonExistent")) out.noselect = out.nonexistent = true;
        else if (iequals(f, "\\Noinferiors")) out.noinferiors = true;
        else if (iequals(f, "\\Subscribed")) out.subscribed = true;
        else if (iequals(f, "\\HasChildren")) out.has_children = true;
        else if (iequals(f, "\\HasNoChildren")) out.has_no_children = true;
    }
    if (i >= a.size() || a[i].type != token_type::list_end) return errc::bad_syntax;
    ++i;
    if (i >= a.size()) return errc::bad_syntax;
    if (a[i].type == token_type::quoted || a[i].type == token_type::literal) {
        if (a[i].text.size() != 1) return errc::bad_syntax;
        out.delimiter = a[i].text[0];
    } else if (a[i].type != token_type::nil) {
        return errc::bad_syntax;
    }
    ++i;
    if (i >= a.size() || !a[i].is_string()) return errc::bad_syntax;
    out.name = iequals(a[i].text, "INBOX") ? std::string_view("INBOX") : a[i].text;
    ++i;
    if (out.lsub) out.subscribed = true;
    if (i == a.size()) return {};
    // mbox-list-extended = "(" [item *(SP item)] ")"  (CHILDINFO, OLDNAME): must be one balanced list.
    if (a[i].type != token_type::list_begin) return errc::bad_syntax;
    std::size_t depth = 0;
    for (; i < a.size(); ++i) {
        if (a[i].type == token_type::list_begin) ++depth;
        else if (a[i].type == token_type::list_end && --depth == 0) break;
    }
    if (i + 1 != a.size()) return errc::bad_syntax;
    return {};
}

}  // namespace arrival::imap
