// body_buffer: bytes in, the same bytes out, in memory or spilled; view_all() maps a spilled body whole
// (what APPEND borrows) and unmaps it when the view goes.
#include <gtest/gtest.h>

#include <string>

#include "engine/mail/body_buffer.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace body_buffer_test {

using arrival::engine::body_buffer;

namespace {

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
    return s;
}

std::string fill(body_buffer& b, const std::string& bytes, std::size_t chunk) {
    b.begin(bytes.size());
    for (std::size_t off = 0; off < bytes.size(); off += chunk) b.append(std::string_view(bytes).substr(off, chunk));
    std::string back;
    b.for_each_chunk([&](std::string_view c) { back.append(c); }, 4096);
    return back;
}

}  // namespace

TEST(body_buffer, small_body_stays_in_memory_and_views_whole) {
    body_buffer b(1024);
    const auto bytes = pattern(1000);
    EXPECT_EQ(fill(b, bytes, 7), bytes);
    EXPECT_FALSE(b.spilled());
    const auto v = b.view_all();
    EXPECT_EQ(v.bytes(), bytes);
}

TEST(body_buffer, big_body_spills_and_maps_back_identical) {
    body_buffer b(1024);
    const auto bytes = pattern(300 * 1024 + 17);
    EXPECT_EQ(fill(b, bytes, 65536), bytes);
    EXPECT_TRUE(b.spilled());
    EXPECT_LT(b.memory_bytes(), 64u);   // what an empty std::string keeps inline
    {
        const auto v = b.view_all();
        ASSERT_EQ(v.bytes().size(), bytes.size());
        EXPECT_EQ(v.bytes(), bytes);
    }
    // Still readable after the mapping is gone, and a second mapping sees the same bytes.
    EXPECT_EQ(b.read_prefix(100), bytes.substr(0, 100));
    EXPECT_EQ(b.view_all().bytes(), bytes);
}

TEST(body_buffer, grows_past_the_threshold_without_a_size_hint) {
    body_buffer b(1000);
    b.begin(0);   // the literal's size was not known: spill happens on the way
    const auto bytes = pattern(5000);
    for (std::size_t off = 0; off < bytes.size(); off += 333) b.append(std::string_view(bytes).substr(off, 333));
    EXPECT_TRUE(b.spilled());
    EXPECT_EQ(b.view_all().bytes(), bytes);
}

TEST(body_buffer, empty_spilled_and_moved_bodies_view_as_empty_or_whole) {
    body_buffer empty(10);
    empty.begin(100);   // spilled by the hint, then nothing arrived
    EXPECT_TRUE(empty.view_all().bytes().empty());
    body_buffer a(10);
    const auto bytes = pattern(100);
    (void)fill(a, bytes, 10);
    body_buffer moved = std::move(a);
    EXPECT_EQ(moved.view_all().bytes(), bytes);
}

// A NUL byte anywhere (first chunk, last byte of a spilled body) is seen as the bytes arrive; begin() forgets it.
TEST(body_buffer, notes_nul_bytes_as_they_arrive_in_memory_and_spilled) {
    body_buffer small(1 << 10);
    const std::string clean = "From: a@b\r\n\r\nhello\r\n";
    (void)fill(small, clean, 3);
    EXPECT_FALSE(small.contains_nul());
    std::string with_nul = clean;
    with_nul[14] = '\0';
    EXPECT_EQ(fill(small, with_nul, 3), with_nul);
    EXPECT_TRUE(small.contains_nul());
    (void)fill(small, clean, 64);
    EXPECT_FALSE(small.contains_nul());

    body_buffer big(1 << 10);
    std::string spilled(5000, 'x');
    spilled.back() = '\0';
    EXPECT_EQ(fill(big, spilled, 1000), spilled);
    EXPECT_TRUE(big.spilled());
    EXPECT_TRUE(big.contains_nul());
    body_buffer moved(std::move(big));
    EXPECT_TRUE(moved.contains_nul());
    body_buffer assigned(1 << 10);
    assigned = std::move(moved);
    EXPECT_TRUE(assigned.contains_nul());
}

}  // namespace body_buffer_test
