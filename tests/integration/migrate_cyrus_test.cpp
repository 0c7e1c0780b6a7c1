// Cyrus IMAP 3.6 (tools/testbed/cyrus.sh) as source and as destination of `arrival migrate --public`, in both
// namespace modes: CLASSIC (personal "INBOX.", other users "user.", shared at the empty prefix) and ALT
// (personal "", "Other Users/", "Shared Folders/"); the other side is the testbed's Dovecot (personal "",
// shared "Public/"). Private folders nested and non-ASCII, the testbed's shared folders (Announcements,
// Projects, Projects/2024, Büro Öffentlich), a folder one user shares with another, and a private and a
// shared "Projects" side by side. Every message carries its own Message-ID, so "arrived exactly once, in
// the right namespace" is read back from the destination, not from the report. verify agrees, a rerun
// copies nothing.
// Cyrus's keyword and NUL rules as a destination: a folder with more keywords than Cyrus takes (100 per
// folder) and a message with a NUL byte (Cyrus -> Cyrus: only a literal8 carries it).
// Users: Cyrus user261..user268 and user277..user278 (no domain), Dovecot user261..user268@example.test and
// user541@example.test. The tests reset the
// Dovecot "Public/" namespaces, which migrate_public also uses: meson runs both in one process, one after the
// other (tests/integration/meson.build, migrate_public_cyrus).
#include <fstream>
#include <pwd.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/integration/migrate_fixture.hpp"

// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace migrate_cyrus_test {
using namespace migrate_test;

namespace {

struct cyrus_mode {
    const char* instance;      // classic | alt
    char sep;                  // hierarchy separator
    std::string personal;      // a user's personal prefix
    std::string shared;        // a user's shared prefix
    std::string other_users;   // a user's prefix for other users' folders
};
const cyrus_mode classic{"classic", '.', "INBOX.", "", "user."};
const cyrus_mode alt{"alt", '/', "", "Shared Folders/", "Other Users/"};

std::string mode_var(const cyrus_mode& m, const char* what) {
    return fmt::format("ARRIVAL_CYRUS_{}_{}", m.instance == std::string("alt") ? "ALT" : "CLASSIC", what);
}
std::string port_var(const cyrus_mode& m) { return mode_var(m, "PORT"); }
std::string cyrus_user(int n) { return fmt::format("user{:03}", n); }

// tools/testbed/cyrus-admin: resets and ACLs, as the admin.
void cyrus_admin(const cyrus_mode& m, const std::string& args) {
    const auto cmd = fmt::format("python3 {} {} {} {}", env("ARRIVAL_CYRUS_ADMIN_TOOL"), env(port_var(m).c_str()), m.instance, args);
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// A user's session: the admin acts for them (SASL PLAIN authzid), as arrival does.
std::unique_ptr<blocking_session> cyrus_as(const cyrus_mode& m, const std::string& u) {
    login_identity c;
    c.user = u;
    c.admin = env("ARRIVAL_CYRUS_ADMIN");
    c.password = secret_string(env("ARRIVAL_CYRUS_ADMIN_PASSWORD"));
    return blocking_session::open(endpoint(port_var(m).c_str()), c);
}

std::unique_ptr<blocking_session> cyrus_admin_session(const cyrus_mode& m) { return cyrus_as(m, env("ARRIVAL_CYRUS_ADMIN")); }

std::string join(const cyrus_mode& m, std::initializer_list<std::string_view> levels) {
    std::string out;
    for (auto l : levels) {
        if (!out.empty()) out += m.sep;
        out += l;
    }
    return out;
}

seed_message msg(const std::string& id, std::vector<std::string> flags = {}) {
    return {make_message(id, "message " + id, 600), std::move(flags), "02-Jan-2024 09:00:00 +0000"};
}

// Cyrus logs the sessions of a user whose telemetry directory exists (tools/testbed/cyrus.sh); a fresh one.
std::filesystem::path telemetry_dir(const cyrus_mode& m, const std::string& u) {
    const auto d = std::filesystem::path(env(mode_var(m, "TELEMETRY").c_str())) / u;
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    const auto* pw = ::getpwnam("cyrus");
    if (!pw || ::chown(d.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("cannot give " + d.string() + " to cyrus");
    return d;
}

// Every line of the logged sessions, without the "<timestamp<" / ">timestamp>" that starts each chunk read
// or written (Cyrus telemetry); a chunk may hold several commands, so every line is kept.
std::vector<std::string> session_lines(const std::filesystem::path& d) {
    std::vector<std::string> out;
    for (const auto& f : std::filesystem::directory_iterator(d)) {
        std::ifstream in(f.path(), std::ios::binary);
        for (std::string line; std::getline(in, line);) {
            if (!line.empty() && (line[0] == '<' || line[0] == '>')) {
                const auto end = line.find(line[0], 1);
                if (end != std::string::npos) line.erase(0, end + 1);
            }
            out.push_back(std::move(line));
        }
    }
    return out;
}

// Message-ID -> every folder holding it, over the folders of `s` whose name `take` accepts.
std::map<std::string, std::vector<std::string>> where(blocking_session& s, const std::function<bool(const std::string&)>& take) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& e : s.list()) {
        if (!take(e.name)) continue;
        if (std::any_of(e.attributes.begin(), e.attributes.end(), [](const std::string& a) { return a == "\\Noselect" || a == "\\NonExistent"; })) continue;
        for (const auto& m : read_folder(s, e.name)) {
            const auto at = m.bytes.find("Message-ID: <");
            if (at == std::string::npos) continue;
            const auto end = m.bytes.find('>', at);
            out[m.bytes.substr(at + 13, end - at - 13)].push_back(e.name);
        }
    }
    return out;
}

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

nlohmann::json read_json(const std::filesystem::path& f) {
    std::ifstream in(f);
    return nlohmann::json::parse(in);
}

// Each expected Message-ID is in exactly the folder given, and nothing else is there.
void expect_exactly(const std::map<std::string, std::vector<std::string>>& found, const std::map<std::string, std::string>& expected,
                    const std::string& what) {
    for (const auto& [id, folder] : expected) {
        const auto it = found.find(id);
        ASSERT_NE(it, found.end()) << what << ": " << id << " missing (expected in " << folder << ")";
        EXPECT_EQ(it->second, std::vector<std::string>{folder}) << what << ": " << id;
    }
    for (const auto& [id, folders] : found) EXPECT_TRUE(expected.count(id)) << what << ": unexpected " << id << " in " << folders.front();
}

const nlohmann::json& account_of(const nlohmann::json& report, const std::string& source_user, bool shared) {
    for (const auto& a : report["accounts"]) {
        if (a["source_user"] == source_user && a.contains("namespace") == shared) return a;
    }
    throw std::runtime_error("no report entry for " + source_user);
}

// Cyrus -> Dovecot DST. User a owns private folders and shares "Geteilt" with b; the admin fills the
// shared folders.
void cyrus_to_dovecot(const cyrus_mode& m, int a, int b) {
    cyrus_admin(m, fmt::format("reset-user {} {}", cyrus_user(a), cyrus_user(b)));
    cyrus_admin(m, "reset-shared");
    reset_public_root("ARRIVAL_DOVECOT_DST_PUBLIC");
    for (int n : {a, b}) reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(n));
    const auto p = m.personal;
    {
        auto s = cyrus_as(m, cyrus_user(a));
        seed(*s, "INBOX", {msg("a-inbox@x", {"\\Seen"})});
        seed(*s, p + "Projects", {msg("a-projects@x", {"$Important"})});   // private, beside the shared Projects
        seed(*s, p + "Sent", {msg("a-sent@x", {"\\Seen"})});
        seed(*s, p + join(m, {"Archiv", "2023", "Q1"}), {msg("a-q1@x", {"\\Answered"})});
        seed(*s, p + "Entwürfe & Ideen", {msg("a-umlaut@x")});
        seed(*s, p + "Geteilt", {msg("a-geteilt@x")});
        s->logout();
    }
    cyrus_admin(m, fmt::format("setacl {} {} lrs", join(m, {"user", cyrus_user(a), "Geteilt"}), cyrus_user(b)));
    {
        auto s = cyrus_as(m, cyrus_user(b));
        seed(*s, "INBOX", {msg("b-inbox@x")});
        // b sees a's folder among other users' folders: it belongs to a's job, never to b's.
        bool sees = false;
        for (const auto& e : s->list()) sees = sees || e.name == m.other_users + join(m, {cyrus_user(a), "Geteilt"});
        EXPECT_TRUE(sees);
        s->logout();
    }
    {
        // The admin's names: the shared folders at the top level, whatever the users' prefix.
        auto s = cyrus_admin_session(m);
        seed(*s, "Announcements", {msg("s-ann1@x", {"\\Flagged"}), msg("s-ann2@x")});
        seed(*s, "Projects", {msg("s-projects@x")});
        seed(*s, join(m, {"Projects", "2024"}), {msg("s-2024@x")});
        seed(*s, "Büro Öffentlich", {msg("s-buero@x")});
        s->logout();
    }

    temp_dir dir;
    std::ofstream(dir.path / "accounts.csv") << "source_user,dest_user\n"
                                             << fmt::format("{},{}\n{},{}\n", cyrus_user(a), user(a), cyrus_user(b), user(b));
    ::setenv("ARRIVAL_SOURCE_PASSWORD", env("ARRIVAL_CYRUS_ADMIN_PASSWORD").c_str(), 1);
    ::setenv("ARRIVAL_DEST_PASSWORD", env("ARRIVAL_DOVECOT_USER_PASSWORD").c_str(), 1);
    const auto base = fmt::format("--source imap://127.0.0.1:{} --source-admin {} --dest imap://127.0.0.1:{} --ca-file {} --accounts {}",
                                  env(port_var(m).c_str()), env("ARRIVAL_CYRUS_ADMIN"), env("ARRIVAL_DOVECOT_DST_PORT"),
                                  env("ARRIVAL_TESTBED_CA"), (dir.path / "accounts.csv").string());
    const auto conn = fmt::format("--public --public-account {} {}", cyrus_user(a), base);
    const auto shared_by_a = m.other_users + join(m, {cyrus_user(a), "Geteilt"});

    // preflight plans with the same classifier: a's folder, seen by b, is counted as a's.
    auto r = run_cli("preflight " + base + " --report " + (dir.path / "preflight.json").string(), dir);
    ASSERT_EQ(r.status, 0) << r.output;
    bool counted = false;
    const auto pf = read_json(dir.path / "preflight.json");
    for (const auto& f : pf["findings"]) {
        if (f["kind"] != "other_users_folder") continue;
        counted = f["count"] == 1 && f["examples"][0]["account"] == cyrus_user(b) && f["examples"][0]["folder"] == shared_by_a;
    }
    EXPECT_TRUE(counted) << pf.dump(2);

    const auto state = " --state-dir " + (dir.path / "state").string();
    r = run_cli("migrate " + conn + state + " --report " + (dir.path / "report.json").string(), dir);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto j = read_json(dir.path / "report.json");
    EXPECT_EQ(account_of(j, cyrus_user(a), false)["copied"], 6) << j.dump(2);
    EXPECT_EQ(account_of(j, cyrus_user(b), false)["copied"], 1) << j.dump(2);
    EXPECT_EQ(account_of(j, cyrus_user(a), true)["copied"], 5) << j.dump(2);
    EXPECT_EQ(account_of(j, cyrus_user(b), false)["other_users_folders"], nlohmann::json::array({shared_by_a})) << j.dump(2);

    // Read back: a's own folders and the public namespace from a's session, b's own folders from b's.
    auto da = login("ARRIVAL_DOVECOT_DST_PORT", user(a));
    expect_exactly(where(*da, [](const std::string&) { return true; }),
                   {{"a-inbox@x", "INBOX"},
                    {"a-projects@x", "Projects"},
                    {"a-sent@x", "Sent"},
                    {"a-q1@x", "Archiv/2023/Q1"},
                    {"a-umlaut@x", "Entwürfe & Ideen"},
                    {"a-geteilt@x", "Geteilt"},
                    {"s-ann1@x", "Public/Announcements"},
                    {"s-ann2@x", "Public/Announcements"},
                    {"s-projects@x", "Public/Projects"},
                    {"s-2024@x", "Public/Projects/2024"},
                    {"s-buero@x", "Public/Büro Öffentlich"}},
                   user(a));
    da->logout();
    auto db = login("ARRIVAL_DOVECOT_DST_PORT", user(b));
    expect_exactly(where(*db, [](const std::string& n) { return !starts_with(n, "Public"); }), {{"b-inbox@x", "INBOX"}}, user(b));
    db->logout();

    r = run_cli("verify " + conn + " --report " + (dir.path / "verify.json").string(), dir);
    EXPECT_EQ(r.status, 0) << r.output;
    r = run_cli("migrate " + conn + state + " --report " + (dir.path / "rerun.json").string(), dir);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(read_json(dir.path / "rerun.json")["totals"]["copied"], 0) << r.output;
}

// Dovecot SRC -> Cyrus, the public job as Cyrus's admin (only an admin creates top-level shared folders).
void dovecot_to_cyrus(const cyrus_mode& m, int a) {
    cyrus_admin(m, fmt::format("reset-user {}", cyrus_user(a)));
    cyrus_admin(m, "reset-shared");
    reset_public_root("ARRIVAL_DOVECOT_SRC_PUBLIC");
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(a));
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(a));
        seed(*s, "INBOX", {msg("d-inbox@x", {"\\Seen", "$Label1"}), msg("d-inbox2@x"), msg("d-inbox3@x", {"\\Draft"}),
                            msg("d-1960@x")});
        seed(*s, "Sent", {msg("d-sent@x", {"\\Seen"})});   // \Sent on Dovecot: created with USE (\Sent) on Cyrus
        seed(*s, "Projects", {msg("d-projects@x", {"\\Flagged", "Wichtig"})});
        seed(*s, "Archiv/2023/Q1", {msg("d-q1@x", {"\\Answered"})});
        seed(*s, "Entwürfe & Ideen", {msg("d-umlaut@x")});
        seed(*s, "Public/Projects", {msg("p-projects@x")});
        seed(*s, "Public/Projects/2024", {msg("p-2024@x", {"\\Seen"})});
        seed(*s, "Public/Team/Minutes", {msg("p-minutes@x")});
        seed(*s, "Public/Büro Öffentlich", {msg("p-buero@x")});
        s->logout();
    }
    // An INTERNALDATE before 1970: Cyrus refuses it (BAD), so the message goes with its Date field instead.
    date_on_disk(user(a), "d-1960@x", -315619200);
    temp_dir dir;
    std::ofstream(dir.path / "accounts.csv") << "source_user,dest_user\n" << fmt::format("{},{}\n", user(a), cyrus_user(a));
    ::setenv("ARRIVAL_SOURCE_PASSWORD", env("ARRIVAL_DOVECOT_USER_PASSWORD").c_str(), 1);
    ::setenv("ARRIVAL_DEST_PASSWORD", env("ARRIVAL_CYRUS_ADMIN_PASSWORD").c_str(), 1);
    const auto conn = fmt::format("--public --public-dest-account {0} --source imap://127.0.0.1:{1} --dest imap://127.0.0.1:{2} "
                                  "--dest-admin {0} --ca-file {3} --accounts {4}",
                                  env("ARRIVAL_CYRUS_ADMIN"), env("ARRIVAL_DOVECOT_SRC_PORT"), env(port_var(m).c_str()),
                                  env("ARRIVAL_TESTBED_CA"), (dir.path / "accounts.csv").string());
    const auto state = " --state-dir " + (dir.path / "state").string();
    const auto log = telemetry_dir(m, cyrus_user(a));
    auto r = run_cli("migrate " + conn + state + " --report " + (dir.path / "report.json").string(), dir);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto j = read_json(dir.path / "report.json");
    EXPECT_EQ(account_of(j, user(a), false)["copied"], 8) << j.dump(2);
    EXPECT_EQ(account_of(j, user(a), false)["dest_profile"]["name"], "cyrus") << j.dump(2);
    std::size_t dropped = 0;
    for (const auto& f : account_of(j, user(a), false)["folders"]) {
        if (f.contains("date_dropped")) dropped += f["date_dropped"].size();
    }
    EXPECT_EQ(dropped, 1u) << j.dump(2);
    // What Cyrus was sent: the four INBOX messages in one MULTIAPPEND, Sent created as the \Sent folder.
    std::size_t inbox_appends = 0, sent_creates = 0;
    for (const auto& l : session_lines(log)) {
        if (l.find(" APPEND INBOX ") != std::string::npos || l.find(" APPEND \"INBOX\" ") != std::string::npos) ++inbox_appends;
        if (l.find(" CREATE ") != std::string::npos && l.find("Sent") != std::string::npos && l.find("(USE (\\Sent))") != std::string::npos) ++sent_creates;
    }
    EXPECT_EQ(inbox_appends, 1u);
    EXPECT_EQ(sent_creates, 1u);
    EXPECT_EQ(account_of(j, user(a), true)["copied"], 4) << j.dump(2);

    auto s = cyrus_as(m, cyrus_user(a));
    const auto p = m.personal;
    const auto sh = m.shared;
    expect_exactly(where(*s, [](const std::string&) { return true; }),
                   {{"d-inbox@x", "INBOX"},
                    {"d-inbox2@x", "INBOX"},
                    {"d-inbox3@x", "INBOX"},
                    {"d-1960@x", "INBOX"},
                    {"d-sent@x", p + "Sent"},
                    {"d-projects@x", p + "Projects"},
                    {"d-q1@x", p + join(m, {"Archiv", "2023", "Q1"})},
                    {"d-umlaut@x", p + "Entwürfe & Ideen"},
                    {"p-projects@x", sh + "Projects"},
                    {"p-2024@x", sh + join(m, {"Projects", "2024"})},
                    {"p-minutes@x", sh + join(m, {"Team", "Minutes"})},
                    {"p-buero@x", sh + "Büro Öffentlich"}},
                   cyrus_user(a));
    // Sent was created as the special-use folder, and flags and keywords arrived.
    bool sent_marked = false;
    for (const auto& e : s->list()) {
        if (e.name == p + "Sent") sent_marked = std::find(e.attributes.begin(), e.attributes.end(), "\\Sent") != e.attributes.end();
    }
    EXPECT_TRUE(sent_marked);
    const auto projects = read_folder(*s, p + "Projects");
    ASSERT_EQ(projects.size(), 1u);
    EXPECT_EQ(projects[0].flags, (std::vector<std::string>{"Wichtig", "\\Flagged"}));
    s->logout();

    r = run_cli("verify " + conn + " --report " + (dir.path / "verify.json").string(), dir);
    EXPECT_EQ(r.status, 0) << r.output;
    r = run_cli("migrate " + conn + state + " --report " + (dir.path / "rerun.json").string(), dir);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(read_json(dir.path / "rerun.json")["totals"]["copied"], 0) << r.output;
}

// Dovecot SRC -> Cyrus CLASSIC: two INBOX messages with 60 keywords each (120 in the folder: Cyrus takes
// 100), then Cyrus CLASSIC -> Cyrus ALT: a message with a NUL byte. Both copies complete; the keywords
// beyond the folder's 100 are dropped and listed per message; the NUL message arrives byte for byte.
void keyword_limit_and_nul(int dovecot_user, int cyrus_a, int cyrus_b) {
    const auto kws = [](const char* stem, int n, std::vector<std::string> more) {
        for (int i = 0; i < n; ++i) more.push_back(fmt::format("{}{}", stem, i));
        return more;
    };
    cyrus_admin(classic, fmt::format("reset-user {} {}", cyrus_user(cyrus_a), cyrus_user(cyrus_b)));
    cyrus_admin(alt, fmt::format("reset-user {}", cyrus_user(cyrus_b)));
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(dovecot_user));
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(dovecot_user));
        seed(*s, "INBOX", {msg("k-a@x", kws("a", 60, {})), msg("k-b@x", kws("b", 60, {"\\Seen"})), msg("k-c@x", {"a1", "b59"})});
        s->logout();
    }
    constexpr char raw[] = "Message-ID: <nul@x>\r\nSubject: with NUL\r\n\r\nbefore\0after\r\n";
    const std::string nul_bytes(raw, sizeof raw - 1);
    {
        auto s = cyrus_as(classic, cyrus_user(cyrus_b));
        seed(*s, "INBOX", {{nul_bytes, {"\\Seen"}, "02-Jan-2024 09:00:00 +0000"}, msg("plain@x")});
        s->logout();
    }
    temp_dir dir;
    const auto run = [&](const std::string& cmd, const std::string& src, const std::string& dst, const std::string& csv) {
        std::ofstream(dir.path / "accounts.csv") << "source_user,dest_user\n" << csv;
        return run_cli(fmt::format("{} --source imap://127.0.0.1:{} --dest imap://127.0.0.1:{} --dest-admin {} --ca-file {} --accounts {} {}",
                                   cmd, src, dst, env("ARRIVAL_CYRUS_ADMIN"), env("ARRIVAL_TESTBED_CA"), (dir.path / "accounts.csv").string(),
                                   src == env("ARRIVAL_DOVECOT_SRC_PORT") ? "" : "--source-admin " + env("ARRIVAL_CYRUS_ADMIN")),
                       dir);
    };

    // Keywords: a's 60 fit, 40 of b's do, the other 20 are dropped and listed; c has a1 and loses b59.
    ::setenv("ARRIVAL_SOURCE_PASSWORD", env("ARRIVAL_DOVECOT_USER_PASSWORD").c_str(), 1);
    ::setenv("ARRIVAL_DEST_PASSWORD", env("ARRIVAL_CYRUS_ADMIN_PASSWORD").c_str(), 1);
    const auto csv = fmt::format("{},{}\n", user(dovecot_user), cyrus_user(cyrus_a));
    const auto state = " --state-dir " + (dir.path / "state").string();
    auto r = run("migrate --report " + (dir.path / "report.json").string() + state, env("ARRIVAL_DOVECOT_SRC_PORT"),
                 env(port_var(classic).c_str()), csv);
    ASSERT_EQ(r.status, 0) << r.output;
    auto j = read_json(dir.path / "report.json");
    nlohmann::json inbox;
    for (const auto& f : account_of(j, user(dovecot_user), false)["folders"]) {
        if (f["source_folder"] == "INBOX") inbox = f;
    }
    EXPECT_EQ(inbox["copied"], 3) << j.dump(2);
    ASSERT_TRUE(inbox.contains("keywords_dropped")) << j.dump(2);
    ASSERT_EQ(inbox["keywords_dropped"].size(), 2u) << j.dump(2);
    EXPECT_EQ(inbox["keywords_dropped"][0]["uid"], 2);
    EXPECT_EQ(inbox["keywords_dropped"][0]["keywords"].size(), 20u);
    EXPECT_EQ(inbox["keywords_dropped"][0]["keywords"][0], "b40");
    EXPECT_EQ(inbox["keywords_dropped"][1]["uid"], 3);
    EXPECT_EQ(inbox["keywords_dropped"][1]["keywords"], nlohmann::json::array({"b59"}));
    EXPECT_NE(inbox["keywords_dropped"][0]["reason"].get<std::string>().find("Too many user flags in mailbox"), std::string::npos);
    EXPECT_EQ(j["totals"]["keywords_dropped"], 2);
    EXPECT_NE(r.output.find("keywords: 2 message(s) copied without some of their keywords"), std::string::npos) << r.output;
    {
        auto s = cyrus_as(classic, cyrus_user(cyrus_a));
        const auto got = read_folder(*s, "INBOX");
        ASSERT_EQ(got.size(), 3u);
        EXPECT_EQ(got[0].flags.size(), 60u);
        EXPECT_EQ(got[1].flags.size(), 41u);   // b0..b39 and \Seen
        EXPECT_EQ(got[2].flags, (std::vector<std::string>{"a1"}));
        s->logout();
    }
    r = run("verify --flags", env("ARRIVAL_DOVECOT_SRC_PORT"), env(port_var(classic).c_str()), csv);
    EXPECT_EQ(r.status, 0) << r.output;
    r = run("migrate --report " + (dir.path / "rerun.json").string() + state, env("ARRIVAL_DOVECOT_SRC_PORT"),
            env(port_var(classic).c_str()), csv);
    ASSERT_EQ(r.status, 0) << r.output;
    j = read_json(dir.path / "rerun.json");
    EXPECT_EQ(j["totals"]["copied"], 0) << r.output;
    EXPECT_EQ(j["totals"]["flags_updated"], 0) << r.output;

    // NUL: Cyrus -> Cyrus, sent as a literal8 (Cyrus offers BINARY); the bytes arrive as they were.
    ::setenv("ARRIVAL_SOURCE_PASSWORD", env("ARRIVAL_CYRUS_ADMIN_PASSWORD").c_str(), 1);
    r = run("migrate --state-dir " + (dir.path / "state-nul").string() + " --report " + (dir.path / "nul.json").string(),
            env(port_var(classic).c_str()), env(port_var(alt).c_str()),
            fmt::format("{0},{0}\n", cyrus_user(cyrus_b)));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(read_json(dir.path / "nul.json")["totals"]["copied"], 2) << r.output;
    auto s = cyrus_as(alt, cyrus_user(cyrus_b));
    const auto got = read_folder(*s, "INBOX");
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].bytes, nul_bytes);
    s->logout();
}

}  // namespace

TEST(migrate_cyrus, classic_source_shared_folders_at_the_empty_prefix_arrive_once_in_public) { cyrus_to_dovecot(classic, 261, 262); }

TEST(migrate_cyrus, alt_source_shared_folders_arrive_once_in_public) { cyrus_to_dovecot(alt, 263, 264); }

TEST(migrate_cyrus, dovecot_to_classic_public_lands_at_the_top_level) { dovecot_to_cyrus(classic, 265); }

TEST(migrate_cyrus, dovecot_to_alt_public_lands_under_shared_folders) { dovecot_to_cyrus(alt, 266); }

TEST(migrate_cyrus, keywords_beyond_the_folder_limit_dropped_and_nul_sent_as_literal8) { keyword_limit_and_nul(541, 277, 278); }

}  // namespace migrate_cyrus_test
