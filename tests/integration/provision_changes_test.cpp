// Change records (changetype: modify / delete / modrdn) against the testbed's slapd: applied online to
// entries the destination holds, and to entries of the same input (end state written); a rerun changes
// nothing; a change that would break an entry is refused before anything is written.
#include <gtest/gtest.h>

#include "provision_fixture.hpp"

// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace provision_changes_test {
using namespace provision_it;

// A domain with four accounts (one with a signature) and an empty ou for moves; `d` makes it unique per run.
std::string domain_ldif(const std::string& d) {
    std::string out = "dn: dc=" + d + ",dc=test\nobjectClass: dcObject\nobjectClass: organization\n"
                      "objectClass: zimbraDomain\ndc: " + d + "\no: " + d + "\nzimbraDomainName: " + d +
                      ".test\nzimbraDomainType: local\nzimbraId: " + d + "-domain\n\n"
                      "dn: ou=moved,dc=" + d + ",dc=test\nobjectClass: organizationalUnit\nou: moved\n\n";
    for (const char* u : {"ann", "bob", "cid", "dan"}) {
        out += std::string("dn: uid=") + u + ",ou=people,dc=" + d + ",dc=test\nobjectClass: inetOrgPerson\n"
               "objectClass: zimbraAccount\nuid: " + u + "\ncn: " + u + "\nsn: " + u + "\nmail: " + u + "@" + d +
               ".test\nzimbraAccountStatus: active\nzimbraId: " + d + "-" + u + "\ndescription: first\n\n";
    }
    out += "dn: zimbraSignatureName=sig,uid=cid,ou=people,dc=" + d + ",dc=test\nobjectClass: zimbraSignature\n"
           "zimbraSignatureName: sig\nzimbraSignatureId: " + d + "-sig\n\n";
    return out;
}

TEST(provision_changes, applied_online_to_the_destination_and_a_rerun_changes_nothing) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch t("chg");
    const std::string d = "chg" + std::to_string(::getpid());
    const std::string people = ",ou=people,dc=" + d + ",dc=test";
    t.write("base.ldif", domain_ldif(d));
    auto r = provision(s, quote(t.path("base.ldif")));
    ASSERT_EQ(r.status, 0) << r.output;

    // Changes only: every target is on the destination, none in this input.
    t.write("changes.ldif", "version: 1\n\n"
            "dn: uid=ann" + people + "\nchangetype: modify\nadd: description\ndescription: first\ndescription: second\n-\n"
            "replace: sn\nsn: Annson\n-\ndelete: mail\nmail: not-there@" + d + ".test\n-\n\n"
            "dn: uid=bob" + people + "\nchangetype: modify\ndelete: description\n-\n\n"
            "dn: uid=cid" + people + "\nchangetype: delete\n\n"
            "dn: zimbraSignatureName=sig,uid=cid" + people + "\nchangetype: delete\n\n"
            "dn: uid=dan" + people + "\nchangetype: modrdn\nnewrdn: uid=daniel\ndeleteoldrdn: 1\n"
            "newsuperior: ou=moved,dc=" + d + ",dc=test\n\n"
            "dn: uid=nobody" + people + "\nchangetype: delete\n");
    // A dry run counts what the run will do: dan is renamed (modified), not created under the new DN.
    r = provision(s, quote(t.path("changes.ldif")) + " --check --report " + quote(t.path("r0.json")));
    ASSERT_EQ(r.status, 0) << r.output;
    auto j = read_json(t.path("r0.json"));
    EXPECT_EQ(j["counts"]["created"], 0) << r.output;
    EXPECT_EQ(j["counts"]["modified"], 3) << r.output;
    EXPECT_EQ(j["counts"]["deleted"], 2) << r.output;

    r = provision(s, quote(t.path("changes.ldif")) + " --report " + quote(t.path("r1.json")));
    ASSERT_EQ(r.status, 0) << r.output;
    j = read_json(t.path("r1.json"));
    EXPECT_EQ(j["counts"]["changes"], 6);
    EXPECT_EQ(j["counts"]["failed"], 0);
    EXPECT_EQ(j["counts"]["deleted"], 2);    // cid and its signature (the child first)
    EXPECT_EQ(j["counts"]["modified"], 3);   // ann, bob, dan renamed
    ldap_reader l(s);
    ASSERT_TRUE(l.bound());  // login and search proven: an empty answer below means absent
    const auto ann = l.get("uid=ann" + people);
    EXPECT_EQ(ann.at("description"), (std::vector<std::string>{"first", "second"}));
    EXPECT_EQ(ann.at("sn"), std::vector<std::string>{"Annson"});
    EXPECT_EQ(ann.at("mail"), std::vector<std::string>{"ann@" + d + ".test"});
    EXPECT_EQ(l.get("uid=bob" + people).count("description"), 0u);
    EXPECT_TRUE(l.get("uid=cid" + people).empty());
    EXPECT_TRUE(l.get("uid=dan" + people).empty());
    const auto dan = l.get("uid=daniel,ou=moved,dc=" + d + ",dc=test");
    ASSERT_FALSE(dan.empty());
    EXPECT_EQ(dan.at("uid"), std::vector<std::string>{"daniel"});

    // Rerun: the add: of present values, the delete of absent entries and the done modrdn are unchanged.
    r = provision(s, quote(t.path("changes.ldif")) + " --report " + quote(t.path("r2.json")));
    ASSERT_EQ(r.status, 0) << r.output;
    j = read_json(t.path("r2.json"));
    EXPECT_EQ(j["counts"]["modified"], 0) << r.output;
    EXPECT_EQ(j["counts"]["deleted"], 0);
    EXPECT_EQ(j["counts"]["created"], 0);
    EXPECT_EQ(j["counts"]["failed"], 0);
}

TEST(provision_changes, content_and_changes_in_one_file_write_the_end_state) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch t("chg2");
    const std::string d = "chgb" + std::to_string(::getpid());
    const std::string people = ",ou=people,dc=" + d + ",dc=test";
    t.write("all.ldif", domain_ldif(d) +
            "dn: uid=ann" + people + "\nchangetype: modify\nreplace: description\ndescription: final\n-\n\n"
            "dn: zimbraSignatureName=sig,uid=cid" + people + "\nchangetype: delete\n\n"
            "dn: uid=cid" + people + "\nchangetype: delete\n\n"
            "dn: uid=dan" + people + "\nchangetype: modrdn\nnewrdn: uid=daniel\ndeleteoldrdn: 0\n");
    auto r = provision(s, quote(t.path("all.ldif")) + " --report " + quote(t.path("r.json")));
    ASSERT_EQ(r.status, 0) << r.output;
    ldap_reader l(s);
    ASSERT_TRUE(l.bound());  // login and search proven: an empty answer below means absent
    EXPECT_EQ(l.get("uid=ann" + people).at("description"), std::vector<std::string>{"final"});
    EXPECT_TRUE(l.get("uid=cid" + people).empty());
    EXPECT_TRUE(l.get("uid=dan" + people).empty());
    EXPECT_EQ(l.get("uid=daniel" + people).at("uid"), (std::vector<std::string>{"dan", "daniel"}));
    r = provision(s, quote(t.path("all.ldif")) + " --report " + quote(t.path("r2.json")));
    ASSERT_EQ(r.status, 0) << r.output;
    const auto j = read_json(t.path("r2.json"));
    EXPECT_EQ(j["counts"]["created"], 0);
    EXPECT_EQ(j["counts"]["modified"], 0);
    EXPECT_EQ(j["counts"]["deleted"], 0);
}

TEST(provision_changes, a_change_that_breaks_an_entry_is_refused_before_any_write) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch t("chg3");
    const std::string d = "chgc" + std::to_string(::getpid());
    const std::string people = ",ou=people,dc=" + d + ",dc=test";
    t.write("base.ldif", domain_ldif(d));
    ASSERT_EQ(provision(s, quote(t.path("base.ldif"))).status, 0);
    t.write("bad.ldif", "dn: uid=ann" + people + "\nchangetype: modify\nreplace: description\ndescription: new\n-\n\n"
            "dn: uid=bob" + people + "\nchangetype: modify\ndelete: zimbraAccountStatus\n-\n\n"
            "dn: uid=ghost" + people + "\nchangetype: modify\nreplace: sn\nsn: x\n-\n");
    const auto r = provision(s, quote(t.path("bad.ldif")));
    EXPECT_EQ(r.status, 3) << r.output;
    EXPECT_NE(r.output.find("bad.ldif:7: uid=bob" + people + ": required attribute zimbraaccountstatus is missing"),
              std::string::npos) << r.output;
    EXPECT_NE(r.output.find("bad.ldif:12: uid=ghost" + people + ": changetype: modify: the entry is neither in the input "
                            "nor on the destination"), std::string::npos) << r.output;
    ldap_reader l(s);
    ASSERT_TRUE(l.bound());  // login and search proven: an empty answer below means absent
    EXPECT_EQ(l.get("uid=ann" + people).at("description"), std::vector<std::string>{"first"});  // not written
    EXPECT_EQ(l.get("uid=bob" + people).count("zimbraaccountstatus"), 1u);
}

// Values the destination already holds belong to its entries: a new account reusing one is refused before
// anything is written, naming the holder; a domain only the destination declares is known.
TEST(provision_changes, values_taken_on_the_destination_are_refused_and_its_domains_are_known) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch t("chg5");
    const std::string d = "chge" + std::to_string(::getpid());
    const std::string people = ",ou=people,dc=" + d + ",dc=test";
    t.write("base.ldif", domain_ldif(d));
    ASSERT_EQ(provision(s, quote(t.path("base.ldif"))).status, 0);
    const auto account = [&](const std::string& uid, const std::string& mail, const std::string& id) {
        return "dn: uid=" + uid + people + "\nobjectClass: inetOrgPerson\nobjectClass: zimbraAccount\nuid: " + uid +
               "\ncn: " + uid + "\nsn: " + uid + "\nmail: " + mail + "\nzimbraAccountStatus: active\nzimbraId: " + id +
               "\n\n";
    };
    t.write("new.ldif", account("eve", "eve@" + d + ".test", d + "-eve"));
    auto r = provision(s, quote(t.path("new.ldif")));
    EXPECT_EQ(r.status, 0) << r.output;  // its domain is declared on the destination only
    t.write("clash.ldif", account("fay", "ann@" + d + ".test", d + "-bob"));
    r = provision(s, quote(t.path("clash.ldif")));
    EXPECT_EQ(r.status, 3) << r.output;
    EXPECT_NE(r.output.find("address ann@" + d + ".test already belongs to uid=ann" + people + " on the destination"),
              std::string::npos) << r.output;
    EXPECT_NE(r.output.find("zimbraId " + d + "-bob already used on the destination by uid=bob" + people),
              std::string::npos) << r.output;
    ldap_reader l(s);
    ASSERT_TRUE(l.bound());  // login and search proven: an empty answer below means absent
    EXPECT_TRUE(l.get("uid=fay" + people).empty());
}

// Delete, then the entry's record again: the destination's entry is replaced whole (attributes the new
// record lacks are gone), and a rerun finds it matching and leaves it alone.
TEST(provision_changes, delete_then_add_again_replaces_the_entry_and_a_rerun_changes_nothing) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch t("chg4");
    const std::string d = "chgd" + std::to_string(::getpid());
    const std::string people = ",ou=people,dc=" + d + ",dc=test";
    t.write("base.ldif", domain_ldif(d));
    ASSERT_EQ(provision(s, quote(t.path("base.ldif"))).status, 0);
    t.write("again.ldif", "dn: uid=ann" + people + "\nchangetype: delete\n\n"
            "dn: uid=ann" + people + "\nchangetype: add\nobjectClass: inetOrgPerson\nobjectClass: zimbraAccount\n"
            "uid: ann\ncn: Ann Again\nsn: Again\nmail: ann@" + d + ".test\nzimbraAccountStatus: locked\n"
            "zimbraId: " + d + "-ann\n");
    auto r = provision(s, quote(t.path("again.ldif")) + " --report " + quote(t.path("r1.json")));
    ASSERT_EQ(r.status, 0) << r.output;
    auto j = read_json(t.path("r1.json"));
    EXPECT_EQ(j["counts"]["modified"], 1) << r.output;
    EXPECT_EQ(j["counts"]["failed"], 0) << r.output;
    ldap_reader l(s);
    ASSERT_TRUE(l.bound());  // login and search proven: an empty answer below means absent
    const auto ann = l.get("uid=ann" + people);
    EXPECT_EQ(ann.count("description"), 0u);  // the new record has none
    EXPECT_EQ(ann.at("cn"), std::vector<std::string>{"Ann Again"});
    EXPECT_EQ(ann.at("zimbraaccountstatus"), std::vector<std::string>{"locked"});
    r = provision(s, quote(t.path("again.ldif")) + " --report " + quote(t.path("r2.json")));
    ASSERT_EQ(r.status, 0) << r.output;
    j = read_json(t.path("r2.json"));
    EXPECT_EQ(j["counts"]["modified"], 0) << r.output;
    EXPECT_EQ(j["counts"]["created"], 0) << r.output;
    EXPECT_EQ(j["counts"]["deleted"], 0) << r.output;
}

}  // namespace
