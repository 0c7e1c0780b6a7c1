#include "provision/destination_index.hpp"

#include <stdexcept>

#include "provision/entry.hpp"

namespace arrival::provision {

std::uint32_t destination_index::add_entry(std::string_view ndn) {
    if (ndns_.size() + ndn.size() > 0xffffffffu) throw std::length_error("destination index: too many DNs");
    ndns_.append(ndn);
    ends_.push_back(static_cast<std::uint32_t>(ndns_.size()));
    const auto i = static_cast<std::uint32_t>(ends_.size() - 1);
    by_ndn_.emplace(text_hash(ndn), i);
    return i;
}

std::string_view destination_index::ndn(std::uint32_t i) const {
    const std::uint32_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(ndns_).substr(begin, ends_[i] - begin);
}

void destination_index::add_zimbra_id(std::string_view lower_id, std::uint32_t holder) {
    zimbra_ids_[text_hash(lower_id)] = holder;
}

void destination_index::add_address(std::string_view lower_address, std::uint32_t holder) {
    addresses_[text_hash(lower_address)] = holder;
}

bool destination_index::has_entry(std::string_view ndn_wanted) const {
    auto [it, end] = by_ndn_.equal_range(text_hash(ndn_wanted));
    for (; it != end; ++it) {
        if (ndn(it->second) == ndn_wanted) return true;
    }
    return false;
}

std::optional<std::string_view> destination_index::zimbra_id_holder(std::string_view lower_id) const {
    const auto it = zimbra_ids_.find(text_hash(lower_id));
    if (it == zimbra_ids_.end()) return std::nullopt;
    return ndn(it->second);
}

std::optional<std::string_view> destination_index::address_holder(std::string_view lower_address) const {
    const auto it = addresses_.find(text_hash(lower_address));
    if (it == addresses_.end()) return std::nullopt;
    return ndn(it->second);
}

}  // namespace arrival::provision
