#include "provision/ldif_emitter.hpp"

#include <gtest/gtest.h>

#include "provision/ldif_reader.hpp"
#include "test_util.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace ldif_emitter_test {
using namespace arrival::provision;

TEST(ldif_emitter, unsafe_values_are_base64_long_lines_folded_and_read_back_identically) {
    entry e;
    e.set_dn("cn=J\xC3\xBCrgen,dc=x", "cn=j\xC3\xBCrgen,dc=x");
    e.add("objectClass", "person");
    e.add("cn", "J\xC3\xBCrgen");
    e.add("description", std::string(200, 'd'));
    e.add("zimbraPrefMailSignature", "-- \nline two");
    e.add("sn", " leading space");
    e.add("userPassword", "{SSHA512}abc/def+==");
    std::string out;
    emit_ldif_entry(e, out);
    EXPECT_NE(out.find("dn:: "), std::string::npos);
    EXPECT_NE(out.find("userPassword: {SSHA512}abc/def+==\n"), std::string::npos);
    for (std::size_t pos = 0, nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1) {
        EXPECT_LE(nl - pos, 76u);
    }
    ldif_reader r;
    r.feed(out);
    r.finish();
    ldif_record rec;
    ldif_error err;
    ASSERT_EQ(r.next(rec, err), read_status::record) << err.ec.message() << " line " << err.line;
    EXPECT_EQ(rec.dn_text, e.dn());
    ASSERT_EQ(rec.attrs.size(), e.size());
    for (std::size_t i = 0; i < e.size(); ++i) {
        EXPECT_EQ(rec.attrs[i].type, e[i].type);
        EXPECT_EQ(rec.attrs[i].value, e[i].value);
    }
}

TEST(emit_accounts_csv, source_and_destination_addresses_of_accounts_only) {
    auto m = test::model_of(R"(dn: uid=b,ou=people,dc=x
objectClass: zimbraAccount
uid: b
zimbraMailDeliveryAddress: B@x.test

dn: uid=a,ou=people,dc=x
objectClass: zimbraAccount
uid: a
mail: a@x.test

dn: uid=l,ou=people,dc=x
objectClass: zimbraDistributionList
uid: l
mail: l@x.test
)");
    auto first = m.at(0);
    first.set("zimbraMailDeliveryAddress", "b@y.test");  // as if renamed
    m.replace(0, first);
    std::string csv;
    emit_accounts_csv(m, csv);
    EXPECT_EQ(csv, "source_user,dest_user\na@x.test,a@x.test\nb@x.test,b@y.test\n");
}

}  // namespace
