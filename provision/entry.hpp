// One directory entry as provisioning sees it: a DN and an ordered list of (attribute description, value)
// pairs, plus where it came from. Values live in one buffer per entry (offsets, not strings), and
// attribute descriptions are interned process-wide (a directory has a few hundred distinct ones, repeated
// in every entry), because the validator holds the whole plan: each byte per value counts 100,000 times.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include "protocol/ascii.hpp"

namespace arrival::provision {

// Where an entry or a value came from: an index into the plan's file table, and a 1-based line.
struct source_location {
    std::uint32_t file = 0;
    std::uint32_t line = 0;
};

// ASCII case (attribute types, object classes, mail addresses' domains): protocol/ascii.hpp.
using ascii::iequals;
using ascii::to_lower;

// A 64-bit hash of a string (FNV-1a): what the plan's indexes keep instead of DNs and values. Stable within
// a process, not a persistent format.
std::uint64_t text_hash(std::string_view s) noexcept;

// The attribute type without options: "cn;lang-de" -> "cn".
std::string_view base_type(std::string_view description) noexcept;

class entry {
public:
    struct attr_value {
        std::string_view type;  // description, options included
        std::string_view value;
    };

    entry() = default;

    // The DN as written (RFC 4514 string) and its normalized form (dn::normalized()).
    void set_dn(std::string text, std::string normalized) {
        dn_ = std::move(text);
        ndn_ = std::move(normalized);
    }
    const std::string& dn() const noexcept { return dn_; }
    const std::string& ndn() const noexcept { return ndn_; }

    void add(std::string_view type, std::string_view value);
    // Gives back the slack of the buffers (they grow geometrically while an entry is built).
    void shrink_to_fit();
    std::size_t size() const noexcept { return slots_.size(); }
    attr_value operator[](std::size_t i) const noexcept;

    // Lookups compare the whole description case-insensitively ("cn" does not match "cn;lang-de").
    std::vector<std::string_view> values(std::string_view type) const;
    std::string_view first(std::string_view type) const noexcept;  // "" when absent
    bool has(std::string_view type) const noexcept;
    bool has_value(std::string_view type, std::string_view value) const noexcept;  // value case-insensitive
    bool has_class(std::string_view object_class) const noexcept { return has_value("objectClass", object_class); }

    // Rebuilds the entry: for every pair, f(type, value, out_type, out_value) returns false to drop it, or
    // true to keep (out_* start as copies of the originals and may be changed).
    template <class F>
    void rewrite(F&& f) {
        // Most entries come through unchanged: only rebuild from the first pair that changes.
        entry n;
        bool building = false;
        std::string t, v;
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            const auto av = (*this)[i];
            t.assign(av.type);
            v.assign(av.value);
            const bool keep = f(av.type, av.value, t, v);
            if (!building) {
                if (keep && t == av.type && v == av.value) continue;
                building = true;
                n.data_.reserve(data_.size());
                for (std::size_t k = 0; k < i; ++k) n.add((*this)[k].type, (*this)[k].value);
            }
            if (keep) n.add(t, v);
        }
        if (!building) return;
        n.dn_ = std::move(dn_);
        n.ndn_ = std::move(ndn_);
        n.loc = loc;
        n.create_only = create_only;
        n.from_server = from_server;
        n.replaces = replaces;
        n.source_address = std::move(source_address);
        n.renamed_from = std::move(renamed_from);
        *this = std::move(n);
    }
    void remove(std::string_view type);
    void set(std::string_view type, std::string_view value);  // replaces every value of `type`

    // A compact binary form for the model's spool (entry_store.hpp), read back by the same process only:
    // attribute descriptions travel as their interned ids. decode() is false on a truncated record.
    void encode(std::string& out) const;
    [[nodiscard]] bool decode(std::string_view in);
    // The normalized DN of an encoded entry, without decoding the rest ("" when truncated).
    static std::string_view encoded_ndn(std::string_view in) noexcept;

    source_location loc;
    bool create_only = false;  // a base entry we add when missing but never modify on a live destination
    std::string source_address;  // accounts: the address on the old server, before any rename
    // Read from the destination so that change records could be applied to it (changes.hpp): its values
    // are the whole entry, so the writer also removes attributes the changes took away.
    bool from_server = false;
    // A delete of this DN precedes the entry's own record (delete, then add again): the destination's entry
    // by that name is replaced whole. The writer deletes and re-adds it when it differs in any attribute
    // (a modify could not change its structural object class), and leaves it alone when it already matches.
    bool replaces = false;
    // A modrdn moved this entry here from that DN (as written): the writer renames it on the destination
    // when the old DN is still there, instead of adding a second copy.
    std::string renamed_from;

private:
    struct slot {
        std::uint32_t type;       // interned description (entry.cpp)
        std::uint32_t value_end;  // values are stored back to back: a value starts where the previous ends
    };
    std::string dn_, ndn_;
    std::string data_;
    std::vector<slot> slots_;
};

}  // namespace arrival::provision
