#include "provision/entry.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace arrival::provision {
namespace {
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

std::uint64_t text_hash(std::string_view s) noexcept {
    std::uint64_t h = 1469598103934665603ull;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
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

namespace {

void put_u32(std::string& out, std::uint32_t v) {
    char b[4];
    std::memcpy(b, &v, 4);
    out.append(b, 4);
}
void put_bytes(std::string& out, std::string_view s) {
    put_u32(out, static_cast<std::uint32_t>(s.size()));
    out.append(s);
}
bool get_u32(std::string_view& in, std::uint32_t& v) {
    if (in.size() < 4) return false;
    std::memcpy(&v, in.data(), 4);
    in.remove_prefix(4);
    return true;
}
bool get_bytes(std::string_view& in, std::string_view& s) {
    std::uint32_t n = 0;
    if (!get_u32(in, n) || in.size() < n) return false;
    s = in.substr(0, n);
    in.remove_prefix(n);
    return true;
}

}  // namespace

// Layout: ndn first (so encoded_ndn() reads only the head), dn, location, flags, source address, the DN a
// modrdn moved it from, the slots, the values.
void entry::encode(std::string& out) const {
    put_bytes(out, ndn_);
    put_bytes(out, dn_);
    put_u32(out, loc.file);
    put_u32(out, loc.line);
    put_u32(out, (create_only ? 1u : 0u) | (from_server ? 2u : 0u) | (replaces ? 4u : 0u));
    put_bytes(out, source_address);
    put_bytes(out, renamed_from);
    put_u32(out, static_cast<std::uint32_t>(slots_.size()));
    for (const auto& s : slots_) {
        put_u32(out, s.type);
        put_u32(out, s.value_end);
    }
    put_bytes(out, data_);
}

bool entry::decode(std::string_view in) {
    std::string_view ndn, dn, source, renamed, data;
    std::uint32_t flags = 0, n = 0;
    if (!get_bytes(in, ndn) || !get_bytes(in, dn) || !get_u32(in, loc.file) || !get_u32(in, loc.line) ||
        !get_u32(in, flags) || !get_bytes(in, source) || !get_bytes(in, renamed) || !get_u32(in, n) ||
        in.size() < std::size_t{n} * 8) {
        return false;
    }
    ndn_.assign(ndn);
    dn_.assign(dn);
    create_only = (flags & 1u) != 0;
    from_server = (flags & 2u) != 0;
    replaces = (flags & 4u) != 0;
    source_address.assign(source);
    renamed_from.assign(renamed);
    slots_.resize(n);
    for (auto& s : slots_) {
        (void)get_u32(in, s.type);
        (void)get_u32(in, s.value_end);
    }
    if (!get_bytes(in, data)) return false;
    data_.assign(data);
    return true;
}

std::string_view entry::encoded_ndn(std::string_view in) noexcept {
    std::string_view ndn;
    return get_bytes(in, ndn) ? ndn : std::string_view{};
}

}  // namespace arrival::provision
