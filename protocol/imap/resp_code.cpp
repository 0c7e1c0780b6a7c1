#include "protocol/imap/resp_code.hpp"
#include "protocol/imap/number.hpp"

#include <array>
#include <utility>

namespace arrival::imap {
namespace {

constexpr std::array<std::pair<std::string_view, code_kind>, 38> code_names{{
    {"ALERT", code_kind::alert},
    {"BADCHARSET", code_kind::badcharset},
    {"CAPABILITY", code_kind::capability},
    {"PARSE", code_kind::parse},
    {"PERMANENTFLAGS", code_kind::permanentflags},
    {"READ-ONLY", code_kind::read_only},
    {"READ-WRITE", code_kind::read_write},
    {"TRYCREATE", code_kind::trycreate},
    {"UIDNEXT", code_kind::uidnext},
    {"UIDVALIDITY", code_kind::uidvalidity},
    {"UNSEEN", code_kind::unseen},
    {"APPENDUID", code_kind::appenduid},
    {"COPYUID", code_kind::copyuid},
    {"UIDNOTSTICKY", code_kind::uidnotsticky},
    {"UNAVAILABLE", code_kind::unavailable},
    {"AUTHENTICATIONFAILED", code_kind::authenticationfailed},
    {"AUTHORIZATIONFAILED", code_kind::authorizationfailed},
    {"EXPIRED", code_kind::expired},
    {"PRIVACYREQUIRED", code_kind::privacyrequired},
    {"CONTACTADMIN", code_kind::contactadmin},
    {"NOPERM", code_kind::noperm},
    {"INUSE", code_kind::inuse},
    {"EXPUNGEISSUED", code_kind::expungeissued},
    {"CORRUPTION", code_kind::corruption},
    {"SERVERBUG", code_kind::serverbug},
    {"CLIENTBUG", code_kind::clientbug},
    {"CANNOT", code_kind::cannot},
    {"LIMIT", code_kind::limit},
    {"OVERQUOTA", code_kind::overquota},
    {"ALREADYEXISTS", code_kind::alreadyexists},
    {"NONEXISTENT", code_kind::nonexistent},
    {"HIGHESTMODSEQ", code_kind::highestmodseq},
    {"NOMODSEQ", code_kind::nomodseq},
    {"CLOSED", code_kind::closed},
    {"COMPRESSIONACTIVE", code_kind::compressionactive},
    {"APPENDLIMIT", code_kind::appendlimit},
    {"UNKNOWN-CTE", code_kind::other},
    {"USEATTR", code_kind::other},
}};

using detail::parse_u32;
using detail::parse_u64;

// Splits "a b c" on single spaces; false on empty words (two spaces, leading/trailing space).
bool split_words(std::string_view s, std::vector<std::string_view>& out) {
    while (!s.empty()) {
        const std::size_t sp = s.find(' ');
        const std::string_view w = s.substr(0, sp);
        if (w.empty()) return false;
        out.push_back(w);
        if (sp == std::string_view::npos) return true;
        s.remove_prefix(sp + 1);
        if (s.empty()) return false;
    }
    return true;
}

}  // namespace

code_kind classify_code(std::string_view name) noexcept {
    if (name.empty()) return code_kind::none;
    for (const auto& [n, k] : code_names)
        if (iequals(n, name)) return k;
    return code_kind::other;
}

error_code code_number(const response_code& c, std::uint64_t& out) noexcept {
    if (!parse_u64(c.args, out)) return errc::bad_syntax;
    return {};
}

error_code code_appenduid(const response_code& c, appenduid_data& out) {
    std::vector<std::string_view> w;
    if (!split_words(c.args, w) || w.size() != 2 || !parse_u32(w[0], out.uidvalidity) || out.uidvalidity == 0)
        return errc::bad_syntax;
    out.uids.clear();
    return decode_sequence_set(w[1], out.uids);
}

error_code code_copyuid(const response_code& c, copyuid_data& out) {
    std::vector<std::string_view> w;
    if (!split_words(c.args, w) || w.size() != 3 || !parse_u32(w[0], out.uidvalidity) || out.uidvalidity == 0)
        return errc::bad_syntax;
    out.source.clear();
    out.dest.clear();
    if (auto ec = decode_sequence_set(w[1], out.source)) return ec;
    return decode_sequence_set(w[2], out.dest);
}

error_code code_words(const response_code& c, std::vector<std::string_view>& out) {
    std::string_view a = c.args;
    if (!a.empty() && a.front() == '(') {
        if (a.back() != ')') return errc::bad_syntax;
        a = a.substr(1, a.size() - 2);
    }
    if (!split_words(a, out)) return errc::bad_syntax;
    return {};
}

error_code status_error(const response& r) noexcept {
    switch (r.status) {
    case response_status::ok:
    case response_status::preauth:
    case response_status::none:
        return {};
    case response_status::bye:
        return errc::bye;
    case response_status::bad:
        return errc::bad;
    case response_status::no:
        break;
    }
    switch (classify_code(r.code.name)) {
    case code_kind::unavailable: return errc::unavailable;
    case code_kind::inuse: return errc::in_use;
    case code_kind::authenticationfailed: return errc::authentication_failed;
    case code_kind::authorizationfailed: return errc::authorization_failed;
    case code_kind::expired: return errc::expired;
    case code_kind::privacyrequired: return errc::privacy_required;
    case code_kind::overquota: return errc::over_quota;
    case code_kind::limit: return errc::limit;
    case code_kind::trycreate: return errc::try_create;
    case code_kind::nonexistent: return errc::nonexistent;
    case code_kind::alreadyexists: return errc::already_exists;
    case code_kind::noperm: return errc::no_perm;
    case code_kind::cannot: return errc::cannot;
    case code_kind::serverbug: return errc::server_bug;
    default: return errc::no;
    }
}

}  // namespace arrival::imap
