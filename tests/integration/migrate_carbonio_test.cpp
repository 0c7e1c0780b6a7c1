// arrival migrate/verify into the Carbonio stand-in (tools/testbed/carbonio.sh: test infrastructure built from
// /work/shared/carbonio/FACTS.md §6, not Carbonio) with the destination profile (engine/mail/dest_profile.hpp).
// The source mailbox is seeded through the SRC Dovecot; what the stand-in accepted lands in the DST Dovecot,
// where it is read back; the stand-in's events file records every refused command and dropped connection.
//
// Users 160-165 are this file's. Limits of the testbed's Dovecot (maildir++) that shape the mailbox below: a
// folder's whole path is one directory name, so it holds at most 254 characters, and a 0-byte message cannot
// be stored. The 255-character cut and the empty-message rule are therefore covered by the unit tests
// (tests/engine/mail/dest_profile_test.cpp), not here.
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>


#include <nlohmann/json.hpp>

#include "migrate_fixture.hpp"

// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace migrate_carbonio_test {
using namespace migrate_test;

namespace {

nlohmann::json read_json(const std::filesystem::path& file) {
    std::ifstream in(file);
    return nlohmann::json::parse(in);
}

// Where the stand-in's events file ends now: a test reads only what its own runs added.
std::streamoff events_mark() {
    std::error_code ec;
    const auto n = std::filesystem::file_size(env("ARRIVAL_CARBONIO_EVENTS"), ec);
    return ec ? 0 : static_cast<std::streamoff>(n);
}

// The stand-in's events for one user since `from`: refused commands (answer NO/BAD) and dropped connections.
std::vector<nlohmann::json> refusals_for(const std::string& u, std::streamoff from) {
    std::vector<nlohmann::json> out;
    std::ifstream in(env("ARRIVAL_CARBONIO_EVENTS"));
    in.seekg(from);
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        const auto e = nlohmann::json::parse(line, nullptr, false);
        if (e.is_discarded() || e.value("user", "") != u) continue;
        const auto answer = e.value("answer", "");
        if (answer.rfind("NO", 0) == 0 || answer.rfind("BAD", 0) == 0 || e.value("dropped", false)) out.push_back(e);
    }
    return out;
}

std::string dump(const std::vector<nlohmann::json>& v) {
    std::string s;
    for (const auto& e : v) s += e.dump() + "\n";
    return s;
}

// Both sides of `u` empty: the source's and the destination's Dovecot mail (no session open on them).
void reset(const std::string& u) {
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", u);
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", u);
}

// Both sides emptied, and where the events file stands before the test's runs.
std::streamoff fresh(const std::string& u) {
    reset(u);
    return events_mark();
}

// Every user logs in as themselves with the testbed password (environment, never argv); the destination is
// the stand-in's STARTTLS port.
std::string carbonio_args(const temp_dir& dir, const std::string& u, const std::string& extra = "") {
    std::ofstream(dir.path / "accounts.csv") << "source_user,dest_user\n" << u << "," << u << "\n";
    const auto pw = env("ARRIVAL_DOVECOT_USER_PASSWORD");
    ::setenv("ARRIVAL_SOURCE_PASSWORD", pw.c_str(), 1);
    ::setenv("ARRIVAL_DEST_PASSWORD", pw.c_str(), 1);
    return fmt::format("--source imap://127.0.0.1:{} --dest imap://127.0.0.1:{} --ca-file {} --accounts {} {}",
                       env("ARRIVAL_DOVECOT_SRC_PORT"), env("ARRIVAL_CARBONIO_IMAP_PORT"), env("ARRIVAL_TESTBED_CA"),
                       (dir.path / "accounts.csv").string(), extra);
}

std::string run_args(const temp_dir& dir, const std::string& report) {
    return fmt::format(" --state-dir {} --report {}", (dir.path / "state").string(), (dir.path / report).string());
}

const nlohmann::json* folder_json(const nlohmann::json& report, const std::string& source_folder) {
    for (const auto& f : report["accounts"][0]["folders"]) {
        if (f["source_folder"] == source_folder) return &f;
    }
    return nullptr;
}

seed_message plain(const std::string& id, std::vector<std::string> flags = {}, std::string date = "07-Jul-2022 07:07:07 +0000",
                   std::size_t size = 300) {
    return {make_message(id, "msg " + id, size), std::move(flags), std::move(date)};
}

std::size_t count_in(blocking_session& s, const std::string& folder) { return s.status(folder).messages; }

}  // namespace

// The "Done when" mailbox, migrated with --dest-profile carbonio: everything arrives but the message
// over the limit, the stand-in refuses nothing and drops nothing, verify agrees and a rerun copies 0.
TEST(migrate_carbonio, every_case_lands_without_a_refusal) {
    const auto u = user(160);
    const auto mark = fresh(u);
    const std::string colon = "Projects: 2024", quote = "Say \"hi\"", contacts = "Contacts";
    // The longest level the testbed's Dovecot holds (254; Carbonio takes 255, so it arrives unchanged).
    const std::string long_name(254, 'l');
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", u);
        std::vector<seed_message> inbox;
        // 30 identical messages: same bytes, flags and date (what Carbonio's throttle calls identical).
        const auto same = plain("same@x", {"\\Seen"}, "01-Feb-2023 10:00:00 +0000");
        for (int i = 0; i < 30; ++i) inbox.push_back(same);
        inbox.push_back(plain("tag@x", {"\\Seen", "Name:FLAG3", "$Forwarded", "NotJunk"}));
        inbox.push_back(plain("badtag@x", {"a:b", "Work"}));
        inbox.push_back(plain("future@x"));   // dated 2040 below
        inbox.push_back({make_message("big@x", "twelve megabytes", 12'000'000), {}, "07-Jul-2022 07:07:07 +0000"});
        // 8 messages Carbonio would each refuse alone (a ':' keyword, a date past 2038), all in one batch.
        for (int i = 0; i < 5; ++i) inbox.push_back(plain(fmt::format("refused{}@x", i), {fmt::format("Tag{}:FLAG{}", i, i + 64), fmt::format("x:{}", i)}));
        for (int i = 5; i < 8; ++i) inbox.push_back(plain(fmt::format("refused{}@x", i)));   // dated 2039 below
        seed(*s, "INBOX", inbox);
        seed(*s, colon, {plain("colon@x")});
        seed(*s, quote, {plain("quote@x")});
        seed(*s, contacts, {plain("contacts@x")});
        seed(*s, contacts + "/Sub", {plain("contacts-sub@x")});
        seed(*s, long_name, {plain("long@x")});
        seed(*s, "Junk/Old", {plain("junk-old@x")});   // Carbonio's Junk holds no subfolders
        s->logout();
    }
    constexpr std::int64_t jan_2040 = 2209032000;   // 2040-01-01T12:00:00Z
    date_on_disk(u, "future@x", jan_2040);
    for (int i = 5; i < 8; ++i) date_on_disk(u, fmt::format("refused{}@x", i), jan_2040 - 86400 * (300 + i));   // March 2039
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", u);
        s->examine("INBOX");
        std::size_t future = 0;
        for (const auto& m : s->fetch_index(1, true)) future += m.internaldate.find("2039") != std::string::npos || m.internaldate.find("2040") != std::string::npos;
        ASSERT_EQ(future, 4u) << "the source must hold the post-2038 dates";
        s->logout();
    }
    temp_dir dir;
    const auto args = carbonio_args(dir, u, "--dest-profile carbonio");
    auto r = run_cli("migrate " + args + run_args(dir, "report.json"), dir);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find(env("ARRIVAL_DOVECOT_USER_PASSWORD")), std::string::npos);
    EXPECT_NE(r.output.find("largest 12000"), std::string::npos) << r.output;   // the summary names the largest refused
    auto j = read_json(dir.path / "report.json");
    const auto& acc = j["accounts"][0];
    EXPECT_EQ(acc["status"], "ok") << j.dump(2);
    EXPECT_EQ(acc["dest_profile"]["name"], "carbonio");
    EXPECT_EQ(acc["dest_profile"]["max_message_size"], 10'240'000);
    EXPECT_EQ(j["totals"]["copied"], 30 + 3 + 8 + 6) << j.dump(2);
    EXPECT_EQ(j["totals"]["failed"], 0);
    EXPECT_EQ(j["totals"]["too_large"], 1);
    const auto* inbox = folder_json(j, "INBOX");
    ASSERT_NE(inbox, nullptr) << j.dump(2);
    for (const char* key : {"too_large", "date_dropped", "flags_changed"}) ASSERT_TRUE(inbox->contains(key)) << key << ": " << inbox->dump(2);
    ASSERT_EQ((*inbox)["too_large"].size(), 1u) << inbox->dump(2);
    EXPECT_GT((*inbox)["too_large"][0]["size"].get<std::uint64_t>(), 12'000'000u);
    EXPECT_EQ((*inbox)["too_large"][0]["limit"], 10'240'000);
    EXPECT_GT((*inbox)["too_large"][0]["uid"].get<std::uint32_t>(), 0u);
    EXPECT_EQ((*inbox)["date_dropped"].size(), 4u) << inbox->dump(2);   // 2040 and the three 2039s
    std::set<std::string> changed;
    for (const auto& c : (*inbox)["flags_changed"]) changed.insert(c["from"].get<std::string>() + "->" + (c["to"].is_null() ? "" : c["to"].get<std::string>()));
    EXPECT_TRUE(changed.count("Name:FLAG3->Name")) << inbox->dump(2);
    EXPECT_TRUE(changed.count("a:b->")) << inbox->dump(2);
    EXPECT_TRUE(changed.count("Tag0:FLAG64->Tag0")) << inbox->dump(2);
    for (const auto& name : {contacts, contacts + "/Sub", colon, quote}) {
        ASSERT_NE(folder_json(j, name), nullptr) << name << ": " << j.dump(2);
        ASSERT_TRUE(folder_json(j, name)->contains("renamed")) << name << ": " << j.dump(2);
    }
    const auto* cf = folder_json(j, contacts);
    EXPECT_EQ((*cf)["dest_folder"], "Contacts (mail)");
    EXPECT_EQ((*cf)["renamed"]["to"], "Contacts (mail)");
    EXPECT_EQ((*folder_json(j, contacts + "/Sub"))["dest_folder"], "Contacts (mail)/Sub");
    EXPECT_EQ((*folder_json(j, colon))["dest_folder"], "Projects_ 2024");
    EXPECT_EQ((*folder_json(j, quote))["renamed"]["from"], quote);
    EXPECT_EQ((*folder_json(j, quote))["dest_folder"], "Say _hi_");
    ASSERT_NE(folder_json(j, "Junk/Old"), nullptr) << j.dump(2);
    EXPECT_EQ((*folder_json(j, "Junk/Old"))["dest_folder"], "Junk folders/Old");

    EXPECT_TRUE(refusals_for(u, mark).empty()) << dump(refusals_for(u, mark));

    // What the stand-in accepted is in the DST Dovecot, under the mapped names.
    {
        auto d = login("ARRIVAL_DOVECOT_DST_PORT", u);
        EXPECT_EQ(count_in(*d, "INBOX"), 30u + 3 + 8);
        EXPECT_EQ(count_in(*d, "Projects_ 2024"), 1u);
        EXPECT_EQ(count_in(*d, "Say _hi_"), 1u);
        EXPECT_EQ(count_in(*d, "Contacts (mail)"), 1u);
        EXPECT_EQ(count_in(*d, "Contacts (mail)/Sub"), 1u);
        EXPECT_EQ(count_in(*d, long_name), 1u);
        EXPECT_EQ(count_in(*d, "Junk folders/Old"), 1u);
        bool saw_name = false;
        for (const auto& m : read_folder(*d, "INBOX")) {
            for (const auto& f : m.flags) EXPECT_EQ(f.find(':'), std::string::npos) << f;
            if (m.bytes.find("Message-ID: <tag@x>") != std::string::npos) {
                saw_name = true;
                EXPECT_NE(std::find(m.flags.begin(), m.flags.end(), "Name"), m.flags.end());
                EXPECT_NE(std::find(m.flags.begin(), m.flags.end(), "$Forwarded"), m.flags.end());
            }
            if (m.bytes.find("Message-ID: <future@x>") != std::string::npos) {
                EXPECT_EQ(m.internaldate.find("2040"), std::string::npos) << m.internaldate;
            }
        }
        EXPECT_TRUE(saw_name);
        d->logout();
    }

    // verify maps the names the same way and knows the message over the limit was kept back on purpose.
    r = run_cli("verify " + args + " --report " + (dir.path / "verify.json").string(), dir);
    EXPECT_EQ(r.status, 0) << r.output;
    const auto v = read_json(dir.path / "verify.json");
    EXPECT_EQ(v["totals"]["missing"], 0) << v.dump(2);
    bool kept = false;
    for (const auto& f : v["accounts"][0]["folders"]) {
        if (f["source_folder"] == "INBOX") kept = f.contains("not_sent") && f["not_sent"].size() == 1 && f["not_sent"][0]["reason"] == "too_large";
        if (f["source_folder"] == contacts) {
            EXPECT_EQ(f["dest_folder"], "Contacts (mail)");
        }
    }
    EXPECT_TRUE(kept) << v.dump(2);

    // A rerun copies nothing, refuses nothing, and still reports the message over the limit.
    r = run_cli("migrate " + args + run_args(dir, "rerun.json"), dir);
    EXPECT_EQ(r.status, 0) << r.output;
    j = read_json(dir.path / "rerun.json");
    EXPECT_EQ(j["totals"]["copied"], 0) << j.dump(2);
    EXPECT_EQ(j["totals"]["too_large"], 1) << j.dump(2);
    EXPECT_TRUE(refusals_for(u, mark).empty()) << dump(refusals_for(u, mark));
}

// auto: the stand-in's greeting names Zimbra, so the carbonio profile is taken; the DST Dovecot stays generic.
TEST(migrate_carbonio, auto_detects_carbonio_and_leaves_dovecot_generic) {
    const auto u = user(161);
    const auto mark = fresh(u);
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", u);
        seed(*s, "a:b", {plain("auto@x", {"k:v"})});
        s->logout();
    }
    temp_dir dir;
    auto r = run_cli("migrate " + carbonio_args(dir, u) + run_args(dir, "report.json"), dir);
    EXPECT_EQ(r.status, 0) << r.output;
    auto j = read_json(dir.path / "report.json");
    EXPECT_EQ(j["accounts"][0]["dest_profile"]["name"], "carbonio") << j.dump(2);
    EXPECT_NE(j["accounts"][0]["dest_profile"]["evidence"].get<std::string>().find("Zimbra"), std::string::npos) << j.dump(2);
    EXPECT_EQ((*folder_json(j, "a:b"))["dest_folder"], "a_b");
    EXPECT_TRUE(refusals_for(u, mark).empty()) << dump(refusals_for(u, mark));

    // The same source into Dovecot DST directly: generic, names and keywords as before (a:b keeps its name).
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", u);
    temp_dir dir2;
    std::ofstream(dir2.path / "accounts.csv") << "source_user,dest_user\n" << u << "," << u << "\n";
    r = run_cli(fmt::format("migrate --source imap://127.0.0.1:{} --dest imap://127.0.0.1:{} --ca-file {} --accounts {}{}",
                            env("ARRIVAL_DOVECOT_SRC_PORT"), env("ARRIVAL_DOVECOT_DST_PORT"), env("ARRIVAL_TESTBED_CA"),
                            (dir2.path / "accounts.csv").string(), run_args(dir2, "report.json")),
                dir2);
    EXPECT_EQ(r.status, 0) << r.output;
    j = read_json(dir2.path / "report.json");
    EXPECT_EQ(j["accounts"][0]["dest_profile"]["name"], "generic") << j.dump(2);
    EXPECT_EQ((*folder_json(j, "a:b"))["dest_folder"], "a:b");
    EXPECT_EQ((*folder_json(j, "a:b"))["flags_changed"][0]["to"], "k_v") << j.dump(2);   // today's generic rewrite
}

// Refusal policy: with --max-message-size above what the stand-in takes, 8 messages are each refused (BAD
// maximum message size exceeded). arrival never lets 5 refusals in a row happen: the connection survives,
// the 8 are reported with the server's words, everything else arrives.
TEST(migrate_carbonio, five_refusals_in_a_row_never_happen) {
    const auto u = user(162);
    const auto mark = fresh(u);
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", u);
        std::vector<seed_message> msgs;
        msgs.push_back(plain("before@x"));
        for (int i = 0; i < 8; ++i) msgs.push_back({make_message(fmt::format("over{}@x", i), "over", 10'240'100 + i), {}, ""});
        msgs.push_back(plain("after@x"));
        seed(*s, "INBOX", msgs);
        s->logout();
    }
    temp_dir dir;
    auto r = run_cli("migrate " + carbonio_args(dir, u, "--dest-profile carbonio --max-message-size 20000000") + run_args(dir, "report.json"), dir);
    EXPECT_EQ(r.status, 1) << r.output;   // messages failed
    const auto j = read_json(dir.path / "report.json");
    EXPECT_EQ(j["totals"]["copied"], 2) << j.dump(2);
    EXPECT_EQ(j["totals"]["failed"], 8) << j.dump(2);
    // Each of the 8 is refused alone (those that shared a MULTIAPPEND with a good neighbour twice: the
    // MULTIAPPEND, then alone); no connection was dropped.
    const auto refused = refusals_for(u, mark);
    for (const auto& e : refused) EXPECT_FALSE(e.value("dropped", false)) << dump(refused);
    EXPECT_GE(refused.size(), 8u) << dump(refused);
    for (const auto& f : (*folder_json(j, "INBOX"))["failed"]) EXPECT_NE(f["reason"].get<std::string>().find("maximum message size"), std::string::npos) << f.dump();
    auto d = login("ARRIVAL_DOVECOT_DST_PORT", u);
    EXPECT_EQ(count_in(*d, "INBOX"), 2u);
    d->logout();
}

// Login: the admin acts for the user with AUTHENTICATE PLAIN; an admin whose own IMAP is disabled gets an
// error naming zimbraImapEnabled.
TEST(migrate_carbonio, admin_login_and_imap_disabled_admin) {
    const auto u = user(163);
    const auto mark = fresh(u);
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", u);
        seed(*s, "INBOX", {plain("admin@x")});
        s->logout();
    }
    temp_dir dir;
    const auto base = carbonio_args(dir, u, "--dest-profile carbonio");
    std::ofstream(dir.path / "admin.pw") << env("ARRIVAL_CARBONIO_ADMIN_PASSWORD");
    auto r = run_cli("migrate " + base + " --dest-admin " + env("ARRIVAL_CARBONIO_ADMIN") + " --dest-password-file " +
                         (dir.path / "admin.pw").string() + run_args(dir, "report.json"),
                     dir);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(read_json(dir.path / "report.json")["totals"]["copied"], 1);
    EXPECT_EQ(r.output.find(env("ARRIVAL_CARBONIO_ADMIN_PASSWORD")), std::string::npos);
    EXPECT_TRUE(refusals_for(u, mark).empty()) << dump(refusals_for(u, mark));

    r = run_cli("migrate " + base + " --dest-admin " + env("ARRIVAL_CARBONIO_NOIMAP_ADMIN") + " --dest-password-file " +
                    (dir.path / "admin.pw").string() + " --state-dir " + (dir.path / "state2").string(),
                dir);
    EXPECT_EQ(r.status, 6) << r.output;   // every account failed on credentials
    EXPECT_NE(r.output.find("zimbraImapEnabled"), std::string::npos) << r.output;
}

// 30 identical messages (same size, flags and date: one signature to Carbonio's throttle) with --batch 1,
// which would make 30 identical APPENDs, and the 26th would drop the connection: under carbonio the run
// stays in one MULTIAPPEND, so all 30 arrive and nothing is refused or dropped.
TEST(migrate_carbonio, thirty_identical_messages_all_arrive) {
    const auto u = user(165);
    const auto mark = fresh(u);
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", u);
        std::vector<seed_message> msgs;
        for (int i = 0; i < 30; ++i) msgs.push_back(plain("same@x", {"\\Seen", "Work"}, "01-Feb-2023 10:00:00 +0000"));
        msgs.push_back(plain("other@x"));
        seed(*s, "INBOX", msgs);
        s->logout();
    }
    temp_dir dir;
    auto r = run_cli("migrate " + carbonio_args(dir, u, "--dest-profile carbonio --batch 1") + run_args(dir, "report.json"), dir);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(read_json(dir.path / "report.json")["totals"]["copied"], 31) << r.output;
    EXPECT_TRUE(refusals_for(u, mark).empty()) << dump(refusals_for(u, mark));
    auto d = login("ARRIVAL_DOVECOT_DST_PORT", u);
    EXPECT_EQ(count_in(*d, "INBOX"), 31u);
    d->logout();
}

}  // namespace migrate_carbonio_test
