#include "provision/directory_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "provision/dn.hpp"
#include "test_util.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace directory_model_test {
using namespace arrival::provision;

TEST(directory_model, base_entries_for_an_empty_carbonio_and_parents_first_order) {
    auto m = test::model_of(R"(dn: uid=a,ou=people,dc=acme,dc=co,dc=uk
objectClass: zimbraAccount
uid: a

dn: dc=acme,dc=co,dc=uk
objectClass: dcObject
objectClass: organization
objectClass: zimbraDomain
dc: acme
zimbraDomainName: acme.co.uk

dn: cn=zimbra
objectClass: organizationalRole
cn: zimbra
description: from the input, kept
)");
    m.add_base_entries();
    m.order();
    std::vector<std::string> dns;
    m.for_each([&](std::size_t, const entry& e) { dns.push_back(e.dn()); });
    // cn=zimbra came from the input and is not duplicated; dc=uk and dc=co,dc=uk are added.
    EXPECT_EQ(std::count(dns.begin(), dns.end(), "cn=zimbra"), 1);
    EXPECT_EQ(test::by_dn(m, "cn=zimbra").first("description"), "from the input, kept");
    EXPECT_FALSE(test::by_dn(m, "cn=zimbra").create_only);
    const auto& uk = test::by_dn(m, "dc=uk");
    EXPECT_TRUE(uk.create_only);
    EXPECT_TRUE(uk.has_class("dcObject"));
    EXPECT_EQ(uk.first("o"), "uk");
    EXPECT_TRUE(test::by_dn(m, "cn=cos,cn=zimbra").create_only);
    EXPECT_TRUE(test::by_dn(m, "ou=people,dc=acme,dc=co,dc=uk").create_only);
    EXPECT_TRUE(test::by_dn(m, "cn=groups,dc=acme,dc=co,dc=uk").create_only);
    // Every entry comes after its parent.
    for (std::size_t i = 0; i < m.size(); ++i) {
        const std::string ndn = m.ndn(i);
        const auto parent = parent_ndn(ndn);
        if (parent.empty()) continue;
        bool before = false;
        for (std::size_t j = 0; j < i; ++j) before = before || m.ndn(j) == parent;
        EXPECT_TRUE(before) << m.at(i).dn();
    }
}

TEST(directory_model, classify_by_object_class) {
    auto m = test::model_of("dn: cn=a\nobjectClass: zimbraCOS\n\ndn: cn=b\nobjectClass: ZIMBRAACCOUNT\n\n"
                            "dn: cn=c\nobjectClass: zimbraServer\n\ndn: cn=d\nobjectClass: inetOrgPerson\n\n"
                            "dn: cn=e\nobjectClass: device\n");
    EXPECT_EQ(m.kind(0), entry_kind::cos);
    EXPECT_EQ(m.kind(1), entry_kind::account);
    EXPECT_EQ(m.kind(2), entry_kind::server);
    EXPECT_EQ(m.kind(3), entry_kind::person);
    EXPECT_EQ(m.kind(4), entry_kind::other);
    EXPECT_EQ(domain_dn("a.b-c.test"), "dc=a,dc=b-c,dc=test");
    EXPECT_EQ(domain_of("X@Acme.Test"), "acme.test");
}

}  // namespace
