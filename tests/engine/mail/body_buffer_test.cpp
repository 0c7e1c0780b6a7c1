// body_buffer: bytes in, the same bytes out, in memory or spilled; view_all() maps a spilled body whole
// (what APPEND borrows) and unmaps it when the view goes.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/mail/body_buffer.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace body_buffer_test {

using arrival::engine::body_buffer;
using arrival::engine::release_written_pages;

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

// Resident kB of the mapping that starts at `at` (its "Rss:" line in /proc/self/smaps), or -1 when there is none.
long resident_kb(const char* at) {
    std::ifstream smaps("/proc/self/smaps");
    std::ostringstream want;
    want << std::hex << reinterpret_cast<std::uintptr_t>(at) << '-';
    std::string line;
    bool in = false;
    while (std::getline(smaps, line)) {
        if (line.rfind(want.str(), 0) == 0) in = true;
        else if (in && line.rfind("Rss:", 0) == 0) return std::stol(line.substr(4));
    }
    return -1;
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

// What the IMAP connection does with each write (imap::connect_options::written): the pages of a spilled body
// it has sent leave the resident set, a page only partly written stays, and the bytes read back the same.
TEST(body_buffer, written_pages_of_a_spilled_body_leave_the_resident_set) {
    body_buffer b(1024);
    const auto bytes = pattern(8 * 1024 * 1024 + 1000);
    (void)fill(b, bytes, 1 << 20);
    const auto v = b.view_all();
    const char* data = v.bytes().data();
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < v.bytes().size(); i += 4096) sum += static_cast<unsigned char>(v.bytes()[i]);   // every page touched
    EXPECT_GT(sum, 0u);
    ASSERT_GE(resident_kb(data), 8 * 1024);

    // Written in two pieces that end mid-page: the first piece's last page is only partly written and stays.
    const std::size_t first = 3 * 1024 * 1024 + 100;
    release_written_pages(v.bytes().substr(0, first));
    const long after_first = resident_kb(data);
    EXPECT_LE(after_first, 5 * 1024 + 8);
    EXPECT_GE(after_first, 5 * 1024);
    release_written_pages(v.bytes().substr(first));
    EXPECT_EQ(resident_kb(data), 0);
    EXPECT_EQ(v.bytes(), bytes);   // faulted back in from the file: an APPEND sent again sends the same bytes

    // Bytes outside any spilled body's mapping (an in-memory body, a connection's buffer) are left alone.
    body_buffer small(1 << 20);
    const auto text = pattern(100000);
    (void)fill(small, text, 4096);
    const auto sv = small.view_all();
    release_written_pages(sv.bytes());
    EXPECT_EQ(sv.bytes(), text);
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
