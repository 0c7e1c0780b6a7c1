#include "engine/shard.hpp"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

namespace arrival::engine {

namespace {

constexpr std::uint32_t max_shards = 65536;

std::uint32_t parse_number(std::string_view part, std::string_view text, const char* which) {
    std::uint32_t v = 0;
    const auto* end = part.data() + part.size();
    const auto [p, ec] = std::from_chars(part.data(), end, v);
    if (part.empty() || ec != std::errc{} || p != end) {
        throw std::invalid_argument(fmt::format("'{}' is not a shard K/N: {} is not a whole number (e.g. 3/8: shard 3 of 8)", text, which));
    }
    return v;
}

}  // namespace

std::string shard_spec::str() const { return fmt::format("{}/{}", index, count); }

bool shard_spec::owns(std::string_view address) const noexcept { return count <= 1 || shard_of(address, count) == index; }

shard_spec parse_shard(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        throw std::invalid_argument(fmt::format("'{}' is not a shard K/N: expected this task's shard K of N, 0 <= K < N (e.g. 3/8)", text));
    }
    shard_spec s;
    s.index = parse_number(text.substr(0, slash), text, "K");
    s.count = parse_number(text.substr(slash + 1), text, "N");
    if (s.count == 0) throw std::invalid_argument(fmt::format("'{}' is not a shard K/N: N must be at least 1", text));
    if (s.count > max_shards) throw std::invalid_argument(fmt::format("'{}' is not a shard K/N: N may be at most {}", text, max_shards));
    if (s.index >= s.count) {
        throw std::invalid_argument(fmt::format("'{}' is not a shard K/N: K must be below N (its shards are numbered 0 to {})", text, s.count - 1));
    }
    return s;
}

std::uint64_t shard_key_hash(std::string_view address) noexcept {
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : address) {
        auto b = static_cast<unsigned char>(c);
        if (b >= 'A' && b <= 'Z') b = static_cast<unsigned char>(b - 'A' + 'a');
        h ^= b;
        h *= 1099511628211ULL;
    }
    return h;
}

std::uint32_t jump_consistent_hash(std::uint64_t key, std::uint32_t buckets) noexcept {
    std::int64_t b = -1, j = 0;
    while (j < static_cast<std::int64_t>(buckets)) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = static_cast<std::int64_t>(static_cast<double>(b + 1) *
                                      (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
    }
    return static_cast<std::uint32_t>(b);
}

std::uint32_t shard_of(std::string_view address, std::uint32_t count) noexcept {
    return count <= 1 ? 0 : jump_consistent_hash(shard_key_hash(address), count);
}

}  // namespace arrival::engine
