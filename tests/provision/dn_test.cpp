#include "provision/dn.hpp"

#include <gtest/gtest.h>

#include "provision/ldif_errc.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace dn_test {
using namespace arrival::provision;

std::string norm(std::string_view s) {
    std::string out;
    EXPECT_FALSE(normalize_dn(s, out)) << s;
    return out;
}

TEST(dn, parses_escapes_and_multi_valued_rdns) {
    dn d;
    ASSERT_FALSE(parse_dn(R"(cn=Smith\, John+uid=js,ou=Sales\2B Co,dc=example,dc=com)", d));
    ASSERT_EQ(d.depth(), 4u);
    ASSERT_EQ(d.rdns()[0].avas.size(), 2u);
    EXPECT_EQ(d.rdns()[0].avas[0].value, "Smith, John");
    EXPECT_EQ(d.rdns()[1].avas[0].value, "Sales+ Co");
    EXPECT_EQ(d.str(), R"(cn=Smith\, John+uid=js,ou=Sales\+ Co,dc=example,dc=com)");
}

TEST(dn, normalization_ignores_case_spaces_and_ava_order) {
    EXPECT_EQ(norm("UID=John,OU=People, DC=Example ,dc=COM"), "uid=john,ou=people,dc=example,dc=com");
    EXPECT_EQ(norm("cn=a+uid=b,dc=x"), norm("uid=B+CN=A,dc=x"));
    EXPECT_EQ(norm("cn=  two   words ,dc=x"), "cn=two words,dc=x");
    EXPECT_EQ(norm(R"(cn=\4A\C3\BCrgen,dc=x)"), "cn=j\xC3\xBCrgen,dc=x");
    EXPECT_EQ(norm("cn=#04024869,dc=x"), "cn=#04024869,dc=x");
    EXPECT_EQ(norm("oid.2.5.4.3=a"), "2.5.4.3=a");
    EXPECT_EQ(norm(""), "");
    // caseIgnoreMatch drops trailing spaces, escaped or not, when comparing.
    EXPECT_EQ(norm(R"(cn=a\ ,dc=x)"), norm("cn=a,dc=x"));
}

TEST(dn, rejects_malformed) {
    dn d;
    for (const char* bad : {"cn", "cn=a,", ",cn=a", "=a", "cn=a,,dc=x", "c n=a", "cn=a\"b", R"(cn=a\zz)",
                            R"(cn=a\)", "cn=#123", "1.=a", "cn=<a>"}) {
        EXPECT_EQ(parse_dn(bad, d), ldif_errc::bad_dn) << bad;
    }
}

TEST(dn, parent_depth_and_rdn_value_on_normalized_strings) {
    const auto n = norm(R"(cn=a\,b,ou=people,dc=x)");
    EXPECT_EQ(parent_ndn(n), "ou=people,dc=x");
    EXPECT_EQ(ndn_depth(n), 3u);
    EXPECT_EQ(rdn_value(n), "a,b");
    EXPECT_EQ(parent_ndn("dc=x"), "");
    dn d, p;
    ASSERT_FALSE(parse_dn("uid=u,ou=people,dc=x", d));
    ASSERT_FALSE(parse_dn("DC=X", p));
    EXPECT_TRUE(d.is_under(p));
    EXPECT_FALSE(p.is_under(d));
    EXPECT_EQ(d.parent().str(), "ou=people,dc=x");
}

TEST(dn, escape_round_trips) {
    for (std::string v : std::vector<std::string>{" lead", "trail ", "#hash", "a,b+c=d;e<f>g\"h\\i", std::string("nul\0x", 5)}) {
        dn d;
        ASSERT_FALSE(parse_dn("cn=" + escape_dn_value(v), d)) << v;
        EXPECT_EQ(d.rdns()[0].avas[0].value, v);
    }
}

}  // namespace
