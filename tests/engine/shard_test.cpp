// The account partition of `--shard K/N` (engine/shard.hpp). Its values are a contract across machines and
// builds, so they are pinned here by fixed vectors: FNV-1a 64's published ones ("", "a", "foobar"), and for
// the rest values computed by an independent Python implementation of the header's specification:
//   def fnv(s): h = 14695981039346656037
//               for b in s.encode(): b += 32 if 65 <= b <= 90 else 0; h = ((h ^ b) * 1099511628211) % 2**64
//   def jump(k, n): b, j = -1, 0
//               while j < n: b = j; k = (k * 2862933555777941757 + 1) % 2**64; j = int((b + 1) * (float(1 << 31) / float((k >> 33) + 1)))
//               return b
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/shard.hpp"

namespace arrival::engine {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace shard_test {

TEST(Shard, KeyHashIsFnv1a64OfTheAsciiLowerCasedAddress) {
    EXPECT_EQ(shard_key_hash(""), 0xcbf29ce484222325ULL);
    EXPECT_EQ(shard_key_hash("a"), 0xaf63dc4c8601ec8cULL);
    EXPECT_EQ(shard_key_hash("foobar"), 0x85944171f73967e8ULL);
    EXPECT_EQ(shard_key_hash("user371@example.test"), 0x6d93ffb15941aa3dULL);
    EXPECT_EQ(shard_key_hash("User371@Example.TEST"), 0x6d93ffb15941aa3dULL);
    EXPECT_EQ(shard_key_hash("alice@acme.example"), 0x9ba58a4fa831f473ULL);
    // Only ASCII letters fold: the bytes of a non-ASCII address are hashed as they are.
    EXPECT_NE(shard_key_hash("\xC3\x89lise@x"), shard_key_hash("\xC3\xA9lise@x"));
}

TEST(Shard, JumpConsistentHashFixedVectors) {
    EXPECT_EQ(jump_consistent_hash(0, 1), 0u);
    EXPECT_EQ(jump_consistent_hash(0, 10), 0u);
    EXPECT_EQ(jump_consistent_hash(1, 10), 6u);
    EXPECT_EQ(jump_consistent_hash(0xdeadbeef, 16), 5u);
    EXPECT_EQ(jump_consistent_hash(~0ULL, 100), 92u);
    EXPECT_EQ(jump_consistent_hash(12345, 65536), 10170u);
}

TEST(Shard, ShardOfFixedVectors) {
    struct vec {
        const char* address;
        std::uint32_t n2, n3, n4, n8, n1000;
    };
    for (const auto& v : {vec{"", 1, 1, 1, 1, 266}, vec{"a", 1, 2, 2, 2, 163}, vec{"foobar", 1, 1, 1, 5, 635},
                          vec{"user371@example.test", 1, 1, 1, 5, 455}, vec{"User371@Example.TEST", 1, 1, 1, 5, 455},
                          vec{"alice@acme.example", 1, 2, 3, 5, 13}}) {
        SCOPED_TRACE(v.address);
        EXPECT_EQ(shard_of(v.address, 1), 0u);
        EXPECT_EQ(shard_of(v.address, 2), v.n2);
        EXPECT_EQ(shard_of(v.address, 3), v.n3);
        EXPECT_EQ(shard_of(v.address, 4), v.n4);
        EXPECT_EQ(shard_of(v.address, 8), v.n8);
        EXPECT_EQ(shard_of(v.address, 1000), v.n1000);
    }
}

TEST(Shard, EveryAccountBelongsToExactlyOneShard) {
    for (const std::uint32_t n : {1u, 2u, 4u, 7u}) {
        std::map<std::uint32_t, int> sizes;
        for (int i = 0; i < 2000; ++i) {
            const auto address = fmt::format("user{:04}@example.test", i);
            int owners = 0;
            for (std::uint32_t k = 0; k < n; ++k) owners += shard_spec{k, n}.owns(address) ? 1 : 0;
            ASSERT_EQ(owners, 1) << address << " in " << n << " shards";
            ++sizes[shard_of(address, n)];
        }
        // Balanced within a few percent (2000 keys: expected 2000/n each).
        ASSERT_EQ(sizes.size(), n);
        for (const auto& [k, size] : sizes) EXPECT_NEAR(size, 2000.0 / n, 2000.0 / n * 0.15) << k << "/" << n;
    }
}

TEST(Shard, GrowingByOneShardMovesAccountsOnlyToTheNewShard) {
    int moved = 0;
    for (int i = 0; i < 2000; ++i) {
        const auto address = fmt::format("user{:04}@example.test", i);
        const auto before = shard_of(address, 8), after = shard_of(address, 9);
        if (before != after) {
            EXPECT_EQ(after, 8u) << address;
            ++moved;
        }
    }
    EXPECT_NEAR(moved, 2000.0 / 9, 60);
}

TEST(Shard, ParseAcceptsKOfN) {
    EXPECT_EQ(parse_shard("0/1"), (shard_spec{0, 1}));
    EXPECT_EQ(parse_shard("3/4"), (shard_spec{3, 4}));
    EXPECT_EQ(parse_shard("0/65536"), (shard_spec{0, 65536}));
    EXPECT_EQ(parse_shard("3/4").str(), "3/4");
    EXPECT_EQ(shard_spec{}.str(), "0/1");
    EXPECT_FALSE(shard_spec{}.sharded());
    EXPECT_TRUE(parse_shard("1/2").sharded());
    EXPECT_TRUE(parse_shard("0/3").owns_shared());
    EXPECT_FALSE(parse_shard("1/3").owns_shared());
}

TEST(Shard, ParseRefusesBadSpecsSayingWhy) {
    auto message = [](const char* text) {
        try {
            (void)parse_shard(text);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(message("4/4").find("K must be below N"), std::string::npos);
    EXPECT_NE(message("0/0").find("N must be at least 1"), std::string::npos);
    EXPECT_NE(message("3").find("expected this task's shard K of N"), std::string::npos);
    for (const char* bad : {"", "/", "1/", "/2", "a/2", "1/b", "-1/4", "1/-4", " 1/4", "1/4 ", "1/4/5", "0x1/4", "1.0/4",
                            "0/65537", "99999999999/4"}) {
        EXPECT_NE(message(bad), "accepted") << bad;
        EXPECT_NE(message(bad).find("is not a shard K/N"), std::string::npos) << bad;
    }
}

}  // namespace
}  // namespace arrival::engine
