// The plan: every entry to provision, in input order until order() puts parents before children, plus the
// table of input files the entries' locations point into. Knows Carbonio's kinds of entries and the base
// tree a live Carbonio already has (cn=zimbra, cn=cos,cn=zimbra, ...), which an empty directory lacks.
#pragma once
#include <cstdint>
#include <string>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "provision/change_record.hpp"
#include "provision/entry.hpp"
#include "provision/entry_store.hpp"

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

// The plan's entries live in an entry_store (spooled to a temporary file, entry_store.hpp); the model keeps
// per entry only what the steps select and order by: its kind, depth and a 64-bit hash of its normalized
// DN, indexed for find(). Steps read an entry with at() or a pass (for_each, update_each) and store a
// changed one back with replace(); no reference into the model outlives a call.
class directory_model {
public:
    std::uint32_t add_file(std::string name);
    const std::string& file(std::uint32_t index) const { return files_.at(index); }

    void add(const entry& e);
    [[nodiscard]] std::size_t size() const noexcept { return meta_.size(); }
    entry at(std::size_t i) const;
    void at(std::size_t i, entry& out) const { store_.get(i, out); }
    void replace(std::size_t i, const entry& e);
    std::string ndn(std::size_t i) const { return store_.ndn(i); }
    entry_kind kind(std::size_t i) const { return meta_.at(i).kind; }
    std::size_t depth(std::size_t i) const { return meta_.at(i).depth; }

    // The first entry (lowest index) with this normalized DN.
    [[nodiscard]] std::optional<std::size_t> find(std::string_view ndn) const;
    [[nodiscard]] bool contains(std::string_view ndn) const { return find(ndn).has_value(); }

    // A pass in index order: f(index, const entry&).
    template <class F>
    void for_each(F&& f) const {
        entry e;
        for (std::size_t i = 0; i < size(); ++i) {
            at(i, e);
            f(i, static_cast<const entry&>(e));
        }
    }
    // A pass that may change entries: f(index, entry&) returns true when it changed the entry, which is
    // then stored back. Returns how many changed.
    template <class F>
    std::size_t update_each(F&& f) {
        entry e;
        std::size_t changed = 0;
        for (std::size_t i = 0; i < size(); ++i) {
            at(i, e);
            if (f(i, e)) {
                replace(i, e);
                ++changed;
            }
        }
        return changed;
    }
    // Removes the entries whose flag is true (indexes after them shift down).
    void erase(const std::vector<bool>& drop);

    // Adds Carbonio's base entries and every missing ancestor of a domain (dc=com for dc=acme,dc=com) and
    // its ou=people / cn=groups containers, each marked create_only. Entries the input already has are not
    // duplicated. Call before order().
    void add_base_entries();

    // Stable sort by depth: every parent precedes its children, input order kept otherwise.
    void order();

    // Change records in file order (changes.hpp applies them), and the deletes they resolved to.
    std::vector<change_record>& changes() noexcept { return changes_; }
    const std::vector<change_record>& changes() const noexcept { return changes_; }
    std::vector<planned_delete>& deletes() noexcept { return deletes_; }
    const std::vector<planned_delete>& deletes() const noexcept { return deletes_; }

private:
    struct meta {
        std::uint64_t ndn_hash;
        std::uint16_t depth;
        entry_kind kind;
    };
    static meta describe(const entry& e);
    void index_one(std::size_t i);
    void reindex();   // the DN index anew, after entries moved
    void unindex_one(std::size_t i);

    std::vector<std::string> files_;
    entry_store store_;
    std::vector<meta> meta_;
    std::unordered_multimap<std::uint64_t, std::uint32_t> by_ndn_;
    std::vector<change_record> changes_;
    std::vector<planned_delete> deletes_;
};

// The domain part of an address, lower-cased ("" when there is no '@').
std::string domain_of(std::string_view address);
// "dc=acme,dc=corp" for "acme.corp".
std::string domain_dn(std::string_view domain);

}  // namespace arrival::provision
