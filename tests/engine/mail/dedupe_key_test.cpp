#include "engine/mail/dedupe_key.hpp"

#include <gtest/gtest.h>

using namespace arrival::engine;

TEST(dedupe_key, message_id_normalization) {
    EXPECT_EQ(normalize_message_id(" <Abc.123@Mail.Example.COM>"), "Abc.123@mail.example.com");
    EXPECT_EQ(normalize_message_id("<Abc.123@\r\n mail.example.com>"), "Abc.123@mail.example.com");
    EXPECT_EQ(normalize_message_id("abc@EXAMPLE.com"), "abc@example.com");
    EXPECT_EQ(normalize_message_id("(comment) <x@y> (trailing)"), "x@y");
    EXPECT_EQ(normalize_message_id("   "), "");
}

TEST(dedupe_key, same_id_spelled_differently_same_key) {
    const auto a = compute_dedupe_key("From: a@x\r\nMessage-ID: <ID1@Example.COM>\r\n\r\nbody", 100);
    const auto b = compute_dedupe_key("message-id:\r\n   <ID1@example.com>\r\nFrom: other\r\n\r\n", 999);
    EXPECT_EQ(a, b);
    EXPECT_TRUE(a.from_message_id);
    EXPECT_EQ(a.to_string().size(), 33u);
    EXPECT_EQ(a.to_string()[0], 'M');
    // Local part keeps its case.
    EXPECT_FALSE(a == compute_dedupe_key("Message-ID: <id1@example.com>\r\n\r\n", 100));
}

TEST(dedupe_key, only_header_block_is_scanned) {
    const auto body_id = compute_dedupe_key("Subject: s\r\n\r\nMessage-ID: <in-body@x>\r\n", 50);
    EXPECT_FALSE(body_id.from_message_id);
}

TEST(dedupe_key, fallback_from_date_from_subject_size) {
    const std::string h = "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: A <a@x>\r\nSubject: hello\r\n world\r\n\r\n";
    const auto full = compute_dedupe_key(h + "the body", 1234);
    // The HEADER.FIELDS reply has the same lines in server order, then an empty line.
    const auto fields = compute_dedupe_key("Subject: hello\r\n  world\r\nFrom: A <a@x>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n", 1234);
    EXPECT_EQ(full, fields);
    EXPECT_FALSE(full.from_message_id);
    EXPECT_EQ(full.to_string()[0], 'G');
    EXPECT_EQ(compute_dedupe_key_v1(h, 1234).to_string()[0], 'F');
    EXPECT_FALSE(full == compute_dedupe_key(h, 1235));   // size is part of it
    EXPECT_FALSE(full == compute_dedupe_key("Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: A <a@x>\r\n\r\n", 1234));
    // Empty Message-ID falls back too.
    EXPECT_EQ(compute_dedupe_key("Message-ID: \r\n" + h, 1234), full);
}

TEST(dedupe_key, lf_only_and_crlf_agree) {
    EXPECT_EQ(compute_dedupe_key("Message-ID: <a@b>\n\n", 1), compute_dedupe_key("Message-ID: <a@b>\r\n\r\n", 1));
    EXPECT_EQ(compute_dedupe_key("Subject: x\n\n", 5), compute_dedupe_key("Subject: x\r\n\r\n", 5));
}

TEST(dedupe_key, multiset_counts_k_minus_j) {
    const auto k1 = compute_dedupe_key("Message-ID: <1@x>\r\n\r\n", 1);
    const auto k2 = compute_dedupe_key("Message-ID: <2@x>\r\n\r\n", 1);
    key_multiset dest;
    dest.add(k1);
    dest.add(k2);
    // Source holds k1 three times, k2 once: k1 gets 3-1 = 2 copies, k2 none.
    int copies = 0;
    for (const auto& k : {k1, k1, k1, k2}) copies += dest.take(k) ? 0 : 1;
    EXPECT_EQ(copies, 2);
    EXPECT_EQ(dest.size(), 0u);
}

#include "engine/mail/copy_planner.hpp"

namespace {
source_message msg(std::uint32_t uid, const dedupe_key& k, std::uint64_t size = 10) {
    source_message m;
    m.uid = uid;
    m.key = k;
    m.size = size;
    return m;
}
}  // namespace

TEST(copy_planner, multiset_difference_in_uid_order) {
    const auto a = compute_dedupe_key("Message-ID: <a@x>\r\n\r\n", 1);
    const auto b = compute_dedupe_key("Message-ID: <b@x>\r\n\r\n", 1);
    const auto c = compute_dedupe_key("Message-ID: <c@x>\r\n\r\n", 1);
    key_multiset dest;
    dest.add(a);
    dest.add(c);
    dest.add(c);
    const auto p = plan_copies({msg(5, a), msg(2, a), msg(3, b), msg(9, a), msg(4, c)}, dest, false);
    ASSERT_EQ(p.to_copy.size(), 3u);   // a: 3 - 1 = 2; b: 1; c: 1 - 2 -> 0
    EXPECT_EQ(p.to_copy[0].uid, 3u);
    EXPECT_EQ(p.to_copy[1].uid, 5u);
    EXPECT_EQ(p.to_copy[2].uid, 9u);
    EXPECT_EQ(p.skipped_duplicate, 2u);
    EXPECT_EQ(p.bytes_to_copy, 30u);
}

TEST(copy_planner, collapse_keeps_one_per_key) {
    const auto a = compute_dedupe_key("Message-ID: <a@x>\r\n\r\n", 1);
    const auto b = compute_dedupe_key("Message-ID: <b@x>\r\n\r\n", 1);
    key_multiset dest;
    dest.add(b);
    const auto p = plan_copies({msg(1, a), msg(2, a), msg(3, b), msg(4, b)}, dest, true);
    ASSERT_EQ(p.to_copy.size(), 1u);
    EXPECT_EQ(p.to_copy[0].uid, 1u);
    EXPECT_EQ(p.skipped_duplicate, 3u);
}

#include "engine/mail/verify.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace dedupe_key_test {

TEST(verify, compare_lists_missing_uids_and_extra) {
    const auto a = compute_dedupe_key("Message-ID: <a@x>\r\n\r\n", 1);
    const auto b = compute_dedupe_key("Message-ID: <b@x>\r\n\r\n", 1);
    const auto c = compute_dedupe_key("Message-ID: <c@x>\r\n\r\n", 1);
    const auto v = compare_folder({msg(1, a), msg(2, a), msg(3, b)}, {msg(10, a), msg(11, c), msg(12, c)});
    ASSERT_EQ(v.missing.size(), 2u);
    EXPECT_EQ(v.missing[0].uid, 2u);   // the second copy of a
    EXPECT_EQ(v.missing[1].uid, 3u);
    EXPECT_EQ(v.extra, 2u);
    EXPECT_EQ(v.source_messages, 3u);
    EXPECT_EQ(v.dest_messages, 3u);
}

}  // namespace dedupe_key_test
