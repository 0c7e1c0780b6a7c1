// preflight's tally of one folder's messages under the cyrus profile: the keywords beyond the folder's 100
// are predicted as keyword_dropped, with the message that would lose them (engine/mail/flag_map.hpp).
#include "engine/mail/preflight.hpp"

#include <gtest/gtest.h>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace preflight_tally_test {

using namespace arrival::engine;

source_message with_keywords(std::uint32_t uid, const char* stem, int n) {
    source_message m;
    m.uid = uid;
    m.size = 100;
    m.internaldate = "02-Jan-2024 09:00:00 +0000";
    for (int i = 0; i < n; ++i) m.flags.push_back(stem + std::to_string(i));
    return m;
}

TEST(preflight_tally, cyrus_folder_keyword_limit_predicted_per_message) {
    const auto cyrus = dest_profile::make(dest_profile_kind::cyrus, std::nullopt, std::nullopt);
    finding_tally t;
    permanent_flags folder({"\\*"}, cyrus.kind);
    t.add_message(cyrus, "alice", "INBOX", "INBOX", with_keywords(1, "a", 70), &folder);
    t.add_message(cyrus, "alice", "INBOX", "INBOX", with_keywords(2, "b", 40), &folder);
    const auto& f = t.findings();
    ASSERT_TRUE(f.count("keyword_dropped"));
    EXPECT_EQ(f.at("keyword_dropped").count, 10u);
    EXPECT_EQ(f.at("keyword_dropped").examples.at(0).uid, 2u);
    EXPECT_NE(f.at("keyword_dropped").examples.at(0).detail.find("'b30'"), std::string::npos);

    // Another server, or no folder state: nothing dropped.
    finding_tally generic;
    const auto g = dest_profile::make(dest_profile_kind::generic, std::nullopt, std::nullopt);
    permanent_flags other({"\\*"}, g.kind);
    generic.add_message(g, "alice", "INBOX", "INBOX", with_keywords(1, "a", 70), &other);
    generic.add_message(g, "alice", "INBOX", "INBOX", with_keywords(2, "b", 40), &other);
    EXPECT_FALSE(generic.findings().count("keyword_dropped"));
}

}  // namespace preflight_tally_test
