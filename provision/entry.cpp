#include "provision/entry.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace arrival::provision {
namespace {
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Attribute descriptions as written (case and options kept, so nothing changes on output), each stored
// once and never freed, so the views handed out stay valid for the life of the process. Interning takes a
// lock; reading a name does not (it is read far more often: every lookup in an entry walks its types): the
// chunk holding an id is in place before the id is handed out, and a chunk's slots are written once.
class type_table {
public:
    std::uint32_t intern(std::string_view t) {
        std::lock_guard lock(mutex_);
        if (const auto it = ids_.find(t); it != ids_.end()) return it->second;
        if (count_ >= chunk_size * max_chunks) throw std::length_error("too many distinct attribute descriptions");
        if (count_ % chunk_size == 0) chunks_[count_ / chunk_size] = std::make_unique<std::string_view[]>(chunk_size);
        names_.emplace_back(t);
        chunks_[count_ / chunk_size][count_ % chunk_size] = names_.back();
        ids_.emplace(names_.back(), count_);
        return count_++;
    }
    std::string_view name(std::uint32_t id) const noexcept { return chunks_[id / chunk_size][id % chunk_size]; }

private:
    static constexpr std::uint32_t chunk_size = 4096, max_chunks = 4096;
    std::mutex mutex_;
    std::deque<std::string> names_;  // a deque never moves its elements
    std::unordered_map<std::string_view, std::uint32_t> ids_;
    std::unique_ptr<std::string_view[]> chunks_[max_chunks];
    std::uint32_t count_ = 0;
};

type_table& types() {
    static type_table t;
    return t;
}

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
    if (type.size() > 0xffff || data_.size() + value.size() > 0xffffffffu) {
        throw std::length_error("entry too large: " + dn_);
    }
    slot s{};
    s.type = types().intern(type);
    data_.append(value);
    s.value_end = static_cast<std::uint32_t>(data_.size());
    slots_.push_back(s);
}

void entry::shrink_to_fit() {
    data_.shrink_to_fit();
    slots_.shrink_to_fit();
}

entry::attr_value entry::operator[](std::size_t i) const noexcept {
    const slot& s = slots_[i];
    const std::uint32_t begin = i == 0 ? 0 : slots_[i - 1].value_end;
    return {types().name(s.type), std::string_view(data_).substr(begin, s.value_end - begin)};
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
