// What `arrival migrate` promises about the work and resources it takes, checked from outside the process
// against the testbed Dovecots: an unchanged folder is skipped without a FETCH (Dovecot's rawlog of the
// source user), the connection caps hold (clients counted by tools/testbed/tcp-proxy), bodies over 1 MB
// live in unlinked spill files (arrival's /proc/PID/fd while it runs). Users: user166..user169, user158, user159, user186..user188 (migrate_carbonio has 160-165).
#include <sys/stat.h>

#include <filesystem>
#include <regex>
#include <set>

#include "tests/integration/migrate_cli_support.hpp"

namespace imap_test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace migrate_limits_test {

TEST(migrate_limits, unchanged_folder_is_skipped_without_fetching) {
    const auto u = user(166);
    reset("src", u);
    reset("dst", u);
    seed(u, sample_mailbox("l160", 12, 6));
    temp_dir dir;
    auto rawlog = start_rawlog(u);
    auto r = migrate(dir, {u}, port_of("SRC"), port_of("DST"));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_GT(commands(rawlog, "FETCH"), 0) << "the rawlog saw no FETCH of the first run: it proves nothing";
    EXPECT_GT(commands(rawlog, "EXAMINE|SELECT"), 0);

    // Rerun, nothing changed: the source is asked for STATUS only, no folder is even opened. (Without the
    // skip, the re-plan EXAMINEs every folder: 7 EXAMINEs, still no FETCH, since no UID is new.)
    rawlog = start_rawlog(u);
    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_GT(logged_sessions(rawlog), 0) << "no session was logged";
    EXPECT_GT(commands(rawlog, "STATUS"), 0);
    EXPECT_EQ(commands(rawlog, "FETCH"), 0) << "an unchanged rerun fetched from the source";
    EXPECT_EQ(commands(rawlog, "EXAMINE|SELECT"), 0) << "an unchanged rerun opened a source folder";
    const auto* a = account_in(r.report, u);
    ASSERT_NE(a, nullptr) << r.report.dump(2);
    EXPECT_EQ((*a)["copied"], 0);
    for (const auto& f : (*a)["folders"]) EXPECT_EQ(f.value("note", ""), "unchanged since the last run") << f.dump();

    // A new message in one folder: that folder is fetched again, and only it arrives.
    seed(u, {{"INBOX", false, {{make_message("l160-late", 1500), {}}}}});
    rawlog = start_rawlog(u);
    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_GT(commands(rawlog, "FETCH"), 0);
    a = account_in(r.report, u);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ((*a)["copied"], 1);
    fs::remove_all(rawlog);
}

// ---- connection caps, counted at tcp-proxy ---------------------------------------------------------

int most_clients_at_once(const std::string& proxy_log) {
    static const std::regex most(R"(at most (\d+) clients connected at once)");
    std::smatch m;
    if (!std::regex_search(proxy_log, m, most)) return -1;
    return std::stoi(m[1].str());
}

// Four accounts, --jobs 4: each cap holds on its own side (the other side's cap is left wide, since an
// account needs a slot on both sides and the narrower cap would bound both).
TEST(migrate_limits, connection_caps_are_never_exceeded) {
    const std::vector<std::string> users{user(167), user(168), user(169), user(158)};
    for (const auto& u : users) {
        reset("src", u);
        seed(u, sample_mailbox("l" + u.substr(4, 3), 12, 6));
    }
    for (const auto& [src_cap, dst_cap] : {std::pair{2, 4}, std::pair{4, 1}}) {
        for (const auto& u : users) reset("dst", u);
        temp_dir dir;
        tcp_proxy src("SRC", {}, dir.path / "src.log");
        tcp_proxy dst("DST", {}, dir.path / "dst.log");
        const auto r = migrate(dir, users, src.port(), dst.port(),
                               fmt::format("--max-source-connections {} --max-dest-connections {}", src_cap, dst_cap));
        const auto src_log = src.stop(), dst_log = dst.stop();
        EXPECT_EQ(r.status, 0) << r.output;
        EXPECT_EQ(r.report["totals"]["copied"], 4 * (12 + 2 + 6)) << r.output;
        const int at_src = most_clients_at_once(src_log), at_dst = most_clients_at_once(dst_log);
        EXPECT_GE(at_src, 1) << src_log;
        EXPECT_GE(at_dst, 1) << dst_log;
        EXPECT_LE(at_src, src_cap) << src_log;
        EXPECT_LE(at_dst, dst_cap) << dst_log;
    }
    // Without caps the adaptive window bounds the pairs (engine/mail/adaptive_concurrency.hpp): it starts at 8 of
    // the 16 that --jobs 4 x 4 per account allow, and grows only as the run goes; at no moment were more
    // connections open than its largest. --fixed-concurrency has no window in the report.
    for (const bool fixed : {false, true}) {
        for (const auto& u : users) reset("dst", u);
        temp_dir dir;
        tcp_proxy src("SRC", {}, dir.path / "src.log");
        tcp_proxy dst("DST", {}, dir.path / "dst.log");
        const auto r = migrate(dir, users, src.port(), dst.port(), fixed ? "--connections-per-account 4 --fixed-concurrency" : "--connections-per-account 4");
        const auto src_log = src.stop(), dst_log = dst.stop();
        EXPECT_EQ(r.status, 0) << r.output;
        EXPECT_EQ(r.report["totals"]["copied"], 4 * (12 + 2 + 6)) << r.output;
        if (fixed) {
            EXPECT_FALSE(r.report.contains("concurrency")) << r.report.dump(2);
            continue;
        }
        const auto& c = r.report["concurrency"];
        ASSERT_TRUE(c.is_object()) << r.report.dump(2);
        EXPECT_EQ(c["cap"], 16) << c.dump();
        EXPECT_EQ(c["initial"], 8) << c.dump();
        // A healthy server sends no congestion signal (a NO, a reset). The one cut allowed is the timing
        // one: on a loaded CI box logging in can take twice its fastest time, and the window rightly
        // narrows (seen once: 1.42 s against 0.61 s).
        if (c["decreases"].get<int>() > 0) {
            EXPECT_EQ(c.value("last_decrease", "").rfind("logging in got slow", 0), 0u) << c.dump();
        }
        EXPECT_LE(most_clients_at_once(src_log), c["largest"].get<int>()) << src_log << c.dump();
        EXPECT_LE(most_clients_at_once(dst_log), c["largest"].get<int>()) << dst_log << c.dump();
    }
}

// --connections-per-account is a ceiling (engine/mail/adaptive_concurrency.hpp pairs_worth_opening): on loopback an
// account's further pair is not worth its logins, so one pair copies (the report's connection_pairs, and the
// clients a zero-delay proxy saw at once); 100 ms of round trip in front of both servers makes the 20 folders'
// round trips (10 per pair, against a login of ~5 with STARTTLS) worth a second pair; --fixed-concurrency opens
// every pair the flag allows, on loopback too.
TEST(migrate_limits, further_pairs_open_only_where_the_round_trips_repay_their_logins) {
    const auto few = user(186), many = user(187);
    reset("src", few);
    seed(few, sample_mailbox("w186", 6, 3));   // INBOX and Work
    reset("src", many);
    std::vector<seed_folder> folders;
    for (int i = 0; i < 20; ++i) folders.push_back({fmt::format("F{:02}", i), false, {{make_message(fmt::format("w187-{}", i), 1200), {}}}});
    seed(many, folders);
    const auto pairs_of = [](const migrate_result& r, const std::string& u) {
        const auto* a = account_in(r.report, u);
        return a ? a->value("connection_pairs", 0) : -1;
    };
    struct run_case {
        std::string user;
        double delay_ms;
        const char* extra;
        int pairs;
    };
    for (const auto& c : {run_case{few, 0, "", 1}, run_case{many, 50, "", 2}, run_case{few, 0, "--fixed-concurrency", 2}}) {
        reset("dst", c.user);
        temp_dir dir;
        const std::vector<std::string> delay{"--delay-ms", fmt::format("{}", c.delay_ms)};
        tcp_proxy src("SRC", delay, dir.path / "src.log");
        tcp_proxy dst("DST", delay, dir.path / "dst.log");
        const auto r = migrate(dir, {c.user}, src.port(), dst.port(), c.extra);
        const auto src_log = src.stop(), dst_log = dst.stop();
        ASSERT_EQ(r.status, 0) << r.output;
        EXPECT_EQ(pairs_of(r, c.user), c.pairs) << c.user << " " << c.delay_ms << " ms " << c.extra << "\n" << r.report.dump(2);
        // Under --fixed-concurrency the second pair may log in after the first took both folders: it opened,
        // but need not overlap.
        const bool exact = std::string(c.extra).empty();
        EXPECT_TRUE(exact ? most_clients_at_once(src_log) == c.pairs : most_clients_at_once(src_log) <= c.pairs) << src_log;
        EXPECT_TRUE(exact ? most_clients_at_once(dst_log) == c.pairs : most_clients_at_once(dst_log) <= c.pairs) << dst_log;
        const auto* a = account_in(r.report, c.user);
        ASSERT_NE(a, nullptr);
        EXPECT_EQ((*a)["status"], "ok") << a->dump(2);
    }
}

// Small folders ride in chains (engine/mail/account_job.cpp claim_next): once the source's STATUS (MESSAGES SIZE)
// says a folder fits a batch, it is opened with its index and every body in one UID FETCH, beside the folders
// after it. Every message arrives once, a folder over a batch (60 messages) is fetched batch by batch as
// before, and the rerun finds every folder complete.
TEST(migrate_limits, small_folders_are_fetched_whole_with_their_index_and_copied_once) {
    const auto u = user(188);
    reset("src", u);
    reset("dst", u);
    std::vector<seed_folder> folders{{"INBOX", false, {}}};
    for (int i = 0; i < 4; ++i) folders[0].messages.push_back({make_message(fmt::format("c188-in-{}", i), 900), {"\\Seen"}});
    for (const auto* name : {"A1", "A2", "A3", "A4", "B", "C1", "C2"}) {
        seed_folder f{name, false, {}};
        const int n = std::string(name) == "B" ? 60 : 3;
        for (int i = 0; i < n; ++i) f.messages.push_back({make_message(fmt::format("c188-{}-{}", name, i), 700 + 13 * i), {}});
        folders.push_back(std::move(f));
    }
    seed(u, folders);
    const auto before = snapshot("SRC", u);
    temp_dir dir;
    auto rawlog = start_rawlog(u);
    auto r = migrate(dir, {u}, port_of("SRC"), port_of("DST"));
    ASSERT_EQ(r.status, 0) << r.output;
    const int whole = rawlog_matches(rawlog, std::regex(R"(UID FETCH 1:\* \(UID RFC822\.SIZE [^\r\n]*BODY\.PEEK\[HEADER\.FIELDS [^\]]*\] BODY\.PEEK\[\]\))"));
    const auto sent = [&] {   // what the source was asked, for a failure's message
        std::string all;
        for (const auto& e : fs::directory_iterator(rawlog)) {
            std::ifstream in(e.path(), std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            if (e.path().extension() == ".in") all += e.path().filename().string() + ":\n" + ss.str();
        }
        return all;
    };
    EXPECT_GE(whole, 2) << "no folder was fetched whole with its index\n" << sent();
    // Every folder but INBOX (opened before the sizes were known) and B (over a batch) may be: the four A's, the
    // two C's and the testbed's empty special-use folders.
    EXPECT_LE(whole, static_cast<int>(before.size()) - 2) << "INBOX or B was fetched whole\n" << sent();
    EXPECT_GT(rawlog_matches(rawlog, std::regex(R"(UID FETCH 51:60 \(UID BODY\.PEEK\[\]\))")), 0) << "B was not fetched batch by batch";
    EXPECT_GT(commands(rawlog, "STATUS"), 0);
    const auto* a = account_in(r.report, u);
    ASSERT_NE(a, nullptr) << r.output;
    EXPECT_EQ((*a)["copied"], 4 + 4 * 3 + 60 + 2 * 3) << a->dump(2);
    expect_copied_exactly_once(before, snapshot("DST", u));
    EXPECT_TRUE(snapshot("SRC", u) == before) << "the source changed during the run";
    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"));
    ASSERT_EQ(r.status, 0) << r.output;
    a = account_in(r.report, u);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ((*a)["copied"], 0) << a->dump(2);
    for (const auto& f : (*a)["folders"]) EXPECT_EQ(f.value("note", ""), "unchanged since the last run") << f.dump();
    fs::remove_all(rawlog);
}

// ---- spill files -----------------------------------------------------------------------------------

// A message of exactly `size` bytes.
std::string message_of_size(const std::string& id, std::size_t size) {
    std::string m = "Message-ID: <" + id + "@arrival.test>\r\nDate: Tue, 2 Jan 2024 10:00:00 +0100\r\n"
                    "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: " + id +
                    "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n";
    const std::string line = std::string(76, 'x') + "\r\n";
    while (m.size() + line.size() <= size) m += line;
    m += std::string(size - m.size(), 'y');
    return m;
}

struct spill_watch {
    fs::path dir;
    std::set<std::string> seen;      // spill files arrival held open, as /proc/PID/fd names them
    std::set<std::string> visible;   // anything ever listed in the spill directory
    void operator()(pid_t pid) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(fs::path("/proc") / std::to_string(pid) / "fd", ec)) {
            const auto target = fs::read_symlink(e.path(), ec);
            if (!ec && target.string().starts_with(dir.string() + "/")) seen.insert(target.string());
        }
        for (const auto& e : fs::directory_iterator(dir, ec)) visible.insert(e.path().string());
    }
};

// The spill threshold is 1 MiB (1048576 bytes): a body of exactly that stays in memory, one byte more goes
// to a file in --spill-dir that is unlinked at once (never listed there, held open as "(deleted)").
TEST(migrate_limits, bodies_over_1_mb_spill_to_unlinked_files) {
    const auto u = user(159);
    reset("src", u);
    seed(u, {{"AtThreshold", false, {{message_of_size("l165-at", 1 << 20), {}}}},
             {"OverThreshold", false, {{message_of_size("l165-over", (1 << 20) + 1), {}}}}});
    for (const auto& [folder, spills] : {std::pair{"AtThreshold", false}, std::pair{"OverThreshold", true}}) {
        reset("dst", u);
        temp_dir dir;
        const fs::path spill_dir = dir.path / "spill";
        fs::create_directories(spill_dir);
        // 100 ms each way on DST: the APPEND of the body takes a few round trips, long enough to be seen.
        tcp_proxy dst("DST", {"--delay-ms", "100"}, dir.path / "dst.log");
        spill_watch w{spill_dir, {}, {}};
        const auto r = migrate(dir, {u}, port_of("SRC"), dst.port(),
                               fmt::format("--include '^{}$' --spill-dir {}", folder, spill_dir.string()), std::ref(w));
        EXPECT_EQ(r.status, 0) << r.output;
        EXPECT_EQ(r.report["totals"]["copied"], 1) << r.output;
        EXPECT_TRUE(w.visible.empty()) << folder << ": a spill file was visible in " << spill_dir << ": "
                                       << *w.visible.begin();
        if (spills) {
            ASSERT_FALSE(w.seen.empty()) << "no spill file seen for a body of 1 MiB + 1";
            for (const auto& s : w.seen) EXPECT_TRUE(s.ends_with(" (deleted)")) << s;
        } else {
            EXPECT_TRUE(w.seen.empty()) << "a body of exactly 1 MiB was spilled: " << *w.seen.begin();
        }
    }
}

}  // namespace
}  // namespace imap_test
