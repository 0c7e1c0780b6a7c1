// imap:// and imaps:// parsing: defaults, ports, IPv6, and the refusals (with messages that never echo
// credentials).
#include "protocol/imap/url.hpp"

#include <gtest/gtest.h>

#include "protocol/imap/session_state.hpp"

namespace arrival::imap {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace url_test {

TEST(url, defaults_and_explicit_ports) {
    std::string err;
    auto u = parse_imap_url("imap://mail.example.test", err);
    ASSERT_TRUE(u) << err;
    EXPECT_EQ(u->host, "mail.example.test");
    EXPECT_EQ(u->port, 143);
    EXPECT_EQ(u->tls, tls_mode::starttls_required);
    EXPECT_EQ(u->str(), "imap://mail.example.test:143");

    u = parse_imap_url("IMAPS://127.0.0.1:10993/", err);
    ASSERT_TRUE(u) << err;
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_EQ(u->port, 10993);
    EXPECT_EQ(u->tls, tls_mode::implicit);
    EXPECT_EQ(u->str(), "imaps://127.0.0.1:10993");
}

TEST(url, ipv6_literal) {
    std::string err;
    auto u = parse_imap_url("imaps://[::1]:993", err);
    ASSERT_TRUE(u) << err;
    EXPECT_EQ(u->host, "::1");
    EXPECT_EQ(u->str(), "imaps://[::1]:993");
    u = parse_imap_url("imap://[fe80::1]", err);
    ASSERT_TRUE(u) << err;
    EXPECT_EQ(u->port, 143);
}

TEST(url, refusals) {
    struct bad {
        const char* text;
        const char* why;
    };
    for (const auto& b : {bad{"http://x", "imap://"}, bad{"imap://", "no host"}, bad{"imap://:143", "no host"},
                          bad{"imap://host:", "empty port"}, bad{"imap://host:0", "invalid port"},
                          bad{"imap://host:65536", "invalid port"}, bad{"imap://host:12ab", "invalid port"},
                          bad{"imap://host/INBOX", "server only"}, bad{"imap://host?x=1", "server only"},
                          bad{"imap://[::1", "unterminated"}, bad{"imap://[::1]x", "garbage"},
                          bad{"imap://ho st", "invalid character"}}) {
        std::string err;
        EXPECT_FALSE(parse_imap_url(b.text, err)) << b.text;
        EXPECT_NE(err.find(b.why), std::string::npos) << b.text << " -> " << err;
    }
}

TEST(url, credentials_are_refused_without_echo) {
    std::string err;
    EXPECT_FALSE(parse_imap_url("imaps://bob:hunter2@mail.example.test", err));
    EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
    EXPECT_EQ(err.find("bob"), std::string::npos) << err;
    EXPECT_NE(err.find("--password-file"), std::string::npos) << err;
}

TEST(session_state, capabilities_are_replaced_and_case_insensitive) {
    session_state s;
    s.set_capabilities({"IMAP4rev1", "STARTTLS", "AUTH=PLAIN", "APPENDLIMIT=35651584"});
    EXPECT_TRUE(s.has("starttls"));
    EXPECT_TRUE(s.has("auth=plain"));
    EXPECT_FALSE(s.has("AUTH"));
    EXPECT_EQ(s.value_of("appendlimit"), "35651584");
    EXPECT_EQ(s.value_of("AUTH"), "PLAIN");
    s.set_capabilities({"IMAP4rev1", "UIDPLUS"});
    EXPECT_FALSE(s.has("STARTTLS"));  // replaced, not merged (RFC 3501 §6.2.1)
    EXPECT_TRUE(s.has("UIDPLUS"));
    EXPECT_EQ(s.value_of("APPENDLIMIT"), std::nullopt);
}

}  // namespace
}  // namespace arrival::imap
