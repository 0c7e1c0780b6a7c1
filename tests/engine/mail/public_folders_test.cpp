#include "engine/mail/public_folders.hpp"

#include <gtest/gtest.h>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace public_folders_test {

using namespace arrival::engine;

namespace {

mailbox_entry mb(std::string name, std::vector<std::string> attrs = {}, bool sub = false) {
    return {std::move(name), std::move(attrs), sub};
}

std::vector<std::string> dest_names(const folder_plan& p) {
    std::vector<std::string> out;
    for (const auto& e : p.entries) out.push_back(e.dest_name);
    return out;
}

const folder_plan_entry* by_dest(const folder_plan& p, std::string_view dest) {
    for (const auto& e : p.entries) {
        if (e.dest_name == dest) return &e;
    }
    return nullptr;
}

// Each server's NAMESPACE as it announces it.
const namespace_map dovecot({{"", '/'}}, {{"Other Users/", '/'}}, {{"Public/", '/'}});
const namespace_map cyrus_shared_prefix({{"INBOX.", '.'}}, {{"user.", '.'}}, {{"shared.", '.'}});
const namespace_map hash_public({{"", '/'}}, {{"#users/", '/'}}, {{"#public/", '/'}});
const namespace_map cyrus_classic({{"INBOX.", '.'}}, {{"user.", '.'}}, {{"", '.'}});
const namespace_map cyrus_alt({{"", '/'}}, {{"Other Users/", '/'}}, {{"Shared Folders/", '/'}});
const namespace_map no_shared({{"", '/'}}, {}, {});

}  // namespace

TEST(public_folders, hierarchy_kept_under_the_destination_prefix_and_delimiter) {
    // Cyrus-style source "shared." with '.', Dovecot destination "Public/" with '/'. Private folders on either
    // side are not part of the plan; the namespace roots are neither copied nor created.
    const std::vector<mailbox_entry> src = {mb("INBOX"), mb("INBOX.Sent", {"\\Sent"}), mb("shared", {"\\Noselect"}),
                                            mb("shared.Team", {"\\Noselect"}), mb("shared.Team.Minutes"),
                                            mb("shared.Announcements"), mb("shared.Büro & Co")};
    const std::vector<mailbox_entry> dst = {mb("INBOX"), mb("Sent", {"\\Sent"}), mb("Public", {"\\Noselect"}),
                                            mb("Public/Announcements")};
    const auto p = plan_public_folders(src, cyrus_shared_prefix, dst, dovecot, {});
    ASSERT_TRUE(p.errors.empty());
    EXPECT_EQ(dest_names(p), (std::vector<std::string>{"Public/Announcements", "Public/Büro & Co", "Public/Team",
                                                       "Public/Team/Minutes"}));
    const auto* ann = by_dest(p, "Public/Announcements");
    EXPECT_EQ(ann->source_name, "shared.Announcements");
    EXPECT_FALSE(ann->create);   // already there: indexed and deduplicated, not created
    const auto* team = by_dest(p, "Public/Team");
    EXPECT_EQ(team->source_name, "shared.Team");
    EXPECT_TRUE(team->create);
    EXPECT_FALSE(team->copy_messages);   // \Noselect on the source
    const auto* minutes = by_dest(p, "Public/Team/Minutes");
    EXPECT_EQ(minutes->source_name, "shared.Team.Minutes");
    EXPECT_EQ(minutes->path, "Team/Minutes");
    EXPECT_TRUE(minutes->create);
}

TEST(public_folders, no_special_use_mapping_and_missing_parents_created) {
    // A public "Deleted Items" must stay public: nobody's \Trash, not renamed onto the destination's "Trash".
    const std::vector<mailbox_entry> src = {mb("#public/Deleted Items"), mb("#public/Sent", {"\\Sent"}),
                                            mb("#public/a/b/c")};
    const std::vector<mailbox_entry> dst = {mb("Trash", {"\\Trash"}), mb("Sent", {"\\Sent"}), mb("Public/Trash")};
    const auto p = plan_public_folders(src, hash_public, dst, dovecot, {});
    ASSERT_TRUE(p.errors.empty());
    EXPECT_EQ(dest_names(p), (std::vector<std::string>{"Public/Deleted Items", "Public/Sent", "Public/a", "Public/a/b",
                                                       "Public/a/b/c"}));
    for (const auto& e : p.entries) EXPECT_EQ(e.use, special_use::none) << e.dest_name;
    EXPECT_TRUE(by_dest(p, "Public/a")->source_name.empty());   // parent created for its subfolders
    EXPECT_TRUE(by_dest(p, "Public/a")->create);
    EXPECT_FALSE(by_dest(p, "Public/a")->copy_messages);
}

TEST(public_folders, include_exclude_see_relative_paths) {
    const std::vector<mailbox_entry> src = {mb("Public/Team"), mb("Public/Team/Old"), mb("Public/News")};
    folder_filter f;
    f.include = {"^Team"};
    f.exclude = {"/Old$"};
    const auto p = plan_public_folders(src, dovecot, {}, cyrus_shared_prefix, f);
    ASSERT_TRUE(p.errors.empty());
    EXPECT_EQ(dest_names(p), (std::vector<std::string>{"shared.Team"}));
    EXPECT_EQ(p.excluded, (std::vector<std::string>{"Public/Team/Old", "Public/News"}));
    // A pattern on the full name does not match: the prefix is not part of the path.
    f.include = {"^Public/"};
    f.exclude.clear();
    EXPECT_TRUE(plan_public_folders(src, dovecot, {}, cyrus_shared_prefix, f).entries.empty());
}

TEST(public_folders, delimiter_inside_a_level_is_replaced_and_noted) {
    // "a.b" is one level on a '/' source; on a '.' destination it would become two.
    const auto p = plan_public_folders({mb("Public/a.b")}, dovecot, {}, cyrus_shared_prefix, {});
    ASSERT_EQ(p.entries.size(), 1u);
    EXPECT_EQ(p.entries[0].dest_name, "shared.a_b");
    EXPECT_NE(p.entries[0].note.find("delimiter"), std::string::npos);
}

TEST(public_folders, empty_shared_prefix_takes_what_no_other_prefix_claims) {
    // Cyrus's classic namespace: shared folders at the top level beside "INBOX." and "user.". A private
    // INBOX.Projects and a shared Projects are different folders; only the shared one is in this plan.
    const std::vector<mailbox_entry> src = {mb("INBOX"), mb("INBOX.Projects"), mb("INBOX.Sent", {"\\Sent"}),
                                            mb("user.bob.Projects"), mb("Announcements"), mb("Projects"),
                                            mb("Projects.2024"), mb("Büro Öffentlich")};
    const auto p = plan_public_folders(src, cyrus_classic, {mb("INBOX"), mb("Public", {"\\Noselect"})}, dovecot, {});
    ASSERT_TRUE(p.errors.empty());
    EXPECT_EQ(dest_names(p), (std::vector<std::string>{"Public/Announcements", "Public/Büro Öffentlich", "Public/Projects",
                                                       "Public/Projects/2024"}));
    EXPECT_EQ(by_dest(p, "Public/Projects")->source_name, "Projects");
    EXPECT_EQ(by_dest(p, "Public/Projects/2024")->path, "Projects/2024");
}

TEST(public_folders, empty_destination_prefix_lands_at_the_top_level) {
    // Dovecot -> Cyrus classic: "Public/Team/Minutes" becomes the top-level shared "Team.Minutes"; the
    // destination's private INBOX.Team is not the same folder and does not count as existing.
    const std::vector<mailbox_entry> src = {mb("INBOX"), mb("Public", {"\\Noselect"}), mb("Public/Team"), mb("Public/Team/Minutes")};
    const std::vector<mailbox_entry> dst = {mb("INBOX"), mb("INBOX.Team"), mb("Team")};
    const auto p = plan_public_folders(src, dovecot, dst, cyrus_classic, {});
    ASSERT_TRUE(p.errors.empty());
    EXPECT_EQ(dest_names(p), (std::vector<std::string>{"Team", "Team.Minutes"}));
    EXPECT_FALSE(by_dest(p, "Team")->create);
    EXPECT_TRUE(by_dest(p, "Team.Minutes")->create);
    // Cyrus's alternate namespace: under "Shared Folders/".
    const auto q = plan_public_folders(src, dovecot, {}, cyrus_alt, {});
    EXPECT_EQ(dest_names(q), (std::vector<std::string>{"Shared Folders/Team", "Shared Folders/Team/Minutes"}));
}

TEST(public_folders, a_side_without_shared_namespace_is_an_error_not_a_copy_of_everything) {
    const std::vector<mailbox_entry> src = {mb("INBOX"), mb("Team")};
    const auto p = plan_public_folders(src, no_shared, {}, dovecot, {});
    EXPECT_TRUE(p.entries.empty());
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_NE(p.errors[0].find("source has no shared namespace"), std::string::npos);
    const auto q = plan_public_folders({mb("Public/Team")}, dovecot, {}, no_shared, {});
    EXPECT_TRUE(q.entries.empty());
    EXPECT_NE(q.errors.at(0).find("destination"), std::string::npos);
}

}  // namespace public_folders_test
