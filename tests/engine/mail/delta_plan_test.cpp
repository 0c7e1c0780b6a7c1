// engine/mail/delta_plan: the flag, expunge and key-matching decisions of a rerun, on values.
#include <gtest/gtest.h>

#include "engine/mail/delta_plan.hpp"

namespace arrival::engine {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace delta_plan_test {

mapped_message mm(std::uint32_t src, std::uint32_t dst, std::vector<std::string> flags, bool ours = true) {
    return {src, dst, std::move(flags), ours};
}

TEST(delta_plan, only_the_source_difference_is_sent_and_shared_changes_share_a_command) {
    const std::vector<mapped_message> map = {mm(1, 101, {}), mm(2, 102, {"\\Seen"}), mm(3, 103, {}), mm(4, 104, {"$Work", "\\Seen"}),
                                             mm(5, 105, {"\\Seen"})};
    const std::vector<source_flags> changed = {
        {1, {"\\Seen", "\\Flagged"}},   // +Seen +Flagged
        {3, {"\\Flagged", "\\Seen", "\\Recent"}},   // the same change; \Recent is not a stored flag
        {4, {"\\Seen"}},                // -$Work
        {5, {"\\Seen"}},                // touched (modseq moved) but the same flags: nothing to send
        {9, {"\\Seen"}},                // new mail: the copy's business
    };
    const auto p = plan_delta(map, changed, {}, permanent_flags(), {});
    ASSERT_EQ(p.stores.size(), 2u);
    EXPECT_FALSE(p.stores[0].add);   // removals first
    EXPECT_EQ(p.stores[0].flags, (std::vector<std::string>{"$Work"}));
    EXPECT_EQ(p.stores[0].uid_set(), "104");
    EXPECT_TRUE(p.stores[1].add);
    EXPECT_EQ(p.stores[1].flags, (std::vector<std::string>{"\\Flagged", "\\Seen"}));
    EXPECT_EQ(p.stores[1].uid_set(), "101,103");
    EXPECT_EQ(p.flags_updated, 3u);
    ASSERT_EQ(p.snapshot.size(), 3u);
    EXPECT_EQ(p.snapshot[1].flags, (std::vector<std::string>{"\\Flagged", "\\Seen"}));
    EXPECT_TRUE(p.expunge_dst.empty());
    EXPECT_TRUE(p.vanished_src.empty());
}

TEST(delta_plan, keywords_go_through_the_copy_rule) {
    const std::vector<mapped_message> map = {mm(1, 11, {})};
    const std::vector<source_flags> changed = {{1, {"Important:FLAG51135", "a b"}}};
    permanent_flags no_new_keywords(std::vector<std::string>{"\\Seen", "\\Flagged", "Important"});
    const auto p = plan_delta(map, changed, {}, no_new_keywords, {});
    ASSERT_EQ(p.stores.size(), 1u);
    EXPECT_EQ(p.stores[0].flags, (std::vector<std::string>{"Important"}));   // a_b is not allowed there: dropped
    EXPECT_FALSE(p.flag_changes.empty());
}

TEST(delta_plan, no_sync_flags_sends_nothing) {
    delta_options o;
    o.sync_flags = false;
    const auto p = plan_delta({mm(1, 11, {})}, {{1, {"\\Seen"}}}, {}, permanent_flags(), o);
    EXPECT_TRUE(p.empty());
}

TEST(delta_plan, batches_are_capped) {
    std::vector<mapped_message> map;
    std::vector<source_flags> changed;
    for (std::uint32_t u = 1; u <= 25; ++u) {
        map.push_back(mm(u, 1000 + u, {}));
        changed.push_back({u, {"\\Seen"}});
    }
    delta_options o;
    o.store_batch_uids = 10;
    const auto p = plan_delta(map, changed, {}, permanent_flags(), o);
    ASSERT_EQ(p.stores.size(), 3u);
    EXPECT_EQ(p.stores[0].uid_set(), "1001:1010");
    EXPECT_EQ(p.stores[2].uid_set(), "1021:1025");
}

TEST(delta_plan, expunges_follow_only_when_asked_and_only_for_our_copies) {
    const std::vector<mapped_message> map = {mm(1, 11, {}), mm(2, 12, {}), mm(3, 13, {}, false), mm(4, 14, {})};
    const std::vector<std::uint32_t> present = {1, 4, 5};
    const std::vector<source_flags> changed = {{2, {"\\Seen"}}};
    auto p = plan_delta(map, changed, {present, {}}, permanent_flags(), {});
    EXPECT_EQ(p.vanished_src, (std::vector<std::uint32_t>{2, 3}));
    EXPECT_TRUE(p.expunge_dst.empty());
    EXPECT_TRUE(p.forget_src.empty());
    EXPECT_EQ(p.stores.size(), 1u);   // without --sync-deletes the copy stays, and follows its flags

    delta_options o;
    o.sync_deletes = true;
    p = plan_delta(map, changed, {present, {}}, permanent_flags(), o);
    EXPECT_EQ(p.expunge_dst, (std::vector<std::uint32_t>{12}));   // 13 was found by key, not APPENDed: kept
    EXPECT_EQ(p.forget_src, (std::vector<std::uint32_t>{2, 3}));
    EXPECT_EQ(p.vanished_not_ours, 1u);
    EXPECT_TRUE(p.snapshot.empty());
}

// QRESYNC: the source names what it expunged since the last run (VANISHED (EARLIER)) instead of what exists;
// the same decisions follow. A VANISHED UID the map never had (expunged before the copy, or new mail that came
// and went) changes nothing.
TEST(delta_plan, vanished_uids_are_the_expunges) {
    const std::vector<mapped_message> map = {mm(1, 11, {}), mm(2, 12, {}), mm(3, 13, {}, false), mm(4, 14, {})};
    const std::vector<source_flags> changed = {{2, {"\\Seen"}}, {4, {"\\Flagged"}}};
    const source_expunges vanished{std::nullopt, std::vector<std::uint32_t>{3, 2, 7}};
    auto p = plan_delta(map, changed, vanished, permanent_flags(), {});
    EXPECT_EQ(p.vanished_src, (std::vector<std::uint32_t>{2, 3}));
    EXPECT_TRUE(p.expunge_dst.empty());
    EXPECT_TRUE(p.forget_src.empty());
    EXPECT_EQ(p.stores.size(), 2u);

    delta_options o;
    o.sync_deletes = true;
    p = plan_delta(map, changed, vanished, permanent_flags(), o);
    EXPECT_EQ(p.expunge_dst, (std::vector<std::uint32_t>{12}));
    EXPECT_EQ(p.forget_src, (std::vector<std::uint32_t>{2, 3}));
    EXPECT_EQ(p.vanished_not_ours, 1u);
    ASSERT_EQ(p.snapshot.size(), 1u);   // 2's flag change is moot; 4's stays
    EXPECT_EQ(p.snapshot[0].uid, 4u);

    // An empty VANISHED: nothing is gone (not "everything is gone", as an empty `present` would say).
    p = plan_delta(map, {}, source_expunges{std::nullopt, std::vector<std::uint32_t>{}}, permanent_flags(), o);
    EXPECT_TRUE(p.vanished_src.empty());
    EXPECT_TRUE(p.expunge_dst.empty());
}

TEST(delta_plan, match_by_key_pairs_in_uid_order_as_a_multiset) {
    const auto a = compute_dedupe_key("Message-ID: <a@x>\r\n", 100);
    const auto b = compute_dedupe_key("Message-ID: <b@x>\r\n", 200);
    const auto c = compute_dedupe_key("Message-ID: <c@x>\r\n", 300);
    const auto pairs = match_by_key({{3, a}, {1, a}, {2, b}, {4, c}}, {{50, b}, {40, a}, {60, a}, {70, a}});
    const std::vector<std::pair<std::uint32_t, std::uint32_t>> want = {{1, 40}, {2, 50}, {3, 60}};
    EXPECT_EQ(pairs, want);
}

}  // namespace
}  // namespace arrival::engine

namespace arrival::engine {
namespace delta_plan_test {

source_message sm(std::uint32_t uid, const dedupe_key& k, std::vector<std::string> flags = {}) {
    source_message m;
    m.uid = uid;
    m.key = k;
    m.flags = std::move(flags);
    return m;
}

TEST(delta_plan, map_gaps_are_filled_by_key_and_never_reuse_a_mapped_destination_message) {
    const auto a = compute_dedupe_key("Message-ID: <a@x>\r\n", 100);
    const auto b = compute_dedupe_key("Message-ID: <b@x>\r\n", 200);
    const std::vector<mapped_message> map = {{1, 40, {}, true}, {3, 0, {}, true}};   // 3 copied without APPENDUID
    const auto gaps = fill_map_gaps(map, {sm(1, a), sm(2, a, {"\\Seen", "\\Recent"}), sm(3, b)}, {sm(40, a), sm(41, a), sm(42, b)});
    ASSERT_EQ(gaps.size(), 2u);
    EXPECT_EQ(gaps[0].src_uid, 2u);
    EXPECT_EQ(gaps[0].dst_uid, 41u);
    EXPECT_EQ(gaps[0].flags, (std::vector<std::string>{"\\Seen"}));
    EXPECT_FALSE(gaps[0].ours);
    EXPECT_EQ(gaps[1].src_uid, 3u);
    EXPECT_EQ(gaps[1].dst_uid, 42u);
    EXPECT_TRUE(gaps[1].ours);   // arrival copied it; only the destination UID was unknown
}

}  // namespace
}  // namespace arrival::engine

namespace arrival::engine {
namespace delta_plan_test {

TEST(delta_plan, a_missing_folder_is_renamed_when_one_new_folder_has_its_uidvalidity) {
    const std::vector<known_folder> missing = {{"Projects/2024", 12, "Projects/2024"}, {"Projects", 11, "Projects"},
                                               {"Trash-2019", 13, "Trash-2019"}, {"Twin-a", 20, "Twin-a"}, {"Twin-b", 20, "Twin-b"}};
    const std::vector<known_folder> unknown = {{"Archive", 11, "Archive"}, {"Archive/2024", 12, "Archive/2024"}, {"Fresh", 99, "Fresh"},
                                               {"Twin", 20, "Twin"}};
    const auto c = plan_folder_changes(missing, unknown);
    ASSERT_EQ(c.renames.size(), 2u);
    EXPECT_EQ(c.renames[0].from.name, "Projects");   // the parent first
    EXPECT_EQ(c.renames[0].to.name, "Archive");
    EXPECT_EQ(c.renames[1].to.dest_folder, "Archive/2024");
    ASSERT_EQ(c.gone.size(), 3u);   // Trash-2019, and the two twins: which one became "Twin" is not knowable
    EXPECT_EQ(c.gone[0].name, "Trash-2019");
}

}  // namespace
}  // namespace arrival::engine

namespace arrival::engine {
namespace delta_plan_test {

TEST(delta_plan, flag_differences_compare_the_mapped_source_flags) {
    const auto a = compute_dedupe_key("Message-ID: <a@x>\r\n", 100);
    const auto b = compute_dedupe_key("Message-ID: <b@x>\r\n", 200);
    const auto c = compute_dedupe_key("Message-ID: <c@x>\r\n", 300);
    source_message s1, s2, s3, d1, d2;
    s1.uid = 1, s1.key = a, s1.flags = {"\\Seen", "\\Recent", "Work:FLAG7"};
    s2.uid = 2, s2.key = b, s2.flags = {"\\Seen"};
    s3.uid = 3, s3.key = c;                        // not on the destination: verify's "missing", not a flag difference
    d1.uid = 10, d1.key = a, d1.flags = {"Work", "\\Seen"};
    d2.uid = 11, d2.key = b, d2.flags = {"\\Seen", "\\Flagged"};
    const auto diff = flag_differences({s1, s2, s3}, {d1, d2}, permanent_flags(), dest_profile_kind::generic, "INBOX");
    ASSERT_EQ(diff.size(), 1u);
    EXPECT_EQ(diff[0].source_uid, 2u);
    EXPECT_EQ(diff[0].dest_uid, 11u);
    EXPECT_EQ(diff[0].expected, (std::vector<std::string>{"\\Seen"}));
    EXPECT_EQ(diff[0].actual, (std::vector<std::string>{"\\Flagged", "\\Seen"}));
}

}  // namespace
}  // namespace arrival::engine
