#include "engine/mail/folder_map.hpp"

#include <gtest/gtest.h>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace folder_map_test {

using namespace arrival::engine;

namespace {

mailbox_entry mb(std::string name, std::vector<std::string> attrs = {}, bool sub = false) {
    return {std::move(name), std::move(attrs), sub};
}

const folder_plan_entry* find_src(const folder_plan& p, std::string_view src) {
    for (const auto& e : p.entries) {
        if (e.source_name == src) return &e;
    }
    return nullptr;
}

const folder_namespace slash{"", '/'};
const folder_namespace legacy{"INBOX.", '.'};

}  // namespace

TEST(folder_map, levels_strip_prefix_and_rejoin) {
    EXPECT_EQ(split_levels("INBOX.Archive.2019", legacy), (std::vector<std::string>{"Archive", "2019"}));
    EXPECT_EQ(split_levels("INBOX", legacy), (std::vector<std::string>{"INBOX"}));
    EXPECT_EQ(split_levels("inbox", slash), (std::vector<std::string>{"INBOX"}));
    EXPECT_EQ(split_levels("inbox/sub", slash), (std::vector<std::string>{"INBOX", "sub"}));
    EXPECT_EQ(join_levels({"Archive", "2019"}, slash), "Archive/2019");
    EXPECT_EQ(join_levels({"Archive", "2019"}, legacy), "INBOX.Archive.2019");
    EXPECT_EQ(join_levels({"a/b"}, slash), "a_b");
    EXPECT_EQ(join_levels({"INBOX"}, legacy), "INBOX");
    EXPECT_EQ(join_levels({"INBOX", "x"}, legacy), "INBOX.x");
    EXPECT_EQ(join_levels({"x", "y"}, folder_namespace{"", '\0'}), "x_y");
}

TEST(folder_map, legacy_prefix_to_top_level_with_parents_first) {
    const std::vector<mailbox_entry> src = {mb("INBOX"), mb("INBOX.Projects.Alpha.Specs"), mb("INBOX.Projects"),
                                            mb("INBOX.Büro & Co"), mb("INBOX.Cartório", {}, true)};
    const std::vector<mailbox_entry> dst = {mb("INBOX")};
    const auto p = plan_folders(src, legacy, dst, slash, {});
    ASSERT_TRUE(p.errors.empty());
    std::vector<std::string> order;
    for (const auto& e : p.entries) order.push_back(e.dest_name);
    EXPECT_EQ(order, (std::vector<std::string>{"INBOX", "Büro & Co", "Cartório", "Projects", "Projects/Alpha",
                                               "Projects/Alpha/Specs"}));
    EXPECT_FALSE(p.entries[0].create);
    const auto* alpha = &p.entries[4];
    EXPECT_TRUE(alpha->source_name.empty());   // only created as a parent
    EXPECT_TRUE(alpha->create);
    EXPECT_FALSE(alpha->copy_messages);
    EXPECT_TRUE(find_src(p, "INBOX.Cartório")->subscribe);
    EXPECT_FALSE(find_src(p, "INBOX.Büro & Co")->subscribe);
}

TEST(folder_map, special_use_by_attribute_then_by_name) {
    // Source marks Sent by attribute ("Gesendet"), has Trash only by name; destination marks its own.
    const std::vector<mailbox_entry> src = {mb("INBOX"), mb("INBOX.Gesendet", {"\\Sent"}), mb("INBOX.Sent Items"),
                                            mb("INBOX.Deleted Items"), mb("INBOX.Deleted Items.old"), mb("INBOX.Spam")};
    const std::vector<mailbox_entry> dst = {mb("INBOX"), mb("Sent", {"\\Sent"}), mb("Trash", {"\\Trash"}),
                                            mb("Junk", {"\\Junk"}), mb("Drafts", {"\\Drafts"})};
    const auto p = plan_folders(src, legacy, dst, slash, {});
    ASSERT_TRUE(p.errors.empty()) << p.errors.front();
    EXPECT_EQ(find_src(p, "INBOX.Gesendet")->dest_name, "Sent");
    EXPECT_EQ(find_src(p, "INBOX.Gesendet")->use, special_use::sent);
    EXPECT_FALSE(find_src(p, "INBOX.Gesendet")->create);
    // The server said which folder is Sent; a folder merely named like one keeps its name.
    EXPECT_EQ(find_src(p, "INBOX.Sent Items")->dest_name, "Sent Items");
    EXPECT_EQ(find_src(p, "INBOX.Deleted Items")->dest_name, "Trash");
    EXPECT_EQ(find_src(p, "INBOX.Deleted Items.old")->dest_name, "Trash/old");
    EXPECT_EQ(find_src(p, "INBOX.Spam")->dest_name, "Junk");
}

TEST(folder_map, special_use_destination_by_common_name) {
    const std::vector<mailbox_entry> src = {mb("Sent", {"\\Sent"})};
    const std::vector<mailbox_entry> dst = {mb("INBOX"), mb("Sent Items")};
    const auto p = plan_folders(src, slash, dst, slash, {});
    EXPECT_EQ(find_src(p, "Sent")->dest_name, "Sent Items");
}

TEST(folder_map, include_exclude_on_user_visible_path) {
    const std::vector<mailbox_entry> src = {mb("INBOX"), mb("INBOX.Archive"), mb("INBOX.Archive.2019"), mb("INBOX.Trash")};
    folder_filter f;
    f.exclude = {"^Trash$", "^Archive/2019$"};
    auto p = plan_folders(src, legacy, {mb("INBOX")}, slash, f);
    EXPECT_EQ(p.entries.size(), 2u);
    EXPECT_EQ(p.excluded, (std::vector<std::string>{"INBOX.Archive.2019", "INBOX.Trash"}));
    f = {};
    f.include = {"^Archive"};
    p = plan_folders(src, legacy, {mb("INBOX")}, slash, f);
    EXPECT_EQ(p.entries.size(), 2u);
    EXPECT_EQ(p.entries[0].dest_name, "Archive");
    EXPECT_THROW(check_folder_filter({{"("}, {}}), std::invalid_argument);
}

TEST(folder_map, noselect_nonexistent_and_delimiter_clash) {
    const std::vector<mailbox_entry> src = {mb("INBOX"), mb("INBOX.a/b"), mb("INBOX.box", {"\\Noselect"}),
                                            mb("INBOX.gone", {"\\NonExistent"}), mb("INBOX.gone.child")};
    const auto p = plan_folders(src, legacy, {mb("INBOX")}, slash, {});
    EXPECT_EQ(find_src(p, "INBOX.a/b")->dest_name, "a_b");
    EXPECT_FALSE(find_src(p, "INBOX.a/b")->note.empty());
    EXPECT_FALSE(find_src(p, "INBOX.box")->copy_messages);
    EXPECT_TRUE(find_src(p, "INBOX.box")->create);
    EXPECT_EQ(find_src(p, "INBOX.gone"), nullptr);
    EXPECT_EQ(find_src(p, "INBOX.gone.child")->dest_name, "gone/child");
    bool parent = false;
    for (const auto& e : p.entries) parent |= e.dest_name == "gone" && !e.copy_messages && e.create;
    EXPECT_TRUE(parent);
}

TEST(folder_map, collision_reported) {
    const std::vector<mailbox_entry> src = {mb("a/b"), mb("a_b")};
    const auto p = plan_folders(src, folder_namespace{"", '.'}, {mb("INBOX")}, slash, {});
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_NE(p.errors[0].find("a_b"), std::string::npos);
}

TEST(folder_map, slash_to_legacy_destination) {
    const std::vector<mailbox_entry> src = {mb("INBOX"), mb("Work/2024"), mb("Work")};
    const auto p = plan_folders(src, slash, {mb("INBOX")}, legacy, {});
    EXPECT_EQ(find_src(p, "Work/2024")->dest_name, "INBOX.Work.2024");
    EXPECT_EQ(find_src(p, "Work")->dest_name, "INBOX.Work");
}

}  // namespace folder_map_test
