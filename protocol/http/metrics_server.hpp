// A minimal HTTP/1.1 server for one text page: `GET /metrics` answered with what `render()` returns (the
// Prometheus text format, engine/run_metrics.hpp), for `--metrics ADDR:PORT`. Any long command can start one
// (migrate does; `arrival run` may keep one across its stages).
//
// It runs on one small thread of its own, which does nothing but run its io_context: the accept loop and each
// connection are coroutines on it, so no thread ever blocks on a socket. Each connection is read with a 10 s
// timeout, answered (keep-alive honoured), and closed on error. Every other path is 404, every other method 405.
// render() is called on that thread: it must be safe against the jobs' updates (run_metrics uses atomics).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace arrival::http {

struct listen_address {
    std::string host;
    std::uint16_t port = 0;
};
// "HOST:PORT", "[V6]:PORT" or ":PORT" (then loopback, 127.0.0.1: a run's figures are nobody else's business
// unless the admin says 0.0.0.0). PORT 0 picks a free port. Throws std::invalid_argument saying what is wrong.
[[nodiscard]] listen_address parse_listen_address(std::string_view text);

class metrics_server {
public:
    // Binds and starts serving. Throws std::runtime_error naming the address when it cannot bind.
    metrics_server(const listen_address& where, std::function<std::string()> render,
                   std::string content_type = "text/plain; version=0.0.4; charset=utf-8");
    ~metrics_server();   // stops accepting, closes connections, joins the thread
    metrics_server(const metrics_server&) = delete;
    metrics_server& operator=(const metrics_server&) = delete;

    // The port actually bound (the one asked for, or the free one picked for 0).
    [[nodiscard]] std::uint16_t port() const noexcept;
    // "http://HOST:PORT/metrics"
    [[nodiscard]] std::string url() const;

    struct impl;   // the io_context, acceptor and thread (metrics_server.cpp)

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace arrival::http
