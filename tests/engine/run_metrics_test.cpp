// engine/run_metrics.hpp (the exposition) and protocol/http/metrics_server.hpp (served over a real loopback
// socket). The scrape of a real migrate run is tests/integration/metrics_test.py.
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "engine/run_metrics.hpp"
#include "protocol/http/metrics_server.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace run_metrics_test {

using namespace arrival;

namespace {

// name{labels} -> value, for every sample line; the # lines checked to come as HELP then TYPE per name.
std::map<std::string, double> samples(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto sp = line.rfind(' ');
        out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
    return out;
}

std::string http_get(std::uint16_t port, const std::string& request) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    boost::asio::write(s, boost::asio::buffer(request));
    std::string reply;
    boost::system::error_code ec;
    boost::asio::read(s, boost::asio::dynamic_buffer(reply), ec);   // the server closes: "Connection: close"
    return reply;
}

}  // namespace

TEST(run_metrics, counters_and_histograms_render_with_help_and_type) {
    engine::run_metrics m;
    m.account_started();
    m.copied(3, 300);
    m.copied(2, 200);
    m.message_failed();
    m.in_flight(7);
    m.concurrency_window(6);
    m.in_flight(-2);
    m.observe(engine::server_side::destination, engine::imap_operation::append, 0.03);
    m.observe(engine::server_side::destination, engine::imap_operation::append, 120);
    m.checked(engine::check_command::verify, 40);
    m.checked(engine::check_command::preflight, 9);
    m.checked(engine::check_command::verify, 2);
    m.differences(engine::difference_kind::missing, 3);
    m.differences(engine::difference_kind::flags, 1);
    const auto text = m.render();
    const auto v = samples(text);
    EXPECT_EQ(v.at("arrival_messages_copied_total"), 5);
    EXPECT_EQ(v.at("arrival_bytes_copied_total"), 500);
    EXPECT_EQ(v.at("arrival_errors_total{kind=\"message\"}"), 1);
    EXPECT_EQ(v.at("arrival_errors_total{kind=\"account\"}"), 0);
    EXPECT_EQ(v.at("arrival_messages_in_flight"), 5);
    EXPECT_EQ(v.at("arrival_accounts_active"), 1);
    EXPECT_EQ(v.at("arrival_concurrency_window"), 6);
    EXPECT_EQ(v.at("arrival_messages_checked_total{command=\"verify\"}"), 42);
    EXPECT_EQ(v.at("arrival_messages_checked_total{command=\"preflight\"}"), 9);
    EXPECT_EQ(v.at("arrival_verify_differences_total{kind=\"missing\"}"), 3);
    EXPECT_EQ(v.at("arrival_verify_differences_total{kind=\"flags\"}"), 1);
    EXPECT_EQ(v.at("arrival_verify_differences_total{kind=\"bytes\"}"), 0);
    const std::string h = "arrival_imap_latency_seconds";
    const std::string l = "server=\"destination\",operation=\"append\"";
    EXPECT_EQ(v.at(h + "_bucket{" + l + ",le=\"0.025\"}"), 0);
    EXPECT_EQ(v.at(h + "_bucket{" + l + ",le=\"0.05\"}"), 1);    // cumulative from here on
    EXPECT_EQ(v.at(h + "_bucket{" + l + ",le=\"60\"}"), 1);      // 120 s is past every bound
    EXPECT_EQ(v.at(h + "_bucket{" + l + ",le=\"+Inf\"}"), 2);
    EXPECT_EQ(v.at(h + "_count{" + l + "}"), 2);
    EXPECT_DOUBLE_EQ(v.at(h + "_sum{" + l + "}"), 120.03);
    EXPECT_EQ(v.at(h + "_count{server=\"source\",operation=\"fetch\"}"), 0);
    for (const auto name : engine::run_metrics::names()) {
        const auto help = text.find("# HELP " + std::string(name) + " ");
        const auto type = text.find("# TYPE " + std::string(name) + " ");
        ASSERT_NE(help, std::string::npos) << name;
        EXPECT_LT(help, type) << name;
    }
    m.account_finished(false);
    EXPECT_EQ(samples(m.render()).at("arrival_accounts_active"), 0);
    EXPECT_EQ(samples(m.render()).at("arrival_accounts_done_total"), 1);
    EXPECT_EQ(samples(m.render()).at("arrival_errors_total{kind=\"account\"}"), 1);   // it ended not ok
}

TEST(metrics_server, listen_address_defaults_to_loopback_and_rejects_nonsense) {
    const auto a = http::parse_listen_address(":9464");
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 9464);
    EXPECT_EQ(http::parse_listen_address("0.0.0.0:1").host, "0.0.0.0");
    EXPECT_EQ(http::parse_listen_address("[::1]:9464").host, "::1");
    EXPECT_EQ(http::parse_listen_address("localhost:0").host, "127.0.0.1");
    for (const char* bad : {"9464", ":", ":65536", ":94x", "example.com:9464", ""}) {
        EXPECT_THROW((void)http::parse_listen_address(bad), std::invalid_argument) << bad;
    }
}

TEST(metrics_server, serves_the_render_at_slash_metrics_and_nothing_else) {
    int calls = 0;
    http::metrics_server server(http::parse_listen_address(":0"), [&] {
        ++calls;
        return std::string("arrival_up 1\n");
    });
    ASSERT_NE(server.port(), 0);
    EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.port()) + "/metrics");
    const auto ok = http_get(server.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
    EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos) << ok;
    EXPECT_EQ(ok.substr(ok.size() - 13), "arrival_up 1\n");
    EXPECT_EQ(calls, 1);
    const auto missing = http_get(server.port(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(missing.rfind("HTTP/1.1 404", 0), 0u) << missing;
    const auto post = http_get(server.port(), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(post.rfind("HTTP/1.1 405", 0), 0u) << post;
    EXPECT_EQ(calls, 1);
    // Garbage is dropped without taking the server down.
    (void)http_get(server.port(), "\x01\x02 nonsense\r\n\r\n");
    EXPECT_EQ(http_get(server.port(), "GET /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 200", 0), 0u);
}

TEST(metrics_server, a_port_in_use_is_a_clear_error) {
    http::metrics_server first(http::parse_listen_address(":0"), [] { return std::string(); });
    try {
        http::metrics_server second(http::parse_listen_address(":" + std::to_string(first.port())), [] { return std::string(); });
        FAIL() << "bound twice";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(first.port())), std::string::npos) << e.what();
    }
}

}  // namespace run_metrics_test
