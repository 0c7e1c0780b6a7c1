// Issue 16 on the testbed: `arrival preflight --content` and `arrival verify --content` over real messages on
// the SRC and DST Dovecots, and the INTERNALDATE fallback into the Carbonio stand-in (tools/testbed/carbonio.sh:
// test infrastructure built from /work/shared/carbonio/FACTS.md, not Carbonio; §6 "APPEND details": dates after
// 2038-01-19 fail) and into a plain Dovecot. Users 421-425 are this file's.
//
// What Dovecot serves is what the scan can see: Dovecot 2.3 sends a bare LF or a bare CR as CRLF and a NUL as
// 0x80 in BODY[] (checked below), so bare_lf, bare_cr and nul never reach a client from it; those traits are
// tested on bytes (tests/engine/mail/content_scan_test.cpp, fuzz_content_scan). 8-bit header bytes, long lines and
// broken MIME structure pass through unchanged, and are what this file finds through the servers.
#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "migrate_fixture.hpp"

// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace content_test {
using namespace migrate_test;

namespace {

nlohmann::json read_json(const std::filesystem::path& file) {
    std::ifstream in(file);
    return nlohmann::json::parse(in);
}

// Users log in as themselves with the testbed password (environment, never argv).
std::string accounts_args(const temp_dir& dir, const std::string& u, const char* dest_port_var) {
    std::ofstream(dir.path / "accounts.txt") << u << "\n";
    const auto pw = env("ARRIVAL_DOVECOT_USER_PASSWORD");
    ::setenv("ARRIVAL_SOURCE_PASSWORD", pw.c_str(), 1);
    ::setenv("ARRIVAL_DEST_PASSWORD", pw.c_str(), 1);
    return fmt::format("--source imap://127.0.0.1:{} --dest imap://127.0.0.1:{} --ca-file {} --accounts {}",
                       env("ARRIVAL_DOVECOT_SRC_PORT"), env(dest_port_var), env("ARRIVAL_TESTBED_CA"),
                       (dir.path / "accounts.txt").string());
}

std::string header(const std::string& id, const std::string& subject, const std::string& extra = "") {
    return "Message-ID: <" + id + ">\r\nDate: Tue, 3 Mar 2015 10:00:00 +0100\r\nFrom: a@example.test\r\nSubject: " + subject + "\r\n" + extra;
}

// The INBOX of content_cases, in UID order: what each message carries.
std::vector<seed_message> content_cases() {
    const std::string long_line(1500, 'x');
    std::string big = header("big@c", "big") + "\r\n";
    while (big.size() < (3u << 19)) big += std::string(70, 'b') + "\r\n";   // 1.5 MB: over the 1 MiB spill threshold
    big += long_line + "\r\n";
    return {
        {header("clean@c", "clean") + "\r\nplain body\r\n", {}, ""},                                                   // 1
        {header("lf@c", "lf") + "\r\nline one\nline two\r\n", {}, ""},                                                 // 2: served as CRLF
        {header("nul@c", "nul") + "\r\nbefore" + std::string(1, '\0') + "after\r\n", {}, ""},                           // 3: served as 0x80
        {header("latin1@c", "caf\xe9") + "\r\nbody\r\n", {}, ""},                                                      // 4: header_8bit, not UTF-8
        {header("long@c", "long") + "\r\n" + long_line + "\r\n", {}, ""},                                              // 5: long_line
        {header("mime@c", "mime", "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n") +
             "\r\n--b1\r\nContent-Type: text/plain\r\n\r\npart one\r\n", {}, ""},                                      // 6: never closed
        {big, {}, ""},                                                                                                 // 7: long_line, spilled
        {header("utf8@c", "caf\xc3\xa9") + "\r\nbody\r\n", {}, ""},                                                    // 8: header_8bit, UTF-8
    };
}

std::vector<std::uint32_t> uids_of(const nlohmann::json& folder, const char* trait) {
    if (!folder["traits"].contains(trait)) return {};
    return folder["traits"][trait]["uids"].get<std::vector<std::uint32_t>>();
}

const nlohmann::json* content_folder(const nlohmann::json& folders, const std::string& name) {
    for (const auto& f : folders) {
        if (f["folder"] == name) return &f;
    }
    return nullptr;
}

}  // namespace

// preflight --content scans the source; migrate copies; verify --content finds the same traits and proves every
// copy byte-identical; then one destination copy altered under the same dedupe key is caught as bytes_differ.
TEST(content, preflight_and_verify_scan_and_compare_bytes) {
    const auto u = user(421);
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", u);
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", u);
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", u);
        seed(*s, "INBOX", content_cases());
        // Dovecot's normalisation, which decides what the scan can see through it.
        const auto back = read_folder(*s, "INBOX");
        ASSERT_EQ(back.size(), 8u);
        EXPECT_NE(back[1].bytes.find("line one\r\nline two"), std::string::npos);
        EXPECT_NE(back[2].bytes.find("before\x80" "after"), std::string::npos);
        s->logout();
    }
    temp_dir dir;
    const auto args = accounts_args(dir, u, "ARRIVAL_DOVECOT_DST_PORT");

    const auto pf = run_cli("preflight " + args + " --content --report " + (dir.path / "preflight.json").string(), dir);
    ASSERT_EQ(pf.status, 0) << pf.output;
    EXPECT_NE(pf.output.find("8 message(s) scanned, 5 with bytes a strict destination may refuse or alter"), std::string::npos) << pf.output;
    EXPECT_NE(pf.output.find(u + " 'INBOX': 5 of 8 message(s):"), std::string::npos) << pf.output;
    const auto pj = read_json(dir.path / "preflight.json");
    const auto* pin = content_folder(pj["content"]["folders"], "INBOX");
    ASSERT_NE(pin, nullptr) << pj.dump(2);
    EXPECT_EQ((*pin)["scanned"], 8);
    EXPECT_EQ(uids_of(*pin, "header_8bit"), (std::vector<std::uint32_t>{4, 8})) << pin->dump(2);
    EXPECT_EQ(uids_of(*pin, "long_line"), (std::vector<std::uint32_t>{5, 7})) << pin->dump(2);
    EXPECT_EQ(uids_of(*pin, "mime_malformed"), (std::vector<std::uint32_t>{6})) << pin->dump(2);
    for (const char* none : {"bare_lf", "bare_cr", "nul"}) EXPECT_TRUE(uids_of(*pin, none).empty()) << none << pin->dump(2);
    EXPECT_EQ(pj["content"]["traits"]["long_line"], 2) << pj.dump(2);
    EXPECT_NE(pin->dump().find("boundary \\\"b1\\\" never closed"), std::string::npos) << pin->dump(2);
    EXPECT_NE(pin->dump().find("header_8bit (not UTF-8)"), std::string::npos) << pin->dump(2);

    const auto m = run_cli("migrate " + args + " --state-dir " + (dir.path / "state").string(), dir);
    ASSERT_EQ(m.status, 0) << m.output;

    const auto v = run_cli("verify " + args + " --content --report " + (dir.path / "verify.json").string(), dir);
    ASSERT_EQ(v.status, 0) << v.output;
    EXPECT_NE(v.output.find("0 missing, 0 of 8 compared with other bytes, 5 with content traits"), std::string::npos) << v.output;
    auto vj = read_json(dir.path / "verify.json");
    EXPECT_EQ(vj["totals"]["bytes_compared"], 8) << vj.dump(2);
    EXPECT_EQ(vj["totals"]["bytes_differ"], 0) << vj.dump(2);
    const auto& vin = vj["accounts"][0]["folders"][0];
    ASSERT_EQ(vin["source_folder"], "INBOX") << vj.dump(2);
    EXPECT_EQ(vin["content"]["traits"], (*pin)["traits"]) << vj.dump(2);   // preflight and verify saw the same

    // The destination's copy of UID 5 replaced by one with the same Message-ID and size (so the same dedupe
    // key: verify pairs them) and one byte changed: the altered copy APPENDed, the original's maildir file
    // removed (no session is open on the user; Dovecot notices the file is gone at the next login).
    {
        auto d = login("ARRIVAL_DOVECOT_DST_PORT", u);
        const auto dest = read_folder(*d, "INBOX");
        const auto original = std::find_if(dest.begin(), dest.end(), [](const stored_message& x) { return x.bytes.find("<long@c>") != std::string::npos; });
        ASSERT_NE(original, dest.end());
        std::string bytes = original->bytes;
        bytes[bytes.size() - 3] = 'y';   // the long line's last 'x'
        seed(*d, "INBOX", {{bytes, {}, ""}});
        d->logout();
    }
    const auto at = u.find('@');
    const auto home = std::filesystem::path(env("ARRIVAL_DOVECOT_DST_MAIL")) / u.substr(at + 1) / u.substr(0, at);
    int removed = 0;
    for (const char* sub : {"new", "cur"}) {
        for (const auto& f : std::filesystem::directory_iterator(home / sub)) {
            std::ifstream in(f.path(), std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            const auto text = ss.str();
            if (text.find("<long@c>") != std::string::npos && text.find("xy") == std::string::npos) removed += std::filesystem::remove(f.path());
        }
    }
    ASSERT_EQ(removed, 1);
    const auto v2 = run_cli("verify " + args + " --content --report " + (dir.path / "verify2.json").string(), dir);
    EXPECT_EQ(v2.status, 1) << v2.output;
    EXPECT_NE(v2.output.find("'INBOX' UID 5 -> 'INBOX' UID"), std::string::npos) << v2.output;
    EXPECT_NE(v2.output.find("bytes differ"), std::string::npos) << v2.output;
    vj = read_json(dir.path / "verify2.json");
    EXPECT_EQ(vj["totals"]["bytes_differ"], 1) << vj.dump(2);
    EXPECT_EQ(vj["totals"]["missing"], 0) << vj.dump(2);
    const auto& diff = vj["accounts"][0]["folders"][0]["bytes_differ"];
    ASSERT_EQ(diff.size(), 1u) << vj.dump(2);
    EXPECT_EQ(diff[0]["source_uid"], 5);
    EXPECT_EQ(diff[0]["source_size"], diff[0]["dest_size"]);
    EXPECT_EQ(diff[0]["source_traits"], "long_line (1500 octets)");
}

namespace {

// INBOX for the date cases: INTERNALDATEs put on the maildir files (Dovecot refuses future dates on APPEND).
constexpr std::int64_t jan_2040 = 2209032000;   // 2040-01-01T12:00:00Z

void seed_dates(const std::string& u) {
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", u);
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", u);
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", u);
        seed(*s, "INBOX", {{header("late@d", "late") + "\r\nbody\r\n", {}, ""},                                        // 1: 2040, Date 2015
                           {"Message-ID: <nodate@d>\r\nSubject: no date\r\n\r\nbody\r\n", {}, ""},                      // 2: 2040, no Date
                           {header("lost@d", "lost") + "\r\nbody\r\n", {}, ""},                                        // 3: 1970, Date 2015
                           {header("fine@d", "fine") + "\r\nbody\r\n", {}, "07-Jul-2022 07:07:07 +0000"}});           // 4: usable
        s->logout();
    }
    date_on_disk(u, "late@d", jan_2040);
    date_on_disk(u, "nodate@d", jan_2040);
    date_on_disk(u, "lost@d", 0);
}

std::map<std::string, std::string> dates_by_id(const std::string& u) {
    auto d = login("ARRIVAL_DOVECOT_DST_PORT", u);
    std::map<std::string, std::string> out;
    for (const auto& m : read_folder(*d, "INBOX")) {
        const auto a = m.bytes.find('<'), b = m.bytes.find('>');
        out[m.bytes.substr(a + 1, b - a - 1)] = m.internaldate;
    }
    d->logout();
    return out;
}

}  // namespace

// Into the stand-in (carbonio profile): a 2040 INTERNALDATE, which it refuses, goes as the message's Date in
// UTC; without a Date field, as none; a lost 1970 date also as its Date. Preflight predicts each, migrate
// reports each with its UID, and the stand-in refuses nothing.
TEST(content, internaldate_fallback_into_carbonio) {
    const auto u = user(424);
    seed_dates(u);
    temp_dir dir;
    const auto args = accounts_args(dir, u, "ARRIVAL_CARBONIO_IMAP_PORT") + " --dest-profile carbonio";
    const auto pf = run_cli("preflight " + args + " --json", dir);
    ASSERT_EQ(pf.status, 0) << pf.output;
    const auto pj = nlohmann::json::parse(pf.output);
    std::map<std::string, std::uint64_t> counts;
    for (const auto& f : pj["findings"]) counts[f["kind"]] = f["count"];
    EXPECT_EQ(counts["date_dropped"], 3u) << pj.dump(2);
    EXPECT_EQ(counts["date_from_header"], 2u) << pj.dump(2);

    const auto r = run_cli("migrate " + args + " --state-dir " + (dir.path / "state").string() + " --report " +
                               (dir.path / "report.json").string(), dir);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("dates: 3 message(s) not sent with their INTERNALDATE"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("2 with their own Date field instead, 1 with none"), std::string::npos) << r.output;
    const auto j = read_json(dir.path / "report.json");
    EXPECT_EQ(j["totals"]["copied"], 4) << j.dump(2);
    EXPECT_EQ(j["totals"]["date_dropped"], 3) << j.dump(2);
    EXPECT_EQ(j["totals"]["date_from_header"], 2) << j.dump(2);
    const auto& dd = j["accounts"][0]["folders"][0]["date_dropped"];
    ASSERT_EQ(dd.size(), 3u) << j.dump(2);
    EXPECT_EQ(dd[0]["uid"], 1);
    EXPECT_EQ(dd[0]["date"], "01-Jan-2040 12:00:00 +0000");
    EXPECT_EQ(dd[0]["used"], "date_header");
    EXPECT_EQ(dd[0]["sent"], "03-Mar-2015 09:00:00 +0000");   // RFC 3501 date-day-fixed, 2DIGIT
    // 2040 is first of all in the future (the Carbonio limit alone decides only once the clock is past 2038:
    // tests/engine/mail/dest_profile_test.cpp); the stand-in would refuse it (FACTS.md §6), and refused nothing.
    EXPECT_NE(dd[0]["reason"].get<std::string>().find("is in the future"), std::string::npos) << dd.dump(2);
    EXPECT_EQ(dd[1]["uid"], 2);
    EXPECT_EQ(dd[1]["used"], "none");
    EXPECT_TRUE(dd[1]["sent"].is_null());
    EXPECT_EQ(dd[2]["uid"], 3);
    EXPECT_EQ(dd[2]["used"], "date_header");
    EXPECT_NE(dd[2]["reason"].get<std::string>().find("before 1971"), std::string::npos) << dd.dump(2);

    // What the destination stored (the stand-in keeps mail in the DST Dovecot).
    const auto dates = dates_by_id(u);
    EXPECT_EQ(dates.at("late@d"), "03-Mar-2015 09:00:00 +0000");
    EXPECT_EQ(dates.at("lost@d"), "03-Mar-2015 09:00:00 +0000");
    EXPECT_EQ(dates.at("fine@d"), "07-Jul-2022 07:07:07 +0000");
    EXPECT_EQ(dates.at("nodate@d").substr(7, 4), iso8601_utc_now().substr(0, 4));   // the arrival time
}

// Into a plain Dovecot (generic): 2040 is not refused but is no usable date (in the future) either, so it gives
// way to the Date field just the same; a usable INTERNALDATE is kept.
TEST(content, internaldate_fallback_into_generic) {
    const auto u = user(425);
    seed_dates(u);
    temp_dir dir;
    const auto r = run_cli("migrate " + accounts_args(dir, u, "ARRIVAL_DOVECOT_DST_PORT") + " --state-dir " + (dir.path / "state").string() +
                               " --report " + (dir.path / "report.json").string(), dir);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto j = read_json(dir.path / "report.json");
    EXPECT_EQ(j["totals"]["date_from_header"], 2) << j.dump(2);
    const auto& dd = j["accounts"][0]["folders"][0]["date_dropped"];
    ASSERT_EQ(dd.size(), 3u) << j.dump(2);
    EXPECT_NE(dd[0]["reason"].get<std::string>().find("in the future"), std::string::npos) << dd.dump(2);
    const auto dates = dates_by_id(u);
    EXPECT_EQ(dates.at("late@d"), "03-Mar-2015 09:00:00 +0000");
    EXPECT_EQ(dates.at("fine@d"), "07-Jul-2022 07:07:07 +0000");
}

}  // namespace content_test
