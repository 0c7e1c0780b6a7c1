// Which shard an account belongs to, when one migration is split over N machines (`--shard K/N`, issue 12).
//
// The partition must be the same on every machine, build, compiler and locale, forever (a shard's state and
// reports refer to it), so it is specified here to the bit and pinned by fixed vectors in tests/engine:
//
//   key   = the source address with ASCII 'A'..'Z' turned into 'a'..'z' (no other change: no trimming, no
//           Unicode folding; the accounts file's parser has already trimmed it), as its bytes
//   h     = FNV-1a 64 over those bytes: h = 14695981039346656037; for each byte b: h = (h XOR b) * 1099511628211
//           (mod 2^64)
//   shard = jump_consistent_hash(h, N)   (Lamping & Veach 2014, "A Fast, Minimal Memory, Consistent Hash
//           Algorithm", their C++ verbatim, with 64-bit unsigned arithmetic and IEEE double division):
//             b = -1, j = 0
//             while j < N: b = j; h = h * 2862933555777941757 + 1 (mod 2^64);
//                          j = (b + 1) * (double(1 << 31) / double((h >> 33) + 1))
//             return b
//
// Jump hash rather than h mod N: going from N to N+1 shards moves only 1/(N+1) of the accounts (to the new
// shard), so a night cut in 8 and then in 9 leaves 8/9 of each shard's state where it was.
// Everything that is not one account's (the --public job, provision's domains, COSes and lists) belongs to
// shard 0, so it is done exactly once.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace arrival::engine {

struct shard_spec {
    std::uint32_t index = 0;   // K, 0-based
    std::uint32_t count = 1;   // N >= 1

    [[nodiscard]] bool sharded() const noexcept { return count > 1; }
    // "K/N", as reports record it ("0/1" when not sharded).
    [[nodiscard]] std::string str() const;
    // Whether the account whose source address is `address` is this shard's.
    [[nodiscard]] bool owns(std::string_view address) const noexcept;
    // Whether work that belongs to no one account (public folders, domains, lists) is this shard's: shard 0.
    [[nodiscard]] bool owns_shared() const noexcept { return index == 0; }

    friend bool operator==(const shard_spec&, const shard_spec&) = default;
};

// Parses "K/N" (decimal, no sign, no blanks; 0 <= K < N <= 65536). Throws std::invalid_argument saying what is
// wrong and what is expected.
[[nodiscard]] shard_spec parse_shard(std::string_view text);

// The steps of the partition above, each on its own so the fixed vectors pin each.
[[nodiscard]] std::uint64_t shard_key_hash(std::string_view address) noexcept;
[[nodiscard]] std::uint32_t jump_consistent_hash(std::uint64_t key, std::uint32_t buckets) noexcept;
[[nodiscard]] std::uint32_t shard_of(std::string_view address, std::uint32_t count) noexcept;

}  // namespace arrival::engine
