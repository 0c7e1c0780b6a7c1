// How `arrival provision` reaches the directory: StartTLS and ldaps:// verified against the testbed's CA,
// the documented exit statuses for TLS, credentials and unreachable servers, the password from a file;
// and the other ways in and out: generic inetOrgPerson sources, --rename-domain, and --emit loaded by a
// real slapadd into a scratch database (slapadd needs slapd stopped, so it gets a database of its own).
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>

#include "provision_fixture.hpp"

// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace provision_connect_test {
using namespace provision_it;

const char* small_ldif = R"(dn: cn=tls-cos,cn=cos,cn=zimbra
objectClass: zimbraCOS
cn: tls-cos
zimbraId: 7e5a0000-0000-4000-8000-000000000001
)";

TEST(provision_connect, starttls_and_ldaps_verify_the_server) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch d("tls");
    d.write("c.ldif", small_ldif);
    const auto f = quote(d.path("c.ldif"));
    auto r = provision(s, f + " --starttls --ca-file " + quote(s.ca));
    EXPECT_EQ(r.status, 0) << r.output;
    r = provision(s, f + " --ca-file " + quote(s.ca), s.ldaps_url);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("created 0, modified 0, unchanged 7"), std::string::npos) << r.output;  // + 6 base entries
    // Without the CA the certificate is not trusted: exit 5, and nothing about the password in the output.
    // The reason is named (libldap alone says "(unknown error code)"): the testbed CA is not in the system store.
    r = provision(s, f, s.ldaps_url);
    EXPECT_EQ(r.status, 5) << r.output;
    EXPECT_EQ(r.output.find(s.password), std::string::npos);
    EXPECT_NE(r.output.find("certificate verify failed (self-signed certificate in certificate chain); server "
                            "certificate /CN=localhost (give its CA with --ca-file)"), std::string::npos) << r.output;
    r = provision(s, f + " --starttls --report " + quote(d.path("tls.json")));
    EXPECT_EQ(r.status, 5) << r.output;
    EXPECT_NE(r.output.find("certificate verify failed (self-signed certificate in certificate chain)"),
              std::string::npos) << r.output;
    const auto j = read_json(d.path("tls.json"));
    ASSERT_FALSE(j.is_discarded());
    EXPECT_EQ(j["problems"][0]["code"], "tls_failed");
    EXPECT_NE(j["problems"][0]["message"].get<std::string>().find("certificate verify failed"), std::string::npos);
    // A CA that is not the server's: still refused, and the message says which check failed.
    r = provision(s, f + " --starttls --ca-file /etc/ssl/certs/ca-certificates.crt");
    EXPECT_EQ(r.status, 5) << r.output;
    EXPECT_NE(r.output.find("certificate verify failed ("), std::string::npos) << r.output;
    // ldaps://localhost with the right CA: libldap checks the certificate against this machine's name, not
    // "localhost" (an OpenLDAP quirk); the message says so, rather than "no reason".
    std::string localhost_url = s.ldaps_url;
    localhost_url.replace(localhost_url.find("127.0.0.1"), 9, "localhost");
    r = provision(s, f + " --ca-file " + quote(s.ca), localhost_url);
    char self[256] = "";
    (void)::gethostname(self, sizeof self - 1);
    if (std::string(self) == "localhost") {
        EXPECT_EQ(r.status, 0) << r.output;  // the quirk cannot show on a machine named localhost
    } else {
        EXPECT_EQ(r.status, 5) << r.output;
        EXPECT_NE(r.output.find("libldap checks a localhost URL against this machine's name"), std::string::npos)
            << r.output;
    }
}

TEST(provision_connect, exit_statuses_for_credentials_reachability_and_usage) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch d("auth");
    d.write("c.ldif", small_ldif);
    d.write("wrong.pw", "not-the-password\n");
    d.write("right.pw", s.password + "\n");
    const auto f = quote(d.path("c.ldif"));
    auto r = run(cli() + " " + f + " --ldap " + quote(s.url) + " --ca-file " + quote(s.ca) + " --bind-dn " + quote(s.bind_dn) +
                 " --bind-password-file " + quote(d.path("wrong.pw")));
    EXPECT_EQ(r.status, 6) << r.output;
    EXPECT_EQ(r.output.find("not-the-password"), std::string::npos);
    r = run("env -u ARRIVAL_LDAP_PASSWORD " + cli() + " " + f + " --ldap " + quote(s.url) + " --ca-file " + quote(s.ca) + " --bind-dn " +
            quote(s.bind_dn) + " --bind-password-file " + quote(d.path("right.pw")));
    EXPECT_EQ(r.status, 0) << r.output;
    r = run("env -u ARRIVAL_LDAP_PASSWORD " + cli() + " " + f + " --ldap " + quote(s.url) + " --ca-file " + quote(s.ca) + " --bind-dn " +
            quote(s.bind_dn));
    EXPECT_EQ(r.status, 2) << r.output;  // no password anywhere
    r = provision(s, f, "ldap://127.0.0.1:1");
    EXPECT_EQ(r.status, 4) << r.output;
    r = provision(s, f, "http://127.0.0.1:1");
    EXPECT_EQ(r.status, 2) << r.output;
}

TEST(provision_connect, generic_openldap_people_and_a_renamed_domain) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch d("generic");
    d.write("people.ldif", R"(dn: dc=oldgeneric,dc=test
objectClass: dcObject
objectClass: organization
dc: oldgeneric
o: Old Generic

dn: ou=people,dc=oldgeneric,dc=test
objectClass: organizationalUnit
ou: people

dn: uid=jdoe,ou=people,dc=oldgeneric,dc=test
objectClass: inetOrgPerson
objectClass: posixAccount
uid: jdoe
cn: John Doe
sn: Doe
mail: jdoe@oldgeneric.test
uidNumber: 1000
gidNumber: 1000
homeDirectory: /home/jdoe
userPassword: {SSHA}8cK3Pq6wY3Tn1rZyB4dKf0Zq9yQ1c2FsdA==

dn: cn=staff,ou=groups,dc=oldgeneric,dc=test
objectClass: groupOfNames
cn: staff
mail: staff@oldgeneric.test
member: uid=jdoe,ou=people,dc=oldgeneric,dc=test
)");
    const auto r = provision(s, quote(d.path("people.ldif")) + " --rename-domain oldgeneric.test=newgeneric.test" +
                                    " --accounts-out " + quote(d.path("acc.csv")) + " --report " + quote(d.path("r.json")));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(d.read("acc.csv"), "source_user,dest_user\njdoe@oldgeneric.test,jdoe@newgeneric.test\n");
    ldap_reader l(s);
    ASSERT_TRUE(l.bound());  // login and search proven: an empty answer below means absent
    const auto a = l.get("uid=jdoe,ou=people,dc=newgeneric,dc=test");
    ASSERT_FALSE(a.empty()) << r.output;
    EXPECT_EQ(a.at("userpassword").at(0), "{SSHA}8cK3Pq6wY3Tn1rZyB4dKf0Zq9yQ1c2FsdA==");
    EXPECT_EQ(a.at("zimbramaildeliveryaddress").at(0), "jdoe@newgeneric.test");
    EXPECT_EQ(a.count("uidnumber"), 0u);
    EXPECT_EQ(l.get("dc=newgeneric,dc=test").at("zimbradomainname").at(0), "newgeneric.test");
    EXPECT_EQ(l.get("uid=staff,ou=people,dc=newgeneric,dc=test").at("zimbramailforwardingaddress").at(0),
              "jdoe@newgeneric.test");
    EXPECT_TRUE(l.get("dc=oldgeneric,dc=test").empty());
}

TEST(provision_connect, emitted_ldif_loads_with_slapadd_into_a_fresh_database) {
    slapd_env s;
    ASSERT_TRUE(s.ok());
    scratch d("emit");
    ASSERT_EQ(run(ldif_gen() + " --domains 2 --accounts 60 --zimbra --domain-prefix emit -o " + quote(d.path("z.ldif")))
                  .status,
              0);
    // Offline: the schema comes from the same files slapd includes.
    std::string conf;
    {
        std::ifstream in(s.conf);
        std::stringstream ss;
        ss << in.rdbuf();
        conf = ss.str();
    }
    std::string schema_args;
    const std::regex include(R"(include\s+(\S+))");
    for (auto it = std::sregex_iterator(conf.begin(), conf.end(), include); it != std::sregex_iterator(); ++it) {
        schema_args += " --schema " + quote((*it)[1].str());
    }
    auto r = run(cli() + " " + quote(d.path("z.ldif")) + schema_args + " --emit " + quote(d.path("out.ldif")));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("slapd is stopped"), std::string::npos);
    // A scratch copy of the testbed's slapd.conf with its own database directory.
    std::filesystem::create_directories(d.path("db"));
    conf = std::regex_replace(conf, std::regex(R"(directory\s+\S+)"), "directory " + d.path("db"));
    conf = std::regex_replace(conf, std::regex(R"((pidfile|argsfile)\s+\S+)"), "$1 " + d.path("x"));
    d.write("slapd.conf", conf);
    r = run("/usr/sbin/slapadd -q -f " + quote(d.path("slapd.conf")) + " -l " + quote(d.path("out.ldif")));
    ASSERT_EQ(r.status, 0) << r.output;
    r = run("/usr/sbin/slapcat -f " + quote(d.path("slapd.conf")) + " -a '(objectClass=zimbraAccount)' | grep -c '^dn: '");
    EXPECT_EQ(r.output, "60\n");
}

}  // namespace
