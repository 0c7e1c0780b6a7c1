// The byte pipe under an IMAP connection: TCP, optionally TLS from the start (imaps://) or switched to TLS
// on the same socket after STARTTLS (the `use_tls` switch of Boost.MySQL's stream adaptor). Certificates and
// the host name are verified unless the caller explicitly opts out, by the rules of protocol/tls_policy.hpp.
// Connect, handshake, write and shutdown carry their own timeout on the lowest layer
// (beast::tcp_stream::expires_after); the read side is timed by the connection, which knows whether a reply
// is expected (read timeout) or the line is idle (idle timeout).
//
// Calling order: async_connect -> [async_handshake] -> any number of concurrent {one read, one write} ->
// [async_shutdown] -> close. All calls on the executor the transport was built with (one strand).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace arrival::imap {

class transport {
public:
    using executor_type = boost::asio::any_io_executor;
    using clock = std::chrono::steady_clock;

    transport(executor_type ex, std::shared_ptr<boost::asio::ssl::context> ctx);

    [[nodiscard]] executor_type get_executor() { return stream_.get_executor(); }

    // Resolves host and connects to the first address that answers, within `timeout` overall.
    boost::asio::awaitable<void> async_connect(const std::string& host, std::uint16_t port, clock::duration timeout,
                                               boost::system::error_code& ec);

    // TLS client handshake with SNI and host-name verification against `host` (DNS name or IP literal), as
    // tls::name_peer sets them. On a verification failure, ec is set and tls_failure() explains it (e.g.
    // "self-signed certificate in certificate chain", "hostname mismatch"). After success every read and write
    // goes through TLS.
    boost::asio::awaitable<void> async_handshake(const std::string& host, clock::duration timeout,
                                                 boost::system::error_code& ec);

    // No timeout of its own: see the header comment.
    boost::asio::awaitable<std::size_t> async_read_some(boost::asio::mutable_buffer buf, boost::system::error_code& ec);
    boost::asio::awaitable<std::size_t> async_write_some(boost::asio::const_buffer buf, clock::duration timeout,
                                                         boost::system::error_code& ec);

    // TLS close_notify (when TLS is on), then the socket is closed. Errors are not interesting at this point.
    boost::asio::awaitable<void> async_shutdown(clock::duration timeout);

    // Closes the socket now: pending reads and writes complete with operation_aborted.
    void close() noexcept;

    [[nodiscard]] bool tls() const noexcept { return use_tls_; }
    [[nodiscard]] bool is_open() const noexcept { return stream_.next_layer().socket().is_open(); }
    [[nodiscard]] const std::string& tls_failure() const noexcept { return tls_failure_; }
    // Protocol and cipher after the handshake, e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384".
    [[nodiscard]] std::string tls_description() const;

private:
    std::shared_ptr<boost::asio::ssl::context> ctx_;
    boost::asio::ssl::stream<boost::beast::tcp_stream> stream_;
    bool use_tls_ = false;
    std::string tls_failure_;
};

}  // namespace arrival::imap
