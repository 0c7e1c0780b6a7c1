#include <utility>

#include "protocol/http/metrics_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace arrival::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

listen_address parse_listen_address(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) throw std::invalid_argument(fmt::format("'{}' is not HOST:PORT or :PORT", text));
    std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
        throw std::invalid_argument(fmt::format("'{}': the port must be a number from 0 to 65535", text));
    listen_address out{host.empty() ? "127.0.0.1" : std::string(host), static_cast<std::uint16_t>(value)};
    if (out.host == "localhost") out.host = "127.0.0.1";
    error_code bad;
    (void)net::ip::make_address(out.host, bad);
    if (bad) throw std::invalid_argument(fmt::format("'{}': '{}' is not an IP address (give 127.0.0.1, 0.0.0.0, ::1, ...)", text, out.host));
    return out;
}

struct metrics_server::impl {
    net::io_context io{1};
    tcp::acceptor acceptor{io};
    std::function<std::string()> render;
    std::string content_type;
    std::string host;
    std::uint16_t port = 0;
    std::thread thread;
};

namespace {

bhttp::response<bhttp::string_body> answer(const bhttp::request<bhttp::string_body>& req, const std::function<std::string()>& render,
                                            const std::string& content_type) {
    bhttp::response<bhttp::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(bhttp::field::server, "arrival");
    const std::string_view target(req.target().data(), req.target().size());
    const auto path = target.substr(0, target.find('?'));
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
        res.result(bhttp::status::method_not_allowed);
        res.set(bhttp::field::allow, "GET, HEAD");
        res.set(bhttp::field::content_type, "text/plain");
        res.body() = "only GET\n";
    } else if (path != "/metrics") {
        res.result(bhttp::status::not_found);
        res.set(bhttp::field::content_type, "text/plain");
        res.body() = "the metrics are at /metrics\n";
    } else {
        res.result(bhttp::status::ok);
        res.set(bhttp::field::content_type, content_type);
        res.body() = render();
    }
    res.prepare_payload();
    if (req.method() == bhttp::verb::head) res.body().clear();
    return res;
}

net::awaitable<void> serve(metrics_server::impl& s, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    error_code ec;
    for (;;) {
        bhttp::request<bhttp::string_body> req;
        stream.expires_after(std::chrono::seconds(10));
        co_await bhttp::async_read(stream, buffer, req, net::redirect_error(net::use_awaitable, ec));
        if (ec) break;
        auto res = answer(req, s.render, s.content_type);
        stream.expires_after(std::chrono::seconds(10));
        co_await bhttp::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
        if (ec || !res.keep_alive()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

net::awaitable<void> accept_loop(metrics_server::impl& s) {
    for (;;) {
        error_code ec;
        tcp::socket socket = co_await s.acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            if (ec == net::error::operation_aborted || !s.acceptor.is_open()) co_return;
            continue;   // a connection reset before accept: keep serving
        }
        net::co_spawn(s.io, serve(s, std::move(socket)), net::detached);
    }
}

}  // namespace

metrics_server::metrics_server(const listen_address& where, std::function<std::string()> render, std::string content_type)
    : impl_(std::make_unique<impl>()) {
    impl_->render = std::move(render);
    impl_->content_type = std::move(content_type);
    impl_->host = where.host;
    try {
        const tcp::endpoint ep(net::ip::make_address(where.host), where.port);
        impl_->acceptor.open(ep.protocol());
        impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
        impl_->acceptor.bind(ep);
        impl_->acceptor.listen();
        impl_->port = impl_->acceptor.local_endpoint().port();
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error(fmt::format("cannot listen on {}:{} for metrics: {}", where.host, where.port, e.code().message()));
    }
    net::co_spawn(impl_->io, accept_loop(*impl_), net::detached);
    impl_->thread = std::thread([io = &impl_->io] { io->run(); });
}

metrics_server::~metrics_server() {
    net::post(impl_->io, [s = impl_.get()] {
        error_code ec;
        s->acceptor.close(ec);
        s->io.stop();
    });
    if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t metrics_server::port() const noexcept { return impl_->port; }

std::string metrics_server::url() const {
    const bool v6 = impl_->host.find(':') != std::string::npos;
    return fmt::format("http://{}{}{}:{}/metrics", v6 ? "[" : "", impl_->host, v6 ? "]" : "", impl_->port);
}

}  // namespace arrival::http
