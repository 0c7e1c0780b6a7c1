// A Courier/Cyrus-style source (personal namespace "INBOX.", separator ".") onto a "/" destination:
// folders land top-level, special-use folders land on the destination's own (by attribute, or by common
// name), non-ASCII names arrive as the same names. Also a 50 MB message, and verify's view of the result.
#include "tests/integration/migrate_fixture.hpp"

#include <nlohmann/json.hpp>

#include "engine/mail/verify.hpp"

// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace migrate_legacy_test {
using namespace migrate_test;

namespace {

bool has_env(const char* n) { return std::getenv(n) && *std::getenv(n); }

// LEGACY's mail root is optional in the testbed's env: without it, seed only an empty account.
bool fresh_legacy_user(const std::string& u) {
    if (has_env("ARRIVAL_DOVECOT_LEGACY_MAIL")) {
        reset_user("ARRIVAL_DOVECOT_LEGACY_MAIL", u);
        return true;
    }
    auto s = login("ARRIVAL_DOVECOT_LEGACY_PORT", u);
    const bool empty = s->examine("INBOX").messages == 0;
    s->logout();
    return empty;
}

}  // namespace

TEST(migrate_legacy, prefix_and_separator_translated_special_use_mapped) {
    const int n = 120;
    const bool seeded_now = fresh_legacy_user(user(n));
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(n));
    if (seeded_now) {
        auto s = login("ARRIVAL_DOVECOT_LEGACY_PORT", user(n));
        seed(*s, "INBOX", {{make_message("l1@x", "inbox", 300), {"\\Seen"}, "01-Jan-2020 00:00:00 +0000"}});
        s->create("INBOX.Projects");
        seed(*s, "INBOX.Projects.Alpha", {{make_message("l2@x", "alpha", 300), {}, "01-Jan-2020 00:00:00 +0000"}});
        seed(*s, "INBOX.Büro & Co", {{make_message("l3@x", "büro", 300), {}, "01-Jan-2020 00:00:00 +0000"}});
        seed(*s, "INBOX.Cartório", {{make_message("l4@x", "cartório", 300), {}, "01-Jan-2020 00:00:00 +0000"}});
        seed(*s, "INBOX.Deleted Items", {{make_message("l5@x", "deleted", 300), {"\\Seen"}, "01-Jan-2020 00:00:00 +0000"}});
        // INBOX.Sent exists with \Sent (auto-created by the server).
        std::vector<body_buffer> keep(1);
        const auto m = make_message("l6@x", "sent", 300);
        keep[0].begin(m.size());
        keep[0].append(m);
        ASSERT_TRUE(s->append("INBOX.Sent", {{&keep[0], {"\\Seen"}, "01-Jan-2020 00:00:00 +0000"}}).at(0).ok);
        s->logout();
    }
    temp_dir state_dir;
    state_store state(state_dir.path);
    auto o = options("ARRIVAL_DOVECOT_LEGACY_PORT", "ARRIVAL_DOVECOT_DST_PORT");
    o.state = &state;
    auto run = run_accounts({pair_of(user(n), user(n))}, o, {.jobs = 1});
    const auto& a = run.report.accounts[0];
    ASSERT_TRUE(a.ok) << a.error;
    EXPECT_EQ(a.copied(), 6u);
    std::map<std::string, std::string> where;
    for (const auto& f : a.folders) where[f.source_folder] = f.dest_folder;
    EXPECT_EQ(where["INBOX"], "INBOX");
    EXPECT_EQ(where["INBOX.Projects.Alpha"], "Projects/Alpha");
    EXPECT_EQ(where["INBOX.Büro & Co"], "Büro & Co");
    EXPECT_EQ(where["INBOX.Cartório"], "Cartório");
    EXPECT_EQ(where["INBOX.Sent"], "Sent");
    // The source marks its own \Trash (INBOX.Trash), so a folder merely named like one keeps its name.
    EXPECT_EQ(where["INBOX.Trash"], "Trash");
    EXPECT_EQ(where["INBOX.Deleted Items"], "Deleted Items");

    auto d = login("ARRIVAL_DOVECOT_DST_PORT", user(n));
    std::set<std::string> names;
    for (const auto& m : d->list()) names.insert(m.name);
    for (const auto* want : {"Projects", "Projects/Alpha", "Büro & Co", "Cartório", "Deleted Items", "Sent"}) {
        EXPECT_TRUE(names.count(want)) << want;
    }
    // Decoded names, never their modified UTF-7 spelling ("B&APw-ro &- Co").
    for (const auto& name : names) {
        EXPECT_EQ(name.find("&-"), std::string::npos) << name;
        EXPECT_EQ(name.find("&AP"), std::string::npos) << name;
    }
    EXPECT_EQ(read_folder(*d, "Deleted Items").size(), 1u);
    EXPECT_EQ(read_folder(*d, "Sent").size(), 1u);
    EXPECT_EQ(read_folder(*d, "Büro & Co").size(), 1u);
    d->logout();

    // verify agrees: nothing missing.
    const auto v = verify_accounts({pair_of(user(n), user(n))}, o, 1).front();
    EXPECT_TRUE(v.ok()) << v.error << describe_differences({v});
    EXPECT_EQ(v.folders.size(), a.folders.size());  // every folder the run copied, each checked
}

TEST(migrate_large, fifty_megabyte_message_goes_through_byte_identical) {
    const int n = 125;
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(n));
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(n));
    std::string big = make_message("big@x", "fifty megabytes", 200);
    big.reserve(50u << 20);
    std::string line(76, 'A');
    for (std::size_t i = 0; big.size() + 78 <= (50u << 20); ++i) {
        line[i % 76] = static_cast<char>('A' + i % 26);
        big += line;
        big += "\r\n";
    }
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(n));
        seed(*s, "INBOX", {{big, {"\\Seen"}, "07-Jul-2022 07:07:07 +0000"}, {make_message("small@x", "small", 300), {}, ""}});
        s->logout();
    }
    temp_dir state_dir;
    state_store state(state_dir.path);
    auto o = options();
    o.state = &state;
    o.pipeline.spill_dir = state_dir.path.string();
    auto run = run_accounts({pair_of(user(n), user(n))}, o, {.jobs = 1});
    const auto& a = run.report.accounts[0];
    ASSERT_TRUE(a.ok) << a.error;
    EXPECT_EQ(a.copied(), 2u);
    EXPECT_EQ(a.bytes(), big.size() + make_message("small@x", "small", 300).size());
    auto d = login("ARRIVAL_DOVECOT_DST_PORT", user(n));
    const auto msgs = read_folder(*d, "INBOX");
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_TRUE(msgs[0].bytes == big);
    EXPECT_EQ(msgs[0].internaldate, "07-Jul-2022 07:07:07 +0000");
    d->logout();
}

TEST(migrate_verify, lists_missing_messages) {
    const int n = 121;
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(n));
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(n));
    auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(n));
    seed(*s, "INBOX", {{make_message("v1@x", "one", 300), {}, ""}, {make_message("v2@x", "two", 300), {}, ""}});
    s->logout();
    auto d = login("ARRIVAL_DOVECOT_DST_PORT", user(n));
    seed(*d, "INBOX", {{make_message("v1@x", "one", 300), {}, ""}});
    d->logout();
    const auto v = verify_accounts({pair_of(user(n), user(n))}, options(), 1).front();
    ASSERT_TRUE(v.error.empty()) << v.error;
    EXPECT_EQ(v.missing(), 1u);
    const auto text = describe_differences({v});
    EXPECT_NE(text.find("UID 2"), std::string::npos) << text;
}

// Several accounts at once (verify runs them as coroutines, --jobs at a time), the middle one refused at
// login: it alone fails, with the server's words and never the password; the others are compared, bytes too.
// Users 464-466 are this test's.
TEST(migrate_verify, an_account_that_cannot_log_in_fails_alone) {
    std::vector<account_pair> accounts;
    for (int n : {464, 465, 466}) {
        reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(n));
        reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(n));
        const seed_message one{make_message(fmt::format("va{}@x", n), "one", 300), {}, ""};
        const seed_message two{make_message(fmt::format("vb{}@x", n), "two", 300), {}, ""};
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(n));
        seed(*s, "INBOX", {one, two});
        s->logout();
        auto d = login("ARRIVAL_DOVECOT_DST_PORT", user(n));
        if (n == 464) seed(*d, "INBOX", {one});   // one message missing
        else seed(*d, "INBOX", {one, two});
        d->logout();
        accounts.push_back(pair_of(user(n), user(n)));
    }
    accounts[1].dest_password = secret_string("definitely-wrong");
    auto o = options();
    o.verify_content = true;
    const auto v = verify_accounts(accounts, o, 3);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_TRUE(v[0].error.empty()) << v[0].error;
    EXPECT_EQ(v[0].missing(), 1u);
    EXPECT_FALSE(v[1].ok());
    EXPECT_EQ(v[1].error_kind_, error_kind::auth);
    EXPECT_NE(v[1].error.find("AUTHENTICATIONFAILED"), std::string::npos) << v[1].error;   // the server's words
    EXPECT_EQ(v[1].error.find("definitely-wrong"), std::string::npos);                     // never the password
    EXPECT_TRUE(v[2].ok()) << v[2].error;
    const auto* inbox = v[2].folders.empty() ? nullptr : &v[2].folders.front();
    for (const auto& f : v[2].folders) {
        if (f.source_folder == "INBOX") inbox = &f;
    }
    ASSERT_NE(inbox, nullptr);
    EXPECT_EQ(inbox->source_messages, 2u);
    EXPECT_EQ(inbox->bytes_compared, 2u);
    EXPECT_TRUE(inbox->bytes_differ.empty());
    // The report keeps the input order and says which account failed.
    const auto j = to_json(v, 0);
    EXPECT_EQ(j["totals"]["accounts_failed"], 2) << j.dump(2);   // the refused one, and the one missing mail
    EXPECT_EQ(j["accounts"][1]["status"], "failed");
    EXPECT_EQ(j["accounts"][2]["status"], "ok");
    EXPECT_EQ(j["accounts"][2]["source_user"], user(466));
}

}  // namespace migrate_legacy_test
