#include "engine/flag_map.hpp"

#include <gtest/gtest.h>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace flag_map_test {

using namespace arrival::engine;

TEST(flag_map, recent_dropped_system_kept) {
    std::vector<flag_change> ch;
    const auto f = map_flags({"\\Seen", "\\Recent", "\\flagged", "\\Answered", "\\Draft", "\\Deleted"}, permanent_flags{}, ch);
    EXPECT_EQ(f, (std::vector<std::string>{"\\Seen", "\\Flagged", "\\Answered", "\\Draft", "\\Deleted"}));
    EXPECT_TRUE(ch.empty());
}

TEST(flag_map, zimbra_tag_and_odd_keywords_rewritten_and_reported) {
    std::vector<flag_change> ch;
    const auto f = map_flags({"$Label1", "Work", "Name:FLAG51135", "a:b", "%%", "\\Foo"}, permanent_flags{}, ch);
    EXPECT_EQ(f, (std::vector<std::string>{"$Label1", "Work", "Name", "a_b"}));
    ASSERT_EQ(ch.size(), 4u);
    EXPECT_EQ(ch[0].from, "Name:FLAG51135");
    EXPECT_EQ(ch[0].to, "Name");
    EXPECT_EQ(ch[1].to, "a_b");
    EXPECT_EQ(ch[2].from, "%%");
    EXPECT_TRUE(ch[2].to.empty());
    EXPECT_EQ(ch[3].from, "\\Foo");
}

TEST(flag_map, permanentflags_without_star_refuses_unlisted_keywords) {
    const permanent_flags pf({"\\Seen", "\\Deleted", "Work"});
    std::vector<flag_change> ch;
    const auto f = map_flags({"\\Seen", "work", "Other"}, pf, ch);
    EXPECT_EQ(f, (std::vector<std::string>{"\\Seen", "work"}));
    ASSERT_EQ(ch.size(), 1u);
    EXPECT_EQ(ch[0].from, "Other");
    EXPECT_TRUE(ch[0].to.empty());
    EXPECT_TRUE(permanent_flags({"\\*"}).allows_keyword("anything"));
}

TEST(flag_map, rewritten_duplicates_collapse) {
    std::vector<flag_change> ch;
    const auto f = map_flags({"Name", "Name:FLAG1"}, permanent_flags{}, ch);
    EXPECT_EQ(f, (std::vector<std::string>{"Name"}));
}

}  // namespace flag_map_test
