#include "provision/entry.hpp"

#include <algorithm>
#include <stdexcept>

namespace arrival::provision {
namespace {
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string to_lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r) c = lower(c);
    return r;
}

std::string_view base_type(std::string_view d) noexcept { return d.substr(0, d.find(';')); }

void entry::add(std::string_view type, std::string_view value) {
    if (type.size() > 0xffff || data_.size() + type.size() + value.size() > 0xffffffffu) {
        throw std::length_error("entry too large: " + dn_);
    }
    slot s{};
    s.type_off = static_cast<std::uint32_t>(data_.size());
    s.type_len = static_cast<std::uint16_t>(type.size());
    data_.append(type);
    s.value_off = static_cast<std::uint32_t>(data_.size());
    s.value_len = static_cast<std::uint32_t>(value.size());
    data_.append(value);
    slots_.push_back(s);
}

entry::attr_value entry::operator[](std::size_t i) const noexcept {
    const slot& s = slots_[i];
    const std::string_view d(data_);
    return {d.substr(s.type_off, s.type_len), d.substr(s.value_off, s.value_len)};
}

std::vector<std::string_view> entry::values(std::string_view type) const {
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        const auto av = (*this)[i];
        if (iequals(av.type, type)) out.push_back(av.value);
    }
    return out;
}

std::string_view entry::first(std::string_view type) const noexcept {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        const auto av = (*this)[i];
        if (iequals(av.type, type)) return av.value;
    }
    return {};
}

bool entry::has(std::string_view type) const noexcept {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        if (iequals((*this)[i].type, type)) return true;
    }
    return false;
}

bool entry::has_value(std::string_view type, std::string_view value) const noexcept {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        const auto av = (*this)[i];
        if (iequals(av.type, type) && iequals(av.value, value)) return true;
    }
    return false;
}

void entry::remove(std::string_view type) {
    rewrite([&](std::string_view t, std::string_view, std::string&, std::string&) { return !iequals(t, type); });
}

void entry::set(std::string_view type, std::string_view value) {
    remove(type);
    add(type, value);
}

}  // namespace arrival::provision
