// `arrival migrate` / `arrival verify` as a subprocess, the way scripts call them: exit statuses, the JSON
// report's contract fields, passwords only from the environment and never echoed.
#include <fstream>
#include <sstream>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "tests/integration/migrate_fixture.hpp"

// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace migrate_cli_test {
using namespace migrate_test;

namespace {

std::string connection_args(const temp_dir& dir, const std::string& accounts) {
    return fmt::format("--source imap://127.0.0.1:{} --dest imap://127.0.0.1:{} --ca-file {} --accounts {}",
                       env("ARRIVAL_DOVECOT_SRC_PORT"), env("ARRIVAL_DOVECOT_DST_PORT"), env("ARRIVAL_TESTBED_CA"),
                       (dir.path / accounts).string());
}

}  // namespace

TEST(migrate_cli, csv_accounts_admin_report_and_exit_statuses) {
    temp_dir dir;
    for (int n : {130, 131}) {
        reset_user("ARRIVAL_DOVECOT_SRC_MAIL", user(n));
        reset_user("ARRIVAL_DOVECOT_DST_MAIL", user(n));
        auto s = login("ARRIVAL_DOVECOT_SRC_PORT", user(n));
        seed(*s, "INBOX", {{make_message(fmt::format("cli{}@x", n), "cli", 400), {"\\Seen"}, ""},
                           {make_message(fmt::format("cli{}b@x", n), "cli b", 500), {}, ""}});
        s->logout();
    }
    std::ofstream(dir.path / "accounts.csv") << "source_user,dest_user\n" << user(130) << "," << user(130) << "\n"
                                             << user(131) << "," << user(131) << "\n";
    const auto master = env("ARRIVAL_DOVECOT_MASTER_USER");
    const auto secret = env("ARRIVAL_DOVECOT_MASTER_PASSWORD");
    ::setenv("ARRIVAL_SOURCE_PASSWORD", secret.c_str(), 1);
    ::setenv("ARRIVAL_DEST_PASSWORD", secret.c_str(), 1);
    const auto base = connection_args(dir, "accounts.csv") + " --source-admin " + master + " --dest-admin " + master;

    auto r = run_cli("migrate " + base + " --jobs 4 --state-dir " + (dir.path / "state").string() + " --report " +
                     (dir.path / "report.json").string(),
                 dir);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find(secret), std::string::npos);
    std::ifstream rin(dir.path / "report.json");
    const auto j = nlohmann::json::parse(rin);
    EXPECT_EQ(j["totals"]["copied"], 4);
    EXPECT_EQ(j["totals"]["failed"], 0);
    EXPECT_EQ(j["accounts"][0]["status"], "ok");
    EXPECT_TRUE(j["accounts"][0]["folders"][0].contains("skipped_duplicate"));

    r = run_cli("verify " + base, dir);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("0 missing"), std::string::npos) << r.output;

    // Wrong password for everyone: exit 6 (credentials refused), the server's words, not the password.
    ::setenv("ARRIVAL_SOURCE_PASSWORD", "not-the-password", 1);
    r = run_cli("migrate " + base + " --state-dir " + (dir.path / "state2").string(), dir);
    EXPECT_EQ(r.status, 6) << r.output;
    EXPECT_NE(r.output.find("AUTHENTICATIONFAILED"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("not-the-password"), std::string::npos);

    // A broken accounts file: exit 2 with FILE:LINE, nothing done.
    std::ofstream(dir.path / "bad.txt") << "h;u;p;h;u\n";
    r = run_cli("migrate " + connection_args(dir, "bad.txt") + " --state-dir " + (dir.path / "state3").string(), dir);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("bad.txt:1:"), std::string::npos) << r.output;
    // No password anywhere: exit 2.
    ::unsetenv("ARRIVAL_SOURCE_PASSWORD");
    r = run_cli("migrate " + connection_args(dir, "accounts.csv") + " --dest-admin " + master, dir);
    EXPECT_EQ(r.status, 2) << r.output;
    ::unsetenv("ARRIVAL_DEST_PASSWORD");
}

}  // namespace migrate_cli_test
