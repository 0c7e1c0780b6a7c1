#include "protocol/http/client.hpp"


#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <fmt/format.h>

#include <limits>
#include <stdexcept>
#include "protocol/ascii.hpp"
#include "protocol/base64.hpp"
#include "protocol/tls_policy.hpp"

namespace arrival::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

namespace {


// Errors that mean "the server closed the idle connection before our request arrived".
bool is_stale_connection(const error_code& ec) {
    return ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::ssl::error::stream_truncated ||
           ec == bhttp::error::partial_message;
}

constexpr std::size_t body_limit = std::size_t(512) << 20;  // a huge PROPFIND listing, not an attack

// The response side of every request whose answer is read into memory (async_send, async_upload).
std::unique_ptr<bhttp::response_parser<bhttp::string_body>> string_response_parser(error_code&) {
    auto p = std::make_unique<bhttp::response_parser<bhttp::string_body>>();
    p->body_limit(body_limit);
    return p;
}
void keep_string_body(bhttp::response<bhttp::string_body>& msg, response& out) { out.body = std::move(msg.body()); }

// A request body read from a file in 256 KB pieces. Beast's file_body reads 4 KB at a time, so a 1 GB upload
// would take 262144 write steps; this one takes a sixteenth of the reads (TLS still cuts records at 16 KB).
struct upload_body {
    static constexpr std::size_t piece = std::size_t(256) << 10;
    struct value_type {
        beast::file file;
        std::uint64_t size = 0;
    };
    static std::uint64_t size(const value_type& v) { return v.size; }

    class writer {
    public:
        using const_buffers_type = net::const_buffer;
        template <bool isRequest, class Fields>
        writer(bhttp::header<isRequest, Fields>&, value_type& b)
            : body_(b), remain_(b.size), buf_(std::make_unique<char[]>(piece)) {}
        void init(error_code& ec) { body_.file.seek(0, ec); }
        boost::optional<std::pair<const_buffers_type, bool>> get(error_code& ec) {
            if (remain_ == 0) {
                ec = {};
                return boost::none;
            }
            const auto n = body_.file.read(buf_.get(), static_cast<std::size_t>(std::min<std::uint64_t>(remain_, piece)), ec);
            if (ec) return boost::none;
            if (n == 0) {
                ec = net::error::eof;  // the file shrank while it was sent
                return boost::none;
            }
            remain_ -= n;
            return {{net::const_buffer(buf_.get(), n), remain_ > 0}};
        }

    private:
        value_type& body_;
        std::uint64_t remain_;
        std::unique_ptr<char[]> buf_;
    };
};

}  // namespace

std::string_view response::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (ascii::iequals(k, name)) return v;
    }
    return {};
}

std::string basic_authorization(std::string_view user, std::string_view password) {
    std::string pair;
    pair.reserve(user.size() + 1 + password.size());
    pair.append(user).append(":").append(password);
    auto out = "Basic " + base64::encode(pair);
    std::fill(pair.begin(), pair.end(), '\0');
    return out;
}

struct client::impl {
    net::any_io_executor ex;
    url origin;
    std::shared_ptr<net::ssl::context> tls;
    std::string authorization;
    timeouts t;
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    bool connected = false;
    bool close_asked = false;  // the last response said Connection: close

    // After a response without keep-alive: close (TLS close_notify when possible) before the next request.
    net::awaitable<void> close_if_asked(client& c) {
        if (!close_asked) co_return;
        close_asked = false;
        co_await c.async_close();
    }

    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

    net::awaitable<void> connect(error_code& ec) {
        reset();
        net::ip::tcp::resolver resolver(ex);
        auto endpoints =
            co_await resolver.async_resolve(origin.host, origin.port, net::redirect_error(net::use_awaitable, ec));
        if (ec) co_return;
        if (origin.tls) {
            secure.emplace(ex, *tls);
            std::string detail;  // ec says it as well
            ec = tls::name_peer(secure->native_handle(), origin.host, detail);
            if (ec) co_return;
        } else {
            plain.emplace(ex);
        }
        lowest().expires_after(t.connect);
        co_await lowest().async_connect(endpoints, net::redirect_error(net::use_awaitable, ec));
        if (ec) co_return;
        if (secure) {
            lowest().expires_after(t.connect);
            co_await secure->async_handshake(net::ssl::stream_base::client, net::redirect_error(net::use_awaitable, ec));
            if (ec) {
                // A refused certificate says why ("... unable to get local issuer certificate"), not only
                // "certificate verify failed".
                if (const auto refused = tls::verify_failure(secure->native_handle())) ec = refused;
                co_return;
            }
        }
        connected = true;
    }

    void reset() {
        connected = false;
        buffer.clear();
        if (plain) {
            error_code ignored;
            plain->socket().close(ignored);
        }
        if (secure) {
            error_code ignored;
            beast::get_lowest_layer(*secure).socket().close(ignored);
        }
        plain.reset();
        secure.reset();
    }

    template <class Stream, class ReqBody, class ResBody>
    net::awaitable<void> exchange(Stream& s, bhttp::request<ReqBody>& req, bhttp::response_parser<ResBody>& parser,
                                  error_code& ec) {
        // The io timeout applies to each step; a large body is written (or read) in many steps through a
        // serializer, each restarting the timer, so a 2 GB upload is not cut at `io` seconds.
        bhttp::request_serializer<ReqBody> sr(req);
        while (!sr.is_done()) {
            lowest().expires_after(t.io);
            co_await bhttp::async_write_some(s, sr, net::redirect_error(net::use_awaitable, ec));
            if (ec) co_return;
        }
        while (!parser.is_done()) {
            lowest().expires_after(t.io);
            co_await bhttp::async_read_some(s, buffer, parser, net::redirect_error(net::use_awaitable, ec));
            if (ec) co_return;
        }
    }

    // The request with its body in memory (everything but an upload from a file).
    bhttp::request<bhttp::string_body> string_request(const request& r) const {
        bhttp::request<bhttp::string_body> req;
        prepare(req, r);
        req.body() = r.body;
        req.prepare_payload();
        return req;
    }

    void prepare(bhttp::request_header<>& req, const request& r) const {
        const auto verb = bhttp::string_to_verb(r.method);
        if (verb == bhttp::verb::unknown) req.method_string(r.method);
        else req.method(verb);
        req.target(r.target);
        req.version(11);
        req.set(bhttp::field::host, origin.host_header());
        req.set(bhttp::field::user_agent, "arrival");
        if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
        for (const auto& [k, v] : r.headers) req.set(k, v);
    }

    // One request on the connection (connecting first when needed), sent again once on a fresh connection
    // when a reused one turns out to be closed. `make_request` / `make_parser` build fresh ones per attempt
    // (a file body is reopened).
    template <class MakeRequest, class MakeParser, class Finish>
    net::awaitable<response> send(MakeRequest make_request, MakeParser make_parser, Finish finish, error_code& ec);
};

template <class MakeRequest, class MakeParser, class Finish>
net::awaitable<response> client::impl::send(MakeRequest make_request, MakeParser make_parser, Finish finish,
                                            error_code& ec) {
    for (int attempt = 0;; ++attempt) {
        ec = {};
        const bool fresh = !connected;
        if (fresh) {
            co_await connect(ec);
            if (ec) {
                reset();
                co_return response{};
            }
        }
        auto req = make_request(ec);
        if (ec) co_return response{};
        auto parser = make_parser(ec);
        if (ec) co_return response{};
        if (secure) co_await exchange(*secure, req, *parser, ec);
        else co_await exchange(*plain, req, *parser, ec);
        if (ec) {
            reset();
            if (!fresh && attempt == 0 && is_stale_connection(ec)) continue;
            co_return response{};
        }
        auto& msg = parser->get();
        response out;
        out.status = static_cast<int>(msg.result_int());
        out.reason = std::string(msg.reason());
        for (const auto& f : msg) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        finish(msg, out);
        close_asked = !msg.keep_alive();
        co_return out;
    }
}

client::client(net::any_io_executor ex, url origin, std::shared_ptr<net::ssl::context> tls,
               std::string authorization, timeouts t)
    : impl_(std::make_unique<impl>()), origin_(std::move(origin)) {
    impl_->ex = std::move(ex);
    impl_->origin = origin_;
    impl_->tls = std::move(tls);
    impl_->authorization = std::move(authorization);
    impl_->t = t;
    if (origin_.tls && !impl_->tls) throw std::invalid_argument("https origin without a TLS context");
}

client::~client() { impl_->reset(); }

net::awaitable<response> client::async_send(const request& r, error_code& ec) {
    auto& m = *impl_;
    auto make_request = [&](error_code&) { return m.string_request(r); };
    auto out = co_await m.send(make_request, string_response_parser, keep_string_body, ec);
    co_await m.close_if_asked(*this);
    co_return out;
}

net::awaitable<response> client::async_upload(const request& r, const std::string& body_file, error_code& ec) {
    auto& m = *impl_;
    auto make_request = [&](error_code& e) {
        bhttp::request<upload_body> req;
        m.prepare(req, r);
        req.body().file.open(body_file.c_str(), beast::file_mode::scan, e);
        if (!e) req.body().size = req.body().file.size(e);
        if (!e) req.prepare_payload();
        return req;
    };
    auto out = co_await m.send(make_request, string_response_parser, keep_string_body, ec);
    co_await m.close_if_asked(*this);
    co_return out;
}

net::awaitable<response> client::async_download(const request& r, const std::string& response_file,
                                                error_code& ec) {
    auto& m = *impl_;
    auto make_request = [&](error_code&) { return m.string_request(r); };
    auto make_parser = [&](error_code& e) {
        auto p = std::make_unique<bhttp::response_parser<bhttp::file_body>>();
        // No limit: a file of any size. Not boost::none: Beast 1.74 compares the length with the optional, and
        // every length is greater than an empty one (basic_parser.ipp: `len_ > body_limit_`).
        p->body_limit(std::numeric_limits<std::uint64_t>::max());
        p->get().body().open(response_file.c_str(), beast::file_mode::write, e);
        return p;
    };
    auto finish = [](auto&, response&) {};
    auto out = co_await m.send(make_request, make_parser, finish, ec);
    co_await m.close_if_asked(*this);
    co_return out;
}

net::awaitable<void> client::async_close() {
    auto& m = *impl_;
    if (m.connected && m.secure) {
        error_code ec;
        m.lowest().expires_after(std::chrono::seconds(5));
        // The peer may close without close_notify after a complete response; that is not an error for us
        // (every response we use is self-delimited), so the result is ignored.
        co_await m.secure->async_shutdown(net::redirect_error(net::use_awaitable, ec));
    }
    m.reset();
}

bool is_tls_error(const error_code& ec) noexcept {
    return ec.category() == net::error::get_ssl_category() || ec.category() == net::ssl::error::get_stream_category() ||
           ec.category() == tls::verify_category();
}

namespace {

// The connection went away in the middle of an exchange: reset, aborted, closed before the whole response, or
// TLS cut short. Worth a retry, and transient after the retries (the server was there).
bool lost_mid_exchange(const error_code& ec) noexcept {
    return ec == net::ssl::error::stream_truncated || ec == net::error::connection_reset ||
           ec == net::error::connection_aborted || ec == net::error::broken_pipe || ec == net::error::eof ||
           ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message;
}

}  // namespace

bool is_transient(const error_code& ec) noexcept {
    if (!ec) return false;
    if (lost_mid_exchange(ec)) return true;
    if (is_tls_error(ec)) return false;
    return ec == beast::error::timeout || ec == net::error::connection_refused || ec == net::error::timed_out ||
           ec == net::error::network_unreachable || ec == net::error::host_unreachable || ec == net::error::try_again;
}

bool is_transient(const error_code& ec, int status) noexcept {
    return ec ? is_transient(ec) : is_transient_status(status);
}

failure classify(const error_code& ec, int status) noexcept {
    if (ec) {
        if (lost_mid_exchange(ec)) return failure::transient;
        return is_tls_error(ec) ? failure::tls : failure::unreachable;
    }
    if (status == 401 || status == 403) return failure::auth;
    if (is_transient_status(status)) return failure::transient;
    if (status >= 400 && status < 500) return failure::refused;
    return failure::protocol;
}

bool is_transient_status(int status) noexcept {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

}  // namespace arrival::http
