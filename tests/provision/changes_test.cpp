// Change records applied to the plan: the end state is what gets validated, emitted and written.
#include "provision/changes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "provision/ldif_emitter.hpp"
#include "provision/plan.hpp"
#include "provision/validator.hpp"
#include "test_util.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace changes_test {
using namespace arrival::provision;

const char* base = R"(dn: dc=chg,dc=test
objectClass: dcObject
objectClass: organization
objectClass: zimbraDomain
dc: chg
o: chg
zimbraDomainName: chg.test
zimbraDomainType: local
zimbraId: 00000000-0000-4000-8000-0000000000d1

dn: ou=people,dc=chg,dc=test
objectClass: organizationalRole
ou: people
cn: people

dn: uid=ann,ou=people,dc=chg,dc=test
objectClass: inetOrgPerson
objectClass: zimbraAccount
uid: ann
cn: Ann
sn: Smith
mail: ann@chg.test
zimbraAccountStatus: active
zimbraId: 00000000-0000-4000-8000-0000000000a1
description: one
description: two

dn: zimbraSignatureName=sig,uid=ann,ou=people,dc=chg,dc=test
objectClass: zimbraSignature
zimbraSignatureName: sig
zimbraSignatureId: s1

)";

TEST(changes, modify_add_delete_replace_end_state_and_add_of_a_present_value_is_kept_once) {
    std::vector<problem> ps;
    auto m = test::model_of(std::string(base) + R"(dn: uid=ann,ou=people,dc=chg,dc=test
changetype: modify
add: description
description: two
description: three
-
delete: description
description: one
description: not-there
-
replace: sn
sn: Jones
-
delete: mail
-
add: mail
mail: ann@chg.test
-
)", &ps);
    ASSERT_EQ(m.changes().size(), 1u);
    ASSERT_TRUE(ps.empty()) << format_problem(ps[0]);
    const auto st = apply_changes(m, ps);
    EXPECT_TRUE(ps.empty());
    EXPECT_EQ(st.applied, 1u);
    EXPECT_EQ(st.unresolved, 0u);
    const auto& e = test::by_dn(m, "uid=ann,ou=people,dc=chg,dc=test");
    EXPECT_EQ(e.values("description"), (std::vector<std::string_view>{"two", "three"}));
    EXPECT_EQ(e.values("sn"), (std::vector<std::string_view>{"Jones"}));
    EXPECT_EQ(e.values("mail"), (std::vector<std::string_view>{"ann@chg.test"}));
    EXPECT_EQ(e.loc.line, 33u);  // problems with the end state point at the change
}

TEST(changes, a_modify_that_removes_a_required_attribute_is_refused_at_its_line) {
    std::vector<problem> ps;
    auto m = test::model_of(std::string(base) + "dn: uid=ann,ou=people,dc=chg,dc=test\nchangetype: modify\n"
                                                "delete: zimbraAccountStatus\n-\n", &ps);
    (void)apply_changes(m, ps);
    validate(m, {}, ps);
    std::erase_if(ps, [](const problem& p) { return p.code == "missing_parent"; });  // dc=test: not in this input
    ASSERT_EQ(ps.size(), 1u);
    EXPECT_EQ(ps[0].code, "missing_attribute");
    EXPECT_EQ(format_problem(ps[0]),
              "t.ldif:33: uid=ann,ou=people,dc=chg,dc=test: required attribute zimbraAccountStatus (zimbraAccount) is missing");
}

TEST(changes, delete_of_a_subtree_in_either_order_and_a_child_left_behind) {
    std::vector<problem> ps;
    // Parent first, then the child: both go, and the deletes list holds both for the writer.
    auto m = test::model_of(std::string(base) + "dn: uid=ann,ou=people,dc=chg,dc=test\nchangetype: delete\n\n"
                                                "dn: zimbraSignatureName=sig,uid=ann,ou=people,dc=chg,dc=test\n"
                                                "changetype: delete\n\n"
                                                "dn: uid=gone,ou=people,dc=chg,dc=test\nchangetype: delete\n",
                            &ps);
    (void)apply_changes(m, ps);
    EXPECT_TRUE(ps.empty()) << format_problem(ps.at(0));
    EXPECT_EQ(m.size(), 2u);
    EXPECT_EQ(m.deletes().size(), 3u);  // the absent one too: online it is a no-op, counted unchanged
    // Only the parent: the signature would be left without one.
    m = test::model_of(std::string(base) + "dn: uid=ann,ou=people,dc=chg,dc=test\nchangetype: delete\n", &ps);
    (void)apply_changes(m, ps);
    ASSERT_EQ(ps.size(), 1u);
    EXPECT_EQ(ps[0].code, "deleted_parent");
    EXPECT_EQ(ps[0].line, 28u);  // the signature, left under the deleted account
}

TEST(changes, modrdn_moves_the_entry_and_its_subtree_and_keeps_or_drops_the_old_rdn) {
    std::vector<problem> ps;
    auto m = test::model_of(std::string(base) + R"(dn: ou=staff,dc=chg,dc=test
objectClass: organizationalUnit
ou: staff

dn: uid=ann,ou=people,dc=chg,dc=test
changetype: modrdn
newrdn: uid=anna
deleteoldrdn: 1
newsuperior: ou=staff,dc=chg,dc=test
)", &ps);
    (void)apply_changes(m, ps);
    ASSERT_TRUE(ps.empty()) << format_problem(ps[0]);
    const auto& e = test::by_dn(m, "uid=anna,ou=staff,dc=chg,dc=test");
    EXPECT_EQ(e.values("uid"), (std::vector<std::string_view>{"anna"}));
    EXPECT_EQ(e.renamed_from, "uid=ann,ou=people,dc=chg,dc=test");
    EXPECT_NO_THROW((void)test::by_dn(m, "zimbraSignatureName=sig,uid=anna,ou=staff,dc=chg,dc=test"));
    EXPECT_THROW((void)test::by_dn(m, "uid=ann,ou=people,dc=chg,dc=test"), std::runtime_error);
    // deleteoldrdn: 0 keeps the old value beside the new one.
    m = test::model_of(std::string(base) + "dn: uid=ann,ou=people,dc=chg,dc=test\nchangetype: moddn\n"
                                            "newrdn: uid=anna\ndeleteoldrdn: 0\n", &ps);
    (void)apply_changes(m, ps);
    EXPECT_EQ(test::by_dn(m, "uid=anna,ou=people,dc=chg,dc=test").values("uid"),
              (std::vector<std::string_view>{"ann", "anna"}));
}

TEST(changes, order_and_target_errors_name_the_change) {
    std::vector<problem> ps;
    auto m = test::model_of("dn: cn=x,dc=chg,dc=test\nchangetype: modify\nreplace: cn\ncn: y\n-\n\n" +
                                std::string(base) + "dn: cn=x,dc=chg,dc=test\nobjectClass: organizationalRole\ncn: x\n\n"
                                "dn: uid=ann,ou=people,dc=chg,dc=test\nchangetype: delete\n\n"
                                "dn: uid=ann,ou=people,dc=chg,dc=test\nchangetype: modify\nreplace: sn\nsn: z\n-\n\n"
                                "dn: ou=people,dc=chg,dc=test\nchangetype: modrdn\nnewrdn: cn=x\ndeleteoldrdn: 1\n"
                                "newsuperior: dc=chg,dc=test\n",
                            &ps);
    (void)apply_changes(m, ps);
    std::map<std::string, std::uint32_t> codes;
    for (const auto& p : ps) codes[p.code] = p.line;
    EXPECT_EQ(codes["change_order"], 1u);
    EXPECT_EQ(codes["change_of_deleted"], 46u);
    EXPECT_EQ(codes["modrdn_target_exists"], 52u);
}

// The planner's online path without a server: a fetch function stands in for the destination.
class changes_plan : public ::testing::Test {
protected:
    std::string write(const std::string& text) {
        path_ = (std::filesystem::temp_directory_path() / ("changes-" + std::to_string(::getpid()) + ".ldif")).string();
        std::ofstream(path_) << text;
        return path_;
    }
    ~changes_plan() override {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    std::string path_;
};

TEST_F(changes_plan, a_change_to_an_entry_only_the_destination_has_applies_to_its_copy) {
    plan_options o;
    o.ldif_files = {write("dn: uid=bob,ou=people,dc=chg,dc=test\nchangetype: modify\nreplace: sn\nsn: New\n-\n"
                          "delete: description\n-\n\n"
                          "dn: uid=old,ou=people,dc=chg,dc=test\nchangetype: modrdn\nnewrdn: uid=new\n"
                          "deleteoldrdn: 1\n")};
    o.add_base_entries = false;
    std::map<std::string, entry> server;
    {
        entry b;
        b.set_dn("uid=bob,ou=people,dc=chg,dc=test", "uid=bob,ou=people,dc=chg,dc=test");
        for (auto [t, v] : {std::pair{"objectClass", "inetOrgPerson"}, {"uid", "bob"}, {"cn", "Bob"}, {"sn", "Old"},
                            {"description", "x"}}) {
            b.add(t, v);
        }
        server["uid=bob,ou=people,dc=chg,dc=test"] = b;
        entry n;
        n.set_dn("uid=new,ou=people,dc=chg,dc=test", "uid=new,ou=people,dc=chg,dc=test");
        n.add("uid", "new");
        server["uid=new,ou=people,dc=chg,dc=test"] = n;  // the modrdn was done by an earlier run
    }
    o.fetch_entry = [&](const std::string& dn, entry& out) {
        const auto it = server.find(dn);
        if (it == server.end()) return false;
        out = it->second;
        return true;
    };
    plan_result r;
    build_plan(o, r);
    std::vector<problem> errors;
    for (const auto& p : r.problems) {
        if (p.level == problem::severity::error && p.code != "missing_parent") errors.push_back(p);
    }
    EXPECT_TRUE(errors.empty()) << format_problem(errors.at(0));
    EXPECT_EQ(r.changes_read, 2u);
    EXPECT_EQ(r.changes_applied, 2u);
    EXPECT_EQ(r.fetched, 1u);
    ASSERT_EQ(r.model.size(), 1u);
    const auto b = r.model.at(0);
    EXPECT_TRUE(b.from_server);
    EXPECT_EQ(b.values("sn"), (std::vector<std::string_view>{"New"}));
    EXPECT_FALSE(b.has("description"));

    // --emit cannot carry a change to an entry it does not write; --check alone only warns.
    o.fetch_entry = nullptr;
    o.emit = true;
    plan_result e;
    build_plan(o, e);
    std::size_t refused = 0;
    for (const auto& p : e.problems) refused += p.code == "change_target_missing" && p.level == problem::severity::error;
    EXPECT_EQ(refused, 2u);
}

// increment: of the destination's copy would add again on every rerun; of the input's own entry it is
// the same each run.
TEST_F(changes_plan, increment_applies_to_the_input_and_is_refused_on_the_destination_copy) {
    plan_options o;
    o.ldif_files = {write("dn: uid=bob,ou=people,dc=chg,dc=test\nchangetype: modify\nincrement: uidNumber\nuidNumber: 5\n-\n\n"
                          "dn: uid=ann,ou=people,dc=chg,dc=test\nobjectClass: zimbraAccount\nuid: ann\n"
                          "uidNumber: 10\n\n"
                          "dn: uid=ann,ou=people,dc=chg,dc=test\nchangetype: modify\nincrement: uidNumber\nuidNumber: 5\n-\n")};
    o.add_base_entries = false;
    o.fetch_entry = [&](const std::string& dn, entry& out) {
        if (dn != "uid=bob,ou=people,dc=chg,dc=test") return false;
        out.set_dn(dn, dn);
        out.add("uid", "bob");
        out.add("uidNumber", "100");
        return true;
    };
    plan_result r;
    build_plan(o, r);
    std::vector<problem> refused;
    for (const auto& p : r.problems) {
        if (p.code == "increment_not_idempotent") refused.push_back(p);
    }
    ASSERT_EQ(refused.size(), 1u) << (r.problems.empty() ? "" : format_problem(r.problems[0]));
    EXPECT_EQ(refused[0].line, 1u);
    EXPECT_EQ(refused[0].dn, "uid=bob,ou=people,dc=chg,dc=test");
    EXPECT_EQ(test::by_dn(r.model, "uid=ann,ou=people,dc=chg,dc=test").first("uidNumber"), "15");
    EXPECT_EQ(test::by_dn(r.model, "uid=bob,ou=people,dc=chg,dc=test").first("uidNumber"), "100");
}

TEST_F(changes_plan, emit_writes_the_end_state) {
    plan_options o;
    o.ldif_files = {write(std::string(base) + "dn: uid=ann,ou=people,dc=chg,dc=test\nchangetype: modify\n"
                                              "replace: description\ndescription: final\n-\n\n"
                                              "dn: zimbraSignatureName=sig,uid=ann,ou=people,dc=chg,dc=test\n"
                                              "changetype: delete\n")};
    o.emit = true;
    plan_result r;
    build_plan(o, r);
    ASSERT_TRUE(r.ok()) << format_problem(r.problems.at(0));
    std::string out;
    emit_ldif(r.model, out);
    EXPECT_NE(out.find("description: final\n"), std::string::npos);
    EXPECT_EQ(out.find("description: one"), std::string::npos);
    EXPECT_EQ(out.find("zimbraSignatureName=sig"), std::string::npos);
    EXPECT_EQ(out.find("changetype"), std::string::npos);
}

}  // namespace
