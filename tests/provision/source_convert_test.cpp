#include "provision/source_convert.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace source_convert_test {
using namespace arrival::provision;

const std::string generic = R"(dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: uid=jdoe,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
objectClass: posixAccount
objectClass: shadowAccount
uid: jdoe
cn: John Doe
sn: Doe
mail: John.Doe@example.org
mail: jd@example.org
uidNumber: 1000
gidNumber: 1000
homeDirectory: /home/jdoe
userPassword: {CRYPT}$6$salt$hash

dn: uid=nomail,ou=people,dc=example,dc=org
objectClass: posixAccount
uid: nomail
cn: x
uidNumber: 1001
gidNumber: 1001
homeDirectory: /home/nomail

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: staff
mail: staff@example.org
member: uid=jdoe,ou=people,dc=example,dc=org
)";

TEST(convert_generic_sources, people_become_accounts_domains_and_lists_follow) {
    std::vector<problem> ps;
    auto m = test::model_of(generic);
    const auto r = convert_generic_sources(m, ps);
    EXPECT_EQ(r.domains, 1u);
    EXPECT_EQ(r.accounts, 1u);
    EXPECT_EQ(r.lists, 1u);
    EXPECT_EQ(r.dropped_values, 3u);  // uidNumber, gidNumber, homeDirectory
    const auto& d = test::by_dn(m, "dc=example,dc=org");
    EXPECT_TRUE(d.has_class("zimbraDomain"));
    EXPECT_EQ(d.first("zimbraDomainName"), "example.org");
    const auto& a = test::by_dn(m, "uid=john.doe,ou=people,dc=example,dc=org");
    EXPECT_EQ(classify(a), entry_kind::account);
    EXPECT_EQ(a.first("userPassword"), "{CRYPT}$6$salt$hash");
    EXPECT_EQ(a.first("zimbraMailDeliveryAddress"), "John.Doe@example.org");
    EXPECT_EQ(a.values("zimbraMailAlias"), (std::vector<std::string_view>{"jd@example.org"}));
    EXPECT_FALSE(a.has("uidNumber"));
    EXPECT_EQ(a.source_address, "john.doe@example.org");
    const auto& l = test::by_dn(m, "uid=staff,ou=people,dc=example,dc=org");
    EXPECT_EQ(l.first("zimbraMailForwardingAddress"), "John.Doe@example.org");
    ASSERT_EQ(ps.size(), 1u);
    EXPECT_EQ(ps[0].code, "person_without_mail");
    EXPECT_EQ(ps[0].line, 25u);
    // Deterministic ids: converting again gives the same zimbraId.
    std::vector<problem> ps2;
    auto m2 = test::model_of(generic);
    convert_generic_sources(m2, ps2);
    EXPECT_EQ(test::by_dn(m2, "uid=john.doe,ou=people,dc=example,dc=org").first("zimbraId"), a.first("zimbraId"));
}

}  // namespace
