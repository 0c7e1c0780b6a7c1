#include "engine/mail/namespace_map.hpp"

#include <gtest/gtest.h>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace namespace_map_test {

using namespace arrival::engine;

namespace {

constexpr namespace_place personal_ns{namespace_kind::personal, 0};
constexpr namespace_place other_users_ns{namespace_kind::other_users, 0};
constexpr namespace_place shared_ns{namespace_kind::shared, 0};

mailbox_entry entry_named(std::string name) { return {std::move(name), {}, false}; }

std::vector<std::string> names_of(const std::vector<mailbox_entry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.name);
    return out;
}

}  // namespace

TEST(namespace_map, cyrus_classic_empty_shared_prefix_takes_what_the_longer_prefixes_leave) {
    // altnamespace: no, unixhierarchysep: no — NAMESPACE (("INBOX." ".")) (("user." ".")) (("" "."))
    const namespace_map m({{"INBOX.", '.'}}, {{"user.", '.'}}, {{"", '.'}});
    EXPECT_EQ(m.classify("INBOX"), personal_ns);
    EXPECT_EQ(m.classify("inbox"), personal_ns);   // INBOX in any case
    EXPECT_EQ(m.classify("INBOX.Projects"), personal_ns);
    EXPECT_EQ(m.classify("INBOX.Projects.2024"), personal_ns);
    EXPECT_EQ(m.classify("user.bob"), other_users_ns);
    EXPECT_EQ(m.classify("user.bob.Shared Stuff"), other_users_ns);
    EXPECT_EQ(m.classify("user"), other_users_ns);   // the prefix's root
    EXPECT_EQ(m.classify("Projects"), shared_ns);
    EXPECT_EQ(m.classify("Projects.2024"), shared_ns);
    EXPECT_EQ(m.classify("Büro Öffentlich"), shared_ns);
    EXPECT_EQ(m.classify("users.x"), shared_ns);     // "user." is a prefix of letters and delimiter, not of "users"
}

TEST(namespace_map, cyrus_alt_namespace_and_dovecot) {
    // altnamespace: yes, unixhierarchysep: yes — (("" "/")) (("Other Users/" "/")) (("Shared Folders/" "/"))
    const namespace_map m({{"", '/'}}, {{"Other Users/", '/'}}, {{"Shared Folders/", '/'}});
    EXPECT_EQ(m.classify("INBOX"), personal_ns);
    EXPECT_EQ(m.classify("Projects"), personal_ns);
    EXPECT_EQ(m.classify("Shared Folders/Projects"), shared_ns);
    EXPECT_EQ(m.classify("Shared Folders"), shared_ns);
    EXPECT_EQ(m.classify("Other Users/bob/Team"), other_users_ns);
    EXPECT_EQ(m.classify("Shared"), personal_ns);   // a private folder sharing the letters
    EXPECT_EQ(m.classify("shared folders/Projects"), personal_ns);   // prefixes are case-sensitive
}

TEST(namespace_map, longest_prefix_wins_across_groups_and_ties_go_to_shared) {
    // A shared namespace nested inside the personal one, and a second shared namespace.
    const namespace_map m({{"", '/'}}, {}, {{"Public/", '/'}, {"Public/Archive/", '/'}});
    EXPECT_EQ(m.classify("Public/Team"), shared_ns);
    EXPECT_EQ(m.classify("Public/Archive/2019"), (namespace_place{namespace_kind::shared, 1}));
    EXPECT_EQ(m.classify("Public/Archive"), (namespace_place{namespace_kind::shared, 1}));   // its root
    // Cyrus's admin: NAMESPACE NIL (("user." ".")) (("" ".")), personal "" from the session's fallback.
    const namespace_map admin({{"", '.'}}, {{"user.", '.'}}, {{"", '.'}});
    EXPECT_EQ(admin.classify("Projects.2024"), shared_ns);
    EXPECT_EQ(admin.classify("user.bob.Sent"), other_users_ns);
    EXPECT_EQ(admin.classify("INBOX"), personal_ns);
}

TEST(namespace_map, no_namespace_reply_means_everything_is_personal) {
    const namespace_map m({}, {}, {});
    EXPECT_EQ(m.classify("Anything/at/all"), personal_ns);
    EXPECT_EQ(m.personal().prefix, "");
    // Personal "INBOX." with nothing at "": a name outside every prefix is still the user's.
    const namespace_map n({{"INBOX.", '.'}}, {}, {});
    EXPECT_EQ(n.classify("Stray"), personal_ns);
}

TEST(namespace_map, entries_and_names_by_namespace) {
    const namespace_map m({{"INBOX.", '.'}}, {{"user.", '.'}}, {{"", '.'}});
    const std::vector<mailbox_entry> list = {entry_named("INBOX"), entry_named("INBOX.Projects"), entry_named("user.bob.Team"), entry_named("Projects"), entry_named("Projects.2024")};
    EXPECT_EQ(names_of(m.entries_in(list, personal_ns)), (std::vector<std::string>{"INBOX", "INBOX.Projects"}));
    EXPECT_EQ(names_of(m.entries_in(list, shared_ns)), (std::vector<std::string>{"Projects", "Projects.2024"}));
    EXPECT_EQ(m.names_in(list, namespace_kind::other_users), (std::vector<std::string>{"user.bob.Team"}));
}

TEST(namespace_map, relative_names) {
    EXPECT_EQ(relative_name("shared.Team.Minutes", {"shared.", '.'}), "Team.Minutes");
    EXPECT_EQ(relative_name("shared", {"shared.", '.'}), "");
    EXPECT_EQ(relative_name("Projects.2024", {"", '.'}), "Projects.2024");
    EXPECT_EQ(relative_name("Other", {"shared.", '.'}), "Other");
}

}  // namespace namespace_map_test
