#include "provision/dl_csv.hpp"

#include <gtest/gtest.h>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace dl_csv_test {
using namespace arrival::provision;

TEST(parse_dl_csv, lists_with_members_header_and_errors_with_lines) {
    std::vector<entry> lists;
    std::vector<problem> ps;
    parse_dl_csv("address,description,name,members\n"
                 "# comment\n"
                 "Sales@Acme.Test,Sales team,\"Sales, EMEA\",ann@acme.test,partner@other.org\r\n"
                 "\n"
                 "not-an-address,x,y\n"
                 "ops@acme.test,,,bob@acme.test,nobody\n",
                 3, "lists.csv", lists, ps);
    ASSERT_EQ(lists.size(), 2u);
    const auto& s = lists[0];
    EXPECT_EQ(s.dn(), "uid=sales,ou=people,dc=acme,dc=test");
    EXPECT_EQ(s.loc.file, 3u);
    EXPECT_EQ(s.loc.line, 3u);
    EXPECT_EQ(s.first("mail"), "sales@acme.test");
    EXPECT_EQ(s.first("displayName"), "Sales, EMEA");
    EXPECT_EQ(s.values("zimbraMailForwardingAddress"),
              (std::vector<std::string_view>{"ann@acme.test", "partner@other.org"}));
    EXPECT_EQ(s.first("zimbraId").size(), 36u);
    ASSERT_EQ(ps.size(), 2u);
    EXPECT_EQ(ps[0].line, 5u);
    EXPECT_EQ(ps[1].line, 6u);  // member "nobody"
    // Stable ids: the same list gets the same zimbraId on every run.
    std::vector<entry> again;
    parse_dl_csv("sales@acme.test,Sales team\n", 0, "x.csv", again, ps);
    EXPECT_EQ(again[0].first("zimbraId"), s.first("zimbraId"));
}

}  // namespace
