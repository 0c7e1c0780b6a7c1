// The HTML run report (engine/report_html.hpp), the shard merge (engine/report_merge.hpp) and the throughput
// series migrate's report carries (engine/progress.hpp): values in, text out. Headless Chromium runs the page
// for real in tests/integration/report_html_test.py.
#include "engine/mail/report.hpp"
#include "engine/progress.hpp"
#include "engine/report_html.hpp"
#include "engine/report_merge.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace report_html_test {

using namespace arrival::engine;
using nlohmann::json;

namespace {

std::size_t count(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}

json migrate_report() {
    return json::parse(R"({
      "command": "migrate", "dry_run": false, "started": "2026-12-05T07:00:00Z", "seconds": 4.0, "shard": "0/1",
      "totals": {"accounts": 2, "accounts_failed": 1, "copied": 7, "skipped_duplicate": 0, "failed": 0, "bytes": 7000,
                 "seconds": 4.0, "too_large": 1, "largest_too_large": 5000},
      "throughput": {"every_seconds": 1, "samples": [[0, 0, 0], [1, 2, 2000], [2, 5, 5000], [4, 7, 7000]]},
      "accounts": [
        {"source_user": "ok@old", "dest_user": "ok@new", "status": "ok", "error": null, "seconds": 3.5, "copied": 7,
         "skipped_duplicate": 0, "failed": 0, "bytes": 7000,
         "folders": [
           {"source_folder": "<script>window.pwned=1</script>", "dest_folder": "<script>window.pwned=1</script>",
            "created": true, "copied": 3, "skipped_duplicate": 0, "failed": [], "bytes": 3000, "seconds": 1,
            "too_large": [{"uid": 9, "size": 5000, "limit": 2000}]},
           {"source_folder": "Reports: 2026", "dest_folder": "Reports_ 2026", "created": true, "copied": 4,
            "skipped_duplicate": 0, "failed": [], "bytes": 4000, "seconds": 1,
            "renamed": {"from": "Reports: 2026", "to": "Reports_ 2026"},
            "flags_changed": [{"from": "$Label<b>1", "to": null, "reason": "not allowed", "messages": 2}],
            "date_dropped": [{"uid": 4, "date": "2040-01-01T00:00:00Z"}]}]},
        {"source_user": "bad@old", "dest_user": "bad@new", "status": "failed",
         "error": "NO <img src=x onerror=alert(1)> [AUTHENTICATIONFAILED]", "seconds": 0.1, "copied": 0,
         "skipped_duplicate": 0, "failed": 0, "bytes": 0, "folders": []}]})");
}

json verify_report(std::uint64_t missing) {
    json folders = json::array();
    json m = json::array();
    for (std::uint64_t i = 0; i < missing; ++i) m.push_back({{"uid", i + 1}, {"key", "k"}, {"size", 10}});
    folders.push_back({{"source_folder", "INBOX"}, {"dest_folder", "INBOX"}, {"source_messages", 5}, {"dest_messages", 5 - missing},
                       {"dest_folder_missing", false}, {"missing", m}, {"extra", 0}});
    return {{"command", "verify"},
            {"seconds", 1.0},
            {"totals", {{"accounts", 1}, {"accounts_failed", 0}, {"missing", missing}, {"flags_differ", 0}, {"seconds", 1.0}}},
            {"accounts", json::array({{{"source_user", "ok@old"}, {"dest_user", "ok@new"}, {"status", missing ? "failed" : "ok"},
                                       {"error", nullptr}, {"missing", missing}, {"folders", folders}}})}};
}

json run_of(std::vector<std::pair<std::string, json>> stages, const std::string& shard = "0/1") {
    json s = json::array();
    for (auto& [name, report] : stages) s.push_back({{"name", name}, {"status", "completed"}, {"report", report}});
    return {{"stages", s}, {"shard", shard}};
}

std::string between(const std::string& s, const std::string& open, const std::string& close) {
    const auto a = s.find(open);
    if (a == std::string::npos) return {};
    const auto b = s.find(close, a + open.size());
    return b == std::string::npos ? std::string() : s.substr(a + open.size(), b - a - open.size());
}

}  // namespace

TEST(ReportHtml, EscapesEverythingFromServersAndUsers) {
    const auto page = render_html_report(run_of({{"migrate", migrate_report()}}));
    // The page's own script, once; no tag from the report survives as a tag.
    EXPECT_EQ(count(page, "<script"), 1u);
    EXPECT_EQ(page.find("<script>window"), std::string::npos);
    EXPECT_EQ(page.find("<img"), std::string::npos);
    EXPECT_EQ(page.find("<b>1"), std::string::npos);
    EXPECT_NE(page.find("&lt;script&gt;window.pwned=1&lt;/script&gt;"), std::string::npos);
    EXPECT_NE(page.find("NO &lt;img src=x onerror=alert(1)&gt; [AUTHENTICATIONFAILED]"), std::string::npos);
    EXPECT_NE(page.find("$Label&lt;b&gt;1"), std::string::npos);
}

TEST(ReportHtml, IsSelfContainedAndItsPolicyAdmitsOnlyItsOwnScript) {
    const auto page = render_html_report(run_of({{"migrate", migrate_report()}}));
    for (const char* fetch : {"src=\"http", "href=\"http", "<link", "@import", "url(", "<iframe", "fetch(", "XMLHttpRequest"}) {
        EXPECT_EQ(page.find(fetch), std::string::npos) << fetch;
    }
    const auto csp = between(page, "Content-Security-Policy\" content=\"", "\"");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    // The hash in the policy is the script's, so the browser runs it (and nothing else).
    const auto script = between(page, "<script>", "</script>");
    ASSERT_FALSE(script.empty());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ASSERT_EQ(EVP_Digest(script.data(), script.size(), md, &len, EVP_sha256(), nullptr), 1);
    unsigned char b64[64] = {};
    EVP_EncodeBlock(b64, md, static_cast<int>(len));
    EXPECT_NE(csp.find(std::string("script-src 'sha256-") + reinterpret_cast<char*>(b64) + "'"), std::string::npos) << csp;
}

TEST(ReportHtml, FailedAccountsComeFirst) {
    const auto page = render_html_report(run_of({{"migrate", migrate_report()}}));
    const auto rows = between(page, "<table id=\"rows-0\"", "</table>");
    ASSERT_FALSE(rows.empty());
    const auto bad = rows.find("bad@old"), ok = rows.find("ok@old");
    ASSERT_NE(bad, std::string::npos);
    ASSERT_NE(ok, std::string::npos);
    EXPECT_LT(bad, ok);
    EXPECT_NE(rows.find("<tr class=\"bad\"><td>bad@old"), std::string::npos) << rows;
    EXPECT_NE(rows.find("<tr class=\"good\"><td>ok@old"), std::string::npos) << rows;
    // Bytes read as people read them, sorted by the number.
    EXPECT_NE(rows.find("<td data-num=\"7000\">7.0 KB</td>"), std::string::npos) << rows;
}

TEST(ReportHtml, ListsTheAdaptations) {
    const auto page = render_html_report(run_of({{"migrate", migrate_report()}}));
    const auto section = between(page, "<section id=\"adaptations\">", "</section>");
    EXPECT_NE(section.find("folder renamed</td><td>Reports: 2026 → Reports_ 2026"), std::string::npos) << section;
    EXPECT_NE(section.find("keyword dropped</td><td>$Label&lt;b&gt;1: 2 message(s) (not allowed)"), std::string::npos) << section;
    EXPECT_NE(section.find("<td>&lt;script&gt;window.pwned=1&lt;/script&gt;</td><td>too large</td><td>UID 9: 5000 bytes over a limit of 2000"),
              std::string::npos) << section;
    EXPECT_NE(section.find("date fallback</td><td>UID 4: sent without its date 2040-01-01T00:00:00Z"), std::string::npos) << section;
    const auto none = render_html_report(run_of({{"verify", verify_report(0)}}));
    EXPECT_NE(between(none, "<section id=\"adaptations\">", "</section>").find("nothing renamed"), std::string::npos);
}

TEST(ReportHtml, PlotsTheThroughputSeries) {
    const auto page = render_html_report(run_of({{"migrate", migrate_report()}}));
    const auto svg = between(page, "<svg id=\"throughput-plot\"", "</svg>");
    ASSERT_FALSE(svg.empty());
    EXPECT_NE(svg.find("data-samples=\"4\""), std::string::npos);
    // Three rates (between four samples) per line; the peak 3 msg/s (between 1 s and 2 s) labels the left axis.
    const auto points = between(svg, "<polyline class=\"mps\" points=\"", "\"");
    EXPECT_EQ(count(points, ","), 3u) << points;
    EXPECT_NE(svg.find(">3</text>"), std::string::npos) << svg;
    auto short_run = migrate_report();
    short_run["throughput"]["samples"] = json::array({json::array({0, 0, 0})});
    EXPECT_EQ(render_html_report(run_of({{"migrate", short_run}})).find("<svg"), std::string::npos);
}

TEST(ReportHtml, SaysWhatVerifyFound) {
    const auto clean = render_html_report(run_of({{"migrate", migrate_report()}, {"verify", verify_report(0)}}));
    EXPECT_NE(between(clean, "<section id=\"verify\">", "</section>").find("verdict good\">Every message arrived: 0 message(s) missing"),
              std::string::npos);
    const auto missing = render_html_report(run_of({{"verify", verify_report(2)}}));
    const auto section = between(missing, "<section id=\"verify\">", "</section>");
    EXPECT_NE(section.find("verdict bad\">Differences: 2 message(s) missing"), std::string::npos) << section;
    EXPECT_NE(section.find("<td>ok@old</td><td>INBOX</td><td>INBOX</td><td>missing</td>"), std::string::npos) << section;
    EXPECT_NE(render_html_report(run_of({{"migrate", migrate_report()}})).find("No verify stage"), std::string::npos);
}

TEST(ReportHtml, ShowsFieldsItDoesNotKnow) {
    const json odd = {{"command", "teleport"},
                      {"flux", "<capacitor>"},
                      {"totals", {{"gizmos", 3}, {"nested", {{"deep", 4}}}}},
                      {"widgets", json::array({{{"name", "w1"}, {"colour", "red"}}})},
                      {"users", json::array({{{"user", "u@x"}, {"status", "strange"}, {"sprockets", 12}}})}};
    json run = run_of({{"teleport", odd}});
    run["stages"].push_back({{"name", "later"}, {"status", "not run"}, {"reason", "migrate failed"}});
    run["stages"].push_back(42);   // not even an object
    const auto page = render_html_report(run);
    for (const char* seen : {"&lt;capacitor&gt;", "gizmos", "nested.deep", "widgets (1)", "<td>w1</td><td>red</td>", "sprockets",
                             "<td data-num=\"12\">12</td>", "No report: migrate failed"}) {
        EXPECT_NE(page.find(seen), std::string::npos) << seen;
    }
    EXPECT_NE(render_html_report(json::object()).find("</html>"), std::string::npos);
    EXPECT_NE(render_html_report(json::array()).find("</html>"), std::string::npos);
}

TEST(ThroughputSeries, ThinsToABoundedEvenSeries) {
    throughput_series s(1.0);
    for (int t = 0; t <= 1000; ++t) s.offer({static_cast<double>(t), static_cast<std::uint64_t>(t) * 2, 0});
    s.offer({1000.5, 2001, 0}, true);
    ASSERT_LT(s.samples().size(), throughput_series::max_samples);
    EXPECT_GE(s.samples().size(), throughput_series::max_samples / 2 - 10);
    EXPECT_EQ(s.samples().front().seconds, 0);
    EXPECT_EQ(s.samples().back().messages, 2001u);   // the end is always kept
    EXPECT_EQ(s.every_seconds(), 8.0);
    for (std::size_t i = 2; i + 1 < s.samples().size(); ++i) {
        EXPECT_EQ(s.samples()[i].seconds - s.samples()[i - 1].seconds, s.samples()[i - 1].seconds - s.samples()[i - 2].seconds) << i;
    }
}

TEST(ThroughputSeries, MigrateReportCarriesIt) {
    run_report r;
    r.throughput = {{0, 0, 0}, {1.04, 3, 300}};
    r.throughput_every = 1;
    const auto j = to_json(r);
    EXPECT_EQ(j["throughput"]["every_seconds"], 1);
    EXPECT_EQ(j["throughput"]["samples"], json::parse("[[0.0,0,0],[1.0,3,300]]"));
    EXPECT_FALSE(to_json(run_report{}).contains("throughput"));
}

TEST(ReportMerge, ParsesShards) {
    EXPECT_EQ(shard_field("3/4")->k, 3u);
    for (const char* bad : {"4/4", "1/0", "x/2", "1/", "/2", "1/2/3", "-1/2", "1 /2", ""}) EXPECT_FALSE(shard_field(bad)) << bad;
}

TEST(ReportMerge, SumsTotalsConcatenatesRowsAndAddsUpTheSeries) {
    auto a = migrate_report();
    a["shard"] = "0/2";
    auto b = migrate_report();
    b["shard"] = "1/2";
    b["started"] = "2026-12-05T07:00:10Z";
    b["seconds"] = 9.0;
    b["accounts"][0]["source_user"] = "ok2@old";
    const auto merged = merge_runs({{"b.json", wrap_stage_report(b, "b")}, {"a.json", wrap_stage_report(a, "a")}});
    ASSERT_EQ(merged["stages"].size(), 1u);
    const auto& r = merged["stages"][0]["report"];
    EXPECT_EQ(merged["stages"][0]["name"], "migrate");
    EXPECT_EQ(merged["stages"][0]["status"], "partial");   // one account failed in each shard
    EXPECT_EQ(r["accounts"].size(), 4u);
    EXPECT_EQ(r["accounts"][0]["source_user"], "ok@old");   // shard 0 first
    EXPECT_EQ(r["totals"]["copied"], 14);
    EXPECT_EQ(r["totals"]["largest_too_large"], 5000);
    EXPECT_EQ(r["seconds"], 9.0);
    EXPECT_EQ(r["started"], "2026-12-05T07:00:00Z");
    EXPECT_EQ(r["shards"], json::parse(R"(["0/2","1/2"])"));
    EXPECT_EQ(merged["shard"], "0/1");
    // b started 10 s after a: at 4 s only a's 7 messages, from 14 s on both.
    const auto& samples = r["throughput"]["samples"];
    ASSERT_GE(samples.size(), 3u);
    EXPECT_EQ(samples.back(), json::parse("[14.0,14,14000]"));
    for (const auto& s : samples) {
        if (s[0] == 4.0) {
            EXPECT_EQ(s[1], 7);
        }
    }
}

TEST(ReportMerge, RefusesOverlappingMissingAndMixedShards) {
    auto with = [](const std::string& shard) {
        auto r = migrate_report();
        r["shard"] = shard;
        return wrap_stage_report(r, "m");
    };
    auto message = [](const std::vector<report_input>& in) {
        try {
            (void)merge_runs(in);
        } catch (const shard_error& e) {
            return std::string(e.what());
        }
        return std::string("merged");
    };
    EXPECT_EQ(message({{"x.json", with("0/3")}, {"y.json", with("1/3")}, {"z.json", with("1/3")}}),
              "stage migrate: shard 1/3 given twice: y.json and z.json\nstage migrate: shard 2/3 missing");
    EXPECT_EQ(message({{"x.json", with("0/2")}, {"y.json", with("1/3")}}), "mixed shard counts: x.json (of 2), y.json (of 3)");
    EXPECT_EQ(message({{"x.json", with("2/2")}}), "x.json: stage migrate: shard '2/2' is not K/N with 0 <= K < N");
    // A report without "shard" is the whole run: 0/1.
    auto plain = migrate_report();
    plain.erase("shard");
    EXPECT_EQ(message({{"p.json", wrap_stage_report(plain, "p")}}), "merged");
    EXPECT_EQ(message({{"p.json", wrap_stage_report(plain, "p")}, {"q.json", wrap_stage_report(plain, "q")}}),
              "stage migrate: shard 0/1 given twice: p.json and q.json");
    // Every stage needs every shard: verify ran on shard 0 only.
    auto v = verify_report(0);
    v["shard"] = "0/2";
    auto run0 = run_of({{"migrate", migrate_report()}, {"verify", v}}, "0/2");
    run0["stages"][0]["report"]["shard"] = "0/2";
    EXPECT_EQ(message({{"run0", run0}, {"y.json", with("1/2")}}), "stage verify: shard 1/2 missing");
}

TEST(ReportMerge, ReadsRunDirectoriesAndStageReports) {
    const auto dir = std::filesystem::temp_directory_path() / ("report_merge_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "run");
    std::ofstream(dir / "run" / "run.json") << run_of({{"migrate", migrate_report()}}, "0/1").dump();
    std::ofstream(dir / "provision.json") << R"({"mode": "check", "counts": {"read": 3, "errors": 1}})";
    std::ofstream(dir / "broken.json") << "{\"stages\": ";
    const auto run = load_report_input(dir / "run");
    EXPECT_EQ(run.run["stages"][0]["name"], "migrate");
    const auto prov = load_report_input(dir / "provision.json");
    EXPECT_EQ(prov.run["stages"][0]["name"], "provision");
    EXPECT_EQ(prov.run["stages"][0]["status"], "partial");
    EXPECT_EQ(prov.run["shard"], "0/1");
    EXPECT_THROW((void)load_report_input(dir / "broken.json"), std::runtime_error);
    EXPECT_THROW((void)load_report_input(dir / "nothing.json"), std::runtime_error);
    std::filesystem::remove_all(dir);
}

}  // namespace report_html_test
