// Distinguished names (RFC 4514): parsing with every escape form, writing back escaped, and the normalized
// form used to compare DNs: attribute types lower-cased, values unescaped, ASCII case folded and
// insignificant spaces removed (caseIgnoreMatch, which every naming attribute Carbonio uses has: dc, ou, cn,
// uid, zimbraSignatureName), multi-valued RDNs sorted.
#pragma once
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace arrival::provision {

struct ava {
    std::string type;   // as written (case kept); an OID stays an OID
    std::string value;  // unescaped; a #hex BER value is kept as the text "#…"
};

struct rdn {
    std::vector<ava> avas;  // more than one for multi-valued RDNs (a+b=c)
};

class dn {
public:
    dn() = default;

    // Leaf first, as written: rdns()[0] is the entry's own RDN.
    const std::vector<rdn>& rdns() const noexcept { return rdns_; }
    std::vector<rdn>& rdns() noexcept { return rdns_; }
    bool empty() const noexcept { return rdns_.empty(); }
    std::size_t depth() const noexcept { return rdns_.size(); }

    // The DN without its first RDN (the root DN "" has no parent and returns itself).
    dn parent() const;
    // This DN with `child` prepended.
    dn child(rdn r) const;
    // True when `ancestor` is a proper suffix of this DN (compared normalized).
    bool is_under(const dn& ancestor) const;

    // RFC 4514 string with the original case of types and values.
    std::string str() const;
    // Comparison key: equal for DNs an LDAP server would treat as the same entry.
    std::string normalized() const;

private:
    std::vector<rdn> rdns_;
};

// Parses `text` into `out`. Accepts spaces around ',', '+' and '=' (common in hand-written LDIF, as RFC 2253
// readers did). Returns ldif_errc::bad_dn on malformed input.
[[nodiscard]] std::error_code parse_dn(std::string_view text, dn& out);

// Escapes an attribute value for use in a DN string (RFC 4514 §2.4).
std::string escape_dn_value(std::string_view value);

// Normalizes one attribute value as caseIgnoreMatch compares it: ASCII lower-case, leading and trailing
// spaces removed, inner runs of spaces collapsed to one.
std::string normalize_value(std::string_view value);

// Convenience: normalized form of a DN string, or an empty optional-like "" with ec set.
[[nodiscard]] std::error_code normalize_dn(std::string_view text, std::string& out);

// Helpers on normalized DN strings (the output of dn::normalized()), so a model of 100,000 entries can keep
// one string per DN instead of a parsed tree. Commas inside values are escaped there, so the first unescaped
// comma ends the first RDN.
std::string_view parent_ndn(std::string_view ndn) noexcept;
std::size_t ndn_depth(std::string_view ndn) noexcept;
// The first RDN's first value (unescaped), e.g. "user1" for "uid=user1,ou=people,...".
std::string rdn_value(std::string_view ndn);

}  // namespace arrival::provision
