// Helpers of the imap_* integration tests: the loopback Dovecot started by tools/testbed (variables from
// DIR/env; a missing variable FAILS the test with a message naming it, never skips), a coroutine runner, and
// connection factories. Each test file uses its own users (user18x) so files can run in parallel, and each
// test its own mailbox names, so reruns against the same testbed do not collide.
#pragma once
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "protocol/imap/connection.hpp"
#include "protocol/tls_policy.hpp"

// gtest's ASSERT_* expand to `return`, which a coroutine cannot use.
#define CO_ASSERT(cond)                                       \
    do {                                                      \
        if (!(cond)) {                                        \
            ADD_FAILURE() << "assertion failed: " #cond;      \
            co_return;                                        \
        }                                                     \
    } while (false)

namespace imap_test {

namespace net = boost::asio;
using namespace arrival::imap;

inline std::string env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        throw std::runtime_error(fmt::format(
            "{} is not set: start the testbed (tools/testbed/testbed start) and export its DIR/env", name));
    }
    return v;
}

inline std::string user(int n) { return fmt::format("user{:03}@example.test", n); }

// A mailbox name no earlier run used: tests share one testbed across reruns.
inline std::string unique_name(const std::string& base) {
    static int counter = 0;
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return fmt::format("{}-{}-{}-{}", base, ::getpid(),
                       std::chrono::duration_cast<std::chrono::microseconds>(now).count(), ++counter);
}

// Runs a coroutine to completion on a fresh io_context (on a strand, as the engine does); rethrows.
template <class F>
void run(F&& body) {
    net::io_context io;
    std::exception_ptr failure;
    net::co_spawn(net::make_strand(io), std::forward<F>(body), [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
}

inline std::shared_ptr<net::ssl::context> tls_context(bool with_ca = true) {
    error_code ec;
    std::string why;
    arrival::tls::client_options o;
    if (with_ca) o.ca_file = env("ARRIVAL_TESTBED_CA");
    auto ctx = arrival::tls::make_client_context(o, ec, why);
    if (!ctx) throw std::runtime_error("TLS context: " + why);
    return ctx;
}

enum class endpoint { cleartext, starttls, implicit_tls };

inline connect_options options(endpoint e, const char* instance = "SRC") {
    connect_options o;
    std::string err;
    const std::string port = env(fmt::format("ARRIVAL_DOVECOT_{}_{}", instance,
                                             e == endpoint::implicit_tls ? "TLS_PORT" : "PORT").c_str());
    // The testbed certificate names localhost and 127.0.0.1; STARTTLS goes by name to exercise SNI + DNS checks.
    const std::string url = e == endpoint::implicit_tls ? "imaps://127.0.0.1:" + port
                            : e == endpoint::starttls    ? "imap://localhost:" + port
                                                         : "imap://127.0.0.1:" + port;
    o.url = *parse_imap_url(url, err);
    if (e == endpoint::starttls) o.url.tls = tls_mode::starttls_required;
    o.connect_timeout = std::chrono::seconds(10);
    o.read_timeout = std::chrono::seconds(60);
    return o;
}

// imap:// without STARTTLS although the server offers it: the cleartext path.
inline connect_options cleartext_only(const char* instance = "SRC") {
    auto o = options(endpoint::cleartext, instance);
    o.url.tls = tls_mode::none;
    return o;
}

inline credentials user_credentials(int n) {
    credentials c;
    c.user = user(n);
    c.password = env("ARRIVAL_DOVECOT_USER_PASSWORD");
    return c;
}

inline credentials master_credentials(int n, credentials::method how = credentials::method::plain) {
    credentials c;
    c.user = user(n);
    c.admin = env("ARRIVAL_DOVECOT_MASTER_USER");
    c.password = env("ARRIVAL_DOVECOT_MASTER_PASSWORD");
    c.how = how;
    return c;
}

// A connection not yet connected. (Statements kept simple on purpose: g++ 12 mishandles temporaries in
// full-expressions that also contain co_await, e.g. `f(co_await x, a ? b : g())`.)
inline net::awaitable<std::shared_ptr<connection>> make(connect_options o,
                                                       std::shared_ptr<net::ssl::context> tls = nullptr) {
    auto ex = co_await net::this_coro::executor;
    if (!tls) tls = tls_context();
    co_return connection::create(ex, tls, std::move(o));
}

// Connects and logs in; failures become test failures with the connection's diagnostics.
inline net::awaitable<std::shared_ptr<connection>> open(connect_options o, const credentials& c,
                                                       std::shared_ptr<net::ssl::context> tls = nullptr) {
    auto conn = co_await make(std::move(o), std::move(tls));
    error_code ec;
    co_await conn->async_connect(ec);
    if (ec) throw std::runtime_error("connect: " + ec.message() + ": " + conn->diag().to_string());
    co_await conn->async_login(c, ec);
    if (ec) throw std::runtime_error("login: " + ec.message() + ": " + conn->diag().to_string());
    co_return conn;
}

// Collects FETCH results: bodies by UID (filed at on_fetch, since the UID may come after the body).
class collecting_sink final : public fetch_handler {
public:
    struct message {
        std::string body;
        std::vector<std::string> flags;
        std::optional<internal_date> date;
        std::optional<std::uint64_t> size;
    };
    error_code on_body_begin(const fetch_part&, std::uint64_t size) override {
        current_.clear();
        current_.reserve(size);
        return {};
    }
    error_code on_body_chunk(std::string_view bytes) override {
        current_.append(bytes);
        max_chunk = std::max(max_chunk, bytes.size());
        return {};
    }
    error_code on_body_end() override { return {}; }
    error_code on_fetch(const fetch_record& r) override {
        if (!r.uid) return {};
        auto& m = messages[*r.uid];
        if (r.body_parts > 0) m.body = std::move(current_);
        current_.clear();
        m.flags.assign(r.flags.begin(), r.flags.end());
        m.date = r.internaldate;
        m.size = r.rfc822_size;
        return {};
    }
    std::map<std::uint32_t, message> messages;
    std::size_t max_chunk = 0;

private:
    std::string current_;
};

inline std::string make_message(const std::string& subject, std::size_t size = 300) {
    std::string m = "Message-ID: <" + subject + "@arrival.test>\r\nDate: Tue, 2 Jan 2024 10:00:00 +0100\r\n"
                    "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: " + subject +
                    "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
    std::size_t line = 0;
    while (m.size() + 2 < size) {
        std::string l = fmt::format("line {} of {}: the quick brown fox jumps over the lazy dog", ++line, subject);
        l.resize(std::min(l.size(), size - m.size() - 2));
        m += l + "\r\n";
    }
    return m;
}

}  // namespace imap_test
