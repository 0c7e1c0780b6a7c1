// arrival migrate against the real loopback Dovecots (SRC -> DST): full copies at --jobs 4 that are
// byte-identical with flags and dates, reruns, pre-filled destinations, non-ASCII folders, refused
// keywords, messages without Message-ID, and a wrong password among good accounts.
#include <algorithm>

#include "tests/integration/migrate_fixture.hpp"

// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace migrate_copy_test {
using namespace migrate_test;

namespace {

// Seeds user `n` on SRC with a small varied mailbox and resets it on DST. Returns what was seeded.
std::map<std::string, std::vector<seed_message>> seed_account(int n) {
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(n));
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(n));
    std::map<std::string, std::vector<seed_message>> boxes;
    auto& inbox = boxes["INBOX"];
    for (int i = 0; i < 12; ++i) {
        inbox.push_back({make_message(fmt::format("m{}-{}@Example.test", n, i), fmt::format("hello {}", i), 300 + 97 * i),
                         i % 3 == 0 ? std::vector<std::string>{"\\Seen"} : std::vector<std::string>{"\\Flagged", "$Label1"},
                         fmt::format("{:02}-Mar-2019 0{}:15:00 +0100", 1 + i, i % 10)});
    }
    // A same-folder duplicate (identical bytes) and two messages without Message-ID.
    inbox.push_back(inbox[1]);
    inbox.push_back({make_message("", "no id one", 500), {"\\Answered"}, "05-Feb-2020 10:00:00 +0000"});
    inbox.push_back({make_message("", "no id two", 700), {}, "06-Feb-2020 10:00:00 +0000"});
    boxes["Projects/Alpha"] = {{make_message(fmt::format("p{}@x", n), "alpha", 1000), {"Work"}, "01-Jan-2021 00:00:00 +0000"}};
    boxes["Büro & Co"] = {{make_message(fmt::format("b{}@x", n), "büro", 800), {}, "02-Jan-2021 00:00:00 +0000"}};
    boxes["Cartório"] = {{make_message(fmt::format("c{}@x", n), "cartorio", 900), {"\\Seen"}, "03-Jan-2021 00:00:00 +0000"}};
    boxes["Sent"] = {{make_message(fmt::format("s{}@x", n), "sent", 600), {"\\Seen"}, "04-Jan-2021 00:00:00 +0000"}};
    auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(n));
    for (const auto& [folder, msgs] : boxes) {
        if (folder == "Projects/Alpha") s->create("Projects");
        if (folder == "Sent") {   // exists already (auto = subscribe)
            seed(*s, "INBOX", {});
            std::vector<body_buffer> keep;
            for (const auto& m : msgs) {
                body_buffer b;
                b.begin(m.bytes.size());
                b.append(m.bytes);
                keep.push_back(std::move(b));
            }
            std::vector<append_item> items;
            for (std::size_t i = 0; i < msgs.size(); ++i) items.push_back({&keep[i], msgs[i].flags, msgs[i].internaldate});
            (void)s->append("Sent", items);
            continue;
        }
        seed(*s, folder, msgs);
    }
    s->logout();
    return boxes;
}

void expect_identical(int n, const std::map<std::string, std::vector<seed_message>>& boxes) {
    auto src = login("ARRIVAL_DOVECOT_SRC_PORT", user(n));
    auto dst = login("ARRIVAL_DOVECOT_DST_PORT", user(n));
    for (const auto& [folder, msgs] : boxes) {
        const auto a = read_folder(*src, folder);
        const auto b = read_folder(*dst, folder);
        ASSERT_EQ(a.size(), msgs.size()) << folder;
        ASSERT_EQ(b.size(), a.size()) << user(n) << " " << folder;
        for (std::size_t i = 0; i < a.size(); ++i) {
            EXPECT_TRUE(a[i].bytes == b[i].bytes) << folder << " message " << i << " differs";
            EXPECT_EQ(a[i].flags, b[i].flags) << folder << " message " << i;
            EXPECT_EQ(a[i].internaldate, b[i].internaldate) << folder << " message " << i;
        }
    }
    src->logout();
    dst->logout();
}

}  // namespace

TEST(migrate_copy, four_accounts_at_jobs_4_identical_then_rerun_copies_nothing) {
    std::vector<int> users = {101, 102, 103, 104};
    std::vector<std::map<std::string, std::vector<seed_message>>> seeded;
    for (int n : users) seeded.push_back(seed_account(n));
    std::vector<account_pair> accounts;
    for (int n : users) accounts.push_back(pair_of(user(n), user(n)));
    temp_dir state_dir;
    state_store state(state_dir.path);
    auto o = options();
    o.state = &state;
    auto run = run_accounts(accounts, o, {.jobs = 4});
    ASSERT_EQ(run.report.accounts.size(), 4u);
    for (const auto& a : run.report.accounts) {
        EXPECT_TRUE(a.ok) << a.source_user << ": " << a.error;
        EXPECT_EQ(a.copied(), 19u) << a.source_user;   // 15 INBOX (incl. the duplicate) + 4 others
        EXPECT_EQ(a.failed(), 0u);
        const auto* inbox = folder_in(a, "INBOX");
        ASSERT_NE(inbox, nullptr);
        EXPECT_EQ(inbox->copied, 15u);
        // The source's Sent lands on the destination's \Sent folder.
        ASSERT_NE(folder_in(a, "Sent"), nullptr);
        EXPECT_EQ(folder_in(a, "Sent")->dest_folder, "Sent");
    }
    EXPECT_TRUE(run.report.complete());
    for (std::size_t i = 0; i < users.size(); ++i) expect_identical(users[i], seeded[i]);

    // Rerun with the same state: nothing new, nothing copied, nothing fetched.
    auto again = run_accounts(accounts, o, {.jobs = 4});
    EXPECT_EQ(again.report.copied(), 0u);
    EXPECT_TRUE(again.report.complete());

    // One new message on the source: the next run copies exactly it.
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(101));
        seed(*s, "INBOX", {{make_message("new-one@x", "new", 400), {}, ""}});
        s->logout();
    }
    auto third = run_accounts(accounts, o, {.jobs = 4});
    EXPECT_EQ(third.report.copied(), 1u);
    EXPECT_EQ(third.report.accounts[0].copied(), 1u);

    // Without the state (a fresh --state-dir): the dedupe index alone still copies nothing.
    temp_dir other;
    state_store fresh(other.path);
    o.state = &fresh;
    auto fourth = run_accounts(accounts, o, {.jobs = 2});
    EXPECT_EQ(fourth.report.copied(), 0u);
    EXPECT_EQ(fourth.report.skipped_duplicate(), 4u * 19 + 1);  // every message, the new one too
}

TEST(migrate_copy, prefilled_destination_gets_no_duplicates) {
    const int n = 105;
    auto boxes = seed_account(n);
    // The destination already holds 5 of the INBOX messages (as a previous tool left them) plus its own mail.
    {
        auto d = login("ARRIVAL_DOVECOT_DST_PORT", user(n));
        std::vector<seed_message> pre(boxes["INBOX"].begin(), boxes["INBOX"].begin() + 5);
        pre.push_back({make_message("dest-only@x", "mine", 300), {}, ""});
        seed(*d, "INBOX", pre);
        d->logout();
    }
    temp_dir state_dir;
    state_store state(state_dir.path);
    auto o = options();
    o.state = &state;
    auto run = run_accounts({pair_of(user(n), user(n))}, o, {.jobs = 1});
    const auto& a = run.report.accounts[0];
    ASSERT_TRUE(a.ok) << a.error;
    const auto* inbox = folder_in(a, "INBOX");
    EXPECT_EQ(inbox->copied, 10u);
    EXPECT_EQ(inbox->skipped_duplicate, 5u);
    auto d = login("ARRIVAL_DOVECOT_DST_PORT", user(n));
    EXPECT_EQ(read_folder(*d, "INBOX").size(), 16u);   // 15 from the source + its own
    d->logout();
}

TEST(migrate_copy, refused_keywords_are_mapped_and_reported) {
    const int n = 106;
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(n));
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(n));
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(n));
        seed(*s, "INBOX", {{make_message("k1@x", "tagged", 300), {"Name:FLAG51135", "\\Seen", "$Label1"}, ""}});
        s->logout();
    }
    temp_dir state_dir;
    state_store state(state_dir.path);
    auto o = options();
    o.state = &state;
    auto run = run_accounts({pair_of(user(n), user(n))}, o, {.jobs = 1});
    const auto& a = run.report.accounts[0];
    ASSERT_TRUE(a.ok) << a.error;
    const auto* inbox = folder_in(a, "INBOX");
    ASSERT_EQ(inbox->copied, 1u);
    ASSERT_EQ(inbox->flags_changed.size(), 1u);
    EXPECT_EQ(inbox->flags_changed.begin()->first.from, "Name:FLAG51135");
    EXPECT_EQ(inbox->flags_changed.begin()->first.to, "Name");
    auto d = login("ARRIVAL_DOVECOT_DST_PORT", user(n));
    const auto msgs = read_folder(*d, "INBOX");
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].flags, (std::vector<std::string>{"$Label1", "Name", "\\Seen"}));
    d->logout();
}

TEST(migrate_copy, wrong_password_fails_one_account_only) {
    std::vector<account_pair> accounts;
    for (int n : {107, 108, 109}) {
        reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(n));
        reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(n));
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(n));
        seed(*s, "INBOX", {{make_message(fmt::format("w{}@x", n), "w", 300), {}, ""}});
        s->logout();
        accounts.push_back(pair_of(user(n), user(n)));
    }
    accounts[1].source_password = secret_string("definitely-wrong");
    temp_dir state_dir;
    state_store state(state_dir.path);
    auto o = options();
    o.state = &state;
    auto run = run_accounts(accounts, o, {.jobs = 3});
    EXPECT_TRUE(run.report.accounts[0].ok);
    EXPECT_FALSE(run.report.accounts[1].ok);
    EXPECT_TRUE(run.report.accounts[2].ok);
    EXPECT_EQ(run.fatal_kinds[1], error_kind::auth);
    const auto& err = run.report.accounts[1].error;
    EXPECT_NE(err.find("AUTHENTICATIONFAILED"), std::string::npos) << err;   // the server's words
    EXPECT_EQ(err.find("definitely-wrong"), std::string::npos);               // never the password
    EXPECT_EQ(run.report.copied(), 2u);
    EXPECT_FALSE(run.report.complete());
}

TEST(migrate_copy, dry_run_writes_nothing) {
    const int n = 110;
    seed_account(n);
    auto o = options();
    o.dry_run = true;
    char* buf = nullptr;
    std::size_t len = 0;
    FILE* out = open_memstream(&buf, &len);
    o.plan_out = out;
    auto run = run_accounts({pair_of(user(n), user(n))}, o, {.jobs = 1});
    std::fclose(out);
    const std::string plan(buf, len);
    std::free(buf);
    EXPECT_TRUE(run.report.accounts[0].ok) << run.report.accounts[0].error;
    EXPECT_EQ(run.report.copied(), 0u);
    EXPECT_NE(plan.find("create, Büro & Co -> Büro & Co: 1 to copy"), std::string::npos) << plan;
    EXPECT_NE(plan.find("INBOX -> INBOX: 15 to copy"), std::string::npos) << plan;
    auto d = login("ARRIVAL_DOVECOT_DST_PORT", user(n));
    EXPECT_EQ(d->examine("INBOX").messages, 0u);
    for (const auto& m : d->list()) EXPECT_NE(m.name, "Büro & Co");
    d->logout();
}

TEST(migrate_copy, admin_acts_for_every_user_with_sasl_plain_authzid) {
    std::vector<account_pair> accounts;
    for (int n : {111, 112}) {
        reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(n));
        reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(n));
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(n));
        seed(*s, "INBOX", {{make_message(fmt::format("adm{}@x", n), "admin", 300), {}, ""}});
        s->logout();
        accounts.push_back(pair_of(user(n), user(n)));
    }
    auto o = options();
    o.source_admin = o.dest_admin = env("ARRIVAL_DOVECOT_MASTER_USER");
    o.source_password = o.dest_password = secret_string(env("ARRIVAL_DOVECOT_MASTER_PASSWORD"));
    temp_dir state_dir;
    state_store state(state_dir.path);
    o.state = &state;
    auto run = run_accounts(accounts, o, {.jobs = 2});
    for (const auto& a : run.report.accounts) EXPECT_TRUE(a.ok) << a.error;
    EXPECT_EQ(run.report.copied(), 2u);
    // Each message landed in its own user's mailbox, not the admin's.
    auto d = login("ARRIVAL_DOVECOT_DST_PORT", user(112));
    const auto msgs = read_folder(*d, "INBOX");
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_NE(msgs[0].bytes.find("adm112@x"), std::string::npos);
    d->logout();
}

// The facade maps the connection's errors to the kinds the scheduler retries and the CLI turns into exit
// statuses, keeps the server's words, never the password, and a refused command leaves the session usable.
TEST(migrate_session, failures_are_classified_and_a_refusal_keeps_the_session) {
    login_identity c;
    c.user = user(113);
    c.password = secret_string(env("ARRIVAL_DOVECOT_USER_PASSWORD"));
    auto kind_of_open = [&](const server_endpoint& where, const login_identity& who) -> std::pair<error_kind, std::string> {
        try {
            (void)blocking_session::open(where, who);
        } catch (const session_error& e) {
            return {e.kind(), e.what()};
        }
        ADD_FAILURE() << "opened " << where.url;
        return {error_kind::protocol, ""};
    };
    // The testbed's certificate checked against the system trust store only: not trusted.
    const auto untrusted = kind_of_open(server_endpoint::parse("imaps://127.0.0.1:" + env("ARRIVAL_DOVECOT_SRC_TLS_PORT")), c);
    EXPECT_EQ(untrusted.first, error_kind::tls) << untrusted.second;
    // Nobody listens on port 1.
    const auto closed = kind_of_open(server_endpoint::parse("imap://127.0.0.1:1"), c);
    EXPECT_EQ(closed.first, error_kind::unreachable) << closed.second;
    auto wrong = c;
    wrong.password = secret_string("definitely-wrong-pw-113");
    const auto refused = kind_of_open(endpoint("ARRIVAL_DOVECOT_SRC_PORT"), wrong);
    EXPECT_EQ(refused.first, error_kind::auth) << refused.second;
    EXPECT_NE(refused.second.find("AUTHENTICATIONFAILED"), std::string::npos) << refused.second;
    EXPECT_EQ(refused.second.find("definitely-wrong"), std::string::npos) << refused.second;

    auto s = blocking_session::open(endpoint("ARRIVAL_DOVECOT_SRC_PORT"), c);
    try {
        (void)s->examine("No such folder 113");
        ADD_FAILURE() << "EXAMINE of a missing folder succeeded";
    } catch (const session_error& e) {
        EXPECT_EQ(e.kind(), error_kind::refused) << e.what();
        EXPECT_NE(std::string(e.what()).find("EXAMINE"), std::string::npos) << e.what();
    }
    const auto boxes = s->list();
    EXPECT_TRUE(std::any_of(boxes.begin(), boxes.end(), [](const auto& b) { return b.name == "INBOX"; }));
    const auto st = s->status(std::vector<std::string>{"INBOX", "INBOX"});
    ASSERT_EQ(st.size(), 2u);
    EXPECT_EQ(st[0].uidvalidity, st[1].uidvalidity);
    EXPECT_NE(st[0].uidvalidity, 0u);
    s->logout();
}

}  // namespace migrate_copy_test
