// What one source grant becomes on the destination (pure; engine/shares/shares_job runs it against servers).
//
// Identifiers (RFC 4314 §3: any astring; the server decides what it names):
//   anyone, authenticated   keep their meaning. On Carbonio "anyone" already means every authenticated user
//                           (FACTS.md §4), so "authenticated" becomes "anyone" there: the same people.
//   "#..."                  Dovecot's global ACL entries (its configuration file): not settable over IMAP,
//                           never written; the destination's own configuration decides them.
//   owner                   Dovecot's name for the folder's owner: implicit on the destination, never written.
//   a user                  the accounts file maps source_user -> dest_user; else --map-domain old=new
//                           rewrites the domain; else the identifier is kept (an address outside the run).
//   a group                 Dovecot writes "$name", Cyrus "group:name" (either is read on the source),
//                           Carbonio takes the list's address.
//                           The group keeps its name (the list provisioning created under the same name,
//                           its domain through --map-domain) in the destination's syntax; on Carbonio a
//                           group name without a domain gets the folder owner's destination domain.
//   "-" prefix              a negative right (§2): the identifier after it is mapped, the prefix kept.
//
// Rights: the source's letters, normalised (protocol/imap/acl.hpp: obsolete c/d never widen), are granted only as
// far as the destination's LISTRIGHTS allows: a letter it does not offer is refused; a set it ties together
// ("ick" on Carbonio) is granted only when the source had every letter of it; letters it always grants to
// this identifier (LISTRIGHTS' required rights) that the source did not grant refuse the whole grant. So the
// destination never gets more than the source gave. Rights the destination already has are left alone: a
// grant is written as "+letters" (SETACL adds, never removes).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/dest_profile_kind.hpp"

namespace arrival::shares {

enum class group_syntax { dovecot, cyrus, carbonio };

// The destination's group syntax by its profile (generic: Dovecot's).
[[nodiscard]] group_syntax group_syntax_for(engine::dest_profile_kind k) noexcept;

struct identifier_rules {
    std::map<std::string, std::string> accounts;       // source_user -> dest_user (lower-case keys)
    std::map<std::string, std::string> domains;        // --map-domain old -> new (lower-case keys)
    group_syntax dest = group_syntax::dovecot;
};

struct mapped_identifier {
    std::string identifier;     // on the destination; empty when nothing is to be written
    std::string note;           // why it changed, or why it is skipped ("owner")
};

// owner_dest: the folder owner's destination login (its domain completes Carbonio group names).
[[nodiscard]] mapped_identifier map_identifier(std::string_view source_identifier, const identifier_rules& rules,
                                               std::string_view owner_dest);

// ASCII lower case: identifiers, addresses and domains compare case-insensitively.
[[nodiscard]] std::string lower_ascii(std::string_view s);

// Rewrites the domain of an address through the --map-domain table; other text unchanged.
[[nodiscard]] std::string map_domain(std::string_view address, const std::map<std::string, std::string>& domains);

// What the destination offers for one identifier on one folder (LISTRIGHTS), or nullopt when unknown.
struct rights_offer {
    std::string required;
    std::vector<std::string> optional;
};

struct rights_decision {
    std::string grant;          // normalised letters to write ("" : nothing to write)
    std::string refused;        // source letters not granted
    std::string why;            // the reason, when refused is not empty
    bool unchanged = false;     // the destination already has every letter of `grant` (nothing to write)
};

// source_rights and current are as the servers sent them (normalised here); current is the destination's
// rights for the mapped identifier ("" when it has none).
[[nodiscard]] rights_decision decide_rights(std::string_view source_rights, std::string_view current,
                                            const std::optional<rights_offer>& offer);

}  // namespace arrival::shares
