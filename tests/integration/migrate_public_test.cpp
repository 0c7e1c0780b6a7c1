// Public/shared namespace migration (RFC 2342) against the loopback Dovecots: SRC and DST carry "Public/" with
// '/', LEGACY "shared." with '.', one maildir per instance shared by every user (tools/testbed/dovecot.sh).
// `arrival migrate --public` copies it once, as one account, byte-identical with flags and dates; a rerun
// copies nothing; without --public nothing under Public/ is touched (neither copied per account nor verified);
// a destination without a shared namespace fails that entry only; `arrival verify --public` compares the
// namespace once, as migrate maps it. Users user170..user177 and DST user197.
// The public maildirs are emptied by each test (reset_public_root): the tests that fill them run one after the
// other, but any other test's session may still write index files there, so the fixture renames before it removes.
#include <fstream>
#include <sstream>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "tests/integration/migrate_fixture.hpp"

// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace migrate_public_test {
using namespace migrate_test;

namespace {

nlohmann::json read_report(const std::filesystem::path& file) {
    std::ifstream in(file);
    return nlohmann::json::parse(in);
}

// Every user logs in with the testbed's shared user password (from the environment, never argv).
std::string migrate_args(const temp_dir& dir, const std::string& accounts_csv) {
    std::ofstream(dir.path / "accounts.csv") << "source_user,dest_user\n" << accounts_csv;
    const auto pw = env("ARRIVAL_DOVECOT_USER_PASSWORD");
    ::setenv("ARRIVAL_SOURCE_PASSWORD", pw.c_str(), 1);
    ::setenv("ARRIVAL_DEST_PASSWORD", pw.c_str(), 1);
    return fmt::format("--source imap://127.0.0.1:{} --dest imap://127.0.0.1:{} --ca-file {} --accounts {}",
                       env("ARRIVAL_DOVECOT_SRC_PORT"), env("ARRIVAL_DOVECOT_DST_PORT"), env("ARRIVAL_TESTBED_CA"),
                       (dir.path / "accounts.csv").string());
}

void reset_both(int n) {
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(n));
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(n));
}

// Source and destination folder hold the same messages: bytes, flags, INTERNALDATE, in order.
void expect_same(blocking_session& src, const std::string& src_folder, blocking_session& dst, const std::string& dst_folder,
                 std::size_t expected) {
    const auto a = read_folder(src, src_folder);
    const auto b = read_folder(dst, dst_folder);
    ASSERT_EQ(a.size(), expected) << src_folder;
    ASSERT_EQ(b.size(), a.size()) << dst_folder;
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_TRUE(a[i].bytes == b[i].bytes) << dst_folder << " message " << i << " differs";
        EXPECT_EQ(a[i].flags, b[i].flags) << dst_folder << " message " << i;
        EXPECT_EQ(a[i].internaldate, b[i].internaldate) << dst_folder << " message " << i;
    }
}

bool any_public(const std::vector<mailbox_entry>& list, std::string_view prefix) {
    for (const auto& e : list) {
        if (e.name.rfind(prefix, 0) == 0) return true;
    }
    return false;
}

// Removes the one message of the maildir folder `dir` (new/ or cur/) whose bytes contain `needle`, the way
// a user's or admin's delete would leave the destination; Dovecot notices at its next sync.
void remove_maildir_message(const std::filesystem::path& dir, const std::string& needle) {
    std::vector<std::filesystem::path> hits;
    for (const char* sub : {"new", "cur"}) {
        if (!std::filesystem::exists(dir / sub)) continue;
        for (const auto& e : std::filesystem::directory_iterator(dir / sub)) {
            std::ifstream in(e.path(), std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            if (ss.str().find(needle) != std::string::npos) hits.push_back(e.path());
        }
    }
    ASSERT_EQ(hits.size(), 1u) << needle << " in " << dir;
    std::filesystem::remove(hits.front());
}

}  // namespace

TEST(migrate_public, copied_once_for_two_accounts_identical_then_rerun_copies_nothing) {
    reset_public_root("ARRIVAL_DOVECOT_SRC_PUBLIC");
    reset_public_root("ARRIVAL_DOVECOT_DST_PUBLIC");
    for (int n : {170, 171}) {
        reset_both(n);
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(n));
        seed(*s, "INBOX", {{make_message(fmt::format("own{}@x", n), "own", 300), {}, ""}});
        s->logout();
    }
    {
        // Seeded by user170; every user sees the same public folders.
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(170));
        seed(*s, "Public/Announcements",
             {{make_message("ann1@x", "holiday", 900), {"\\Seen", "$Important"}, "01-Feb-2023 08:30:00 +0000"},
              {make_message("ann2@x", "canteen", 1500), {"\\Flagged"}, "15-Mar-2024 17:05:00 +0100"}});
        seed(*s, "Public/Team/Minutes", {{make_message("min1@x", "minutes", 2000), {"\\Answered", "\\Seen"}, "02-Jan-2024 09:00:00 +0000"}});
        seed(*s, "Public/Büro & Co", {{make_message("", "no message-id", 700), {}, "03-Mar-2022 12:00:00 +0000"}});
        s->logout();
    }
    temp_dir dir;
    const auto base = migrate_args(dir, fmt::format("{0},{0}\n{1},{1}\n", user(170), user(171))) + " --jobs 4 --state-dir " +
                      (dir.path / "state").string() + " --report " + (dir.path / "report.json").string();
    auto r = run_cli("migrate --public " + base, dir);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find(env("ARRIVAL_DOVECOT_USER_PASSWORD")), std::string::npos);
    auto j = read_report(dir.path / "report.json");
    ASSERT_EQ(j["accounts"].size(), 3u) << j.dump(2);
    for (int i : {0, 1}) {
        const auto& a = j["accounts"][i];
        EXPECT_FALSE(a.contains("namespace"));
        EXPECT_EQ(a["copied"], 1) << a.dump(2);   // its own INBOX message only
        for (const auto& f : a["folders"]) EXPECT_NE(f["source_folder"].get<std::string>().rfind("Public", 0), 0u) << f.dump();
    }
    const auto& pub = j["accounts"][2];
    EXPECT_EQ(pub["namespace"], "shared");
    EXPECT_EQ(pub["source_user"], user(170));   // the first listed account acts for the namespace
    EXPECT_EQ(pub["dest_user"], user(170));
    EXPECT_EQ(pub["status"], "ok") << pub.dump(2);
    EXPECT_EQ(pub["copied"], 4);
    EXPECT_EQ(j["totals"]["copied"], 6);
    bool saw_minutes = false;
    for (const auto& f : pub["folders"]) {
        if (f["source_folder"] == "Public/Team/Minutes") {
            saw_minutes = true;
            EXPECT_EQ(f["dest_folder"], "Public/Team/Minutes");
            EXPECT_EQ(f["copied"], 1);
        }
    }
    EXPECT_TRUE(saw_minutes) << pub.dump(2);
    EXPECT_NE(r.output.find("(public)"), std::string::npos) << r.output;   // its row in the summary table

    {
        // Once, not once per account: the destination's public folders hold exactly the source's messages,
        // seen here by a third user.
        auto src = login("ARRIVAL_DOVECOT_SRC_PORT", user(172));
        auto dst = login("ARRIVAL_DOVECOT_DST_PORT", user(172));
        expect_same(*src, "Public/Announcements", *dst, "Public/Announcements", 2);
        expect_same(*src, "Public/Team/Minutes", *dst, "Public/Team/Minutes", 1);
        expect_same(*src, "Public/Büro & Co", *dst, "Public/Büro & Co", 1);
        src->logout();
        dst->logout();
    }

    // Rerun: nothing new anywhere, nothing copied.
    r = run_cli("migrate --public " + base, dir);
    ASSERT_EQ(r.status, 0) << r.output;
    j = read_report(dir.path / "report.json");
    EXPECT_EQ(j["totals"]["copied"], 0) << j.dump(2);
    EXPECT_EQ(j["accounts"][2]["status"], "ok");

    // One new public message: the next run copies exactly it, in the public entry.
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(171));   // CREATE of an existing folder is not an error
        seed(*s, "Public/Announcements", {{make_message("ann3@x", "new notice", 600), {"\\Seen"}, "04-Apr-2024 10:00:00 +0000"}});
        s->logout();
    }
    r = run_cli("migrate --public " + base, dir);
    ASSERT_EQ(r.status, 0) << r.output;
    j = read_report(dir.path / "report.json");
    EXPECT_EQ(j["totals"]["copied"], 1) << j.dump(2);
    EXPECT_EQ(j["accounts"][2]["copied"], 1) << j.dump(2);

    // With a fresh state directory (the dedupe index alone), still nothing is copied twice.
    r = run_cli("migrate --public " + migrate_args(dir, fmt::format("{0},{0}\n", user(171))) + " --state-dir " +
                    (dir.path / "state2").string() + " --report " + (dir.path / "report2.json").string(),
                dir);
    ASSERT_EQ(r.status, 0) << r.output;
    j = read_report(dir.path / "report2.json");
    EXPECT_EQ(j["accounts"][1]["copied"], 0) << j.dump(2);
    EXPECT_EQ(j["accounts"][1]["skipped_duplicate"], 5) << j.dump(2);
    EXPECT_EQ(j["accounts"][1]["source_user"], user(171));
}

TEST(migrate_public, without_the_flag_nothing_under_public_is_touched_or_verified) {
    reset_public_root("ARRIVAL_DOVECOT_SRC_PUBLIC");
    reset_public_root("ARRIVAL_DOVECOT_DST_PUBLIC");
    reset_both(173);
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(173));
        seed(*s, "INBOX", {{make_message("mine173@x", "mine", 300), {}, ""}});
        seed(*s, "Public/Only", {{make_message("only@x", "public only", 400), {}, ""}});
        s->logout();
    }
    temp_dir dir;
    const auto base = migrate_args(dir, fmt::format("{0},{0}\n", user(173)));
    auto r = run_cli("migrate " + base + " --state-dir " + (dir.path / "state").string() + " --report " +
                         (dir.path / "report.json").string(),
                     dir);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto j = read_report(dir.path / "report.json");
    ASSERT_EQ(j["accounts"].size(), 1u);
    EXPECT_EQ(j["totals"]["copied"], 1) << j.dump(2);
    for (const auto& f : j["accounts"][0]["folders"]) EXPECT_NE(f["source_folder"].get<std::string>().rfind("Public", 0), 0u);
    // No folder in the destination's public maildir (Maildir++ folders are ".Name" directories; Dovecot's own
    // list index and uidvalidity files appear as soon as anyone lists the namespace).
    for (const auto& e : std::filesystem::directory_iterator(env("ARRIVAL_DOVECOT_DST_PUBLIC"))) {
        EXPECT_NE(e.path().filename().string().rfind('.', 0), 0u) << e.path();
    }
    {
        auto d = login("ARRIVAL_DOVECOT_DST_PORT", user(173));
        EXPECT_FALSE(any_public(d->list(), "Public"));
        d->logout();
    }
    // verify compares the account's own folders: the public ones are not "missing" from it.
    r = run_cli("verify " + base, dir);
    EXPECT_EQ(r.status, 0) << r.output;
    // --public-account means nothing without --public.
    r = run_cli("migrate " + base + " --public-account " + user(173), dir);
    EXPECT_EQ(r.status, 2) << r.output;
}

TEST(migrate_public, legacy_shared_dot_lands_under_public_slash_with_include_exclude_on_relative_names) {
    reset_public_root("ARRIVAL_DOVECOT_LEGACY_PUBLIC");
    reset_public_root("ARRIVAL_DOVECOT_DST_PUBLIC");
    reset_user("ARRIVAL_DOVECOT_LEGACY_MAIL", user(174));
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(174));
    {
        auto s = login("ARRIVAL_DOVECOT_LEGACY_PORT", user(174));
        seed(*s, "shared.Projects.2024", {{make_message("p1@x", "plan", 800), {"\\Seen"}, "05-May-2024 11:00:00 +0000"},
                                          {make_message("p2@x", "budget", 1200), {"$Label1"}, "06-May-2024 11:00:00 +0000"}});
        seed(*s, "shared.News", {{make_message("n1@x", "news", 500), {}, "07-May-2024 11:00:00 +0000"}});
        s->logout();
    }
    temp_dir state_dir;
    state_store state(state_dir.path);
    auto o = options("ARRIVAL_DOVECOT_LEGACY_PORT");
    o.state = &state;
    auto p = pair_of(user(174), user(174));
    p.scope = folder_scope::shared;

    // The filter sees "Projects/2024" and "News", not the prefixed source names.
    o.filter.exclude = {"^News$"};
    auto run = run_accounts({p}, o, {.jobs = 1});
    ASSERT_EQ(run.report.accounts.size(), 1u);
    const auto& a = run.report.accounts[0];
    EXPECT_TRUE(a.ok) << a.error;
    EXPECT_EQ(a.scope, folder_scope::shared);
    EXPECT_EQ(a.copied(), 2u);
    const auto* f = folder_in(a, "shared.Projects.2024");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->dest_folder, "Public/Projects/2024");
    EXPECT_EQ(folder_in(a, "shared.News"), nullptr);

    o.filter.exclude.clear();
    run = run_accounts({p}, o, {.jobs = 1});
    EXPECT_TRUE(run.report.accounts[0].ok) << run.report.accounts[0].error;
    EXPECT_EQ(run.report.copied(), 1u);   // News now; Projects/2024 is complete

    auto src = login("ARRIVAL_DOVECOT_LEGACY_PORT", user(175));
    auto dst = login("ARRIVAL_DOVECOT_DST_PORT", user(175));
    expect_same(*src, "shared.Projects.2024", *dst, "Public/Projects/2024", 2);
    expect_same(*src, "shared.News", *dst, "Public/News", 1);
    src->logout();
    dst->logout();
}

TEST(migrate_public, destination_without_a_shared_namespace_fails_that_entry_only) {
    reset_public_root("ARRIVAL_DOVECOT_SRC_PUBLIC");
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(175));
    const auto no_public = env("ARRIVAL_DOVECOT_DST_NO_PUBLIC_USER");
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", no_public);
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(175));
        seed(*s, "INBOX", {{make_message("mine175@x", "mine", 300), {}, ""}});
        seed(*s, "Public/Somewhere", {{make_message("pub175@x", "public", 400), {}, ""}});
        s->logout();
    }
    temp_dir dir;
    auto r = run_cli("migrate --public " + migrate_args(dir, fmt::format("{},{}\n", user(175), no_public)) + " --state-dir " +
                         (dir.path / "state").string() + " --report " + (dir.path / "report.json").string(),
                     dir);
    EXPECT_EQ(r.status, 1) << r.output;   // some entries failed
    const auto j = read_report(dir.path / "report.json");
    ASSERT_EQ(j["accounts"].size(), 2u);
    EXPECT_EQ(j["accounts"][0]["status"], "ok") << j.dump(2);
    EXPECT_EQ(j["accounts"][0]["copied"], 1);
    const auto& pub = j["accounts"][1];
    EXPECT_EQ(pub["namespace"], "shared");
    EXPECT_EQ(pub["status"], "failed");
    EXPECT_NE(pub["error"].get<std::string>().find("destination server has no shared namespace"), std::string::npos) << pub.dump(2);
    EXPECT_NE(pub["error"].get<std::string>().find("Public/"), std::string::npos) << pub.dump(2);
}

TEST(migrate_public, verify_public_compares_the_namespace_once_as_migrate_maps_it) {
    reset_public_root("ARRIVAL_DOVECOT_SRC_PUBLIC");
    reset_public_root("ARRIVAL_DOVECOT_DST_PUBLIC");
    for (int n : {176, 177}) reset_both(n);
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(176));
        seed(*s, "INBOX", {{make_message("mine176@x", "mine", 300), {}, ""}});
        seed(*s, "Public/Board", {{make_message("board1@x", "agenda", 500), {"\\Seen"}, "01-Jun-2024 09:00:00 +0000"},
                                  {make_message("board2@x", "minutes", 700), {}, "02-Jun-2024 09:00:00 +0000"},
                                  {make_message("board3@x", "budget", 900), {"\\Flagged"}, "03-Jun-2024 09:00:00 +0000"}});
        seed(*s, "Public/Board/Archive", {{make_message("old1@x", "old", 400), {}, "01-Jan-2020 09:00:00 +0000"}});
        seed(*s, "Public/Skip", {{make_message("skip1@x", "skipped", 400), {}, ""}});
        s->logout();
    }
    temp_dir dir;
    // The same relative-name filter for both commands: Public/Skip is neither copied nor compared.
    const auto conn = migrate_args(dir, fmt::format("{0},{0}\n{1},{1}\n", user(176), user(177)));
    const auto base = conn + " --exclude '^Skip$'";
    auto r = run_cli("migrate --public " + base + " --state-dir " + (dir.path / "state").string(), dir);
    ASSERT_EQ(r.status, 0) << r.output;

    const auto report = (dir.path / "verify.json").string();
    r = run_cli("verify --public " + base + " --report " + report, dir);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(": 0 missing, 0 account(s) not ok"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(env("ARRIVAL_DOVECOT_USER_PASSWORD")), std::string::npos);
    auto j = read_report(report);
    ASSERT_EQ(j["accounts"].size(), 3u) << j.dump(2);   // two accounts and the namespace, once
    for (int i : {0, 1}) {
        EXPECT_FALSE(j["accounts"][i].contains("namespace"));
        for (const auto& f : j["accounts"][i]["folders"]) EXPECT_NE(f["source_folder"].get<std::string>().rfind("Public", 0), 0u) << f.dump();
    }
    const auto& pub = j["accounts"][2];
    EXPECT_EQ(pub["namespace"], "shared");
    EXPECT_EQ(pub["source_user"], user(176));
    EXPECT_EQ(pub["status"], "ok") << pub.dump(2);
    std::map<std::string, nlohmann::json> folders;
    for (const auto& f : pub["folders"]) folders[f["source_folder"].get<std::string>()] = f;
    ASSERT_EQ(folders.size(), 2u) << pub.dump(2);   // Board and Board/Archive; Skip excluded, the root never compared
    EXPECT_EQ(folders["Public/Board"]["dest_folder"], "Public/Board");
    EXPECT_EQ(folders["Public/Board"]["source_messages"], 3);
    EXPECT_EQ(folders["Public/Board"]["dest_messages"], 3);
    EXPECT_EQ(folders["Public/Board/Archive"]["dest_messages"], 1);

    // Without the exclude, verify sees the folder migrate was told to skip: missing, exit 1.
    r = run_cli("verify --public " + conn, dir);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("folder 'Public/Skip' -> 'Public/Skip' does not exist on the destination (1 messages missing)"),
              std::string::npos)
        << r.output;

    // One message gone from the destination's public folder: reported with the folder, the count and the
    // source UID, in the shared entry only; exit 1 as for a private account.
    ASSERT_NO_FATAL_FAILURE(remove_maildir_message(std::filesystem::path(env("ARRIVAL_DOVECOT_DST_PUBLIC")) / ".Board", "<board2@x>"));
    r = run_cli("verify --public " + base + " --report " + report, dir);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(fmt::format("{} (public): folder 'Public/Board' -> 'Public/Board': 1 of 3 message(s) missing", user(176))),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("'Public/Board' UID 2 "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(": 1 missing, 1 account(s) not ok"), std::string::npos) << r.output;
    j = read_report(report);
    EXPECT_EQ(j["totals"]["missing"], 1) << j.dump(2);
    EXPECT_EQ(j["accounts"][0]["status"], "ok");
    EXPECT_EQ(j["accounts"][1]["status"], "ok");
    EXPECT_EQ(j["accounts"][2]["status"], "failed");
    EXPECT_EQ(j["accounts"][2]["missing"], 1);
    for (const auto& f : j["accounts"][2]["folders"]) {
        if (f["source_folder"] != "Public/Board") continue;
        EXPECT_EQ(f["dest_messages"], 2);
        ASSERT_EQ(f["missing"].size(), 1u) << f.dump(2);
        EXPECT_EQ(f["missing"][0]["uid"], 2);
    }

    // Without --public the private accounts alone are compared: nothing missing.
    r = run_cli("verify " + base, dir);
    EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace migrate_public_test
