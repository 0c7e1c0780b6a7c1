#include "engine/mail/flag_map.hpp"

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

// Cyrus's keyword limit: 100 keywords per folder over IMAP (the 101st gets NO "Too many user flags in
// mailbox" on the testbed's Cyrus 3.6), PERMANENTFLAGS listing the folder's keywords and \* even when full.
std::vector<std::string> keywords(const std::string& stem, int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i < to; ++i) out.push_back(stem + std::to_string(i));
    return out;
}

TEST(flag_map, cyrus_folder_takes_100_keywords_then_drops_new_ones_with_the_reason) {
    permanent_flags folder({"\\Seen", "\\*"}, dest_profile_kind::cyrus);
    std::vector<flag_change> ch;
    auto first = keywords("a", 0, 60);
    first.push_back("\\Seen");
    const auto f1 = map_flags(first, folder, ch);
    EXPECT_EQ(f1.size(), 61u);
    EXPECT_TRUE(ch.empty());
    folder.note_sent(f1);
    // 60 in the folder: of 50 new ones 40 fit; A5 is the folder's already (keywords match without case).
    auto second = keywords("b", 0, 50);
    second.push_back("A5");
    const auto f2 = map_flags(second, folder, ch);
    EXPECT_EQ(f2, [] { auto k = keywords("b", 0, 40); k.push_back("A5"); return k; }());
    ASSERT_EQ(ch.size(), 10u);
    for (std::size_t i = 0; i < ch.size(); ++i) {
        EXPECT_EQ(ch[i].from, "b" + std::to_string(40 + i));
        EXPECT_TRUE(ch[i].to.empty());
        EXPECT_EQ(ch[i].reason, cyrus_keyword_limit_reason);
    }
    folder.note_sent(f2);
    EXPECT_TRUE(folder.allows_keyword("B39"));
    EXPECT_FALSE(folder.allows_keyword("c0"));
    // A system flag is no keyword: a full folder still takes it.
    ch.clear();
    EXPECT_EQ(map_flags({"\\Flagged", "c0", "a1"}, folder, ch), (std::vector<std::string>{"\\Flagged", "a1"}));
    ASSERT_EQ(ch.size(), 1u);
    EXPECT_EQ(ch[0].from, "c0");
}

TEST(flag_map, cyrus_limit_counts_the_keywords_permanentflags_lists) {
    auto listed = keywords("k", 0, 100);
    listed.push_back("\\*");
    const permanent_flags full(listed, dest_profile_kind::cyrus);
    std::vector<flag_change> ch;
    EXPECT_EQ(map_flags({"K7", "new"}, full, ch), (std::vector<std::string>{"K7"}));
    ASSERT_EQ(ch.size(), 1u);
    EXPECT_EQ(ch[0].reason, cyrus_keyword_limit_reason);
    // The same list from another server: no limit.
    ch.clear();
    EXPECT_EQ(map_flags({"K7", "new"}, permanent_flags(listed), ch), (std::vector<std::string>{"K7", "new"}));
    // EXAMINE: PERMANENTFLAGS () and the keywords in FLAGS.
    auto defined = keywords("k", 0, 100);
    defined.push_back("\\Seen");
    const permanent_flags examined({}, dest_profile_kind::cyrus, defined);
    EXPECT_TRUE(examined.allows_keyword("k99"));
    EXPECT_FALSE(examined.allows_keyword("new"));
    EXPECT_TRUE(permanent_flags({}, dest_profile_kind::cyrus, {"\\Seen", "x"}).allows_keyword("new"));
}

TEST(flag_map, cyrus_one_message_with_more_than_100_keywords_keeps_the_first_100) {
    const permanent_flags folder({"\\*"}, dest_profile_kind::cyrus);
    std::vector<flag_change> ch;
    const auto f = map_flags(keywords("m", 0, 130), folder, ch);
    EXPECT_EQ(f, keywords("m", 0, 100));
    EXPECT_EQ(ch.size(), 30u);
    EXPECT_EQ(ch.front().from, "m100");
}

}  // namespace flag_map_test
