// Timeouts and garbage, against a scripted one-connection server in this test (no real server stalls or
// speaks garbage on demand): the connection's read timeout fires while a reply is due, its idle timeout
// closes a connection nothing is sent on, and `arrival probe` exits 7 when the server's replies cannot be
// understood and 4 when it stops answering.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <boost/asio/steady_timer.hpp>

#include "tests/integration/imap_test_support.hpp"

namespace imap_test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace imap_stall_test {

using clock_type = std::chrono::steady_clock;

// Accepts one connection on 127.0.0.1, sends `greeting`, then reads whatever the client sends and never
// answers: a stalled server (or, with a greeting that is not IMAP, a server speaking garbage). Records how
// long after the greeting the client closed the connection.
class scripted_server {
public:
    explicit scripted_server(std::string greeting) : greeting_(std::move(greeting)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
            ::listen(listen_fd_, 4) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            throw std::runtime_error("scripted_server: cannot listen on 127.0.0.1");
        }
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~scripted_server() {
        stop_ = true;
        ::shutdown(listen_fd_, SHUT_RDWR);   // wakes a blocked accept()
        thread_.join();
        ::close(listen_fd_);
    }
    int port() const { return port_; }
    // Seconds from the greeting to the client's close; empty while the connection is open.
    std::optional<double> closed_after() const {
        std::lock_guard lock(mu_);
        return closed_after_;
    }
    std::string received() const {
        std::lock_guard lock(mu_);
        return received_;
    }

private:
    void serve() {
        const int c = ::accept(listen_fd_, nullptr, nullptr);
        if (c < 0) return;
        (void)!::write(c, greeting_.data(), greeting_.size());
        const auto t0 = clock_type::now();
        while (!stop_) {
            pollfd p{c, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            char buf[4096];
            const ssize_t n = ::read(c, buf, sizeof buf);
            std::lock_guard lock(mu_);
            if (n <= 0) {
                closed_after_ = std::chrono::duration<double>(clock_type::now() - t0).count();
                break;
            }
            received_.append(buf, static_cast<std::size_t>(n));
        }
        ::close(c);
    }

    std::string greeting_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    mutable std::mutex mu_;
    std::optional<double> closed_after_;
    std::string received_;
};

constexpr const char* imap_greeting = "* OK [CAPABILITY IMAP4rev1 LITERAL+] scripted server ready\r\n";

connect_options to(const scripted_server& s, std::chrono::seconds read_timeout, std::chrono::seconds idle_timeout) {
    connect_options o;
    std::string err;
    o.url = *parse_imap_url("imap://127.0.0.1:" + std::to_string(s.port()), err);
    o.url.tls = tls_mode::none;
    o.connect_timeout = std::chrono::seconds(10);
    o.read_timeout = read_timeout;
    o.idle_timeout = idle_timeout;
    return o;
}

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

TEST(imap_stall, read_timeout_fires_when_the_server_stops_answering) {
    scripted_server server(imap_greeting);
    error_code connect_ec, ec;
    std::string diag;
    double waited = 0;
    run([&]() -> net::awaitable<void> {
        auto conn = co_await make(to(server, std::chrono::seconds(1), std::chrono::seconds(60)), tls_context(false));
        co_await conn->async_connect(connect_ec);
        if (connect_ec) co_return;
        const auto t0 = clock_type::now();
        co_await conn->async_noop(ec);   // the server reads it and never answers
        waited = seconds_since(t0);
        diag = conn->diag().to_string();
    });
    ASSERT_FALSE(connect_ec) << connect_ec.message();
    EXPECT_EQ(ec, errc::timeout) << ec.message() << ": " << diag;
    EXPECT_NE(diag.find("read timeout"), std::string::npos) << diag;
    EXPECT_GE(waited, 0.9);
    EXPECT_LT(waited, 5.0);
    EXPECT_NE(server.received().find("NOOP"), std::string::npos) << server.received();
}

TEST(imap_stall, idle_timeout_closes_a_connection_nothing_is_sent_on) {
    scripted_server server(imap_greeting);
    error_code connect_ec;
    run([&]() -> net::awaitable<void> {
        // The read timeout (10 s) is not what may end it: only the idle timeout is short.
        auto conn = co_await make(to(server, std::chrono::seconds(10), std::chrono::seconds(1)), tls_context(false));
        co_await conn->async_connect(connect_ec);
        if (connect_ec) co_return;
        net::steady_timer wait(co_await net::this_coro::executor);
        wait.expires_after(std::chrono::seconds(3));
        co_await wait.async_wait(net::use_awaitable);
        error_code ec;
        co_await conn->async_noop(ec);   // the connection is gone: fails, nothing reaches the server
        if (!ec) ADD_FAILURE() << "NOOP succeeded after the idle timeout";
    });
    ASSERT_FALSE(connect_ec) << connect_ec.message();
    const auto closed = server.closed_after();
    ASSERT_TRUE(closed.has_value()) << "the client did not close the idle connection";
    EXPECT_GE(*closed, 0.9);
    EXPECT_LT(*closed, 2.9);
    EXPECT_EQ(server.received(), "");   // nothing was ever sent: the idle timer, not a reply, ended it
}

// `arrival probe` as a subprocess: exit status and what it printed. The scripted server has no STARTTLS:
// --allow-cleartext, so the stalls are reached, not the refusal to log in without TLS.
std::pair<int, std::string> probe(const scripted_server& s, const std::string& extra) {
    char tmpl[] = "/tmp/arrival-stall-test.XXXXXX";
    const int fd = ::mkstemp(tmpl);
    ::close(fd);
    const std::string cmd = "ARRIVAL_PASSWORD=not-used " + env("ARRIVAL_EXE") + " probe --allow-cleartext imap://127.0.0.1:" +
                            std::to_string(s.port()) + " --user user001@example.test " + extra + " > " + tmpl +
                            " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(tmpl);
    std::stringstream out;
    out << in.rdbuf();
    ::unlink(tmpl);
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out.str()};
}

TEST(imap_stall, probe_exits_7_when_the_server_speaks_garbage) {
    scripted_server server("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    const auto [status, output] = probe(server, "--timeout 10");
    EXPECT_EQ(status, 7) << output;
}

TEST(imap_stall, probe_exits_4_when_the_server_stops_answering) {
    scripted_server server(imap_greeting);
    const auto t0 = clock_type::now();
    const auto [status, output] = probe(server, "--timeout 1");
    EXPECT_EQ(status, 4) << output;
    EXPECT_LT(seconds_since(t0), 8.0) << output;
    EXPECT_NE(output.find("timeout"), std::string::npos) << output;
}

}  // namespace
}  // namespace imap_test
