// protocol/authority.hpp: host and port of an imap:// or http:// URL, and every refusal with its reason.
#include "protocol/authority.hpp"

#include <string>

#include <gtest/gtest.h>

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace authority_test {

TEST(authority, names_v6_literals_and_ports) {
    std::string err;
    auto hp = uri::parse_host_port("mail.example.test", err);
    ASSERT_TRUE(hp) << err;
    EXPECT_EQ(hp->host, "mail.example.test");
    EXPECT_FALSE(hp->port);
    hp = uri::parse_host_port("127.0.0.1:5232", err);
    ASSERT_TRUE(hp) << err;
    EXPECT_EQ(hp->host, "127.0.0.1");
    EXPECT_EQ(hp->port, 5232);
    hp = uri::parse_host_port("[fe80::1]:65535", err);
    ASSERT_TRUE(hp) << err;
    EXPECT_EQ(hp->host, "fe80::1");
    EXPECT_EQ(hp->port, 65535);
    hp = uri::parse_host_port("[::1]", err);
    ASSERT_TRUE(hp) << err;
    EXPECT_EQ(hp->host, "::1");
    EXPECT_FALSE(hp->port);
}

TEST(authority, refusals_say_why) {
    for (const auto& [text, why] : {std::pair<const char*, const char*>{"", "no host"}, {":143", "no host"},
                                    {"host:", "empty port"}, {"host:0", "invalid port"}, {"host:65536", "invalid port"},
                                    {"host:99999999", "invalid port"}, {"host:12ab", "invalid port"}, {"host:-1", "invalid port"},
                                    {"[::1", "unterminated"}, {"[::1]x", "garbage"}, {"[::g]", "invalid IPv6"},
                                    {"[::1]:", "empty port"}, {"ho st", "invalid character"}, {"h\xc3\xa9", "invalid character"}}) {
        std::string err;
        EXPECT_FALSE(uri::parse_host_port(text, err)) << text;
        EXPECT_NE(err.find(why), std::string::npos) << text << " -> " << err;
    }
}

}  // namespace authority_test
}  // namespace arrival::test
