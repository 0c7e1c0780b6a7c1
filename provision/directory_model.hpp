// The plan: every entry to provision, in input order until order() puts parents before children, plus the
// table of input files the entries' locations point into. Knows Carbonio's kinds of entries and the base
// tree a live Carbonio already has (cn=zimbra, cn=cos,cn=zimbra, ...), which an empty directory lacks.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "provision/change_record.hpp"
#include "provision/entry.hpp"

namespace arrival::provision {

enum class entry_kind : std::uint8_t {
    base,               // containers of Carbonio's tree: cn=zimbra, cn=cos,cn=zimbra, ou=people, dc=com, ...
    domain,             // zimbraDomain
    cos,                // zimbraCOS
    account,            // zimbraAccount (and zimbraCalendarResource)
    alias,              // zimbraAlias
    distribution_list,  // zimbraDistributionList
    dynamic_group,      // zimbraGroup
    signature,          // zimbraSignature (child of an account)
    account_child,      // zimbraIdentity, zimbraDataSource (children of an account)
    server,             // zimbraServer, zimbraGlobalConfig, MIME/zimlet/XMPP entries: belong to the old servers
    person,             // inetOrgPerson / posixAccount from a generic directory (converted to accounts)
    group,              // groupOfNames / groupOfUniqueNames from a generic directory (converted to lists)
    other,
};

std::string_view to_string(entry_kind k) noexcept;
entry_kind classify(const entry& e) noexcept;

class directory_model {
public:
    std::uint32_t add_file(std::string name);
    const std::string& file(std::uint32_t index) const { return files_.at(index); }

    void add(entry e) { entries_.push_back(std::move(e)); }
    std::vector<entry>& entries() noexcept { return entries_; }
    const std::vector<entry>& entries() const noexcept { return entries_; }

    // The first entry with this normalized DN (valid after index(); entries added later are not seen).
    const entry* find(std::string_view ndn) const;
    entry_kind kind(std::size_t i) const { return kinds_.at(i); }
    void index();

    // Adds Carbonio's base entries and every missing ancestor of a domain (dc=com for dc=acme,dc=com) and
    // its ou=people / cn=groups containers, each marked create_only. Entries the input already has are not
    // duplicated. Call before order().
    void add_base_entries();

    // Stable sort by depth: every parent precedes its children, input order kept otherwise. Re-indexes.
    void order();

    // Change records in file order (changes.hpp applies them), and the deletes they resolved to.
    std::vector<change_record>& changes() noexcept { return changes_; }
    const std::vector<change_record>& changes() const noexcept { return changes_; }
    std::vector<planned_delete>& deletes() noexcept { return deletes_; }
    const std::vector<planned_delete>& deletes() const noexcept { return deletes_; }

private:
    std::vector<std::string> files_;
    std::vector<entry> entries_;
    std::vector<change_record> changes_;
    std::vector<planned_delete> deletes_;
    std::vector<entry_kind> kinds_;
    std::unordered_map<std::string_view, std::size_t> by_ndn_;
};

// The domain part of an address, lower-cased ("" when there is no '@').
std::string domain_of(std::string_view address);
// "dc=acme,dc=corp" for "acme.corp".
std::string domain_dn(std::string_view domain);

}  // namespace arrival::provision
