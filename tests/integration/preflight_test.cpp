// `arrival preflight` against the testbed: the Carbonio stand-in (tools/testbed/carbonio.sh, test
// infrastructure built from FACTS.md, not Carbonio) and the plain DST Dovecot as destinations, the SRC Dovecot
// as source. What preflight predicts is then compared with what `arrival migrate` does to the same mailbox.
// Users 146, 147 and 461-463 are this file's.
#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/mail/preflight.hpp"
#include "migrate_fixture.hpp"

// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace preflight_test {
using namespace migrate_test;

namespace {

nlohmann::json read_json(const std::filesystem::path& file) {
    std::ifstream in(file);
    return nlohmann::json::parse(in);
}

const nlohmann::json* finding(const nlohmann::json& report, const std::string& kind) {
    for (const auto& f : report["findings"]) {
        if (f["kind"] == kind) return &f;
    }
    return nullptr;
}

std::uint64_t count_of(const nlohmann::json& report, const std::string& kind) {
    const auto* f = finding(report, kind);
    return f ? (*f)["count"].get<std::uint64_t>() : 0;
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

// The user's folders on the DST Dovecot (behind the stand-in), sorted.
std::vector<std::string> dest_folders(const std::string& u) {
    auto d = login("ARRIVAL_DOVECOT_DST_PORT", u);
    std::vector<std::string> names;
    for (const auto& e : d->list()) names.push_back(e.name);
    d->logout();
    std::sort(names.begin(), names.end());
    return names;
}

constexpr std::size_t big_size = 10'300'000;   // over Carbonio's 10,240,000 (zimbraMtaMaxMessageSize)

// user's source: two names Carbonio refuses, a Zimbra tag keyword, a keyword with ':', a message over the
// limit and one dated 2040. Both sides emptied first.
void seed_source(const std::string& u) {
    reset_user("ARRIVAL_DOVECOT_SRC_MAIL", u);
    reset_user("ARRIVAL_DOVECOT_DST_MAIL", u);
    {
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", u);
        seed(*s, "INBOX", {{make_message("pf-tag@x", "tag"), {"\\Seen", "Name:FLAG3"}, ""},
                           {make_message("pf-future@x", "future"), {}, ""},
                           {make_message("pf-plain@x", "plain"), {}, ""}});
        seed(*s, "Projects: 2024", {{make_message("pf-colon@x", "colon"), {"a:b"}, ""}});
        seed(*s, "Contacts", {{make_message("pf-big@x", "big", big_size), {}, ""}});
        s->logout();
    }
    constexpr std::int64_t jan_2040 = 2209032000;   // 2040-01-01T12:00:00Z
    date_on_disk(u, "pf-future@x", jan_2040);
}

}  // namespace

// Against the stand-in: reachable with verified TLS, profile carbonio detected from the greeting, its limits,
// and every change and refusal counted with examples; nothing written to the destination. Then migrate does
// exactly what preflight said.
TEST(preflight, predicts_what_migrate_does_into_carbonio) {
    const auto u = user(146);
    seed_source(u);
    temp_dir dir;
    const auto args = accounts_args(dir, u, "ARRIVAL_CARBONIO_IMAP_PORT");
    const auto before = dest_folders(u);
    const auto r = run_cli("preflight " + args + " --report " + (dir.path / "preflight.json").string(), dir);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("nothing blocks the migration"), std::string::npos) << r.output;
    const auto j = read_json(dir.path / "preflight.json");
    EXPECT_TRUE(j["ok"].get<bool>());
    EXPECT_EQ(j["profile"]["name"], "carbonio") << j.dump(2);
    EXPECT_NE(j["profile"]["evidence"].get<std::string>().find("Zimbra"), std::string::npos) << j.dump(2);
    EXPECT_EQ(j["profile"]["max_message_size"], 10240000);
    for (const char* side : {"source", "destination"}) {
        EXPECT_TRUE(j[side]["ok"].get<bool>()) << j.dump(2);
        EXPECT_EQ(j[side]["details"][0], "TLS: certificate and host name verified") << j.dump(2);
    }
    EXPECT_EQ(j["totals"]["messages"], 5) << j.dump(2);
    EXPECT_EQ(count_of(j, "folder_renamed"), 2u) << j.dump(2);   // "Projects: 2024", "Contacts"
    EXPECT_EQ(count_of(j, "keyword_rewritten"), 1u) << j.dump(2);   // Name:FLAG3 -> Name
    EXPECT_EQ(count_of(j, "keyword_dropped"), 1u) << j.dump(2);     // a:b
    EXPECT_EQ(count_of(j, "date_dropped"), 1u) << j.dump(2);
    ASSERT_EQ(count_of(j, "too_large"), 1u) << j.dump(2);
    const auto& big = *finding(j, "too_large");
    EXPECT_GT(big["largest"].get<std::uint64_t>(), big_size - 1) << j.dump(2);
    EXPECT_EQ(big["examples"][0]["folder"], "Contacts");
    // Read-only: the destination's folders are what they were before preflight ran.
    EXPECT_EQ(dest_folders(u), before);

    // migrate into the stand-in: the same renames, the same message kept back, the same date dropped.
    const auto m = run_cli(fmt::format("migrate {} --dest-profile carbonio --state-dir {} --report {}", args,
                                       (dir.path / "state").string(), (dir.path / "migrate.json").string()),
                           dir);
    const auto mj = read_json(dir.path / "migrate.json");
    std::uint64_t renamed = 0, too_large = 0, date_dropped = 0, copied = 0;
    for (const auto& f : mj["accounts"][0]["folders"]) {
        renamed += f.contains("renamed") ? 1 : 0;
        too_large += f.contains("too_large") ? f["too_large"].size() : 0;
        date_dropped += f.contains("date_dropped") ? f["date_dropped"].size() : 0;
        copied += f["copied"].get<std::uint64_t>();
    }
    EXPECT_EQ(renamed, count_of(j, "folder_renamed")) << mj.dump(2);
    EXPECT_EQ(too_large, count_of(j, "too_large")) << mj.dump(2);
    EXPECT_EQ(date_dropped, count_of(j, "date_dropped")) << mj.dump(2);
    EXPECT_EQ(copied, j["totals"]["messages"].get<std::uint64_t>() - too_large) << mj.dump(2);
}

// Against a plain Dovecot: the generic profile, no size limit, and the keyword rule of any server.
TEST(preflight, generic_destination_has_no_carbonio_rules) {
    const auto u = user(147);
    seed_source(u);
    temp_dir dir;
    const auto r = run_cli("preflight " + accounts_args(dir, u, "ARRIVAL_DOVECOT_DST_PORT") + " --json", dir);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto j = nlohmann::json::parse(r.output);
    EXPECT_EQ(j["profile"]["name"], "generic") << j.dump(2);
    EXPECT_TRUE(j["profile"]["max_message_size"].is_null()) << j.dump(2);
    EXPECT_EQ(count_of(j, "too_large"), 0u) << j.dump(2);
    EXPECT_EQ(count_of(j, "folder_renamed"), 0u) << j.dump(2);
    // Dovecot would take 2040, but a date 14 years ahead is no usable INTERNALDATE on any server: its Date
    // field goes instead (choose_append_date, issue 16).
    EXPECT_EQ(count_of(j, "date_dropped"), 1u) << j.dump(2);
    EXPECT_EQ(count_of(j, "date_from_header"), 1u) << j.dump(2);
    EXPECT_EQ(count_of(j, "keyword_rewritten"), 2u) << j.dump(2);   // Name:FLAG3 -> Name, a:b -> a_b
}

// What blocks: a destination that refuses the admin (exit 6), a source that cannot be reached (exit 4); the
// report says which side and why.
TEST(preflight, a_side_that_fails_blocks_with_its_exit_status) {
    const auto u = user(147);
    temp_dir dir;
    auto args = accounts_args(dir, u, "ARRIVAL_CARBONIO_IMAP_PORT");
    ::setenv("ARRIVAL_DEST_PASSWORD", "wrong-password", 1);
    auto r = run_cli("preflight " + args + " --json", dir);
    EXPECT_EQ(r.status, 6) << r.output;
    auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
    EXPECT_FALSE(j["ok"].get<bool>());
    EXPECT_FALSE(j["destination"]["ok"].get<bool>());
    EXPECT_FALSE(j["destination"]["error"].get<std::string>().empty());
    EXPECT_EQ(r.output.find("wrong-password"), std::string::npos) << r.output;

    const auto unreachable = fmt::format("--source imap://127.0.0.1:1 --dest imap://127.0.0.1:{} --ca-file {} --accounts {}",
                                         env("ARRIVAL_CARBONIO_IMAP_PORT"), env("ARRIVAL_TESTBED_CA"),
                                         (dir.path / "accounts.txt").string());
    r = run_cli("preflight " + unreachable, dir);
    EXPECT_EQ(r.status, 4) << r.output;
    EXPECT_NE(r.output.find("BLOCKED"), std::string::npos) << r.output;
}

// Several accounts at once (preflight scans them as coroutines, --jobs at a time), the middle one refused at
// login on the source: the report names it, with the server's words and never the password, and still scans
// the others, bodies included (--content).
TEST(preflight, an_account_that_cannot_log_in_is_reported_and_the_others_scanned) {
    std::vector<account_pair> accounts;
    for (int n : {461, 462, 463}) {
        reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(n));
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(n));
        std::vector<seed_message> msgs;
        for (int k = 0; k < n - 460; ++k) msgs.push_back({make_message(fmt::format("pa{}-{}@x", n, k), "scan", 300), {"Name:FLAG3"}, ""});
        seed(*s, "INBOX", msgs);
        s->logout();
        accounts.push_back(pair_of(user(n), user(n)));
    }
    accounts[1].source_password = secret_string("definitely-wrong");
    preflight_options opt;
    opt.job = options("ARRIVAL_DOVECOT_SRC_PORT", "ARRIVAL_CARBONIO_IMAP_PORT");
    opt.jobs = 3;
    opt.content = true;
    const auto r = run_preflight(accounts, opt);
    ASSERT_TRUE(r.source.ok) << r.source.error;
    ASSERT_TRUE(r.dest.ok) << r.dest.error;
    ASSERT_EQ(r.accounts.size(), 3u);
    EXPECT_TRUE(r.accounts[0].error.empty()) << r.accounts[0].error;
    EXPECT_EQ(r.accounts[0].messages, 1u);
    EXPECT_EQ(r.accounts[1].kind, error_kind::auth);
    EXPECT_NE(r.accounts[1].error.find("AUTHENTICATIONFAILED"), std::string::npos) << r.accounts[1].error;
    EXPECT_EQ(r.accounts[1].error.find("definitely-wrong"), std::string::npos);
    EXPECT_TRUE(r.accounts[2].error.empty()) << r.accounts[2].error;
    EXPECT_EQ(r.accounts[2].messages, 3u);
    EXPECT_TRUE(r.blocks());
    // Both scanned accounts' keywords counted (Name:FLAG3 -> Name under carbonio), their bodies scanned.
    const auto j = to_json(r);
    EXPECT_EQ(count_of(j, "keyword_rewritten"), 4u) << j.dump(2);
    EXPECT_EQ(j["content"]["scanned"], 4) << j.dump(2);
    EXPECT_EQ(j["accounts"][1]["source_user"], user(462));
    EXPECT_FALSE(j["accounts"][1]["error"].is_null());
    const auto text = describe(r);
    EXPECT_NE(text.find(fmt::format("account {}: NOT scanned", user(462))), std::string::npos) << text;
    EXPECT_NE(text.find("preflight: BLOCKED"), std::string::npos) << text;
}

// --rest: the Carbonio REST side as `arrival calendars/contacts` will use it, as the admin acting for the first
// account (AuthRequest, DelegateAuthRequest, GET of Calendar and Contacts); an admin SOAP URL that does not
// answer blocks with exit 4. The IMAP sides log in as the admins too.
TEST(preflight, rest_side_checked_as_the_import_uses_it) {
    const auto u = user(147);
    temp_dir dir;
    std::ofstream(dir.path / "accounts.txt") << u << "\n";
    const auto admin_pw = env("ARRIVAL_CARBONIO_ADMIN_PASSWORD");
    const auto src_pw = env("ARRIVAL_DOVECOT_MASTER_PASSWORD");
    ::setenv("ARRIVAL_SOURCE_PASSWORD", src_pw.c_str(), 1);
    ::setenv("ARRIVAL_DEST_PASSWORD", admin_pw.c_str(), 1);
    const auto rest_url = "carbonio+" + env("ARRIVAL_CARBONIO_REST_URL");
    const auto args = fmt::format(
        "preflight --source imap://127.0.0.1:{} --source-admin {} --dest imaps://127.0.0.1:{} --dest-admin {} --ca-file {} "
        "--accounts {} --json --rest {}",
        env("ARRIVAL_DOVECOT_SRC_PORT"), env("ARRIVAL_DOVECOT_MASTER_USER"), env("ARRIVAL_CARBONIO_IMAPS_PORT"),
        env("ARRIVAL_CARBONIO_ADMIN"), env("ARRIVAL_TESTBED_CA"), (dir.path / "accounts.txt").string(), rest_url);
    auto r = run_cli(args + " --rest-admin-url " + env("ARRIVAL_CARBONIO_ADMIN_URL"), dir);
    ASSERT_EQ(r.status, 0) << r.output;
    auto j = nlohmann::json::parse(r.output);
    ASSERT_TRUE(j.contains("rest")) << j.dump(2);
    EXPECT_TRUE(j["rest"]["ok"].get<bool>()) << j.dump(2);
    const auto details = j["rest"]["details"].dump();
    EXPECT_NE(details.find("DelegateAuthRequest"), std::string::npos) << details;
    EXPECT_NE(details.find("/service/home/" + u + "/Calendar?fmt=ics: 200"), std::string::npos) << details;
    EXPECT_NE(details.find("/service/home/" + u + "/Contacts?fmt=csv: 200"), std::string::npos) << details;
    EXPECT_EQ(r.output.find(admin_pw), std::string::npos);

    r = run_cli(args + " --rest-admin-url https://127.0.0.1:1/service/admin/soap", dir);
    EXPECT_EQ(r.status, 4) << r.output;
    j = nlohmann::json::parse(r.output);
    EXPECT_FALSE(j["rest"]["ok"].get<bool>()) << j.dump(2);
    EXPECT_NE(j["rest"]["error"].get<std::string>().find("AuthRequest"), std::string::npos) << j.dump(2);
}

}  // namespace preflight_test
