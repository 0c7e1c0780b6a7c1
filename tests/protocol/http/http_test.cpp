// protocol/http pieces that need no server: URL parsing and resolution, multistatus parsing (namespaces
// under any prefix), request builders, basic-auth encoding, error classification.
#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

#include "protocol/http/client.hpp"
#include "protocol/http/multistatus.hpp"
#include "protocol/http/url.hpp"
#include "protocol/http/webdav.hpp"

namespace arrival::http {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace http_test {

TEST(url, parse) {
    std::string err;
    auto u = parse_url("https://dav.example.test/remote.php/dav/{user}/", err);
    ASSERT_TRUE(u) << err;
    EXPECT_TRUE(u->tls);
    EXPECT_EQ(u->host, "dav.example.test");
    EXPECT_EQ(u->port, "443");
    EXPECT_EQ(u->target, "/remote.php/dav/{user}/");
    EXPECT_EQ(u->host_header(), "dav.example.test");
    u = parse_url("http://127.0.0.1:5232", err);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->target, "/");
    EXPECT_EQ(u->str(), "http://127.0.0.1:5232/");
    u = parse_url("http://[::1]:8080/x", err);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->host, "::1");
    EXPECT_EQ(u->host_header(), "[::1]:8080");
    EXPECT_FALSE(parse_url("ftp://x/", err));
    EXPECT_FALSE(parse_url("https://admin:secret@x/", err));
    EXPECT_EQ(err.find("secret"), std::string::npos);
    EXPECT_FALSE(parse_url("http://x:99999999/", err));
    EXPECT_FALSE(parse_url("http:///path", err));
}

TEST(url, resolve_and_encode) {
    std::string err;
    const auto base = *parse_url("http://h:1/a/b/", err);
    EXPECT_EQ(resolve(base, "/user%40x/").target, "/user%40x/");
    EXPECT_EQ(resolve(base, "c/").target, "/a/b/c/");
    const auto abs = resolve(base, "https://other/z");
    EXPECT_TRUE(abs.tls);
    EXPECT_EQ(abs.host, "other");
    EXPECT_EQ(join_target("/c", "r.ics"), "/c/r.ics");
    EXPECT_EQ(join_target("/c/", "r.ics"), "/c/r.ics");
}

TEST(multistatus, radicale_style_with_default_namespace) {
    const std::string body =
        R"(<?xml version='1.0' encoding='utf-8'?>)"
        R"(<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav">)"
        R"(<response><href>/user%40x/</href><propstat><prop><resourcetype><collection/></resourcetype>)"
        R"(<C:calendar-home-set><href>/user%40x/</href></C:calendar-home-set></prop><status>HTTP/1.1 200 OK</status>)"
        R"(</propstat><propstat><prop><CR:supported-address-data/></prop><status>HTTP/1.1 404 Not Found</status>)"
        R"(</propstat></response>)"
        R"(<response><href>/user%40x/cal/</href><propstat><prop><resourcetype><collection/><C:calendar/></resourcetype>)"
        R"(<C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/>)"
        R"(</C:supported-calendar-component-set><displayname>Work &amp; Life</displayname></prop>)"
        R"(<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>)";
    std::vector<dav_response> out;
    ASSERT_EQ(parse_multistatus(body, out), "");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].href, "/user%40x/");
    const auto* home = out[0].prop("urn:ietf:params:xml:ns:caldav calendar-home-set");
    ASSERT_NE(home, nullptr);
    EXPECT_EQ(home->hrefs, std::vector<std::string>{"/user%40x/"});
    EXPECT_EQ(out[0].prop("urn:ietf:params:xml:ns:carddav supported-address-data"), nullptr);  // 404 propstat
    const auto* rt = out[1].prop("DAV: resourcetype");
    ASSERT_NE(rt, nullptr);
    EXPECT_TRUE(rt->has_child("urn:ietf:params:xml:ns:caldav calendar"));
    const auto* comps = out[1].prop("urn:ietf:params:xml:ns:caldav supported-calendar-component-set");
    ASSERT_NE(comps, nullptr);
    ASSERT_EQ(comps->children.size(), 2u);
    EXPECT_EQ(comps->children[1].attribute("name"), "VTODO");
    EXPECT_EQ(out[1].prop("DAV: displayname")->text, "Work & Life");
}

TEST(multistatus, other_prefixes_and_errors) {
    std::vector<dav_response> out;
    ASSERT_EQ(parse_multistatus(R"(<d:multistatus xmlns:d="DAV:"><d:response><d:href>/x</d:href>)"
                                R"(<d:status>HTTP/1.1 404 Not Found</d:status></d:response></d:multistatus>)",
                                out),
              "");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].status, 404);
    out.clear();
    const auto err = parse_multistatus("<multistatus xmlns=\"DAV:\"><response>", out);
    EXPECT_NE(err.find("line 1"), std::string::npos);
}

TEST(webdav, request_builders) {
    const auto p = propfind_request("/u/", 1, {"DAV: resourcetype", "urn:ietf:params:xml:ns:caldav calendar-home-set",
                                                "http://example.com/ns x"});
    EXPECT_EQ(p.method, "PROPFIND");
    EXPECT_NE(p.body.find("<D:resourcetype/><C:calendar-home-set/><x xmlns=\"http://example.com/ns\"/>"),
              std::string::npos);
    std::vector<dav_response> ignored;
    EXPECT_EQ(parse_multistatus(p.body, ignored), "");  // well-formed XML
    const auto m = mkcalendar_request("/u/cal/", "A <b> & c");
    EXPECT_EQ(m.method, "MKCALENDAR");
    EXPECT_NE(m.body.find("<D:displayname>A &lt;b&gt; &amp; c</D:displayname>"), std::string::npos);
    EXPECT_EQ(parse_multistatus(m.body, ignored), "");
    const auto put = put_new_request("/u/cal/x.ics", "text/calendar", "BODY");
    ASSERT_EQ(put.headers.size(), 2u);
    EXPECT_EQ(put.headers[1], (std::pair<std::string, std::string>{"If-None-Match", "*"}));
    EXPECT_EQ(excerpt("  <a>\n\n  b </a>  "), "<a> b </a>");
    EXPECT_EQ(excerpt(std::string(300, 'x'), 10), "xxxxxxxxxx...");
}

TEST(client, basic_auth_and_classification) {
    EXPECT_EQ(basic_authorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    EXPECT_TRUE(is_transient_status(503));
    EXPECT_TRUE(is_transient_status(429));
    EXPECT_FALSE(is_transient_status(412));
    EXPECT_FALSE(is_transient_status(401));
    EXPECT_TRUE(is_transient(boost::asio::error::connection_reset));
    EXPECT_TRUE(is_transient(boost::beast::error::timeout));
    EXPECT_FALSE(is_transient(boost::asio::error::host_not_found));
    EXPECT_FALSE(is_transient({}));
}

// The one classification of an HTTP exchange that gave up (protocol/failure.hpp): the error code first, then
// the status.
TEST(client, classify_is_the_failure_model) {
    namespace ae = boost::asio::error;
    EXPECT_EQ(classify(ae::connection_refused, 0), failure::unreachable);
    EXPECT_EQ(classify(ae::host_not_found, 0), failure::unreachable);
    EXPECT_EQ(classify(boost::beast::error::timeout, 0), failure::unreachable);
    EXPECT_EQ(classify(ae::connection_reset, 0), failure::transient);
    EXPECT_EQ(classify(ae::eof, 200), failure::transient);   // the code wins over a status
    EXPECT_EQ(classify(boost::asio::ssl::error::stream_truncated, 0), failure::transient);
    EXPECT_EQ(classify(boost::system::error_code(336134278, boost::asio::error::get_ssl_category()), 0), failure::tls);
    EXPECT_EQ(classify({}, 401), failure::auth);
    EXPECT_EQ(classify({}, 403), failure::auth);
    EXPECT_EQ(classify({}, 503), failure::transient);
    EXPECT_EQ(classify({}, 429), failure::transient);
    EXPECT_EQ(classify({}, 404), failure::refused);
    EXPECT_EQ(classify({}, 507), failure::protocol);
    EXPECT_EQ(classify({}, 207), failure::protocol);
}

}  // namespace
}  // namespace arrival::http
