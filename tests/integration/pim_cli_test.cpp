// The command-line contract of `arrival calendars` / `arrival contacts` (issue 5), run as a subprocess
// against the testbed's Radicale: option names, password only from file/env, exit statuses, JSON report.
#include <sys/wait.h>

#include <regex>

#include <nlohmann/json.hpp>

#include "tests/integration/pim_support.hpp"
#include "tests/support/proxy_process.hpp"

namespace arrival::pim::test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace pim_cli_test {

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

// Transient HTTP failures, from tools/testbed/http-fault in front of Radicale: it answers the first PUTs
// with an error, then passes everything through. Each attempt is a line of its log with its time, so the
// waits between attempts are measured where the server sees them.
struct attempt {
    double at;
    std::string verdict;   // "fail 503", "pass 201"
    std::string path;
};

std::vector<attempt> put_attempts(const std::string& log) {
    std::vector<attempt> out;
    static const std::regex line(R"(http-fault: ([0-9.]+) ((?:fail|pass) \d+) PUT (\S+))");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it) {
        out.push_back({std::stod((*it)[1].str()), (*it)[2].str(), (*it)[3].str()});
    }
    return out;
}

struct retry_fixture : cli_fixture {
    // Imports recurring.ics (5 calendar objects) for `user` through an http-fault with `fault_args`.
    std::vector<attempt> import_through_faults(const std::string& user, std::vector<std::string> fault_args) {
        reset_user(rb, user);
        dir.add(user, ".ics", "ics/recurring.ics");
        dir.write("accounts.txt", user + "\n");
        const auto hostport = rb.url.substr(rb.url.find("//") + 2, rb.url.find('/', rb.url.find("//") + 2) -
                                                                      rb.url.find("//") - 2);
        std::vector<std::string> argv{env("ARRIVAL_HTTP_FAULT"), "--print-port", "--target", hostport};
        argv.insert(argv.end(), fault_args.begin(), fault_args.end());
        arrival::test::proxy_process fault(argv, dir.str() + "/fault.log");
        std::string err;
        // http-fault speaks plain HTTP: the password crosses loopback in cleartext, by choice.
        const auto url = "http://127.0.0.1:" + std::to_string(fault.port()) + "/";
        status = run("calendars --dir " + dir.str() + " --accounts " + dir.str() + "/accounts.txt --report " +
                     dir.str() + "/report.json --allow-cleartext --dest " + url, rb.password, err);
        output = err;
        log = fault.stop();
        return put_attempts(log);
    }
    int status = -1;
    std::string output, log;
};

// 503 with Retry-After: 2, twice: the third attempt of the same PUT succeeds, each retry waits the 2 s the
// server asked for (the client's own back-off would have waited 0.5 s, then 1 s).
TEST_F(retry_fixture, transient_503_is_retried_after_the_servers_retry_after) {
    const auto a = import_through_faults("user144@example.test", {"--method", "PUT", "--fail", "2", "--retry-after", "2"});
    EXPECT_EQ(status, 0) << output << log;
    EXPECT_EQ(report()["users"][0]["imported"], 5) << output;
    ASSERT_GE(a.size(), 3u) << log;
    EXPECT_EQ(a[0].verdict, "fail 503");
    EXPECT_EQ(a[1].verdict, "fail 503");
    EXPECT_EQ(a[2].verdict, "pass 201") << log;
    EXPECT_EQ(a[1].path, a[0].path);
    EXPECT_EQ(a[2].path, a[0].path);
    EXPECT_GE(a[1].at - a[0].at, 1.9) << log;
    EXPECT_LT(a[1].at - a[0].at, 3.5) << log;
    EXPECT_GE(a[2].at - a[1].at, 1.9) << log;
    EXPECT_LT(a[2].at - a[1].at, 3.5) << log;
    EXPECT_EQ(std::count_if(a.begin(), a.end(), [](const attempt& x) { return x.verdict == "pass 201"; }), 5) << log;
}

// Without Retry-After the waits double from --retries' back-off (0.5 s, 1 s, 2 s); 429 is transient too.
TEST_F(retry_fixture, transient_429_without_retry_after_backs_off_doubling) {
    const auto a = import_through_faults("user145@example.test",
                                         {"--method", "PUT", "--fail", "3", "--status", "429", "--retry-after", "-1"});
    EXPECT_EQ(status, 0) << output << log;
    EXPECT_EQ(report()["users"][0]["imported"], 5) << output;
    ASSERT_GE(a.size(), 4u) << log;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(a[i].verdict, "fail 429") << log;
    EXPECT_EQ(a[3].verdict, "pass 201") << log;
    const double expected[] = {0.5, 1.0, 2.0};
    for (int i = 0; i < 3; ++i) {
        const double gap = a[i + 1].at - a[i].at;
        EXPECT_GE(gap, expected[i] * 0.9) << "wait " << i << "\n" << log;
        EXPECT_LT(gap, expected[i] + 1.0) << "wait " << i << "\n" << log;
    }
}

}  // namespace
}  // namespace arrival::pim::test
