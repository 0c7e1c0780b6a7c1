// Messages against the loopback Dovecot: APPEND with flags and internal date read back byte-identical,
// APPENDUID, MULTIAPPEND, UID SEARCH, UID FETCH ranges, 1000 pipelined commands, a 20 MB message streamed
// both ways. User user183.
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tests/integration/imap_test_support.hpp"

namespace imap_test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace imap_message_test {

constexpr int kMessageUser = 183;

internal_date date(int y, int mo, int d, int h, int mi, int s, int zone) {
    internal_date t;
    t.year = y;
    t.month = mo;
    t.day = d;
    t.hour = h;
    t.minute = mi;
    t.second = s;
    t.zone_minutes = zone;
    return t;
}

bool has_flag(const std::vector<std::string>& flags, std::string_view f) {
    return std::any_of(flags.begin(), flags.end(), [&](const auto& x) { return iequals(x, f); });
}

TEST(imap_message, append_with_flags_and_date_reads_back_byte_identical) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await open(options(endpoint::implicit_tls), user_credentials(kMessageUser));
        error_code ec;
        const std::string box = unique_name("append");
        co_await conn->async_create(box, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        // Bytes a careless client would mangle: 8-bit, NUL-free binary-ish text, a line that looks like a
        // tagged reply. (No bare LF: Dovecot itself turns it into CRLF on FETCH, which is the server's doing.)
        std::string body = make_message("byte-exact", 2000);
        body += "A00001 OK not a reply\r\n* 1 EXISTS\r\n{5}\r\nand 8-bit: caf\xc3\xa9 \xff\xfe\r\n";
        const auto when = date(2019, 2, 28, 23, 59, 58, -180);
        const append_message m{.flags = {"\\Seen", "\\Flagged", "$Forwarded", "Work"}, .date = when, .body = body,
                               .binary = false};
        const auto res = co_await conn->async_append(box, std::span(&m, 1), ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        CO_ASSERT(res.uids.size() == 1);  // APPENDUID (UIDPLUS)
        EXPECT_NE(res.uidvalidity, 0u);

        const auto sel = co_await conn->async_select(box, true, ec);
        EXPECT_EQ(sel.uidvalidity, res.uidvalidity);
        collecting_sink sink;
        co_await conn->async_uid_fetch(std::to_string(res.uids[0]),
                                       "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])", sink, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        CO_ASSERT(sink.messages.count(res.uids[0]) == 1);
        const auto& got = sink.messages[res.uids[0]];
        EXPECT_EQ(got.body, body);
        EXPECT_EQ(got.size, body.size());
        EXPECT_TRUE(got.date.has_value());
        if (got.date) {
            EXPECT_EQ(got.date->to_unix(), when.to_unix());
        }
        for (auto f : {"\\Seen", "\\Flagged", "$Forwarded", "Work"}) EXPECT_TRUE(has_flag(got.flags, f)) << f;
        co_await conn->async_logout(ec);
    });
}

TEST(imap_message, multiappend_search_and_fetch_ranges) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await open(options(endpoint::cleartext), user_credentials(kMessageUser));
        error_code ec;
        CO_ASSERT(conn->has_capability("MULTIAPPEND"));
        const std::string box = unique_name("multi");
        co_await conn->async_create(box, ec);
        std::vector<std::string> bodies;
        for (int i = 1; i <= 10; ++i) bodies.push_back(make_message("multi-" + std::to_string(i), 500 + 100 * i));
        std::vector<append_message> batch;
        for (const auto& b : bodies) batch.push_back({.flags = {}, .date = std::nullopt, .body = b, .binary = false});
        const auto res = co_await conn->async_append(box, batch, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_NE(conn->diag().command().find("APPEND"), std::string::npos);
        CO_ASSERT(res.uids.size() == 10);
        for (std::size_t i = 1; i < res.uids.size(); ++i) EXPECT_EQ(res.uids[i], res.uids[i - 1] + 1);

        (void)co_await conn->async_select(box, true, ec);
        const auto all = co_await conn->async_uid_search("ALL", ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_EQ(all, res.uids);
        const auto tail = co_await conn->async_uid_search("UID " + std::to_string(res.uids[7]) + ":*", ec);
        EXPECT_EQ(tail.size(), 3u);

        // A range in the middle: exactly those three, bodies in order of the batch.
        collecting_sink sink;
        const std::string range = std::to_string(res.uids[2]) + ":" + std::to_string(res.uids[4]);
        co_await conn->async_uid_fetch(range, "(UID RFC822.SIZE BODY.PEEK[])", sink, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_EQ(sink.messages.size(), 3u);
        for (int i = 2; i <= 4; ++i) EXPECT_EQ(sink.messages[res.uids[i]].body, bodies[i]);
        co_await conn->async_logout(ec);
    });
}

TEST(imap_message, thousand_pipelined_commands) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await open(options(endpoint::implicit_tls), user_credentials(kMessageUser));
        error_code ec;
        const std::string box = unique_name("pipeline");
        co_await conn->async_create(box, ec);
        auto ex = co_await net::this_coro::executor;
        constexpr int n = 1000;
        int pending = n, failures = 0;
        std::size_t peak = 0;
        net::steady_timer done(ex, std::chrono::steady_clock::time_point::max());
        for (int i = 0; i < n; ++i) {
            // Alternate kinds so replies must be matched to the right command.
            net::co_spawn(ex, [&, i]() -> net::awaitable<void> {
                error_code e;
                if (i % 2 == 0) {
                    const auto st = co_await conn->async_status(box, e);
                    if (!e && st.messages != 0u) e = errc::unexpected_response;
                } else {
                    co_await conn->async_noop(e);
                }
                if (e) ++failures;
                peak = std::max(peak, conn->in_flight());
                if (--pending == 0) done.cancel();
            }, net::detached);
        }
        error_code ignored;
        co_await done.async_wait(net::redirect_error(net::use_awaitable, ignored));
        EXPECT_EQ(pending, 0);
        EXPECT_EQ(failures, 0);
        EXPECT_GT(peak, 100u) << "commands were not in flight together";
        EXPECT_TRUE(conn->is_open());
        co_await conn->async_logout(ec);
    });
}

// Compares a streamed body with the expected bytes chunk by chunk; keeps nothing.
class comparing_sink final : public fetch_handler {
public:
    explicit comparing_sink(const std::string& expected) : expected_(expected) {}
    error_code on_body_begin(const fetch_part&, std::uint64_t size) override {
        size_ = size;
        offset_ = 0;
        return {};
    }
    error_code on_body_chunk(std::string_view bytes) override {
        ++chunks;
        max_chunk = std::max(max_chunk, bytes.size());
        if (expected_.compare(offset_, bytes.size(), bytes) != 0) mismatch = true;
        offset_ += bytes.size();
        return {};
    }
    error_code on_body_end() override { return {}; }
    error_code on_fetch(const fetch_record& r) override {
        uid = r.uid.value_or(0);
        return {};
    }
    std::uint64_t size_ = 0;
    std::size_t offset_ = 0;
    std::size_t chunks = 0, max_chunk = 0;
    bool mismatch = false;
    std::uint32_t uid = 0;

private:
    const std::string& expected_;
};

TEST(imap_message, twenty_megabyte_message_round_trip_streamed) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await open(options(endpoint::implicit_tls), user_credentials(kMessageUser));
        error_code ec;
        const std::string box = unique_name("big");
        co_await conn->async_create(box, ec);
        std::string body = make_message("twenty-mb", 4096);
        body.reserve(20u << 20);
        std::uint32_t x = 12345;
        while (body.size() < (20u << 20)) {
            // Base64-like lines so Dovecot stores it as is.
            std::string line(76, 'A');
            for (auto& c : line) {
                x = x * 1103515245u + 12345u;
                c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[(x >> 16) & 63];
            }
            body += line + "\r\n";
        }
        const append_message m{.flags = {"\\Seen"}, .date = std::nullopt, .body = body, .binary = false};
        const auto res = co_await conn->async_append(box, std::span(&m, 1), ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        CO_ASSERT(res.uids.size() == 1);
        (void)co_await conn->async_select(box, true, ec);
        comparing_sink sink(body);
        co_await conn->async_uid_fetch(std::to_string(res.uids[0]), "(UID BODY.PEEK[])", sink, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_EQ(sink.uid, res.uids[0]);
        EXPECT_EQ(sink.size_, body.size());
        EXPECT_EQ(sink.offset_, body.size());
        EXPECT_FALSE(sink.mismatch);
        // Streamed: many chunks, none bigger than the connection's 64 KiB read buffer.
        EXPECT_GT(sink.chunks, 100u);
        EXPECT_LE(sink.max_chunk, 64u * 1024);
        co_await conn->async_logout(ec);
    });
}

}  // namespace
}  // namespace imap_test
