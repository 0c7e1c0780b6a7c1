// APPENDs then FETCHes N messages on the loopback Dovecot through our client and prints messages/s and MB/s
// for both. Not a Google Benchmark: every run changes server state (a fresh folder each time), and what is
// measured is the whole client + server path, once, at a chosen scale.
//
//   set -a; . DIR/env; set +a          # from tools/testbed/testbed start dovecot
//   build/bench/imap_loopback_bench [--messages N] [--size BYTES] [--batch B] [--in-flight K] [--user N] [--tls]
//
// APPEND: batches of B messages (one MULTIAPPEND each), K batches in flight on one connection (pipelined).
// FETCH: EXAMINE, then UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]) into a sink that counts
// bytes (bodies streamed, never stored), so the figure is the protocol path, not our memory.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>
#include <unistd.h>

#include "protocol/imap/connection.hpp"
#include "protocol/tls_policy.hpp"

namespace net = boost::asio;
using namespace arrival::imap;
using clock_type = std::chrono::steady_clock;

namespace {

struct config {
    std::size_t messages = 2000;
    std::size_t size = 10 * 1024;
    std::size_t batch = 50;
    std::size_t in_flight = 4;
    int user = 185;
    bool tls = false;
};

std::string env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') throw std::runtime_error(std::string(name) + " is not set (export the testbed's DIR/env)");
    return v;
}

std::string make_body(std::size_t i, std::size_t size) {
    std::string m = fmt::format("Message-ID: <bench-{}@arrival.test>\r\nFrom: bench@example.test\r\n"
                                "To: user@example.test\r\nSubject: bench {}\r\n\r\n", i, i);
    while (m.size() + 2 < size) {
        m.append(std::min<std::size_t>(72, size - m.size() - 2), static_cast<char>('a' + (m.size() + i) % 26));
        m += "\r\n";
    }
    return m;
}

class counting_sink final : public fetch_handler {
public:
    error_code on_body_begin(const fetch_part&, std::uint64_t) override { return {}; }
    error_code on_body_chunk(std::string_view b) override {
        bytes += b.size();
        return {};
    }
    error_code on_body_end() override { return {}; }
    error_code on_fetch(const fetch_record&) override {
        ++messages;
        return {};
    }
    std::uint64_t bytes = 0, messages = 0;
};

void check(const error_code& ec, const connection& c, const char* what) {
    if (ec) throw std::runtime_error(fmt::format("{}: {}: {}", what, ec.message(), c.diag().to_string()));
}

net::awaitable<void> bench(const config& cfg) {
    auto ex = co_await net::this_coro::executor;
    error_code ec;
    std::string why;
    arrival::tls::client_options t;
    if (cfg.tls) t.ca_file = env("ARRIVAL_TESTBED_CA");
    auto ctx = arrival::tls::make_client_context(t, ec, why);
    if (!ctx) throw std::runtime_error(why);
    connect_options o;
    const std::string port = env(cfg.tls ? "ARRIVAL_DOVECOT_DST_TLS_PORT" : "ARRIVAL_DOVECOT_DST_PORT");
    o.url = *parse_imap_url((cfg.tls ? "imaps://127.0.0.1:" : "imap://127.0.0.1:") + port, why);
    if (!cfg.tls) o.url.tls = tls_mode::none;  // measure IMAP, not TLS, unless asked
    auto conn = connection::create(ex, ctx, o);
    co_await conn->async_connect(ec);
    check(ec, *conn, "connect");
    credentials cred;
    cred.user = fmt::format("user{:03}@example.test", cfg.user);
    cred.password = env("ARRIVAL_DOVECOT_USER_PASSWORD");
    co_await conn->async_login(cred, ec);
    check(ec, *conn, "login");
    const std::string box = fmt::format("bench-{}-{}", ::getpid(), clock_type::now().time_since_epoch().count());
    co_await conn->async_create(box, ec);
    check(ec, *conn, "CREATE");

    std::vector<std::string> bodies;
    bodies.reserve(cfg.messages);
    std::uint64_t total_bytes = 0;
    for (std::size_t i = 0; i < cfg.messages; ++i) {
        bodies.push_back(make_body(i, cfg.size));
        total_bytes += bodies.back().size();
    }
    std::vector<append_message> msgs;
    msgs.reserve(bodies.size());
    for (const auto& b : bodies) msgs.push_back({.flags = {"\\Seen"}, .date = std::nullopt, .body = b, .binary = false});

    // APPEND: `in_flight` workers, each taking the next batch.
    const auto t0 = clock_type::now();
    std::size_t next = 0, running = cfg.in_flight;
    error_code first;
    std::string first_why;
    net::steady_timer done(ex, clock_type::time_point::max());
    for (std::size_t w = 0; w < cfg.in_flight; ++w) {
        net::co_spawn(ex, [&]() -> net::awaitable<void> {
            while (next < msgs.size() && !first) {
                const std::size_t begin = next;
                const std::size_t n = std::min(cfg.batch, msgs.size() - begin);
                next += n;
                error_code e;
                (void)co_await conn->async_append(box, std::span(msgs).subspan(begin, n), e);
                if (e && !first) {
                    first = e;
                    first_why = conn->diag().to_string();
                }
            }
            if (--running == 0) done.cancel();
        }, net::detached);
    }
    error_code ignored;
    co_await done.async_wait(net::redirect_error(net::use_awaitable, ignored));
    if (first) throw std::runtime_error("APPEND: " + first.message() + ": " + first_why);
    const double append_s = std::chrono::duration<double>(clock_type::now() - t0).count();

    const auto t1 = clock_type::now();
    const auto sel = co_await conn->async_select(box, true, ec);
    check(ec, *conn, "EXAMINE");
    counting_sink sink;
    co_await conn->async_uid_fetch("1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])", sink, ec);
    check(ec, *conn, "UID FETCH");
    const double fetch_s = std::chrono::duration<double>(clock_type::now() - t1).count();
    if (sel.exists != cfg.messages || sink.messages != cfg.messages || sink.bytes != total_bytes) {
        throw std::runtime_error(fmt::format("mismatch: appended {} ({} bytes), EXISTS {}, fetched {} ({} bytes)",
                                             cfg.messages, total_bytes, sel.exists, sink.messages, sink.bytes));
    }
    co_await conn->async_logout(ec);

    const double mb = static_cast<double>(total_bytes) / (1024.0 * 1024.0);
    fmt::print("imap_loopback_bench: {} messages x {} bytes ({:.1f} MB), {} over {}, MULTIAPPEND batch {}, "
               "{} batches in flight\n",
               cfg.messages, cfg.size, mb, cfg.tls ? "TLS" : "cleartext", o.url.str(), cfg.batch, cfg.in_flight);
    fmt::print("APPEND  {:8.3f} s  {:9.0f} messages/s  {:7.1f} MB/s\n", append_s, cfg.messages / append_s, mb / append_s);
    fmt::print("FETCH   {:8.3f} s  {:9.0f} messages/s  {:7.1f} MB/s\n", fetch_s, cfg.messages / fetch_s, mb / fetch_s);
}

std::size_t number(const char* flag, const char* v) {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 10);
    if (end == v || *end != '\0' || n == 0) throw std::runtime_error(std::string("bad value for ") + flag + ": " + v);
    return static_cast<std::size_t>(n);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        config cfg;
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            auto value = [&]() -> const char* {
                if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
                return argv[++i];
            };
            if (a == "--messages") cfg.messages = number("--messages", value());
            else if (a == "--size") cfg.size = number("--size", value());
            else if (a == "--batch") cfg.batch = number("--batch", value());
            else if (a == "--in-flight") cfg.in_flight = number("--in-flight", value());
            else if (a == "--user") cfg.user = static_cast<int>(number("--user", value()));
            else if (a == "--tls") cfg.tls = true;
            else throw std::runtime_error("unknown option " + a);
        }
        if (cfg.size < 200) throw std::runtime_error("--size must be at least 200");
        net::io_context io;
        std::exception_ptr failure;
        net::co_spawn(net::make_strand(io), bench(cfg), [&](std::exception_ptr e) { failure = e; });
        io.run();
        if (failure) std::rethrow_exception(failure);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "imap_loopback_bench: %s\n", e.what());
        return 1;
    }
}
