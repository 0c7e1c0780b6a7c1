// An HTTP/1.1 client connection (Boost.Beast over Asio, plain or TLS) for the WebDAV and REST calls of the
// calendars/contacts stages. One `client` is one keep-alive connection to one origin, used by one coroutine
// at a time; concurrency comes from one client per user job.
//
// TLS follows protocol/tls_policy.hpp (as IMAP does): verified by default against --ca-file, which replaces the
// system trust store, host name checked, SNI set; the context comes from tls::make_client_context.
// Timeouts: one per logical step (connect, TLS handshake, write, read) on the lowest layer, as the Beast
// examples do; a timed-out step closes the socket and returns beast::error::timeout.
// A request that fails on a reused connection because the server had already closed it (keep-alive race)
// is sent once more on a fresh connection; every other failure is returned to the caller.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include "protocol/failure.hpp"
#include "protocol/http/url.hpp"

namespace arrival::http {

struct timeouts {
    std::chrono::milliseconds connect{15000};
    std::chrono::milliseconds io{120000};  // per write or read of one request/response
};

struct request {
    std::string method;   // "GET", "PUT", "PROPFIND", "MKCALENDAR", ...
    std::string target;   // percent-encoded path and query
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct response {
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    [[nodiscard]] std::string_view header(std::string_view name) const;  // case-insensitive; "" if absent
};

// "Basic base64(user:password)" (RFC 7617). The result is a credential: never log it.
[[nodiscard]] std::string basic_authorization(std::string_view user, std::string_view password);

class client {
public:
    // `authorization` is sent on every request when not empty. `tls` is required for https origins.
    client(boost::asio::any_io_executor ex, url origin, std::shared_ptr<boost::asio::ssl::context> tls,
           std::string authorization, timeouts t = {});
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Sends one request and reads the whole response. Network, TLS and timeout failures come back in `ec`
    // (the response is then empty); any HTTP status, 4xx and 5xx included, is a response with ec clear.
    boost::asio::awaitable<response> async_send(const request& req, boost::system::error_code& ec);

    // The same with the request body streamed from `body_file` (Content-Length = its size; req.body is
    // ignored). Memory stays flat whatever the size: Beast's file_body moves the bytes in small buffers.
    // A file that cannot be opened comes back in `ec` (a std::errc value), before anything is sent.
    boost::asio::awaitable<response> async_upload(const request& req, const std::string& body_file,
                                                  boost::system::error_code& ec);
    // The same with the response body written to `response_file` (created or truncated; response.body stays
    // empty), whatever the status: the caller looks at the status before using the file.
    boost::asio::awaitable<response> async_download(const request& req, const std::string& response_file,
                                                    boost::system::error_code& ec);

    // Closes the connection (TLS close_notify when possible). Safe to call when not connected.
    boost::asio::awaitable<void> async_close();

    [[nodiscard]] const url& origin() const noexcept { return origin_; }

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    url origin_;
};

// What a failed async_send means for the caller.
[[nodiscard]] bool is_tls_error(const boost::system::error_code& ec) noexcept;
// Connection reset/aborted/refused, timeouts, unexpected EOF: worth retrying after a pause.
[[nodiscard]] bool is_transient(const boost::system::error_code& ec) noexcept;
// 408, 429, 500, 502, 503, 504: the server asks us to come back later.
[[nodiscard]] bool is_transient_status(int status) noexcept;
// An exchange's outcome worth retrying: the error code when there is one, else the status.
[[nodiscard]] bool is_transient(const boost::system::error_code& ec, int status) noexcept;

// The one classification of HTTP's failures into the failure model (protocol/failure.hpp), for every caller
// of a REST, WebDAV or file exchange that gave up: the error code when there is one, else the status.
//   TLS errors -> tls; a connection lost mid-exchange (reset, EOF, truncated TLS) -> transient; any other error
//   (refused, DNS, unreachable, timeout) -> unreachable; 401/403 -> auth; 408/429/5xx -> transient;
//   other 4xx -> refused; anything else (a 2xx/3xx the caller could not use) -> protocol.
// SOAP answers are not classified here: their faults come with status 500 and say more (engine/pim).
[[nodiscard]] failure classify(const boost::system::error_code& ec, int status) noexcept;

}  // namespace arrival::http
