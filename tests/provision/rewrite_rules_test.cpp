#include "provision/rewrite_rules.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace rewrite_rules_test {
using namespace arrival::provision;
using test::by_dn;
using test::model_of;

const std::string text = R"(dn: dc=old,dc=example
objectClass: dcObject
objectClass: organization
objectClass: zimbraDomain
dc: old
o: old.example
zimbraDomainName: old.example

dn: uid=ann,ou=people,dc=old,dc=example
objectClass: zimbraAccount
uid: ann
mail: Ann@Old.Example
zimbraMailDeliveryAddress: ann@old.example
zimbraMailCatchAllAddress: @old.example
zimbraPrefFromAddress: ann@old.example.org
zimbraMailHost: mbox1.old.example
zimbraMailTransport: lmtp:mbox1.old.example:7025
userPassword: {CRYPT}$6$x@old.example
seeAlso: uid=bob,ou=people,dc=old,dc=example

dn: cn=config,cn=zimbra
objectClass: zimbraGlobalConfig
objectClass: organizationalRole
cn: config

dn: cn=mime,cn=config,cn=zimbra
objectClass: organizationalRole
cn: mime
)";

TEST(rename_domains, renames_dns_addresses_and_domain_values) {
    auto m = model_of(text);
    domain_rename r;
    std::string err;
    ASSERT_TRUE(parse_domain_rename("old.example=acme.corp", r, err)) << err;
    EXPECT_EQ(rename_domains(m, {r}), 2u);
    const auto& d = by_dn(m, "dc=acme,dc=corp");
    EXPECT_EQ(d.first("dc"), "acme");
    EXPECT_EQ(d.first("zimbraDomainName"), "acme.corp");
    EXPECT_EQ(d.first("o"), "acme.corp");
    const auto& a = by_dn(m, "uid=ann,ou=people,dc=acme,dc=corp");
    EXPECT_EQ(a.dn(), "uid=ann,ou=people,dc=acme,dc=corp");
    EXPECT_EQ(a.first("mail"), "Ann@acme.corp");
    EXPECT_EQ(a.first("zimbraMailCatchAllAddress"), "@acme.corp");
    EXPECT_EQ(a.first("zimbraPrefFromAddress"), "ann@old.example.org");  // another domain: untouched
    EXPECT_EQ(a.first("userPassword"), "{CRYPT}$6$x@old.example");       // hashes are never rewritten
    EXPECT_EQ(a.first("seeAlso"), "uid=bob,ou=people,dc=acme,dc=corp");
}

TEST(rename_domains, rejects_malformed_arguments) {
    domain_rename r;
    std::string err;
    EXPECT_FALSE(parse_domain_rename("old.example", r, err));
    EXPECT_FALSE(parse_domain_rename("old..example=new.example", r, err));
    EXPECT_FALSE(parse_domain_rename("=new.example", r, err));
}

TEST(rewrite_rules, defaults_drop_old_server_attributes) {
    auto m = model_of(text);
    rewrite_rules rules;
    rules.apply(m);
    const auto& a = by_dn(m, "uid=ann,ou=people,dc=old,dc=example");
    EXPECT_FALSE(a.has("zimbraMailHost"));
    EXPECT_FALSE(a.has("zimbraMailTransport"));
    EXPECT_TRUE(a.has("userPassword"));
}

TEST(rewrite_rules, user_rules_override_defaults) {
    auto m = model_of(text);
    rewrite_rules rules;
    std::string err;
    ASSERT_TRUE(rules.parse("# new servers\nset zimbraMailHost mbox.acme.corp\n"
                            "replace zimbraMailTransport mbox1.old.example mbox.acme.corp\n"
                            "default zimbraAccount zimbraPrefLocale de\ndrop seeAlso\n",
                            "r.rules", err))
        << err;
    rules.apply(m);
    const auto& a = by_dn(m, "uid=ann,ou=people,dc=old,dc=example");
    EXPECT_EQ(a.first("zimbraMailHost"), "mbox.acme.corp");
    EXPECT_EQ(a.first("zimbraMailTransport"), "lmtp:mbox.acme.corp:7025");
    EXPECT_EQ(a.first("zimbraPrefLocale"), "de");
    EXPECT_FALSE(a.has("seeAlso"));
    EXPECT_FALSE(by_dn(m, "dc=old,dc=example").has("zimbraPrefLocale"));
}

TEST(rewrite_rules, bad_rule_names_file_and_line) {
    rewrite_rules rules(false);
    std::string err;
    EXPECT_FALSE(rules.parse("drop a\nfrobnicate b\n", "my.rules", err));
    EXPECT_NE(err.find("my.rules:2"), std::string::npos) << err;
    EXPECT_FALSE(rules.parse("set onlyattr\n", "my.rules", err));
}

TEST(skip_server_entries, leaves_out_old_server_entries_and_their_children) {
    auto m = model_of(text);
    std::vector<problem> ps;
    EXPECT_EQ(skip_server_entries(m, ps), 2u);
    EXPECT_EQ(m.size(), 2u);
    ASSERT_EQ(ps.size(), 2u);
    EXPECT_EQ(ps[0].level, problem::severity::warning);
    EXPECT_EQ(ps[1].line, 26u);
}

}  // namespace
