#include "protocol/imap/transport.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <openssl/ssl.h>

#include "protocol/tls_policy.hpp"

namespace arrival::imap {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

transport::transport(executor_type ex, std::shared_ptr<ssl::context> ctx)
    : ctx_(std::move(ctx)), stream_(ex, *ctx_) {}

net::awaitable<void> transport::async_connect(const std::string& host, std::uint16_t port, clock::duration timeout,
                                              error_code& ec) {
    net::ip::tcp::resolver resolver(stream_.get_executor());
    auto& tcp = stream_.next_layer();
    // The resolver has no timeout of its own; loopback and /etc/hosts names resolve synchronously enough.
    const auto endpoints = co_await resolver.async_resolve(host, std::to_string(port),
                                                           net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return;
    tcp.expires_after(timeout);
    co_await tcp.async_connect(endpoints, net::redirect_error(net::use_awaitable, ec));
    if (!ec) tcp.socket().set_option(net::ip::tcp::no_delay(true), ec);
}

net::awaitable<void> transport::async_handshake(const std::string& host, clock::duration timeout, error_code& ec) {
    SSL* ssl_handle = stream_.native_handle();
    ec = tls::name_peer(ssl_handle, host, tls_failure_);
    if (ec) co_return;
    stream_.next_layer().expires_after(timeout);
    co_await stream_.async_handshake(ssl::stream_base::client, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
        if (const auto refused = tls::verify_failure(ssl_handle)) {
            tls_failure_ = refused.message();
        } else if (ec == boost::beast::error::timeout) {
            tls_failure_ = "TLS handshake timed out";
        } else {
            tls_failure_ = "TLS handshake failed: " + ec.message();
        }
        co_return;
    }
    use_tls_ = true;
}

net::awaitable<std::size_t> transport::async_read_some(net::mutable_buffer buf, error_code& ec) {
    // Disarm the lowest layer's read timer (it may still hold the connect/handshake expiry); the connection's
    // watchdog decides when silence is too long.
    stream_.next_layer().expires_after(std::chrono::hours(24 * 365));
    if (use_tls_) co_return co_await stream_.async_read_some(buf, net::redirect_error(net::use_awaitable, ec));
    co_return co_await stream_.next_layer().async_read_some(buf, net::redirect_error(net::use_awaitable, ec));
}

net::awaitable<std::size_t> transport::async_write_some(net::const_buffer buf, clock::duration timeout,
                                                        error_code& ec) {
    stream_.next_layer().expires_after(timeout);
    if (use_tls_) co_return co_await stream_.async_write_some(buf, net::redirect_error(net::use_awaitable, ec));
    co_return co_await stream_.next_layer().async_write_some(buf, net::redirect_error(net::use_awaitable, ec));
}

net::awaitable<void> transport::async_shutdown(clock::duration timeout) {
    error_code ec;
    if (use_tls_ && is_open()) {
        stream_.next_layer().expires_after(timeout);
        // After the tagged LOGOUT OK the stream is self-delimited, so a peer that closes without its own
        // close_notify (ssl::error::stream_truncated) loses nothing; the error is ignored on purpose.
        co_await stream_.async_shutdown(net::redirect_error(net::use_awaitable, ec));
    }
    close();
}

void transport::close() noexcept {
    error_code ignored;
    auto& sock = stream_.next_layer().socket();
    if (sock.is_open()) {
        sock.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
        sock.close(ignored);
    }
}

std::string transport::tls_description() const {
    if (!use_tls_) return "none";
    SSL* s = const_cast<ssl::stream<boost::beast::tcp_stream>&>(stream_).native_handle();
    std::string out = SSL_get_version(s);
    if (const SSL_CIPHER* c = SSL_get_current_cipher(s)) {
        out += ' ';
        out += SSL_CIPHER_get_name(c);
    }
    return out;
}

}  // namespace arrival::imap
