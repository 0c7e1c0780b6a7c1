// The command-line contract of `arrival calendars` / `arrival contacts` (issue 5), run as a subprocess
// against the testbed's Radicale: option names, password only from file/env, exit statuses, JSON report.
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "tests/integration/pim_support.hpp"

namespace arrival::pim::test {
namespace {

struct cli_fixture : radicale_test {
    void SetUp() override {
        radicale_test::SetUp();
        ASSERT_FALSE(HasFatalFailure());
        exe = env("ARRIVAL_EXE");
        ASSERT_FALSE(exe.empty());
    }

    // Runs `arrival ARGS` with ARRIVAL_PASSWORD set to `password`; returns the exit status, stderr in `err`.
    int run(const std::string& args, const std::string& password, std::string& err) {
        const auto err_file = dir.str() + "/stderr.txt";
        ::setenv("ARRIVAL_PASSWORD", password.c_str(), 1);
        const int rc = std::system((exe + " " + args + " 2>" + err_file).c_str());
        ::unsetenv("ARRIVAL_PASSWORD");
        std::ifstream in(err_file);
        std::ostringstream ss;
        ss << in.rdbuf();
        err = ss.str();
        return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    }

    nlohmann::json report() {
        std::ifstream in(dir.str() + "/report.json");
        return nlohmann::json::parse(in);
    }

    std::string exe;
    export_dir dir;
};

TEST_F(cli_fixture, calendars_contract_exit_statuses_and_report) {
    const std::string a = "user141@example.test", b = "user142@example.test";
    reset_user(rb, a);
    reset_user(rb, b);
    ASSERT_FALSE(HasFatalFailure());
    dir.add(a, ".ics", "ics/recurring.ics");
    dir.add(b, ".ics", "ics/broken.ics");
    dir.write("accounts.csv", "source_user,dest_user\n" + a + "," + a + "\n" + b + "," + b + "\n");
    const std::string common = "calendars --dir " + dir.str() + " --accounts " + dir.str() + "/accounts.csv" +
                               " --jobs 2 --report " + dir.str() + "/report.json --dest ";
    // TLS throughout: plain http:// with a password is refused without --allow-cleartext (see
    // tests/integration/secure_defaults_test.py).
    const std::string url = rb.tls_url + " --ca-file " + rb.ca;
    std::string err;
    // A broken file among others: the run completes with status 1 and the report names file:line.
    EXPECT_EQ(run(common + url, rb.password, err), 1) << err;
    EXPECT_EQ(err.find(rb.password), std::string::npos);
    auto r = report();
    EXPECT_EQ(r["stage"], "calendars");
    EXPECT_EQ(r["totals"]["imported"], 9);
    EXPECT_EQ(r["totals"]["items_failed"], 2);
    for (const auto& u : r["users"]) {
        if (u["user"] == b) {
            EXPECT_EQ(u["status"], "partial");
            EXPECT_EQ(u["failures"][0]["item"], dir.file(b, ".ics") + ":10");
        }
    }
    EXPECT_EQ(r.dump().find(rb.password), std::string::npos);
    // Rerun: nothing added.
    EXPECT_EQ(run(common + url, rb.password, err), 1) << err;
    r = report();
    EXPECT_EQ(r["totals"]["imported"], 0);
    EXPECT_EQ(r["totals"]["skipped_existing"], 9);
    // Wrong password for everyone: 6. Unverifiable certificate: 5.
    EXPECT_EQ(run(common + url, "not-the-password", err), 6) << err;
    EXPECT_NE(err.find("401"), std::string::npos);
    EXPECT_EQ(err.find("not-the-password"), std::string::npos);
    EXPECT_EQ(run(common + rb.tls_url, rb.password, err), 5) << err;
    EXPECT_EQ(run(common + rb.tls_url + " --ca-file " + rb.ca, rb.password, err), 1) << err;
    // Usage errors: --admin without {user}; no password at all; carbonio without --admin.
    EXPECT_EQ(run(common + url + " --admin " + rb.admin, rb.admin_password, err), 2) << err;
    EXPECT_NE(err.find("{user}"), std::string::npos);
    ::unsetenv("ARRIVAL_PASSWORD");
    EXPECT_EQ(std::system((exe + " " + common + url + " 2>/dev/null").c_str()) >> 8, 2);
    EXPECT_EQ(run(common + "carbonio+https://localhost", rb.password, err), 2) << err;
}

TEST_F(cli_fixture, contacts_with_admin_and_password_file) {
    const std::string a = "user143@example.test";
    reset_user(rb, a);
    ASSERT_FALSE(HasFatalFailure());
    dir.add(a, ".csv", "csv/thunderbird.csv");
    dir.write("accounts.txt", "# plain list\n" + a + "\n");
    dir.write("admin.pw", rb.admin_password + "\n");
    std::string err;
    const auto args = "contacts --dir " + dir.str() + " --accounts " + dir.str() + "/accounts.txt --admin " +
                      rb.admin + " --password-file " + dir.str() + "/admin.pw --report " + dir.str() +
                      "/report.json --dest '" + rb.tls_url + "{user}/contacts/' --ca-file " + rb.ca;
    EXPECT_EQ(run(args, "", err), 0) << err;
    auto r = report();
    EXPECT_EQ(r["stage"], "contacts");
    EXPECT_EQ(r["users"][0]["imported"], 2);
    EXPECT_EQ(r["users"][0]["status"], "ok");
    EXPECT_NE(err.find("[1/1] " + a + " ok"), std::string::npos);
    // The mail stage's progress module, in log form (stderr is not a terminal): its final line.
    EXPECT_NE(err.find("progress: 2/2 contacts, "), std::string::npos) << err;
    EXPECT_NE(err.find("users 1/1 done"), std::string::npos) << err;
    EXPECT_EQ(run(args, "", err), 0) << err;
    EXPECT_EQ(report()["users"][0]["skipped_existing"], 2);
}

}  // namespace
}  // namespace arrival::pim::test
