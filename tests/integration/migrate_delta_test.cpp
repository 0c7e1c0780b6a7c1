// A rerun of `arrival migrate` carries what users did between the bulk copy and the cutover (issue 13): flag
// and keyword changes, expunges (only with --sync-deletes, only of arrival's own copies), new mail, and a
// destination-side change on a message the source left alone is kept. Real Dovecot SRC and DST of the testbed
// (both offer CONDSTORE, QRESYNC and UIDPLUS), and Cyrus 3.6 (tools/testbed/cyrus.sh, CLASSIC) as a source,
// whose CONDSTORE counts modseqs differently; arrival runs as a subprocess; the servers are changed and read
// through protocol's own client. Users: Dovecot user231..user236 and user521, Cyrus user269.
#include <signal.h>

#include <nlohmann/json.hpp>

#include "protocol/imap/sequence_set.hpp"
#include "tests/integration/migrate_cli_support.hpp"

namespace imap_test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace migrate_delta_test {

// A server and a user on it.
struct mailbox_at {
    connect_options server;
    credentials login;
};

mailbox_at dovecot(const char* instance, const std::string& u) { return {server(instance), login_as(u)}; }

// A user of the testbed's Cyrus CLASSIC instance (tools/testbed/cyrus.sh), in cleartext, with their own password.
mailbox_at cyrus(const std::string& u) {
    connect_options o;
    std::string err;
    o.url = *parse_imap_url("imap://127.0.0.1:" + env("ARRIVAL_CYRUS_CLASSIC_PORT"), err);
    o.url.tls = tls_mode::none;
    o.connect_timeout = std::chrono::seconds(10);
    o.read_timeout = std::chrono::seconds(60);
    credentials c;
    c.user = u;
    c.password = env("ARRIVAL_CYRUS_USER_PASSWORD");
    c.how = credentials::method::plain;
    return {o, c};
}

// Runs `f` on a logged-in connection to `where`.
void on(const mailbox_at& where, const std::function<net::awaitable<void>(connection&)>& f) {
    run([&]() -> net::awaitable<void> {
        auto conn = co_await open(where.server, where.login);
        co_await f(*conn);
        error_code ec;
        co_await conn->async_logout(ec);
    });
}

void on(const char* instance, const std::string& u, const std::function<net::awaitable<void>(connection&)>& f) {
    on(dovecot(instance, u), f);
}

void check(const error_code& ec, connection& c, const std::string& what) {
    if (ec) throw std::runtime_error(what + ": " + c.diag().to_string());
}

// UID of each message of `folder`, by its Subject.
net::awaitable<std::map<std::string, std::uint32_t>> uids_by_subject(connection& c, const std::string& folder) {
    error_code ec;
    (void)co_await c.async_select(folder, false, ec);
    check(ec, c, "SELECT " + folder);
    collecting_sink sink;
    co_await c.async_uid_fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])", sink, ec);
    check(ec, c, "UID FETCH subjects");
    std::map<std::string, std::uint32_t> out;
    for (const auto& [uid, m] : sink.messages) {
        auto s = m.body.substr(m.body.find(':') + 2);
        s = s.substr(0, s.find('\r'));
        out[s] = uid;
    }
    co_return out;
}

std::string subject(const std::string& tag, int i) { return fmt::format("{}-{}", tag, i); }

std::vector<seed_folder> mailbox(const std::string& tag, int inbox) {
    seed_folder in{"INBOX", false, {}}, wk{"Work", true, {}}, old{"Projects", true, {}}, gone{"Trash-2019", false, {}};
    for (int i = 0; i < inbox; ++i) {
        std::vector<std::string> flags;
        if (i % 2 == 0) flags.push_back("\\Seen");
        if (i % 9 == 0) flags.push_back("\\Answered");
        in.messages.push_back({make_message(subject(tag, i), 700 + 13 * i), flags});
    }
    for (int i = 0; i < 20; ++i) wk.messages.push_back({make_message(subject(tag + "w", i), 900), {"Project", "\\Seen"}});
    for (int i = 0; i < 6; ++i) old.messages.push_back({make_message(subject(tag + "p", i), 800), {}});
    for (int i = 0; i < 3; ++i) gone.messages.push_back({make_message(subject(tag + "g", i), 600), {"\\Seen"}});
    return {in, wk, old, gone};
}

// The source's changes between the two runs: 50 INBOX messages change flags (25 read and flagged, 25 marked
// unread), 5 Work messages trade keyword Project for Urgent, 4 INBOX messages are expunged, 3 arrive.
void change_source(const std::string& u, const std::string& tag) {
    on("SRC", u, [&](connection& c) -> net::awaitable<void> {
        const auto uids = co_await uids_by_subject(c, "INBOX");
        error_code ec;
        std::vector<std::uint32_t> read_flag, unread, gone;
        for (int i = 1; i < 100 && read_flag.size() < 25; i += 2) read_flag.push_back(uids.at(subject(tag, i)));
        for (int i = 0; i < 100 && unread.size() < 25; i += 2) unread.push_back(uids.at(subject(tag, i)));
        for (int i : {101, 103, 104, 110}) gone.push_back(uids.at(subject(tag, i)));
        const std::string_view seen_flagged[] = {"\\Seen", "\\Flagged"};
        const std::string_view seen[] = {"\\Seen"};
        const std::string_view deleted[] = {"\\Deleted"};
        const auto rs = encode_sequence_set(read_flag), us = encode_sequence_set(unread), gs = encode_sequence_set(gone);
        co_await c.async_uid_store(rs, "+FLAGS.SILENT", seen_flagged, ec);
        check(ec, c, "STORE +Seen +Flagged");
        co_await c.async_uid_store(us, "-FLAGS.SILENT", seen, ec);
        check(ec, c, "STORE -Seen");
        co_await c.async_uid_store(gs, "+FLAGS.SILENT", deleted, ec);
        check(ec, c, "STORE +Deleted");
        co_await c.async_uid_expunge(gs, ec);
        check(ec, c, "UID EXPUNGE");
        const auto w = co_await uids_by_subject(c, "Work");
        std::vector<std::uint32_t> retag;
        for (int i = 0; i < 5; ++i) retag.push_back(w.at(subject(tag + "w", i)));
        const auto ws = encode_sequence_set(retag);
        const std::string_view project[] = {"Project"};
        const std::string_view urgent[] = {"Urgent"};
        co_await c.async_uid_store(ws, "-FLAGS.SILENT", project, ec);
        check(ec, c, "STORE -Project");
        co_await c.async_uid_store(ws, "+FLAGS.SILENT", urgent, ec);
        check(ec, c, "STORE +Urgent");
        std::vector<std::string> bodies;
        std::vector<append_message> add;
        for (int i = 0; i < 3; ++i) bodies.push_back(make_message(subject(tag + "new", i), 1000));
        for (const auto& b : bodies) add.push_back({.flags = {}, .date = std::nullopt, .body = b, .binary = false});
        (void)co_await c.async_append("INBOX", add, ec);
        check(ec, c, "APPEND new mail");
    });
}

// A user already on the new server flags a message the source leaves alone (message 120: no source change).
void change_destination(const std::string& u, const std::string& tag) {
    on("DST", u, [&](connection& c) -> net::awaitable<void> {
        const auto uids = co_await uids_by_subject(c, "INBOX");
        error_code ec;
        const auto set = std::to_string(uids.at(subject(tag, 120)));
        const std::string_view f[] = {"\\Flagged", "$OnTheNewServer"};
        co_await c.async_uid_store(set, "+FLAGS.SILENT", f, ec);
        check(ec, c, "STORE on the destination");
    });
}

// Flags of `folder` by Subject.
std::map<std::string, std::vector<std::string>> flags_by_subject(const mailbox_at& where, const std::string& folder) {
    std::map<std::string, std::vector<std::string>> out;
    on(where, [&](connection& c) -> net::awaitable<void> {
        const auto uids = co_await uids_by_subject(c, folder);
        collecting_sink sink;
        error_code ec;
        co_await c.async_uid_fetch("1:*", "(UID FLAGS)", sink, ec);
        check(ec, c, "UID FETCH FLAGS");
        for (const auto& [s, uid] : uids) {
            auto f = sink.messages[uid].flags;
            std::erase_if(f, [](const std::string& x) { return x == "\\Recent"; });
            std::sort(f.begin(), f.end());
            out[s] = f;
        }
    });
    return out;
}

std::map<std::string, std::vector<std::string>> flags_by_subject(const char* instance, const std::string& u, const std::string& folder) {
    return flags_by_subject(dovecot(instance, u), folder);
}

// `arrival verify --flags` for one user, as an admin runs it; the exit status and the JSON report.
std::pair<int, nlohmann::json> verify_flags(const temp_dir& dir, const std::string& u) {
    std::ofstream(dir.path / "verify-accounts.txt") << u << "\n";
    const auto master = env("ARRIVAL_DOVECOT_MASTER_USER");
    ::setenv("ARRIVAL_SOURCE_PASSWORD", env("ARRIVAL_DOVECOT_MASTER_PASSWORD").c_str(), 1);
    ::setenv("ARRIVAL_DEST_PASSWORD", env("ARRIVAL_DOVECOT_MASTER_PASSWORD").c_str(), 1);
    const auto report = dir.path / "verify.json";
    const std::string cmd = fmt::format(
        "{} verify --flags --source imap://127.0.0.1:{} --dest imap://127.0.0.1:{} --ca-file {} --accounts {} --source-admin {} "
        "--dest-admin {} --report {} > {} 2>&1",
        env("ARRIVAL_EXE"), port_of("SRC"), port_of("DST"), env("ARRIVAL_TESTBED_CA"), (dir.path / "verify-accounts.txt").string(),
        master, master, report.string(), (dir.path / "verify.txt").string());
    const int st = std::system(cmd.c_str());
    ::unsetenv("ARRIVAL_SOURCE_PASSWORD");
    ::unsetenv("ARRIVAL_DEST_PASSWORD");
    std::ifstream in(report);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, nlohmann::json::parse(in, nullptr, false)};
}

const nlohmann::json* folder_in(const nlohmann::json& account, const std::string& name) {
    for (const auto& f : account["folders"]) {
        if (f.value("source_folder", "") == name) return &f;
    }
    return nullptr;
}

// Source and destination hold the same flags for every message the source has, except the destination-side
// change on message 120 (kept as its user made it).
void expect_flags_follow(const std::string& u, const std::string& tag, bool deletes_applied) {
    for (const std::string folder : {"INBOX", "Work"}) {
        const auto src = flags_by_subject("SRC", u, folder);
        auto dst = flags_by_subject("DST", u, folder);
        if (folder == "INBOX") {
            auto& kept = dst.at(subject(tag, 120));
            EXPECT_EQ(kept, (std::vector<std::string>{"$OnTheNewServer", "\\Flagged", "\\Seen"})) << "the destination-side change was lost";
            kept = src.at(subject(tag, 120));
            for (int i : {101, 103, 104, 110}) {
                EXPECT_EQ(dst.count(subject(tag, i)), deletes_applied ? 0u : 1u) << "message " << i << " expunged on the source";
                dst.erase(subject(tag, i));
            }
        }
        EXPECT_EQ(src, dst) << "folder " << folder;
    }
}

TEST(migrate_delta, flags_keywords_new_mail_follow_and_deletes_only_when_asked) {
    const auto u = user(231);
    const std::string tag = "d231";
    reset("src", u);
    reset("dst", u);
    seed(u, mailbox(tag, 130));
    temp_dir dir;
    auto r = migrate(dir, {u}, port_of("SRC"), port_of("DST"));
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_EQ(r.report["totals"]["copied"], 130 + 20 + 6 + 3);

    change_source(u, tag);
    change_destination(u, tag);

    // A dry run shows what the rerun would do, and changes nothing.
    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"), "--dry-run --sync-deletes");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("delete in INBOX: 4 message(s) the source expunged"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("update flags in INBOX: 50 message(s)"), std::string::npos) << r.output;
    EXPECT_LT(r.output.find("delete in INBOX"), r.output.find("update flags in INBOX")) << r.output;

    // Rerun without --sync-deletes: flags follow, new mail arrives, the expunged messages stay. Dovecot offers
    // QRESYNC, so the expunges come from VANISHED (EARLIER), not from a UID SEARCH of what still exists.
    const auto rawlog = start_rawlog(u);
    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_GT(logged_sessions(rawlog), 0) << "no session was logged";
    EXPECT_GT(commands(rawlog, "ENABLE"), 0);
    EXPECT_GT(rawlog_matches(rawlog, std::regex("UID FETCH [0-9:,]+ \\(UID FLAGS\\) \\(CHANGEDSINCE [0-9]+ VANISHED\\)")), 0);
    EXPECT_EQ(commands(rawlog, "SEARCH"), 0) << "the expunges were looked for with UID SEARCH, not VANISHED";
    const auto* a = account_in(r.report, u);
    ASSERT_TRUE(a);
    const auto* inbox = folder_in(*a, "INBOX");
    ASSERT_TRUE(inbox);
    EXPECT_EQ((*inbox)["flags_updated"], 50);
    EXPECT_EQ((*inbox)["copied"], 3);
    EXPECT_EQ((*inbox)["deleted"], 0);
    EXPECT_EQ(inbox->value("vanished", 0), 4) << "the expunges were not found";
    EXPECT_EQ(inbox->value("changes_read_by", ""), "vanished");
    EXPECT_EQ((*folder_in(*a, "Work"))["flags_updated"], 5);
    EXPECT_EQ(r.report["totals"]["flags_updated"], 55);
    expect_flags_follow(u, tag, false);

    // With --sync-deletes: the four copies go, nothing else.
    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"), "--sync-deletes");
    ASSERT_EQ(r.status, 0) << r.output;
    a = account_in(r.report, u);
    ASSERT_TRUE(a);
    inbox = folder_in(*a, "INBOX");
    ASSERT_TRUE(inbox);
    EXPECT_EQ((*inbox)["deleted"], 4);
    EXPECT_EQ((*inbox)["deletions"].size(), 4u);
    EXPECT_EQ((*inbox)["flags_updated"], 0);
    EXPECT_EQ(r.report["totals"]["deleted"], 4);
    expect_flags_follow(u, tag, true);
    const auto src = snapshot("SRC", u), dst = snapshot("DST", u);
    EXPECT_EQ(dst.at("INBOX").messages, src.at("INBOX").messages);

    // Nothing changed since: a no-op rerun.
    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"), "--sync-deletes");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.report["totals"]["copied"], 0);
    EXPECT_EQ(r.report["totals"]["flags_updated"], 0);
    EXPECT_EQ(r.report["totals"]["deleted"], 0);
    EXPECT_EQ((*folder_in(*account_in(r.report, u), "INBOX")).value("note", ""), "unchanged since the last run") << r.report.dump(1);

    // verify --flags agrees, and names the one message whose flags a user changed on the new server.
    const auto [status, v] = verify_flags(dir, u);
    EXPECT_EQ(status, 1) << v.dump(1);
    EXPECT_EQ(v["totals"]["missing"], 0);
    EXPECT_EQ(v["totals"]["flags_differ"], 1) << v.dump(1);
    for (const auto& f : v["accounts"][0]["folders"]) {
        if (f["source_folder"] != "INBOX") {
            EXPECT_TRUE(f["flags_differ"].empty()) << f.dump(1);
            continue;
        }
        ASSERT_EQ(f["flags_differ"].size(), 1u);
        EXPECT_EQ(f["flags_differ"][0]["dest_flags"], nlohmann::json({"$OnTheNewServer", "\\Flagged", "\\Seen"}));
        EXPECT_EQ(f["flags_differ"][0]["source_flags"], nlohmann::json({"\\Seen"}));
    }
}

// --sync-deletes never removes a destination message arrival did not put there: one that was already on the
// destination before the first run (found by its dedupe key) stays when the source expunges its twin.
TEST(migrate_delta, sync_deletes_keeps_what_arrival_did_not_copy) {
    const auto u = user(232);
    const std::string tag = "d232";
    reset("src", u);
    reset("dst", u);
    seed(u, {{"INBOX", false, {{make_message(subject(tag, 0), 500), {}}, {make_message(subject(tag, 1), 500), {}}}}});
    on("DST", u, [&](connection& c) -> net::awaitable<void> {
        const auto b = make_message(subject(tag, 0), 500);
        const append_message m{.flags = {}, .date = std::nullopt, .body = b, .binary = false};
        error_code ec;
        (void)co_await c.async_append("INBOX", std::span(&m, 1), ec);
        check(ec, c, "APPEND on the destination");
    });
    temp_dir dir;
    auto r = migrate(dir, {u}, port_of("SRC"), port_of("DST"));
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_EQ(r.report["totals"]["copied"], 1);
    ASSERT_EQ(r.report["totals"]["skipped_duplicate"], 1);
    on("SRC", u, [&](connection& c) -> net::awaitable<void> {
        (void)co_await uids_by_subject(c, "INBOX");
        error_code ec;
        const std::string_view deleted[] = {"\\Deleted"};
        co_await c.async_uid_store("1:*", "+FLAGS.SILENT", deleted, ec);
        check(ec, c, "STORE");
        co_await c.async_uid_expunge("1:*", ec);
        check(ec, c, "EXPUNGE");
    });
    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"), "--sync-deletes");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.report["totals"]["deleted"], 1);
    const auto dst = flags_by_subject("DST", u, "INBOX");
    EXPECT_EQ(dst.size(), 1u);
    EXPECT_EQ(dst.count(subject(tag, 0)), 1u) << "the destination's own message was deleted";
}

// kill -9 in the middle of a delta run (flag changes and new mail), then a rerun: the same end state.
TEST(migrate_delta, kill_during_the_delta_run_then_rerun_ends_the_same) {
    const auto u = user(233);
    const std::string tag = "d233";
    reset("src", u);
    reset("dst", u);
    seed(u, mailbox(tag, 130));
    temp_dir dir;
    auto r = migrate(dir, {u}, port_of("SRC"), port_of("DST"));
    ASSERT_EQ(r.status, 0) << r.output;
    change_source(u, tag);
    change_destination(u, tag);
    {
        // More new mail, so the run lasts long enough to be killed inside it.
        std::vector<std::string> bodies;
        for (int i = 0; i < 300; ++i) bodies.push_back(make_message(subject(tag + "more", i), 6000));
        on("SRC", u, [&](connection& c) -> net::awaitable<void> {
            std::vector<append_message> add;
            for (const auto& b : bodies) add.push_back({.flags = {"\\Seen"}, .date = std::nullopt, .body = b, .binary = false});
            error_code ec;
            (void)co_await c.async_append("Work", add, ec);
            check(ec, c, "APPEND");
        });
    }
    const auto t0 = std::chrono::steady_clock::now();
    bool killed = false;
    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"), "--sync-deletes --batch 5", [&](pid_t pid) {
        if (!killed && std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(400)) {
            ::kill(pid, SIGKILL);
            killed = true;
        }
    });
    EXPECT_TRUE(killed);
    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"), "--sync-deletes");
    ASSERT_EQ(r.status, 0) << r.output;
    expect_flags_follow(u, tag, true);
    const auto src = snapshot("SRC", u), dst = snapshot("DST", u);
    EXPECT_EQ(dst.at("Work").messages, src.at("Work").messages);
    EXPECT_EQ(dst.at("INBOX").messages, src.at("INBOX").messages);
}

// A folder renamed on the source is renamed on the destination (not copied twice, its flag changes follow);
// a folder deleted on the source is reported, and deleted on the destination only with --sync-deletes and only
// while it holds nothing arrival did not put there.
TEST(migrate_delta, renamed_folder_is_renamed_and_gone_folder_reported) {
    const auto u = user(234);
    const std::string tag = "d234";
    reset("src", u);
    reset("dst", u);
    auto box = mailbox(tag, 10);
    box.push_back({"Kept-2018", false, {{make_message(subject(tag + "k", 0), 600), {}}}});
    seed(u, box);
    temp_dir dir;
    auto r = migrate(dir, {u}, port_of("SRC"), port_of("DST"));
    ASSERT_EQ(r.status, 0) << r.output;
    on("SRC", u, [&](connection& c) -> net::awaitable<void> {
        error_code ec;
        co_await c.async_rename("Projects", "Projects-2024", ec);
        check(ec, c, "RENAME");
        const auto uids = co_await uids_by_subject(c, "Projects-2024");
        const auto set = std::to_string(uids.at(subject(tag + "p", 2)));
        const std::string_view f[] = {"\\Flagged"};
        co_await c.async_uid_store(set, "+FLAGS.SILENT", f, ec);
        check(ec, c, "STORE");
        (void)co_await c.async_select("INBOX", true, ec);
        for (const char* gone : {"Trash-2019", "Kept-2018"}) {
            co_await c.async_delete(gone, ec);
            check(ec, c, "DELETE");
        }
    });
    // Someone on the new server filed a message of their own into Kept-2018.
    on("DST", u, [&](connection& c) -> net::awaitable<void> {
        const auto b = make_message(subject(tag + "mine", 0), 500);
        const append_message m{.flags = {}, .date = std::nullopt, .body = b, .binary = false};
        error_code ec;
        (void)co_await c.async_append("Kept-2018", std::span(&m, 1), ec);
        check(ec, c, "APPEND on the destination");
    });

    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"));
    ASSERT_EQ(r.status, 0) << r.output;
    const auto* a = account_in(r.report, u);
    ASSERT_TRUE(a);
    const auto* archive = folder_in(*a, "Projects-2024");
    ASSERT_TRUE(archive) << r.report.dump(1);
    EXPECT_EQ((*archive)["copied"], 0);
    EXPECT_EQ((*archive)["flags_updated"], 1);
    EXPECT_EQ((*archive)["renamed"]["from"], "Projects");
    EXPECT_EQ((*a)["renamed"], 1);
    const auto* trash = folder_in(*a, "Trash-2019");
    ASSERT_TRUE(trash);
    EXPECT_EQ((*trash)["deleted_on_source"], true);
    auto dst = snapshot("DST", u);
    EXPECT_EQ(dst.count("Projects"), 0u);
    ASSERT_EQ(dst.count("Projects-2024"), 1u);
    EXPECT_EQ(dst.at("Projects-2024").messages, 6u);
    EXPECT_EQ(dst.count("Trash-2019"), 1u) << "deleted without --sync-deletes";
    EXPECT_EQ(flags_by_subject("DST", u, "Projects-2024"), flags_by_subject("SRC", u, "Projects-2024"));

    r = migrate(dir, {u}, port_of("SRC"), port_of("DST"), "--sync-deletes");
    ASSERT_EQ(r.status, 0) << r.output;
    dst = snapshot("DST", u);
    EXPECT_EQ(dst.count("Trash-2019"), 0u) << "it held only arrival's copies";
    EXPECT_EQ(dst.count("Kept-2018"), 1u) << "it holds a message arrival did not copy";
    a = account_in(r.report, u);
    ASSERT_TRUE(a);
    EXPECT_NE((*folder_in(*a, "Kept-2018")).value("note", "").find("did not copy"), std::string::npos) << r.report.dump(1);
}

// ---- Cyrus as the source --------------------------------------------------------------------------------

// `arrival migrate` from Cyrus CLASSIC (its admin acting for the user, SASL PLAIN authzid) to Dovecot DST.
migrate_result migrate_from_cyrus(const temp_dir& dir, const std::string& cyrus_user, const std::string& dest_user,
                                  const std::string& extra = "") {
    std::ofstream(dir.path / "accounts.csv") << "source_user,dest_user\n" << cyrus_user << "," << dest_user << "\n";
    const auto connection = fmt::format("--source imap://127.0.0.1:{} --source-admin {} --dest imap://127.0.0.1:{} --dest-admin {} "
                                        "--ca-file {} --accounts {}",
                                        env("ARRIVAL_CYRUS_CLASSIC_PORT"), env("ARRIVAL_CYRUS_ADMIN"), port_of("DST"),
                                        env("ARRIVAL_DOVECOT_MASTER_USER"), env("ARRIVAL_TESTBED_CA"), (dir.path / "accounts.csv").string());
    return run_migrate(dir, connection, env("ARRIVAL_CYRUS_ADMIN_PASSWORD"), env("ARRIVAL_DOVECOT_MASTER_PASSWORD"), extra);
}

// STORE `item` `flags` on the messages of the selected mailbox whose Subjects are `subjects`.
net::awaitable<void> store(connection& c, const std::map<std::string, std::uint32_t>& uids, const std::vector<std::string>& subjects,
                           std::string_view item, const std::vector<std::string_view>& flags) {
    std::vector<std::uint32_t> set;
    for (const auto& s : subjects) set.push_back(uids.at(s));
    const auto seq = encode_sequence_set(set);
    error_code ec;
    co_await c.async_uid_store(seq, item, flags, ec);
    check(ec, c, fmt::format("UID STORE {} {}", seq, item));
}

// Cyrus keeps one modseq counter per user (its HIGHESTMODSEQ moves with every folder's change) and answers
// CHANGEDSINCE with MODSEQ items of its own numbering; a rerun from it must find the same changes. On the
// source between the runs: 6 messages change flags, 2 trade keyword Project for Urgent, 1 is expunged, 2
// arrive. Without --sync-deletes the expunged copy stays; with it, it goes.
TEST(migrate_delta, cyrus_source_flags_keywords_new_mail_and_deletes_only_when_asked) {
    const std::string cu = "user269", du = user(521), tag = "c269";
    const auto cmd = fmt::format("python3 {} {} classic reset-user {}", env("ARRIVAL_CYRUS_ADMIN_TOOL"), env("ARRIVAL_CYRUS_CLASSIC_PORT"), cu);
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    reset("dst", du);
    on(cyrus(cu), [&](connection& c) -> net::awaitable<void> {
        std::vector<std::string> bodies;
        std::vector<append_message> add;
        for (int i = 0; i < 30; ++i) bodies.push_back(make_message(subject(tag, i), 600 + 7 * i));
        for (int i = 0; i < 30; ++i) {
            std::vector<std::string_view> flags;
            if (i % 2 == 0) flags.push_back("\\Seen");
            if (i >= 20) flags.push_back("Project");
            add.push_back({.flags = flags, .date = std::nullopt, .body = bodies[static_cast<std::size_t>(i)], .binary = false});
        }
        error_code ec;
        (void)co_await c.async_append("INBOX", add, ec);
        check(ec, c, "APPEND on Cyrus");
    });
    temp_dir dir;
    auto r = migrate_from_cyrus(dir, cu, du);
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_EQ(r.report["totals"]["copied"], 30) << r.output;

    on(cyrus(cu), [&](connection& c) -> net::awaitable<void> {
        const auto uids = co_await uids_by_subject(c, "INBOX");
        // Named first: g++ 12 mishandles braced temporaries inside a co_await expression.
        const std::vector<std::string> odd = {subject(tag, 1), subject(tag, 3), subject(tag, 5), subject(tag, 7)};
        const std::vector<std::string> even = {subject(tag, 2), subject(tag, 4)};
        const std::vector<std::string> tagged = {subject(tag, 21), subject(tag, 22)};
        const std::vector<std::string> expunged = {subject(tag, 10)};
        const std::vector<std::string_view> seen_flagged = {"\\Seen", "\\Flagged"}, seen = {"\\Seen"}, project = {"Project"},
                                            urgent = {"Urgent"}, deleted = {"\\Deleted"};
        co_await store(c, uids, odd, "+FLAGS.SILENT", seen_flagged);
        co_await store(c, uids, even, "-FLAGS.SILENT", seen);
        co_await store(c, uids, tagged, "-FLAGS.SILENT", project);
        co_await store(c, uids, tagged, "+FLAGS.SILENT", urgent);
        co_await store(c, uids, expunged, "+FLAGS.SILENT", deleted);
        error_code ec;
        const auto gone = std::to_string(uids.at(subject(tag, 10)));
        co_await c.async_uid_expunge(gone, ec);
        check(ec, c, "UID EXPUNGE on Cyrus");
        std::vector<std::string> bodies;
        for (int i = 0; i < 2; ++i) bodies.push_back(make_message(subject(tag + "new", i), 900));
        std::vector<append_message> add;
        for (const auto& b : bodies) add.push_back({.flags = {}, .date = std::nullopt, .body = b, .binary = false});
        (void)co_await c.async_append("INBOX", add, ec);
        check(ec, c, "APPEND new mail on Cyrus");
    });

    auto expect_equal_flags = [&](bool deletes_applied) {
        const auto src = flags_by_subject(cyrus(cu), "INBOX");
        auto dst = flags_by_subject(dovecot("DST", du), "INBOX");
        EXPECT_EQ(dst.count(subject(tag, 10)), deletes_applied ? 0u : 1u) << "the message expunged on Cyrus";
        dst.erase(subject(tag, 10));
        EXPECT_EQ(src, dst);
    };
    r = migrate_from_cyrus(dir, cu, du);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.report["totals"]["copied"], 2) << r.report.dump(1);
    EXPECT_EQ(r.report["totals"]["flags_updated"], 8) << r.report.dump(1);
    EXPECT_EQ(r.report["totals"]["deleted"], 0);
    const auto* a = account_in(r.report, cu);
    ASSERT_TRUE(a) << r.report.dump(1);
    EXPECT_EQ(folder_in(*a, "INBOX")->value("vanished", 0), 1) << r.report.dump(1);
    EXPECT_EQ(folder_in(*a, "INBOX")->value("changes_read_by", ""), "vanished") << "Cyrus 3.6 offers QRESYNC";
    expect_equal_flags(false);

    r = migrate_from_cyrus(dir, cu, du, "--sync-deletes");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.report["totals"]["deleted"], 1) << r.report.dump(1);
    EXPECT_EQ(r.report["totals"]["copied"], 0);
    expect_equal_flags(true);
}

}  // namespace
}  // namespace imap_test
