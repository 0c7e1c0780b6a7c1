#include "protocol/imap/data_decoder.hpp"
#include "protocol/imap/number.hpp"

namespace arrival::imap {
namespace {

using detail::parse_u32;
using detail::parse_u64;

bool u32_token(const token& t, std::optional<std::uint32_t>& out) noexcept {
    std::uint32_t v = 0;
    if (t.type != token_type::atom || !parse_u32(t.text, v)) return false;
    out = v;
    return true;
}

bool u64_token(const token& t, std::optional<std::uint64_t>& out) noexcept {
    std::uint64_t v = 0;
    if (t.type != token_type::atom || !parse_u64(t.text, v)) return false;
    out = v;
    return true;
}

// Index just past the list that starts at a[i] (which must be "("), or 0 when it is unbalanced.
std::size_t skip_list(std::span<const token> a, std::size_t i) noexcept {
    std::size_t depth = 0;
    for (; i < a.size(); ++i) {
        if (a[i].type == token_type::list_begin) ++depth;
        else if (a[i].type == token_type::list_end && --depth == 0) return i + 1;
    }
    return 0;
}

std::string_view normalise_inbox(std::string_view n) noexcept { return iequals(n, "INBOX") ? "INBOX" : n; }

}  // namespace

error_code decode_capability(const response& r, std::vector<std::string_view>& out) {
    if (!r.is("CAPABILITY") && !r.is("ENABLED")) return errc::unexpected_response;
    for (const token& t : r.args) {
        if (t.type != token_type::atom) return errc::bad_syntax;
        out.push_back(t.text);
    }
    return {};
}

error_code decode_flags(const response& r, std::vector<std::string_view>& out) {
    if (!r.is("FLAGS")) return errc::unexpected_response;
    const auto a = r.args;
    if (a.size() < 2 || a.front().type != token_type::list_begin || a.back().type != token_type::list_end)
        return errc::bad_syntax;
    for (std::size_t i = 1; i + 1 < a.size(); ++i) {
        if (a[i].type != token_type::atom) return errc::bad_syntax;
        out.push_back(a[i].text);
    }
    return {};
}

// status-att-list = status-att-val *(SP status-att-val)
error_code decode_status(const response& r, status_entry& out) {
    if (!r.is("STATUS")) return errc::unexpected_response;
    out = status_entry{};
    const auto a = r.args;
    if (a.size() < 3 || !a[0].is_string() || a[1].type != token_type::list_begin || a.back().type != token_type::list_end)
        return errc::bad_syntax;
    out.mailbox = normalise_inbox(a[0].text);
    if ((a.size() - 3) % 2 != 0) return errc::bad_syntax;
    for (std::size_t i = 2; i + 1 < a.size(); i += 2) {
        const std::string_view k = a[i].text;
        const token& v = a[i + 1];
        if (a[i].type != token_type::atom) return errc::bad_syntax;
        bool ok = true;
        if (iequals(k, "MESSAGES")) ok = u32_token(v, out.messages);
        else if (iequals(k, "RECENT")) ok = u32_token(v, out.recent);
        else if (iequals(k, "UIDNEXT")) ok = u32_token(v, out.uidnext);
        else if (iequals(k, "UIDVALIDITY")) ok = u32_token(v, out.uidvalidity);
        else if (iequals(k, "UNSEEN")) ok = u32_token(v, out.unseen);
        else if (iequals(k, "SIZE")) ok = u64_token(v, out.size);
        else if (iequals(k, "HIGHESTMODSEQ")) ok = u64_token(v, out.highestmodseq);
        else ok = v.type == token_type::atom;  // unknown items (DELETED, APPENDLIMIT...) are numbers or NIL
        if (!ok && !(v.type == token_type::nil)) return errc::bad_syntax;
    }
    return {};
}

error_code decode_search(const response& r, std::vector<std::uint32_t>& out) {
    if (!r.is("SEARCH")) return errc::unexpected_response;
    const auto a = r.args;
    std::size_t i = 0;
    for (; i < a.size() && a[i].type == token_type::atom; ++i) {
        std::uint32_t n = 0;
        if (!parse_u32(a[i].text, n) || n == 0) return errc::bad_syntax;
        out.push_back(n);
    }
    // RFC 7162: [SP "(" "MODSEQ" SP mod-sequence-value ")"]
    if (i < a.size()) {
        if (a.size() - i != 4 || a[i].type != token_type::list_begin || !iequals(a[i + 1].text, "MODSEQ") ||
            a[i + 3].type != token_type::list_end)
            return errc::bad_syntax;
    }
    return {};
}

// message-data =/ "VANISHED" [SP "(EARLIER)"] SP known-uids   ; known-uids = sequence-set (no "*")
error_code decode_vanished(const response& r, vanished_data& out) {
    if (!r.is("VANISHED") || r.number) return errc::unexpected_response;
    out = vanished_data{};
    const auto a = r.args;
    std::size_t i = 0;
    if (i < a.size() && a[i].type == token_type::list_begin) {
        if (i + 2 >= a.size() || a[i + 1].type != token_type::atom || !iequals(a[i + 1].text, "EARLIER") ||
            a[i + 2].type != token_type::list_end)
            return errc::bad_syntax;
        out.earlier = true;
        i += 3;
    }
    if (i + 1 != a.size() || a[i].type != token_type::atom || a[i].text.find('*') != std::string_view::npos) return errc::bad_syntax;
    return decode_sequence_set(a[i].text, out.uids);
}

// esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
error_code decode_esearch(const response& r, esearch_result& out) {
    if (!r.is("ESEARCH")) return errc::unexpected_response;
    out = esearch_result{};
    const auto a = r.args;
    std::size_t i = 0;
    if (i < a.size() && a[i].type == token_type::list_begin) {
        if (i + 3 >= a.size() || !iequals(a[i + 1].text, "TAG") || !a[i + 2].is_string() ||
            a[i + 3].type != token_type::list_end)
            return errc::bad_syntax;
        out.tag = a[i + 2].text;
        i += 4;
    }
    if (i < a.size() && a[i].type == token_type::atom && iequals(a[i].text, "UID")) {
        out.uid = true;
        ++i;
    }
    while (i < a.size()) {
        if (a[i].type != token_type::atom || i + 1 >= a.size()) return errc::bad_syntax;
        const std::string_view k = a[i].text;
        const token& v = a[i + 1];
        if (iequals(k, "MIN")) {
            if (!u32_token(v, out.min)) return errc::bad_syntax;
        } else if (iequals(k, "MAX")) {
            if (!u32_token(v, out.max)) return errc::bad_syntax;
        } else if (iequals(k, "COUNT")) {
            if (!u32_token(v, out.count)) return errc::bad_syntax;
        } else if (iequals(k, "ALL")) {
            if (v.type != token_type::atom) return errc::bad_syntax;
            if (auto ec = decode_sequence_set(v.text, out.all)) return ec;
        } else if (iequals(k, "MODSEQ")) {
            if (!u64_token(v, out.modseq)) return errc::bad_syntax;
        } else if (v.type == token_type::list_begin) {  // unknown return data with a list value: skip it
            const std::size_t next = skip_list(a, i + 1);
            if (next == 0) return errc::bad_syntax;
            i = next;
            continue;
        }
        i += 2;
    }
    return {};
}

// Namespace = nil / "(" 1*Namespace-Descr ")"
// Namespace-Descr = "(" string SP (DQUOTE QUOTED-CHAR DQUOTE / nil) *(Namespace-Response-Extension) ")"
error_code decode_namespace(const response& r, namespace_data& out) {
    if (!r.is("NAMESPACE")) return errc::unexpected_response;
    out = namespace_data{};
    const auto a = r.args;
    std::size_t i = 0;
    std::vector<namespace_desc>* parts[3] = {&out.personal, &out.other_users, &out.shared};
    for (auto* part : parts) {
        if (i >= a.size()) return errc::bad_syntax;
        if (a[i].type == token_type::nil) {
            ++i;
            continue;
        }
        if (a[i].type != token_type::list_begin) return errc::bad_syntax;
        ++i;
        while (i < a.size() && a[i].type == token_type::list_begin) {
            const std::size_t end = skip_list(a, i);
            if (end == 0 || end - i < 4 || !a[i + 1].is_string()) return errc::bad_syntax;
            namespace_desc d;
            d.prefix = a[i + 1].text;
            const token& delim = a[i + 2];
            if (delim.type == token_type::quoted || delim.type == token_type::literal) {
                if (delim.text.size() != 1) return errc::bad_syntax;
                d.delimiter = delim.text[0];
            } else if (delim.type != token_type::nil) {
                return errc::bad_syntax;
            }
            part->push_back(d);
            i = end;  // extensions skipped
        }
        if (i >= a.size() || a[i].type != token_type::list_end || part->empty()) return errc::bad_syntax;
        ++i;
    }
    if (i != a.size()) return errc::bad_syntax;
    return {};
}

error_code decode_id(const response& r, std::vector<std::pair<std::string_view, std::optional<std::string_view>>>& out) {
    if (!r.is("ID")) return errc::unexpected_response;
    const auto a = r.args;
    if (a.size() == 1 && a[0].type == token_type::nil) return {};
    if (a.size() < 2 || a.front().type != token_type::list_begin || a.back().type != token_type::list_end ||
        (a.size() - 2) % 2 != 0)
        return errc::bad_syntax;
    for (std::size_t i = 1; i + 1 < a.size(); i += 2) {
        if (a[i].type != token_type::quoted && a[i].type != token_type::literal) return errc::bad_syntax;
        const token& v = a[i + 1];
        if (v.type == token_type::nil) out.emplace_back(a[i].text, std::nullopt);
        else if (v.type == token_type::quoted || v.type == token_type::literal) out.emplace_back(a[i].text, v.text);
        else return errc::bad_syntax;
    }
    return {};
}

}  // namespace arrival::imap
