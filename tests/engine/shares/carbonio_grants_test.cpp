// engine/shares/carbonio_grants on values: what a CSV row becomes as a Carbonio grant (FACTS.md §4), the CSV
// read with its errors, and the SOAP bytes (FolderActionRequest, GetFolderResponse's <acl>).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "engine/pim/carbonio_soap.hpp"
#include "engine/shares/carbonio_grants.hpp"

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace carbonio_grants_test {

using namespace arrival::shares;

carbonio_grant_options options() {
    carbonio_grant_options o;
    o.accounts["bob@old.example"] = "robert@new.example";
    o.domains["old.example"] = "new.example";
    return o;
}

TEST(carbonio_grants, grantee_kinds_and_mapping) {
    const auto o = options();
    auto p = plan_carbonio_grant({1, "ann@old.example", "/Calendar", "bob@old.example", "rw"}, o);
    EXPECT_EQ(p.grant.gt, "usr");
    EXPECT_EQ(p.grant.d, "robert@new.example");
    EXPECT_EQ(p.grant.perm, "rw");
    p = plan_carbonio_grant({1, "ann@old.example", "/Calendar", "carol@old.example", "r"}, o);
    EXPECT_EQ(p.grant.d, "carol@new.example");
    p = plan_carbonio_grant({1, "a", "/Calendar", "group:team@old.example", "r"}, o);
    EXPECT_EQ(p.grant.gt, "grp");
    EXPECT_EQ(p.grant.d, "team@new.example");
    p = plan_carbonio_grant({1, "a", "/Calendar", "Anyone", "r"}, o);
    EXPECT_EQ(p.grant.gt, "all");   // never pub: that adds anonymous readers
    EXPECT_TRUE(p.grant.d.empty());
    p = plan_carbonio_grant({1, "a", "/Calendar", "domain:old.example", "r"}, o);
    EXPECT_EQ(p.grant.gt, "dom");
    EXPECT_EQ(p.grant.d, "new.example");
}

TEST(carbonio_grants, rights_are_never_replaced_by_wider_ones) {
    const auto o = options();
    auto p = plan_carbonio_grant({1, "a", "/Calendar", "bob@old.example", "wrzc"}, o);
    EXPECT_EQ(p.grant.perm, "rw");      // canonical order; c dropped (no effect in Carbonio)
    EXPECT_EQ(p.refused, "z");
    EXPECT_NE(p.why.find("no right 'z'"), std::string::npos);
    p = plan_carbonio_grant({1, "a", "/Calendar", "anyone", "ra"}, o);
    EXPECT_EQ(p.grant.perm, "r");
    EXPECT_EQ(p.refused, "a");          // a only to users and groups (Mailbox.grantAccess)
    p = plan_carbonio_grant({1, "a", "/Calendar", "bob@old.example", "z"}, o);
    EXPECT_TRUE(p.grant.perm.empty());
}

TEST(carbonio_grants, csv_columns_any_order_and_bad_rows) {
    const std::string path = ::testing::TempDir() + "shares_csv_test.csv";
    {
        std::ofstream f(path);
        f << "grantee,rights,owner,folder\nbob@x,r,ann@x,/Calendar\n,r,ann@x,/Calendar\n";
    }
    const auto c = read_shares_csv(path);
    ASSERT_EQ(c.rows.size(), 1u);
    EXPECT_EQ(c.rows[0].owner, "ann@x");
    EXPECT_EQ(c.rows[0].grantee, "bob@x");
    EXPECT_EQ(c.rows[0].line, 2u);
    ASSERT_EQ(c.errors.size(), 1u);
    EXPECT_NE(c.errors[0].find(":3:"), std::string::npos);
    {
        std::ofstream f(path);
        f << "owner,folder,rights\nann@x,/Calendar,r\n";
    }
    const auto bad = read_shares_csv(path);
    EXPECT_TRUE(bad.rows.empty());
    ASSERT_EQ(bad.errors.size(), 1u);
    EXPECT_NE(bad.errors[0].find("'grantee'"), std::string::npos);
    std::remove(path.c_str());
}

TEST(carbonio_grants, soap_bytes) {
    const auto req = pim::folder_grant_request("TOKEN", "10", {"usr", "rw", "", "bob@x&y"});
    EXPECT_NE(req.find("<action op=\"grant\" id=\"10\"><grant gt=\"usr\" perm=\"rw\" d=\"bob@x&amp;y\"/></action>"),
              std::string::npos);
    const auto all = pim::folder_grant_request("TOKEN", "10", {"all", "r", "", ""});
    EXPECT_EQ(all.find(" d="), std::string::npos);
    const std::string body =
        "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body>"
        "<GetFolderResponse xmlns=\"urn:zimbraMail\"><folder id=\"1\" name=\"USER_ROOT\">"
        "<folder id=\"10\" name=\"Calendar\" absFolderPath=\"/Calendar\" view=\"appointment\">"
        "<acl><grant gt=\"usr\" perm=\"r\" zid=\"z1\" d=\"bob@x\"/><grant gt=\"all\" perm=\"r\" zid=\"z0\"/></acl>"
        "</folder></folder></GetFolderResponse></soap:Body></soap:Envelope>";
    std::vector<pim::mail_folder> folders;
    ASSERT_TRUE(pim::read_folders(200, body, folders).error.empty());
    ASSERT_EQ(folders.size(), 2u);
    ASSERT_EQ(folders[1].grants.size(), 2u);
    EXPECT_EQ(folders[1].grants[0].d, "bob@x");
    EXPECT_EQ(folders[1].grants[1].gt, "all");
    EXPECT_TRUE(pim::read_folder_action(200, "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\">"
                                             "<soap:Body><FolderActionResponse xmlns=\"urn:zimbraMail\"/></soap:Body>"
                                             "</soap:Envelope>").error.empty());
}

}  // namespace
}  // namespace arrival::test
