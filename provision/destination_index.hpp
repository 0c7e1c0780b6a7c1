// What the destination's directory already holds, as far as validation needs it: every DN, the domains, COS
// ids, and which entry holds each zimbraId and address (Carbonio enforces both unique). Read once per online
// run (ldap_writer::read_index) from a directory that may hold as many entries as the input, so it is
// compact: DNs are kept once, back to back in one buffer; zimbraIds and addresses only as a 64-bit hash of
// their lower-case form pointing at the holder's DN. A hash match stands for the value (odds of two values
// sharing one: ~1e-9 at a million): at worst a conflict is reported for a value that is not taken.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace arrival::provision {

class destination_index {
public:
    // Adds an entry by its normalized DN; returns its number, for the values it holds.
    std::uint32_t add_entry(std::string_view ndn);
    void add_zimbra_id(std::string_view lower_id, std::uint32_t holder);
    void add_address(std::string_view lower_address, std::uint32_t holder);
    void add_cos_id(std::string_view lower_id) { cos_ids_.emplace(lower_id); }
    void add_domain(std::string_view lower_name) { domains_.emplace(lower_name); }

    [[nodiscard]] bool has_entry(std::string_view ndn) const;
    [[nodiscard]] bool has_domain(const std::string& lower_name) const { return domains_.count(lower_name) != 0; }
    [[nodiscard]] bool has_cos_id(const std::string& lower_id) const { return cos_ids_.count(lower_id) != 0; }
    // The normalized DN of the entry holding the value, if any.
    [[nodiscard]] std::optional<std::string_view> zimbra_id_holder(std::string_view lower_id) const;
    [[nodiscard]] std::optional<std::string_view> address_holder(std::string_view lower_address) const;
    [[nodiscard]] std::size_t entries() const noexcept { return ends_.size(); }

private:
    std::string_view ndn(std::uint32_t i) const;

    std::string ndns_;                                       // every DN, back to back
    std::vector<std::uint32_t> ends_;                        // DN i ends at ends_[i]
    std::unordered_multimap<std::uint64_t, std::uint32_t> by_ndn_;
    std::unordered_map<std::uint64_t, std::uint32_t> zimbra_ids_, addresses_;  // value hash -> holder
    std::unordered_set<std::string> domains_, cos_ids_;      // few
};

}  // namespace arrival::provision
