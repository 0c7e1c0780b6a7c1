// The checks that run before anything is written, on small LDIF texts: each broken entry must be reported
// with its code and its line, and a good plan must produce no error at all.
#include "provision/validator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "provision/ldif_file.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace validator_test {
using namespace arrival::provision;

const std::string good = R"(version: 1

dn: cn=default,cn=cos,cn=zimbra
objectClass: zimbraCOS
cn: default
zimbraId: cos-1

dn: dc=acme,dc=test
objectClass: dcObject
objectClass: organization
objectClass: zimbraDomain
dc: acme
o: acme
zimbraDomainName: acme.test
zimbraDomainType: local
zimbraId: dom-1
zimbraDomainDefaultCOSId: cos-1

dn: uid=ann,ou=people,dc=acme,dc=test
objectClass: inetOrgPerson
objectClass: zimbraAccount
uid: ann
cn: Ann
sn: A
mail: ann@acme.test
mail: a@acme.test
zimbraMailAlias: a@acme.test
zimbraMailDeliveryAddress: ann@acme.test
zimbraAccountStatus: active
zimbraId: acc-1
zimbraCOSId: cos-1
userPassword: {SSHA512}kept+verbatim==

dn: uid=a,ou=people,dc=acme,dc=test
objectClass: zimbraAlias
uid: a
zimbraId: ali-1
zimbraAliasTargetId: acc-1

dn: zimbraSignatureName=Default,uid=ann,ou=people,dc=acme,dc=test
objectClass: zimbraSignature
zimbraSignatureName: Default
zimbraSignatureId: sig-1

dn: uid=team,ou=people,dc=acme,dc=test
objectClass: zimbraDistributionList
uid: team
mail: team@acme.test
zimbraId: dl-1
zimbraMailForwardingAddress: ann@acme.test
zimbraMailForwardingAddress: a@acme.test
zimbraMailForwardingAddress: someone@elsewhere.example
)";

std::size_t line_of(const std::string& text, const std::string& needle) {
    const auto pos = text.find(needle);
    EXPECT_NE(pos, std::string::npos) << needle;
    return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
}

std::set<std::string> errors_of(const std::string& text, bool base = true) {
    directory_model m;
    std::vector<problem> ps;
    std::istringstream in(text);
    load_ldif_stream(in, "t.ldif", "", m, ps);
    if (base) m.add_base_entries();
    m.order();
    validate(m, {}, ps);
    std::set<std::string> out;
    for (const auto& p : ps) {
        if (p.level == problem::severity::error) out.insert(p.code + "@" + std::to_string(p.line));
    }
    return out;
}

TEST(validator, good_plan_has_no_errors) { EXPECT_EQ(errors_of(good), std::set<std::string>{}); }

TEST(validator, without_base_entries_parents_are_missing) {
    const auto e = errors_of(good, false);
    EXPECT_TRUE(e.count("missing_parent@" + std::to_string(line_of(good, "dn: cn=default")))) << ::testing::PrintToString(e);
    EXPECT_TRUE(e.count("missing_parent@" + std::to_string(line_of(good, "dn: uid=ann,"))));
}

struct broken_case {
    const char* name;
    std::string extra;
    std::string code;
    std::string dn_line;  // which "dn: " line the problem must point at
};

class validator_broken : public ::testing::TestWithParam<broken_case> {};

TEST_P(validator_broken, reports_code_with_line) {
    const auto& c = GetParam();
    const std::string text = good + "\n" + c.extra;
    const auto e = errors_of(text);
    const std::string want = c.code + "@" + std::to_string(line_of(text, c.dn_line));
    EXPECT_TRUE(e.count(want)) << "want " << want << " got " << ::testing::PrintToString(e);
}

const broken_case broken[] = {
    {"duplicate_dn", "dn: UID=Ann,ou=people,dc=acme,dc=test\nobjectClass: zimbraAlias\nuid: ann\nzimbraId: x-1\nzimbraAliasTargetId: acc-1\n",
     "duplicate_dn", "dn: UID=Ann"},
    {"missing_parent", "dn: uid=bob,ou=staff,dc=acme,dc=test\nobjectClass: zimbraAlias\nuid: bob\nzimbraId: x-2\nzimbraAliasTargetId: acc-1\n",
     "missing_parent", "dn: uid=bob"},
    {"undeclared_domain",
     "dn: uid=eve,ou=people,dc=acme,dc=test\nobjectClass: zimbraAccount\nuid: eve\nzimbraAccountStatus: active\nzimbraId: x-3\nmail: eve@nowhere.test\n",
     "undeclared_domain", "dn: uid=eve"},
    {"dangling_cos",
     "dn: uid=cid,ou=people,dc=acme,dc=test\nobjectClass: zimbraAccount\nuid: cid\nzimbraAccountStatus: active\nzimbraId: x-4\nmail: cid@acme.test\nzimbraCOSId: no-such-cos\n",
     "dangling_cos", "dn: uid=cid"},
    {"dangling_alias_target",
     "dn: uid=zed,ou=people,dc=acme,dc=test\nobjectClass: zimbraAlias\nuid: zed\nzimbraId: x-5\nzimbraAliasTargetId: nobody\n",
     "dangling_alias", "dn: uid=zed"},
    {"alias_in_undeclared_domain",
     "dn: uid=al,ou=people,dc=acme,dc=test\nobjectClass: zimbraAccount\nuid: al\nzimbraAccountStatus: active\nzimbraId: x-6\nmail: al@acme.test\nzimbraMailAlias: al@other.test\n",
     "dangling_alias", "dn: uid=al,"},
    {"dangling_member",
     "dn: uid=crew,ou=people,dc=acme,dc=test\nobjectClass: zimbraDistributionList\nuid: crew\nmail: crew@acme.test\nzimbraId: x-7\nzimbraMailForwardingAddress: ghost@acme.test\n",
     "dangling_member", "dn: uid=crew"},
    {"duplicate_mail",
     "dn: uid=ann2,ou=people,dc=acme,dc=test\nobjectClass: zimbraAccount\nuid: ann2\nzimbraAccountStatus: active\nzimbraId: x-8\nmail: ANN@acme.test\n",
     "duplicate_mail", "dn: uid=ann2"},
    {"duplicate_zimbra_id",
     "dn: uid=dup,ou=people,dc=acme,dc=test\nobjectClass: zimbraAccount\nuid: dup\nzimbraAccountStatus: active\nzimbraId: ACC-1\nmail: dup@acme.test\n",
     "duplicate_zimbra_id", "dn: uid=dup"},
    {"missing_required",
     "dn: uid=req,ou=people,dc=acme,dc=test\nobjectClass: zimbraAccount\nuid: req\nzimbraId: x-9\nmail: req@acme.test\n",
     "missing_attribute", "dn: uid=req"},
    {"naming_value_missing",
     "dn: uid=nm,ou=people,dc=acme,dc=test\nobjectClass: zimbraAlias\nuid: other\nzimbraId: x-10\nzimbraAliasTargetId: acc-1\n",
     "missing_naming_value", "dn: uid=nm"},
    {"member_dn_dangling",
     "dn: cn=g,ou=people,dc=acme,dc=test\nobjectClass: groupOfNames\ncn: g\nmember: uid=nobody,dc=acme,dc=test\n",
     "dangling_member", "dn: cn=g,"},
};

INSTANTIATE_TEST_SUITE_P(cases, validator_broken, ::testing::ValuesIn(broken),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(validator, destination_index_satisfies_references_and_catches_conflicts) {
    const std::string text = R"(dn: uid=new,ou=people,dc=live,dc=test
objectClass: zimbraAccount
uid: new
zimbraAccountStatus: active
zimbraId: n-1
mail: new@live.test
zimbraCOSId: live-cos

dn: uid=clash,ou=people,dc=live,dc=test
objectClass: zimbraAccount
uid: clash
zimbraAccountStatus: active
zimbraId: n-2
mail: taken@live.test
)";
    destination_index live;
    live.add_entry("dc=live,dc=test");
    live.add_entry("ou=people,dc=live,dc=test");
    live.add_domain("live.test");
    live.add_cos_id("live-cos");
    live.add_address("taken@live.test", live.add_entry("uid=old,ou=people,dc=live,dc=test"));
    directory_model m;
    std::vector<problem> ps;
    std::istringstream in(text);
    load_ldif_stream(in, "t.ldif", "", m, ps);
    m.order();
    validation_options o;
    o.existing = &live;
    validate(m, o, ps);
    std::set<std::string> codes;
    for (const auto& p : ps) codes.insert(p.code + "@" + std::to_string(p.line));
    EXPECT_EQ(codes, (std::set<std::string>{"duplicate_mail@9"}));
}

}  // namespace
