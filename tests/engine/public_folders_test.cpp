#include "engine/public_folders.hpp"

#include <gtest/gtest.h>

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

const namespace_info dovecot_public{"Public/", '/'};
const namespace_info cyrus_shared{"shared.", '.'};
const namespace_info hash_public{"#public/", '/'};

}  // namespace

TEST(public_folders, in_namespace_takes_the_prefix_and_its_root_only) {
    EXPECT_TRUE(in_namespace("Public/Team", dovecot_public));
    EXPECT_TRUE(in_namespace("Public/Team/Sub", dovecot_public));
    EXPECT_TRUE(in_namespace("Public", dovecot_public));           // the root Dovecot lists \Noselect
    EXPECT_FALSE(in_namespace("Publications", dovecot_public));    // a private folder sharing the letters
    EXPECT_FALSE(in_namespace("public/Team", dovecot_public));     // prefixes are case-sensitive
    EXPECT_FALSE(in_namespace("INBOX", dovecot_public));
    EXPECT_TRUE(in_namespace("shared.Team", cyrus_shared));
    EXPECT_FALSE(in_namespace("INBOX.shared", cyrus_shared));
    EXPECT_FALSE(in_namespace("anything", namespace_info{"", '/'}));   // an empty prefix holds nothing here
}

TEST(public_folders, private_list_drops_shared_and_other_users_folders) {
    const std::vector<mailbox_entry> list = {mb("INBOX"), mb("Sent", {"\\Sent"}), mb("Public", {"\\Noselect"}),
                                             mb("Public/Team"), mb("Publications"), mb("#users/bob/INBOX")};
    const auto kept = outside_namespaces(list, {dovecot_public, namespace_info{"#users/", '/'}});
    std::vector<std::string> names;
    for (const auto& e : kept) names.push_back(e.name);
    EXPECT_EQ(names, (std::vector<std::string>{"INBOX", "Sent", "Publications"}));
    EXPECT_EQ(outside_namespaces(list, {}).size(), list.size());
}

TEST(public_folders, hierarchy_kept_under_the_destination_prefix_and_delimiter) {
    // Cyrus-style source "shared." with '.', Dovecot destination "Public/" with '/'. Private folders on either
    // side are not part of the plan; the namespace roots are neither copied nor created.
    const std::vector<mailbox_entry> src = {mb("INBOX"), mb("INBOX.Sent", {"\\Sent"}), mb("shared", {"\\Noselect"}),
                                            mb("shared.Team", {"\\Noselect"}), mb("shared.Team.Minutes"),
                                            mb("shared.Announcements"), mb("shared.Büro & Co")};
    const std::vector<mailbox_entry> dst = {mb("INBOX"), mb("Sent", {"\\Sent"}), mb("Public", {"\\Noselect"}),
                                            mb("Public/Announcements")};
    const auto p = plan_public_folders(src, cyrus_shared, dst, dovecot_public, {});
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
    const auto p = plan_public_folders(src, hash_public, dst, dovecot_public, {});
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
    const auto p = plan_public_folders(src, dovecot_public, {}, cyrus_shared, f);
    ASSERT_TRUE(p.errors.empty());
    EXPECT_EQ(dest_names(p), (std::vector<std::string>{"shared.Team"}));
    EXPECT_EQ(p.excluded, (std::vector<std::string>{"Public/Team/Old", "Public/News"}));
    // A pattern on the full name does not match: the prefix is not part of the path.
    f.include = {"^Public/"};
    f.exclude.clear();
    EXPECT_TRUE(plan_public_folders(src, dovecot_public, {}, cyrus_shared, f).entries.empty());
}

TEST(public_folders, delimiter_inside_a_level_is_replaced_and_noted) {
    // "a.b" is one level on a '/' source; on a '.' destination it would become two.
    const auto p = plan_public_folders({mb("Public/a.b")}, dovecot_public, {}, cyrus_shared, {});
    ASSERT_EQ(p.entries.size(), 1u);
    EXPECT_EQ(p.entries[0].dest_name, "shared.a_b");
    EXPECT_NE(p.entries[0].note.find("delimiter"), std::string::npos);
}

TEST(public_folders, empty_prefix_is_an_error_not_a_copy_of_everything) {
    const std::vector<mailbox_entry> src = {mb("INBOX"), mb("Team")};
    const auto p = plan_public_folders(src, namespace_info{"", '/'}, {}, dovecot_public, {});
    EXPECT_TRUE(p.entries.empty());
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_NE(p.errors[0].find("source's shared namespace has an empty prefix"), std::string::npos);
    const auto q = plan_public_folders({mb("Public/Team")}, dovecot_public, {}, namespace_info{"", '/'}, {});
    EXPECT_TRUE(q.entries.empty());
    EXPECT_NE(q.errors.at(0).find("destination's"), std::string::npos);
}
