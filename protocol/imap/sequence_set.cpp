#include "protocol/imap/sequence_set.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace arrival::imap {
namespace {

// seq-number = nz-number / "*"
bool parse_seq_number(std::string_view s, std::uint32_t& out) noexcept {
    if (s == "*") {
        out = seq_star;
        return true;
    }
    if (s.empty() || s[0] == '0' || s.size() > 10) return false;
    std::uint64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    if (n > 0xFFFFFFFFu - 1) return false;  // 4294967295 is "*" in our representation
    out = static_cast<std::uint32_t>(n);
    return true;
}

}  // namespace

error_code decode_sequence_set(std::string_view set, std::vector<seq_range>& out) {
    if (set.empty()) return errc::bad_sequence_set;
    std::size_t first_new = out.size();
    while (true) {
        const std::size_t comma = set.find(',');
        const std::string_view item = set.substr(0, comma);
        const std::size_t colon = item.find(':');
        seq_range r;
        if (colon == std::string_view::npos) {
            if (!parse_seq_number(item, r.first)) {
                out.resize(first_new);
                return errc::bad_sequence_set;
            }
            r.last = r.first;
        } else if (!parse_seq_number(item.substr(0, colon), r.first) || !parse_seq_number(item.substr(colon + 1), r.last)) {
            out.resize(first_new);
            return errc::bad_sequence_set;
        }
        if (r.first > r.last) std::swap(r.first, r.last);
        out.push_back(r);
        if (comma == std::string_view::npos) break;
        set.remove_prefix(comma + 1);
    }
    return {};
}

std::string encode_range(std::uint32_t first, std::uint32_t last) {
    auto num = [](std::uint32_t n) { return n == seq_star ? std::string("*") : fmt::format("{}", n); };
    if (first == last) return num(first);
    return num(first) + ":" + num(last);
}

std::string encode_sequence_set(std::span<const std::uint32_t> uids) {
    std::vector<std::uint32_t> v(uids.begin(), uids.end());
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    std::string out;
    for (std::size_t i = 0; i < v.size();) {
        std::size_t j = i;
        while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += encode_range(v[i], v[j]);
        i = j + 1;
    }
    return out;
}

error_code expand_sequence_set(std::span<const seq_range> set, std::vector<std::uint32_t>& out, std::size_t max) {
    std::size_t total = 0;
    for (const auto& r : set) {
        if (r.first == 0 || r.last == seq_star) return errc::bad_sequence_set;
        total += static_cast<std::size_t>(r.last - r.first) + 1;
        if (total > max) return errc::bad_sequence_set;
    }
    out.reserve(out.size() + total);
    for (const auto& r : set)
        for (std::uint64_t n = r.first; n <= r.last; ++n) out.push_back(static_cast<std::uint32_t>(n));
    return {};
}

}  // namespace arrival::imap
