// Socket-free scripts for pipeline_queue: what the writer may send, when, and how completions correlate.
#include "protocol/imap/pipeline_queue.hpp"

#include <gtest/gtest.h>

#include <string>

namespace arrival::imap {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace pipeline_queue_test {

using P = command_piece;

// Writes everything the queue allows, `chunk` bytes at a time (partial writes), and returns it.
std::string drain(pipeline_queue& q, std::size_t chunk = SIZE_MAX) {
    std::string out;
    for (;;) {
        const bool expected = q.has_output();
        const std::string_view w = q.prepare_write();
        EXPECT_EQ(expected, !w.empty()) << "has_output() disagrees with prepare_write() after " << out.size() << " bytes";
        if (w.empty()) break;
        const std::size_t n = std::min(chunk, w.size());
        out.append(w.substr(0, n));
        q.commit_write(n);
    }
    return out;
}

TEST(pipeline_queue, tags_are_sequential_and_prefixed) {
    pipeline_queue q;
    const auto a = q.push({P::text("CAPABILITY\r\n")});
    const auto b = q.push({P::text("NOOP\r\n")});
    EXPECT_EQ(q.tag_of(a), "A00001");
    EXPECT_EQ(q.tag_of(b), "A00002");
    EXPECT_EQ(drain(q), "A00001 CAPABILITY\r\nA00002 NOOP\r\n");  // coalesced into one write
    EXPECT_EQ(q.in_flight(), 2u);
}

TEST(pipeline_queue, tagged_completion_correlates_in_any_order) {
    pipeline_queue q;
    const auto a = q.push({P::text("NOOP\r\n")});
    const auto b = q.push({P::text("NOOP\r\n")});
    (void)drain(q);
    EXPECT_EQ(q.on_tagged("A00002"), b);
    EXPECT_EQ(q.on_tagged("A00001"), a);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.in_flight(), 0u);
}

TEST(pipeline_queue, unknown_or_repeated_tag_is_rejected) {
    pipeline_queue q;
    (void)q.push({P::text("NOOP\r\n")});
    EXPECT_EQ(q.on_tagged("A00001"), std::nullopt);  // not sent yet
    (void)drain(q);
    EXPECT_EQ(q.on_tagged("B00001"), std::nullopt);
    EXPECT_EQ(q.on_tagged("A00007"), std::nullopt);
    EXPECT_EQ(q.on_tagged("A0000x"), std::nullopt);
    EXPECT_TRUE(q.on_tagged("A00001").has_value());
    EXPECT_EQ(q.on_tagged("A00001"), std::nullopt);  // already completed
}

TEST(pipeline_queue, synchronizing_literal_waits_for_continuation_and_blocks_later_commands) {
    pipeline_queue q;
    const auto a = q.push({P::text("APPEND INBOX {5}\r\n"), P::view("hello", true), P::text("\r\n")});
    (void)q.push({P::text("NOOP\r\n")});
    EXPECT_EQ(drain(q), "A00001 APPEND INBOX {5}\r\n");
    EXPECT_TRUE(q.awaiting_continuation());
    EXPECT_EQ(drain(q), "");  // nothing, not even the NOOP, before "+"
    ASSERT_TRUE(q.on_continuation());
    EXPECT_EQ(drain(q), "hello\r\nA00002 NOOP\r\n");
    EXPECT_FALSE(q.on_continuation());  // nobody waits: protocol error for the caller
    EXPECT_EQ(q.on_tagged("A00001"), a);
}

TEST(pipeline_queue, refused_literal_drops_the_rest_and_unblocks) {
    pipeline_queue q;
    const auto a = q.push({P::text("APPEND INBOX {5}\r\n"), P::view("hello", true), P::text("\r\n")});
    (void)q.push({P::text("NOOP\r\n")});
    (void)drain(q);
    EXPECT_EQ(q.on_tagged("A00001"), a);  // NO [TOOBIG] instead of "+"
    EXPECT_FALSE(q.awaiting_continuation());
    EXPECT_EQ(drain(q), "A00002 NOOP\r\n");
}

TEST(pipeline_queue, in_flight_cap_holds_back_commands_until_completions) {
    pipeline_queue q(pipeline_queue::limits{.max_in_flight = 2, .coalesce_bytes = 64 * 1024});
    for (int i = 0; i < 4; ++i) (void)q.push({P::text("NOOP\r\n")});
    EXPECT_EQ(drain(q), "A00001 NOOP\r\nA00002 NOOP\r\n");
    EXPECT_EQ(q.in_flight(), 2u);
    EXPECT_TRUE(q.on_tagged("A00001").has_value());
    EXPECT_EQ(drain(q), "A00003 NOOP\r\n");
    EXPECT_TRUE(q.on_tagged("A00003").has_value());
    EXPECT_TRUE(q.on_tagged("A00002").has_value());
    EXPECT_EQ(drain(q), "A00004 NOOP\r\n");
}

TEST(pipeline_queue, partial_writes_one_byte_at_a_time) {
    pipeline_queue q;
    (void)q.push({P::text("LOGIN a b\r\n")});
    (void)q.push({P::text("APPEND X {3+}\r\n"), P::view("abc"), P::text("\r\n")});
    EXPECT_EQ(drain(q, 1), "A00001 LOGIN a b\r\nA00002 APPEND X {3+}\r\nabc\r\n");
    EXPECT_TRUE(q.on_tagged("A00002").has_value());
    EXPECT_TRUE(q.on_tagged("A00001").has_value());
    EXPECT_TRUE(q.empty());
}

TEST(pipeline_queue, large_piece_is_written_from_callers_memory) {
    pipeline_queue q(pipeline_queue::limits{.max_in_flight = 8, .coalesce_bytes = 16});
    const std::string body(100, 'x');
    (void)q.push({P::text("APPEND X {100+}\r\n"), P::view(body), P::text("\r\n")});
    const std::string_view first = q.prepare_write();
    EXPECT_EQ(first, "A00001 APPEND X {100+}\r\n");  // larger than 16 but nothing staged before: direct
    q.commit_write(first.size());
    const std::string_view second = q.prepare_write();
    EXPECT_EQ(second.data(), body.data());  // no copy of the body
    EXPECT_EQ(second.size(), 100u);
    q.commit_write(60);
    const std::string_view third = q.prepare_write();
    EXPECT_EQ(third.data(), body.data() + 60);
    q.commit_write(40);
    EXPECT_EQ(drain(q), "\r\n");
}

TEST(pipeline_queue, answer_during_nonsynchronizing_literal_finishes_the_bytes) {
    pipeline_queue q;
    (void)q.push({P::text("APPEND X {4+}\r\n"), P::view("data"), P::text("\r\n"), P::view("more", true)});
    const std::string_view w = q.prepare_write();
    q.commit_write(w.size() - 3);  // "ta\r\n" ... still unsent
    EXPECT_TRUE(q.on_tagged("A00001").has_value());
    EXPECT_FALSE(q.empty());  // bytes the server must still read
    EXPECT_EQ(drain(q), "a\r\n");
    EXPECT_TRUE(q.empty());  // the piece behind the continuation is never sent
}

TEST(pipeline_queue, a_reply_may_overtake_the_commit_of_its_bytes) {
    pipeline_queue q;
    const auto a = q.push({P::text("NAMESPACE\r\n")});
    const auto b = q.push({P::text("LIST \"\" *\r\n")});
    const std::string_view w = q.prepare_write();  // handed to the writer; its completion not yet reported
    EXPECT_EQ(w, "A00001 NAMESPACE\r\nA00002 LIST \"\" *\r\n");
    bool writing = false;
    command_owner o;
    EXPECT_EQ(q.on_tagged("A00002", &o, &writing), b);
    EXPECT_TRUE(writing);
    EXPECT_EQ(q.on_tagged("A00002", &o, &writing), std::nullopt);  // once only
    EXPECT_EQ(q.on_tagged("A00001", &o, &writing), a);
    EXPECT_TRUE(q.take_finished().empty());  // nothing finishes before its bytes are committed
    q.commit_write(w.size() - 1);
    EXPECT_EQ(q.take_finished().size(), 1u);  // A00001
    q.commit_write(1);
    EXPECT_EQ(q.take_finished().size(), 1u);  // A00002
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.in_flight(), 0u);
}

TEST(pipeline_queue, continuation_for_sasl_step) {
    pipeline_queue q;
    (void)q.push({P::text("AUTHENTICATE PLAIN\r\n"), P::text("AGEAYg==\r\n", true)});
    EXPECT_EQ(drain(q), "A00001 AUTHENTICATE PLAIN\r\n");
    ASSERT_TRUE(q.on_continuation());
    EXPECT_EQ(drain(q), "AGEAYg==\r\n");
}

TEST(pipeline_queue, clear_returns_everything_unanswered) {
    pipeline_queue q;
    const auto a = q.push({P::text("NOOP\r\n")});
    const auto b = q.push({P::text("NOOP\r\n")});
    (void)drain(q);
    const auto ids = q.clear();
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(ids[0], a);
    EXPECT_EQ(ids[1], b);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.prepare_write(), "");
}

TEST(pipeline_queue, thousand_commands_stream_through_a_small_cap) {
    pipeline_queue q(pipeline_queue::limits{.max_in_flight = 16, .coalesce_bytes = 256});
    for (int i = 0; i < 1000; ++i) (void)q.push({P::text("NOOP\r\n")});
    std::size_t answered = 0;
    std::size_t next = 1;
    while (answered < 1000) {
        const std::string sent = drain(q, 7);
        ASSERT_FALSE(sent.empty());
        ASSERT_LE(q.in_flight(), 16u);
        for (; next <= 1000 && q.in_flight() > 0; ++next, ++answered) {
            ASSERT_TRUE(q.on_tagged(q.tag_of(next)).has_value()) << next;
        }
    }
    EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace arrival::imap
