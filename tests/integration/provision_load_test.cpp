// `arrival provision` against the testbed's real slapd (Carbonio schema, empty suffix, empty directory):
// a realistic Zimbra-side LDIF goes in (base entries created, unknown attributes dropped and reported), a
// rerun changes nothing, a changed attribute is modified, a broken LDIF is refused before any write.
// Each test uses its own domains, so the tests do not depend on one another's leftovers.
#include <gtest/gtest.h>

#include "provision/directory_model.hpp"
#include "provision/dn.hpp"
#include "provision/ldif_file.hpp"
#include "provision_fixture.hpp"

// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace provision_load_test {
using namespace provision_it;
namespace pv = arrival::provision;

std::string value_in_ldif(const std::string& file, const std::string& dn, const std::string& attr) {
    pv::directory_model m;
    std::vector<pv::problem> ps;
    pv::load_ldif_file(file, m, ps);
    std::string n;
    if (pv::normalize_dn(dn, n)) return {};
    const auto i = m.find(n);
    return i ? std::string(m.at(*i).first(attr)) : std::string{};
}

TEST(provision_load, realistic_zimbra_ldif_loads_then_rerun_is_a_no_op) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch d("load");
    // Fresh domain names per run, so a rerun against the same testbed still starts from "absent".
    const std::string p = "load" + std::to_string(::getpid());
    const auto gen = run(ldif_gen() + " --domains 3 --accounts 300 --lists 4 --members 12 --zimbra --seed 11"
                         " --domain-prefix " + p + " -o " + quote(d.path("z.ldif")) + " --dl-csv " + quote(d.path("dl.csv")));
    ASSERT_EQ(gen.status, 0) << gen.output;

    const auto first = provision(s, quote(d.path("z.ldif")) + " --dl-csv " + quote(d.path("dl.csv")) +
                                        " --report " + quote(d.path("r1.json")) + " --accounts-out " +
                                        quote(d.path("accounts.csv")));
    ASSERT_EQ(first.status, 0) << first.output;
    const auto r1 = read_json(d.path("r1.json"));
    ASSERT_FALSE(r1.is_discarded());
    EXPECT_EQ(r1["counts"]["failed"], 0);
    EXPECT_EQ(r1["counts"]["kinds"]["account"], 300);
    EXPECT_EQ(r1["counts"]["kinds"]["distribution_list"], 24);  // 12 from LDIF + 12 from the CSV
    EXPECT_EQ(r1["counts"]["kinds"]["domain"], 3);
    EXPECT_EQ(r1["counts"]["skipped"], 2);  // the old global config and server entries
    const std::size_t planned = r1["counts"]["planned"];
    EXPECT_EQ(static_cast<std::size_t>(r1["counts"]["created"]) + static_cast<std::size_t>(r1["counts"]["unchanged"]),
              planned);
    // At least every account, domain and list: base entries (cn=zimbra, ...) may exist from earlier runs
    // against the same slapd, so they count as unchanged there (created + unchanged == planned, above).
    EXPECT_GE(r1["counts"]["created"], 300 + 3 + 24);
    // Zimbra-only attributes were dropped and reported by name, with counts.
    std::map<std::string, int> dropped;
    for (const auto& a : r1["dropped_attributes"]) dropped[a["name"]] = a["entries"];
    EXPECT_EQ(dropped["zimbraDefaultSortByRelevance"], 300);
    EXPECT_EQ(dropped["zimbraDomainLoginPageEnabled"], 3);
    EXPECT_EQ(r1["counts"]["dropped_attribute"], 306);  // ldif_gen --seed 11 against the testbed's Carbonio schema

    ldap_reader l(s);
    ASSERT_TRUE(l.bound());  // login and search proven: an empty answer below means absent
    EXPECT_FALSE(l.get("cn=zimbra").empty());  // base entries created in the empty directory
    EXPECT_FALSE(l.get("cn=cos,cn=zimbra").empty());
    EXPECT_FALSE(l.get("dc=test").empty());
    const std::string acc = "uid=user00001,ou=people,dc=" + p + "1,dc=test";
    const auto a = l.get(acc);
    ASSERT_FALSE(a.empty());
    // The password hash arrives byte for byte; old-server attributes are gone.
    EXPECT_EQ(a.at("userpassword").at(0), value_in_ldif(d.path("z.ldif"), acc, "userPassword"));
    EXPECT_EQ(a.count("zimbramailhost"), 0u);
    EXPECT_EQ(a.count("zimbradefaultsortbyrelevance"), 0u);
    EXPECT_EQ(l.get("uid=team1,ou=people,dc=" + p + "2,dc=test").at("zimbramailforwardingaddress").size(), 13u);
    EXPECT_FALSE(l.get("uid=csv-team1,ou=people,dc=" + p + "3,dc=test").empty());
    EXPECT_EQ(l.count("dc=" + p + "1,dc=test", "(objectClass=zimbraAccount)"), 100u);
    EXPECT_EQ(l.count("dc=" + p + "1,dc=test", "(objectClass=zimbraSignature)"), 48u);  // as in the LDIF (seed 11)
    EXPECT_EQ(l.count("dc=" + p + "1,dc=test", "(objectClass=zimbraAlias)"), 45u);

    // The accounts file for `arrival migrate`.
    const auto csv = d.read("accounts.csv");
    EXPECT_EQ(csv.rfind("source_user,dest_user\n", 0), 0u);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 301);
    EXPECT_NE(csv.find("user00001@" + p + "1.test,user00001@" + p + "1.test\n"), std::string::npos);

    // Rerun: nothing created or modified.
    const auto again = provision(s, quote(d.path("z.ldif")) + " --dl-csv " + quote(d.path("dl.csv")) +
                                        " --report " + quote(d.path("r2.json")));
    ASSERT_EQ(again.status, 0) << again.output;
    const auto r2 = read_json(d.path("r2.json"));
    EXPECT_EQ(r2["counts"]["created"], 0);
    EXPECT_EQ(r2["counts"]["modified"], 0);
    EXPECT_EQ(r2["counts"]["failed"], 0);
    EXPECT_EQ(r2["counts"]["unchanged"], planned);
}

TEST(provision_load, a_changed_attribute_is_modified_and_nothing_else) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch d("chg");
    ASSERT_EQ(run(ldif_gen() + " --domains 1 --accounts 20 --domain-prefix chg --seed 3 -o " + quote(d.path("a.ldif")))
                  .status,
              0);
    ASSERT_EQ(provision(s, quote(d.path("a.ldif"))).status, 0);
    std::string text = d.read("a.ldif");
    const std::string dn = "dn: uid=user00007,ou=people,dc=chg1,dc=test\n";
    auto pos = text.find(dn);
    ASSERT_NE(pos, std::string::npos);
    pos = text.find("zimbraPrefTimeZoneId: ", pos);
    const auto eol = text.find('\n', pos);
    text.replace(pos, eol - pos, "zimbraPrefTimeZoneId: America/Sao_Paulo");
    d.write("b.ldif", text);
    const auto r = provision(s, quote(d.path("b.ldif")) + " --report " + quote(d.path("r.json")));
    ASSERT_EQ(r.status, 0) << r.output;
    const auto j = read_json(d.path("r.json"));
    EXPECT_EQ(j["counts"]["modified"], 1);
    EXPECT_EQ(j["counts"]["created"], 0);
    ldap_reader l(s);
    ASSERT_TRUE(l.bound());  // login and search proven: an empty answer below means absent
    const auto e = l.get("uid=user00007,ou=people,dc=chg1,dc=test");
    ASSERT_FALSE(e.empty());
    EXPECT_EQ(e.at("zimbrapreftimezoneid"), std::vector<std::string>{"America/Sao_Paulo"});
    // --check with --ldap compares without writing: now everything matches.
    const auto c = provision(s, quote(d.path("b.ldif")) + " --check");
    EXPECT_EQ(c.status, 0) << c.output;
    EXPECT_NE(c.output.find("created 0, modified 0"), std::string::npos) << c.output;
}

TEST(provision_load, broken_ldif_is_refused_before_anything_is_written) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch d("broken");
    d.write("broken.ldif", R"(version: 1

dn: dc=broken,dc=test
objectClass: dcObject
objectClass: organization
objectClass: zimbraDomain
dc: broken
o: broken
zimbraDomainName: broken.test
zimbraDomainType: local
zimbraId: 0b0b0b0b-0000-4000-8000-000000000001

dn: uid=ok,ou=people,dc=broken,dc=test
objectClass: inetOrgPerson
objectClass: zimbraAccount
uid: ok
cn: ok
sn: ok
mail: ok@broken.test
zimbraAccountStatus: active
zimbraId: 0b0b0b0b-0000-4000-8000-000000000002

dn: uid=bad,ou=people,dc=broken,dc=test
objectClass: inetOrgPerson
objectClass: zimbraAccount
uid: bad
cn: bad
sn: bad
mail: bad@broken.test
zimbraAccountStatus: active
zimbraId: 0b0b0b0b-0000-4000-8000-000000000003
zimbraCOSId: ffffffff-0000-4000-8000-00000000dead

dn: uid=worse,ou=people,dc=broken,dc=test
cn:: not base64!
)");
    const auto r = provision(s, quote(d.path("broken.ldif")) + " --report " + quote(d.path("r.json")));
    EXPECT_EQ(r.status, 3) << r.output;
    EXPECT_NE(r.output.find("broken.ldif:23: uid=bad,ou=people,dc=broken,dc=test: zimbraCOSId"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("broken.ldif:35: invalid base64"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("nothing was written"), std::string::npos);
    const auto j = read_json(d.path("r.json"));
    EXPECT_EQ(j["counts"]["errors"], 2);
    EXPECT_EQ(j["counts"]["created"], 0);
    ldap_reader l(s);
    ASSERT_TRUE(l.bound());  // login and search proven: an empty answer below means absent
    EXPECT_TRUE(l.get("dc=broken,dc=test").empty());  // not even the good entries
    EXPECT_TRUE(l.get("uid=ok,ou=people,dc=broken,dc=test").empty());
}

TEST(provision_load, attribute_aliases_are_compared_by_primary_name_so_a_rerun_is_a_no_op) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch d("alias");
    const std::string p = "alias" + std::to_string(::getpid());
    // surname/commonName/GIVENNAME/rfc822Mailbox: what hand-written or other tools' LDIF uses; slapd answers
    // with sn/cn/givenName/mail.
    d.write("a.ldif", "dn: dc=" + p + ",dc=test\nobjectClass: dcObject\nobjectClass: organization\n"
            "objectClass: zimbraDomain\ndc: " + p + "\no: " + p + "\nzimbraDomainName: " + p +
            ".test\nzimbraDomainType: local\nzimbraId: " + p + "-d\n\n"
            "dn: uid=al,ou=people,dc=" + p + ",dc=test\nobjectClass: inetOrgPerson\nobjectClass: zimbraAccount\n"
            "uid: al\ncommonName: Al\nsurname: Alias\nGIVENNAME: Al\nrfc822Mailbox: al@" + p + ".test\n"
            "zimbraAccountStatus: active\nzimbraId: " + p + "-al\n");
    auto r = provision(s, quote(d.path("a.ldif")) + " --report " + quote(d.path("r1.json")));
    ASSERT_EQ(r.status, 0) << r.output;
    ldap_reader l(s);
    ASSERT_TRUE(l.bound());  // login and search proven: an empty answer below means absent
    const auto a = l.get("uid=al,ou=people,dc=" + p + ",dc=test");
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a.at("sn"), std::vector<std::string>{"Alias"});
    r = provision(s, quote(d.path("a.ldif")) + " --report " + quote(d.path("r2.json")));
    ASSERT_EQ(r.status, 0) << r.output;
    const auto j = read_json(d.path("r2.json"));
    EXPECT_EQ(j["counts"]["modified"], 0) << r.output;
    EXPECT_EQ(j["counts"]["created"], 0);
    EXPECT_EQ(j["counts"]["failed"], 0);
}

TEST(provision_load, generated_names_match_the_mail_testbed_and_become_the_accounts_file) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch d("names");
    // What tools/demo does for the Dovecot testbed's user001..user004@example.test, in a domain of its own.
    const std::string dom = "names" + std::to_string(::getpid()) + ".test";
    const auto gen = run(ldif_gen() + " --domain " + dom + " --names user%03d --accounts 3 --seed 5 -o " +
                         quote(d.path("n.ldif")));
    ASSERT_EQ(gen.status, 0) << gen.output;
    const auto r = provision(s, quote(d.path("n.ldif")) + " --accounts-out " + quote(d.path("acc.csv")));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(d.read("acc.csv"), "source_user,dest_user\nuser001@" + dom + ",user001@" + dom + "\nuser002@" + dom +
                                     ",user002@" + dom + "\nuser003@" + dom + ",user003@" + dom + "\n");
}

}  // namespace
