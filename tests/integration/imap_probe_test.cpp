// `arrival probe` run as a subprocess (path in ARRIVAL_EXE) against the loopback Dovecot: text and JSON
// output, counts and sizes, admin login, and the exit status of each failure. The password goes through
// ARRIVAL_PASSWORD, never argv. User user184.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <sys/wait.h>

#include "tests/integration/imap_test_support.hpp"

namespace imap_test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace imap_probe_test {

constexpr int kUser = 184;

struct result {
    int status = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};

std::string slurp(const std::string& path) {
    std::string s;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
        std::fclose(f);
    }
    return s;
}

// Runs `arrival probe ARGS` with ARRIVAL_PASSWORD=password. Arguments here never need shell quoting.
result probe(const std::string& args, const std::string& password) {
    const std::string err_file = "/tmp/arrival-probe-test-" + std::to_string(::getpid()) + ".err";
    ::setenv("ARRIVAL_PASSWORD", password.c_str(), 1);
    const std::string cmd = env("ARRIVAL_EXE") + " probe " + args + " 2>" + err_file;
    result r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) throw std::runtime_error("popen failed");
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int st = ::pclose(p);
    ::unsetenv("ARRIVAL_PASSWORD");
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.err = slurp(err_file);
    std::remove(err_file.c_str());
    return r;
}

std::string tls_url() { return "imaps://127.0.0.1:" + env("ARRIVAL_DOVECOT_SRC_TLS_PORT"); }
std::string ca() { return " --ca-file " + env("ARRIVAL_TESTBED_CA"); }

TEST(imap_probe, text_lists_capabilities_namespaces_and_folders) {
    const auto r = probe(tls_url() + " --user " + user(kUser) + ca(), env("ARRIVAL_DOVECOT_USER_PASSWORD"));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("capabilities  IMAP4rev1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("namespaces    personal \"\" \"/\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("delimiter     /"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("TLS"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("INBOX"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\\Sent"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(env("ARRIVAL_DOVECOT_USER_PASSWORD")), std::string::npos);
}

TEST(imap_probe, json_has_counts_sizes_special_use_and_subscriptions) {
    // Put known messages in a known folder first, through our own client.
    const std::string box = unique_name("Probe Ü");
    const std::string m1 = make_message("probe-1", 1234), m2 = make_message("probe-2", 4321);
    run([&]() -> net::awaitable<void> {
        auto conn = co_await open(options(endpoint::implicit_tls), user_credentials(kUser));
        error_code ec;
        co_await conn->async_create(box, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        const append_message batch[] = {{.flags = {}, .date = std::nullopt, .body = m1, .binary = false},
                                        {.flags = {"\\Seen"}, .date = std::nullopt, .body = m2, .binary = false}};
        (void)co_await conn->async_append(box, batch, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        co_await conn->async_subscribe(box, ec);
        co_await conn->async_logout(ec);
    });
    const auto r = probe(tls_url() + " --user " + user(kUser) + ca() + " --json",
                         env("ARRIVAL_DOVECOT_USER_PASSWORD"));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["user"], user(kUser));
    EXPECT_EQ(j["delimiter"], "/");
    EXPECT_FALSE(j["capabilities"].empty());
    EXPECT_EQ(j["namespaces"]["personal"][0]["delimiter"], "/");
    bool saw_box = false, saw_sent = false;
    for (const auto& f : j["folders"]) {
        if (f["name"] == box) {
            saw_box = true;
            EXPECT_EQ(f["messages"], 2);
            EXPECT_EQ(f["size"], m1.size() + m2.size());
            EXPECT_EQ(f["subscribed"], true);
            EXPECT_NE(f["raw_name"], box);  // modified UTF-7 on the wire, UTF-8 in "name"
        }
        if (f["name"] == "Sent") {
            saw_sent = true;
            EXPECT_EQ(f["special_use"], "\\Sent");
            EXPECT_EQ(f["subscribed"], true);
        }
    }
    EXPECT_TRUE(saw_box) << r.out;
    EXPECT_TRUE(saw_sent) << r.out;
    EXPECT_GE(j["totals"]["messages"].get<int>(), 2);
}

TEST(imap_probe, admin_acting_for_the_user) {
    const auto r = probe(tls_url() + " --user " + user(kUser) + " --admin " + env("ARRIVAL_DOVECOT_MASTER_USER") +
                             ca() + " --json",
                         env("ARRIVAL_DOVECOT_MASTER_PASSWORD"));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["admin"], env("ARRIVAL_DOVECOT_MASTER_USER"));
    EXPECT_FALSE(j["folders"].empty());
}

TEST(imap_probe, wrong_password_exits_6_with_one_line_naming_the_login) {
    const auto r = probe(tls_url() + " --user " + user(kUser) + ca(), "definitely-wrong-pw");
    EXPECT_EQ(r.status, 6) << r.err;
    EXPECT_TRUE(r.out.empty());
    EXPECT_NE(r.err.find("login as " + user(kUser)), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("AUTHENTICATIONFAILED"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("definitely-wrong-pw"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(imap_probe, untrusted_certificate_exits_5) {
    const auto r = probe(tls_url() + " --user " + user(kUser), env("ARRIVAL_DOVECOT_USER_PASSWORD"));
    EXPECT_EQ(r.status, 5) << r.err;
    EXPECT_NE(r.err.find("certificate verification failed"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(imap_probe, unreachable_host_exits_4) {
    const auto r = probe("imap://127.0.0.1:1 --user " + user(kUser), env("ARRIVAL_DOVECOT_USER_PASSWORD"));
    EXPECT_EQ(r.status, 4) << r.err;
    EXPECT_NE(r.err.find("cannot connect to imap://127.0.0.1:1"), std::string::npos) << r.err;
}

TEST(imap_probe, usage_errors_exit_2) {
    EXPECT_EQ(probe("ftp://example.test --user x", "pw").status, 2);
    EXPECT_EQ(probe("imap://u:p@example.test --user x", "pw").status, 2);
    ::unsetenv("ARRIVAL_PASSWORD");
    const std::string cmd = env("ARRIVAL_EXE") + " probe imap://127.0.0.1:1 --user x 2>/dev/null";
    const int st = std::system(cmd.c_str());
    EXPECT_EQ(WEXITSTATUS(st), 2) << "no password anywhere is a usage error";
}

}  // namespace
}  // namespace imap_test
