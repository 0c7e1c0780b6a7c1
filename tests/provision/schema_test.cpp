#include "provision/schema.hpp"

#include <gtest/gtest.h>

#include "provision/rewrite_rules.hpp"
#include "provision/schema_filter.hpp"
#include "test_util.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace schema_test {
using namespace arrival::provision;

const char* schema_text = R"(# test schema in slapd.conf form
objectIdentifier ZRoot 1.3.6.1.4.1.19348
attributetype ( zimbraId
  NAME ( 'zimbraId' )
  DESC 'multi-line
    description with a $ sign
    
    and a blank-looking line'
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256}
  SINGLE-VALUE )

attributetype ( 9.9.2 NAME ( 'zimbraMailAlias' 'zAlias' ) SUP name )
attributetype ( 9.9.3 NAME 'sn' )
objectclass ( 9.9.10 NAME 'zimbraMailRecipient' SUP top AUXILIARY MAY ( zimbraMailAlias $ sn ) )
objectclass ( 9.9.11 NAME 'zimbraAccount'
  SUP zimbraMailRecipient AUXILIARY
  MUST ( uid $ zimbraId ) )
)";

TEST(schema, reads_schema_files_and_follows_sup_chains) {
    schema s;
    s.add_slapd_system_schema();
    schema_error err;
    ASSERT_TRUE(s.add_schema_file(schema_text, err)) << err.line << " " << err.message;
    EXPECT_TRUE(s.knows_attribute("ZIMBRAID"));
    EXPECT_TRUE(s.knows_attribute("zAlias"));
    EXPECT_TRUE(s.knows_attribute("cn;lang-de"));  // system schema; options ignored
    EXPECT_FALSE(s.knows_attribute("zimbraBackupEnabled"));
    EXPECT_TRUE(s.attribute("zimbraId")->single_value);
    EXPECT_EQ(s.canonical_attribute("zAlias"), "zimbramailalias");
    const auto& r = s.rules_for({"zimbraAccount"});
    EXPECT_EQ(r.required, (std::vector<std::string>{"objectclass", "uid", "zimbraid"}));
    EXPECT_TRUE(r.allowed.count("zimbramailalias"));
    EXPECT_FALSE(r.allowed.count("cn"));
}

TEST(schema, malformed_definition_names_its_line) {
    schema s;
    schema_error err;
    EXPECT_FALSE(s.add_schema_file("\n\nattributetype ( 1.2 NAME 'x'\n", err));
    EXPECT_EQ(err.line, 3u);
    EXPECT_FALSE(s.add_attribute_type("( 1.2 NAME ( 'unterminated' )"));
    EXPECT_TRUE(s.add_object_class("( 1.3 NAME 'ok' SUP top STRUCTURAL MUST cn X-ORIGIN 'test' )"));
}

TEST(schema_filter, drops_unknown_and_disallowed_and_counts_them) {
    schema s;
    s.add_slapd_system_schema();
    schema_error err;
    ASSERT_TRUE(s.add_schema_file(schema_text, err));
    auto m = test::model_of(R"(dn: uid=a,dc=x
objectClass: top
objectClass: zimbraAccount
objectClass: zimbraUCService
uid: a
zimbraId: 1
zimbraBackupEnabled: TRUE
cn: not allowed here
sn: kept

dn: uid=b,dc=x
objectClass: zimbraAccount
uid: b
zimbraId: 2
zimbraBackupEnabled: FALSE
)");
    const auto r = apply_schema(m, s);
    EXPECT_EQ(r.entries_changed, 2u);
    ASSERT_TRUE(r.attributes.count("zimbraBackupEnabled"));
    EXPECT_EQ(r.attributes.at("zimbraBackupEnabled").entries, 2u);
    EXPECT_EQ(r.attributes.at("zimbraBackupEnabled").first_line, 1u);
    EXPECT_EQ(r.attributes.at("cn").reason, "not allowed by the entry's object classes");
    EXPECT_EQ(r.object_classes.at("zimbraUCService").entries, 1u);
    const auto& a = test::by_dn(m, "uid=a,dc=x");
    EXPECT_FALSE(a.has("cn"));
    EXPECT_FALSE(a.has_class("zimbraUCService"));
    EXPECT_EQ(a.first("sn"), "kept");
}

}  // namespace

namespace schema_test {
using namespace arrival::provision;

TEST(schema_filter, attribute_names_become_the_schema_primary_names_in_entries_and_changes) {
    schema s;
    s.add_slapd_system_schema();
    schema_error err;
    ASSERT_TRUE(s.add_schema_file("attributetype ( 9.9.2 NAME ( 'zimbraMailAlias' 'zAlias' ) SUP name )\n"
                                  "attributetype ( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )\n", err));
    auto m = test::model_of("dn: cn=a\nobjectClass: top\ncommonName: a\nSURNAME;lang-de: b\nzalias: c\nzimbraMailAlias: d\n"
                            "unknownThing: e\n\ndn: cn=a\nchangetype: modify\nreplace: surname\nsurname: x\n-\n");
    EXPECT_EQ(use_primary_names(m, s), 1u);
    const auto e = m.at(0);
    std::vector<std::string> types;
    for (std::size_t i = 0; i < e.size(); ++i) types.emplace_back(e[i].type);
    EXPECT_EQ(types, (std::vector<std::string>{"objectClass", "cn", "sn;lang-de", "zimbraMailAlias", "zimbraMailAlias",
                                               "unknownThing"}));
    EXPECT_EQ(m.changes()[0].mods[0].type, "sn");
    EXPECT_EQ(m.changes()[0].mods[0].values[0].type, "sn");
    EXPECT_EQ(use_primary_names(m, s), 0u);  // already primary: nothing rebuilt
}

TEST(schema_filter, rules_naming_an_alias_apply_to_the_primary_name) {
    schema s;
    s.add_slapd_system_schema();
    schema_error err;
    ASSERT_TRUE(s.add_schema_file("attributetype ( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )\n", err));
    rewrite_rules rules(false);
    std::string error;
    ASSERT_TRUE(rules.parse("drop surname\nset SURNAME x\n", "r.rules", error)) << error;
    auto m = test::model_of("dn: cn=a\nobjectClass: top\nsurname: b\n");
    use_primary_names(m, s);
    EXPECT_EQ(rules.apply(m), 0u);  // as written the rules name `surname`, which the entry no longer has
    EXPECT_EQ(rules.with_primary_names(s).apply(m), 1u);
    EXPECT_FALSE(m.at(0).has("sn"));
}

}  // namespace
