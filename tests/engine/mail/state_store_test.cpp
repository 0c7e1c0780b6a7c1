#include "engine/mail/state_store.hpp"

#include <filesystem>
#include <cstdio>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sqlite3.h>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace state_store_test {

using namespace arrival::engine;

namespace {
struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        char tmpl[] = "/tmp/arrival-state-test.XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};
}  // namespace

TEST(state_store, records_survive_reopen) {
    temp_dir d;
    {
        state_store s(d.path / "sub");
        EXPECT_FALSE(s.load("u1", "INBOX"));
        EXPECT_FALSE(s.begin_folder("u1", "INBOX", 42));
        s.record("u1", "INBOX", {.highest_uid = 10, .copied = 9, .skipped_duplicate = 1, .failed = 0, .bytes = 900});
        s.record("u1", "INBOX", {.highest_uid = 7, .copied = 1, .skipped_duplicate = 0, .failed = 1, .bytes = 100});
    }
    state_store s(d.path / "sub");
    auto st = s.load("u1", "INBOX");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->uidvalidity, 42u);
    EXPECT_EQ(st->highest_uid, 10u);   // never goes down
    EXPECT_EQ(st->copied, 10u);
    EXPECT_EQ(st->skipped_duplicate, 1u);
    EXPECT_EQ(st->failed, 1u);
    EXPECT_EQ(st->bytes, 1000u);
    EXPECT_EQ(st->completed_uidnext, 0u);
    s.complete_folder("u1", "INBOX", 11, "Posteingang");
    EXPECT_EQ(s.load("u1", "INBOX")->completed_uidnext, 11u);
    EXPECT_EQ(s.load("u1", "INBOX")->dest_folder, "Posteingang");
    // Restarting the same folder clears "completed" but keeps progress.
    EXPECT_FALSE(s.begin_folder("u1", "INBOX", 42));
    EXPECT_EQ(s.load("u1", "INBOX")->completed_uidnext, 0u);
    EXPECT_EQ(s.load("u1", "INBOX")->highest_uid, 10u);
}

TEST(state_store, changed_uidvalidity_resets) {
    temp_dir d;
    state_store s(d.path);
    s.begin_folder("u", "F", 1);
    s.record("u", "F", {.highest_uid = 5, .copied = 5, .skipped_duplicate = 0, .failed = 0, .bytes = 5});
    EXPECT_TRUE(s.begin_folder("u", "F", 2));
    const auto st = s.load("u", "F");
    EXPECT_EQ(st->uidvalidity, 2u);
    EXPECT_EQ(st->highest_uid, 0u);
    EXPECT_EQ(st->copied, 0u);
    // Other accounts and folders are separate rows.
    EXPECT_FALSE(s.load("u", "G"));
    EXPECT_FALSE(s.load("v", "F"));
}

TEST(state_store, concurrent_writers) {
    temp_dir d;
    state_store s(d.path);
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
        ts.emplace_back([&s, t] {
            const std::string acct = "user" + std::to_string(t);
            s.begin_folder(acct, "INBOX", 7);
            for (std::uint32_t uid = 1; uid <= 50; ++uid) {
                s.record(acct, "INBOX", {.highest_uid = uid, .copied = 1, .skipped_duplicate = 0, .failed = 0, .bytes = 10});
            }
        });
    }
    for (auto& t : ts) t.join();
    for (int t = 0; t < 4; ++t) {
        const auto st = s.load("user" + std::to_string(t), "INBOX");
        EXPECT_EQ(st->highest_uid, 50u);
        EXPECT_EQ(st->copied, 50u);
    }
}

TEST(state_store, unwritable_dir_named) {
    try {
        state_store s("/proc/arrival-cannot-create");
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/proc/arrival-cannot-create"), std::string::npos);
    }
}

// Two arrivals (or a run and a watcher) opening a state dir that does not exist yet: SQLite answers the one
// that loses the race to create the file and switch it to WAL with SQLITE_BUSY or an I/O error, without
// waiting (migrate_kill_test hit this in CI). Each round starts on a fresh directory, with processes, not
// threads, as in production.
TEST(state_store, processes_opening_a_new_store_at_once_all_succeed) {
    for (int round = 0; round < 20; ++round) {
        temp_dir d;
        std::vector<pid_t> children;
        for (int p = 0; p < 4; ++p) {
            const pid_t child = fork();
            ASSERT_GE(child, 0);
            if (child == 0) {
                try {
                    state_store s(d.path / "new");
                    s.begin_folder("user" + std::to_string(p), "INBOX", 7);
                    s.record("user" + std::to_string(p), "INBOX", {.highest_uid = 3, .copied = 3, .skipped_duplicate = 0, .failed = 0, .bytes = 30});
                    _exit(0);
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "round %d process %d: %s\n", round, p, e.what());
                    _exit(1);
                }
            }
            children.push_back(child);
        }
        for (const pid_t child : children) {
            int status = 0;
            ASSERT_EQ(::waitpid(child, &status, 0), child);
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
        }
        state_store s(d.path / "new");
        for (int p = 0; p < 4; ++p) EXPECT_EQ(s.load("user" + std::to_string(p), "INBOX")->copied, 3u) << "round " << round;
    }
}

TEST(state_store, uid_map_follows_batches_deltas_renames_and_uidvalidity) {
    temp_dir d;
    state_store s(d.path);
    s.begin_folder("u1", "INBOX", 7);
    ASSERT_TRUE(s.load("u1", "INBOX")->has_map);   // a folder started now records its map from the first batch
    s.record("u1", "INBOX", {.highest_uid = 2, .copied = 2, .skipped_duplicate = 0, .failed = 0, .bytes = 10,
                             .mapped = {{1, 101, {"\\Seen"}, true}, {2, 102, {}, true}}});
    s.add_map("u1", "INBOX", {{3, 103, {"$Work", "\\Flagged"}, false}}, true);
    auto m = s.load_map("u1", "INBOX");
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].flags, (std::vector<std::string>{"\\Seen"}));
    EXPECT_EQ(m[2].flags, (std::vector<std::string>{"$Work", "\\Flagged"}));
    EXPECT_FALSE(m[2].ours);
    s.apply_delta("u1", "INBOX", {{2, {"\\Answered", "\\Seen"}}}, {1}, 555);
    m = s.load_map("u1", "INBOX");
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[0].src_uid, 2u);
    EXPECT_EQ(m[0].flags, (std::vector<std::string>{"\\Answered", "\\Seen"}));
    EXPECT_EQ(s.load("u1", "INBOX")->highestmodseq, 555u);

    s.rename_folder("u1", "INBOX", "Inbox-old", "Inbox-old");
    EXPECT_FALSE(s.load("u1", "INBOX"));
    EXPECT_EQ(s.load_map("u1", "Inbox-old").size(), 2u);
    EXPECT_EQ(s.load_account("u1").size(), 1u);
    EXPECT_TRUE(s.begin_folder("u1", "Inbox-old", 8));   // new UIDVALIDITY: the map means nothing any more
    EXPECT_TRUE(s.load_map("u1", "Inbox-old").empty());
    s.forget_folder("u1", "Inbox-old");
    EXPECT_TRUE(s.load_account("u1").empty());
}

TEST(state_store, a_state_dir_from_before_the_map_opens_and_says_so) {
    temp_dir d;
    {
        // The schema as the first release wrote it.
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((d.path / "arrival-state.sqlite").c_str(), &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db,
                               "CREATE TABLE folder_state (account TEXT NOT NULL, folder TEXT NOT NULL,"
                               " uidvalidity INTEGER NOT NULL, highest_uid INTEGER NOT NULL DEFAULT 0,"
                               " completed_uidnext INTEGER NOT NULL DEFAULT 0, dest_folder TEXT NOT NULL DEFAULT '',"
                               " copied INTEGER NOT NULL DEFAULT 0, skipped_duplicate INTEGER NOT NULL DEFAULT 0,"
                               " failed INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
                               " updated TEXT NOT NULL DEFAULT (datetime('now')), PRIMARY KEY (account, folder));"
                               "INSERT INTO folder_state (account, folder, uidvalidity, highest_uid, completed_uidnext, dest_folder, copied)"
                               " VALUES ('u1', 'INBOX', 7, 20, 21, 'INBOX', 20);",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
        sqlite3_close(db);
    }
    for (int i = 0; i < 2; ++i) {   // and again, with the columns already there
        state_store s(d.path);
        const auto st = s.load("u1", "INBOX");
        ASSERT_TRUE(st);
        EXPECT_EQ(st->completed_uidnext, 21u);
        EXPECT_EQ(st->copied, 20u);
        EXPECT_FALSE(st->has_map);
        EXPECT_EQ(st->highestmodseq, 0u);
        EXPECT_TRUE(s.load_map("u1", "INBOX").empty());
    }
}

}  // namespace state_store_test
