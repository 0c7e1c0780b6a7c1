#include "engine/mail/report.hpp"
#include "engine/mail/report_spool.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace report_test {

using namespace arrival::engine;

namespace {
run_report sample() {
    run_report r;
    r.started = "2026-11-29T05:00:00Z";
    r.seconds = 2.0;
    account_report a;
    a.source_user = "a@old";
    a.dest_user = "a@new";
    folder_report f;
    f.source_folder = "INBOX.Sent";
    f.dest_folder = "Sent";
    f.copied = 3;
    f.skipped_duplicate = 2;
    f.failed = {{17, "NO [OVERQUOTA] Quota exceeded"}};
    f.bytes = 3000;
    f.flags_changed[{"Name:FLAG1", "Name", "rewritten"}] = 2;
    a.folders.push_back(f);
    r.accounts.push_back(a);
    account_report b;
    b.source_user = "b@old";
    b.dest_user = "b@new";
    b.ok = false;
    b.error = "login refused: NO [AUTHENTICATIONFAILED] Authentication failed.";
    r.accounts.push_back(b);
    return r;
}
}  // namespace

TEST(report, json_has_contract_fields) {
    const auto j = to_json(sample());
    EXPECT_EQ(j["totals"]["copied"], 3);
    EXPECT_EQ(j["totals"]["skipped_duplicate"], 2);
    EXPECT_EQ(j["totals"]["failed"], 1);
    EXPECT_EQ(j["totals"]["bytes"], 3000);
    EXPECT_EQ(j["totals"]["seconds"], 2.0);
    const auto& a = j["accounts"][0];
    EXPECT_EQ(a["source_user"], "a@old");
    EXPECT_EQ(a["dest_user"], "a@new");
    EXPECT_EQ(a["status"], "ok");
    EXPECT_TRUE(a["error"].is_null());
    const auto& f = a["folders"][0];
    EXPECT_EQ(f["source_folder"], "INBOX.Sent");
    EXPECT_EQ(f["dest_folder"], "Sent");
    EXPECT_EQ(f["copied"], 3);
    EXPECT_EQ(f["skipped_duplicate"], 2);
    EXPECT_EQ(f["failed"][0]["uid"], 17);
    EXPECT_EQ(f["failed"][0]["reason"], "NO [OVERQUOTA] Quota exceeded");
    EXPECT_EQ(f["bytes"], 3000);
    EXPECT_EQ(f["flags_changed"][0]["to"], "Name");
    EXPECT_EQ(j["accounts"][1]["status"], "failed");
    EXPECT_NE(j["accounts"][1]["error"].get<std::string>().find("AUTHENTICATIONFAILED"), std::string::npos);
}

TEST(report, completeness) {
    auto r = sample();
    EXPECT_FALSE(r.complete());
    EXPECT_EQ(r.accounts_failed(), 1u);
    r.accounts.pop_back();
    EXPECT_FALSE(r.complete());   // one message failed
    r.accounts[0].folders[0].failed.clear();
    EXPECT_TRUE(r.complete());
}

TEST(report, write_is_atomic_and_readable) {
    char tmpl[] = "/tmp/arrival-report-test.XXXXXX";
    const std::filesystem::path dir = mkdtemp(tmpl);
    write_report(dir / "r.json", sample());
    std::ifstream in(dir / "r.json");
    const auto j = nlohmann::json::parse(in);
    EXPECT_EQ(j["accounts"].size(), 2u);
    EXPECT_FALSE(std::filesystem::exists(dir / "r.json.tmp"));
    EXPECT_THROW(write_report(dir / "missing" / "r.json", sample()), std::runtime_error);
    std::filesystem::remove_all(dir);
}

// write_report streams the accounts one at a time: the file must be exactly the tree's dump, for no account,
// one, and several, with text that JSON escapes and members that sort before and after "accounts".
TEST(report, streamed_file_is_the_trees_dump_byte_for_byte) {
    char tmpl[] = "/tmp/arrival-report-test.XXXXXX";
    const std::filesystem::path dir = mkdtemp(tmpl);
    auto r = sample();
    r.accounts[1].error = "line one\nline \"two\"\ttab \xc3\xa9";
    r.throughput = {{1.0, 3, 3000}, {2.0, 5, 5000}};
    r.concurrency = {.cap = 8, .initial = 4, .final_window = 8, .smallest = 4, .largest = 8, .increases = 1, .decreases = 1,
                     .last_decrease = "a reset"};
    const auto file_text = [&](const run_report& rep) {
        write_report(dir / "r.json", rep);
        std::ifstream in(dir / "r.json");
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    EXPECT_EQ(file_text(r), to_json(r).dump(2) + "\n");
    r.accounts.pop_back();
    EXPECT_EQ(file_text(r), to_json(r).dump(2) + "\n");
    r.accounts.clear();
    EXPECT_EQ(file_text(r), to_json(r).dump(2) + "\n");
    std::filesystem::remove_all(dir);
}

// A folded account (engine/mail/report_spool.hpp) keeps its totals and its failures in memory and reads back as
// it was: the report file is the same text, the summary table the same lines, and the spool leaves no file.
TEST(report, spooled_accounts_read_back_as_they_were) {
    char tmpl[] = "/tmp/arrival-report-test.XXXXXX";
    const std::filesystem::path dir = mkdtemp(tmpl);
    auto whole = sample();
    auto& f = whole.accounts[0].folders[0];
    f.too_large = {{21, 50'000'000, 25'000'000}, {22, 60'000'000, 25'000'000}};
    f.date_dropped = {{23, "", append_date::source::date_header, "Tue, 2 Jan 2024 10:00:00 +0100", "no INTERNALDATE"}};
    f.keywords_dropped = {{24, {"$k1", "$k2"}, "the folder holds 100 keywords"}};
    f.renamed_from = "Old Sent";
    folder_report quiet;
    quiet.source_folder = "Archive";
    quiet.dest_folder = "Archive";
    quiet.copied = 40;
    quiet.bytes = 40'000;
    whole.accounts[0].folders.push_back(quiet);
    whole.accounts[0].other_users_folders = {"Other Users/bob"};

    auto folded = whole;
    folded.spool = [&] {
        auto spool = std::make_shared<report_spool>(dir);
        for (auto& a : folded.accounts) EXPECT_TRUE(spool->fold(a));
        return spool;
    }();
    const auto& a = folded.accounts[0];
    ASSERT_TRUE(a.spooled);
    ASSERT_EQ(a.folders.size(), 1u);   // only the folder with a failed message, for the "not copied" lines
    EXPECT_EQ(a.folders[0].source_folder, "INBOX.Sent");
    EXPECT_EQ(a.folders[0].failed.size(), 1u);
    EXPECT_TRUE(a.folders[0].too_large.empty());
    EXPECT_EQ(a.copied(), 43u);
    EXPECT_EQ(folded.too_large(), 2u);
    EXPECT_EQ(folded.largest_too_large(), 60'000'000u);
    EXPECT_EQ(folded.date_from_header(), 1u);
    EXPECT_EQ(folded.keywords_dropped(), 1u);
    EXPECT_EQ(folded.renamed(), 1u);
    EXPECT_EQ(summary_table(folded), summary_table(whole));
    EXPECT_EQ(to_json(folded), to_json(whole));
    const auto file_text = [&](const run_report& rep) {
        write_report(dir / "r.json", rep);
        std::ifstream in(dir / "r.json");
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    EXPECT_EQ(file_text(folded), file_text(whole));
    std::filesystem::remove(dir / "r.json");
    EXPECT_TRUE(std::filesystem::is_empty(dir));   // the spool has no name
    std::filesystem::remove_all(dir);
}

TEST(report, summary_table_lists_accounts_and_errors) {
    const auto t = summary_table(sample());
    EXPECT_NE(t.find("a@old"), std::string::npos);
    EXPECT_NE(t.find("FAILED"), std::string::npos);
    EXPECT_NE(t.find("AUTHENTICATIONFAILED"), std::string::npos);
    EXPECT_NE(t.find("total"), std::string::npos);
}

TEST(report, destination_profile_adaptations_are_added_fields) {
    auto r = sample();
    auto& a = r.accounts[0];
    a.dest_profile = "carbonio";
    a.dest_profile_evidence = "greeting \"x Zimbra IMAP4rev1 server ready\"";
    a.max_message_size = 10'240'000;
    folder_report f;
    f.source_folder = "Contacts";
    f.dest_folder = "Contacts (mail)";
    f.renamed = true;
    f.too_large = {{4, 12'000'002, 10'240'000}, {9, 11'000'000, 10'240'000}};
    f.empty_skipped = {5};
    f.date_dropped = {{6, "01-Jan-2040 12:00:00 +0000", append_date::source::date_header, "03-Mar-2015 09:00:00 +0000",
                       "INTERNALDATE 01-Jan-2040 12:00:00 +0000 is after 2038-01-19, which Carbonio refuses"},
                      {7, "", append_date::source::none, "", "no INTERNALDATE; no usable Date field"}};
    a.folders.push_back(f);
    const auto j = to_json(r);
    EXPECT_EQ(j["totals"]["too_large"], 2);
    EXPECT_EQ(j["totals"]["largest_too_large"], 12'000'002);
    EXPECT_EQ(j["totals"]["failed"], 1);   // adaptations are not failures
    const auto& ja = j["accounts"][0];
    EXPECT_EQ(ja["dest_profile"]["name"], "carbonio");
    EXPECT_EQ(ja["dest_profile"]["max_message_size"], 10'240'000);
    const auto& jf = ja["folders"][1];
    EXPECT_EQ(jf["renamed"]["from"], "Contacts");
    EXPECT_EQ(jf["renamed"]["to"], "Contacts (mail)");
    EXPECT_EQ(jf["too_large"][0]["uid"], 4);
    EXPECT_EQ(jf["too_large"][0]["size"], 12'000'002);
    EXPECT_EQ(jf["too_large"][0]["limit"], 10'240'000);
    EXPECT_EQ(jf["empty_skipped"][0], 5);
    EXPECT_EQ(jf["date_dropped"][0]["date"], "01-Jan-2040 12:00:00 +0000");
    EXPECT_EQ(jf["date_dropped"][0]["used"], "date_header");
    EXPECT_EQ(jf["date_dropped"][0]["sent"], "03-Mar-2015 09:00:00 +0000");
    EXPECT_EQ(jf["date_dropped"][1]["used"], "none");
    EXPECT_TRUE(jf["date_dropped"][1]["sent"].is_null());
    EXPECT_EQ(jf["date_dropped"][1]["reason"], "no INTERNALDATE; no usable Date field");
    EXPECT_EQ(j["totals"]["date_dropped"], 2);
    EXPECT_EQ(j["totals"]["date_from_header"], 1);
    // The existing fields are all still there; a folder without adaptations gets none of the new ones.
    for (const char* k : {"source_folder", "dest_folder", "created", "copied", "skipped_duplicate", "failed", "bytes", "seconds"}) {
        EXPECT_TRUE(jf.contains(k)) << k;
    }
    EXPECT_FALSE(ja["folders"][0].contains("too_large"));
    EXPECT_FALSE(ja["folders"][0].contains("renamed"));
    EXPECT_FALSE(j["accounts"][1].contains("dest_profile"));
    // The summary names the largest size refused and the limit, so the admin knows what to raise.
    const auto table = summary_table(r);
    EXPECT_NE(table.find("2 message(s) not sent, the largest 12000002 bytes over a limit of 10240000"), std::string::npos) << table;
    EXPECT_EQ(summary_table(sample()).find("too large"), std::string::npos);
    EXPECT_NE(table.find("dates: 2 message(s) not sent with their INTERNALDATE"), std::string::npos) << table;
    EXPECT_NE(table.find("1 with their own Date field instead, 1 with none"), std::string::npos) << table;
    EXPECT_EQ(summary_table(sample()).find("dates:"), std::string::npos);
    EXPECT_FALSE(to_json(sample())["totals"].contains("date_dropped"));
}

}  // namespace report_test
