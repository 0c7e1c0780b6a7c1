// engine/plan/stage_command and run_state: the argv each stage command gets from a plan (credentials stay
// references: no secret value can reach argv), and what a run directory remembers.
#include "engine/plan/stage_command.hpp"

#include <filesystem>
#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "engine/plan/plan_parser.hpp"
#include "engine/plan/run_state.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace stage_command_test {

using namespace arrival::plan;

namespace {

const char* const plan_text = R"(
accounts = "/p/accounts.csv"
allow_cleartext = true
[credentials.src]
file = "/p/src.pw"
[credentials.dst]
env = "MY_DEST_PW"
[credentials.ldap]
env = "ARRIVAL_LDAP_PASSWORD"
[servers.source]
url = "imap://127.0.0.1:1143"
login = "admin"
credentials = "src"
[servers.dest]
url = "imap://127.0.0.1:2143"
login = "admin"
credentials = "dst"
[servers.ldap]
url = "ldap://127.0.0.1:3890"
bind_dn = "cn=admin,dc=x"
credentials = "ldap"
[servers.dav]
url = "http://127.0.0.1:5232/{user}/"
[stages.provision]
ldif = ["/p/a.ldif", "/p/b.ldif"]
[stages.migrate]
jobs = 2
[stages.contacts]
dir = "/p/csv"
[stages.verify]
)";

run_plan parsed() {
    auto r = parse_plan(plan_text, "PLAN.toml", "/p");
    EXPECT_TRUE(r.ok());
    return r.plan;
}

std::vector<std::string> argv_of(const std::string& stage) {
    const auto p = parsed();
    return build_stage_command(p, *p.find_stage(stage), {.run_dir = "/run", .progress = "log"}).argv;
}

struct temp_dir {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("plan-test-" + std::to_string(::getpid()));
    temp_dir() { std::filesystem::create_directories(path); }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST(stage_command, migrate_gets_servers_credentials_state_and_report_from_the_plan) {
    const auto p = parsed();
    const auto c = build_stage_command(p, *p.find_stage("migrate"), {.run_dir = "/run", .progress = "log"});
    EXPECT_EQ(c.argv, (std::vector<std::string>{"migrate", "--source", "imap://127.0.0.1:1143", "--dest", "imap://127.0.0.1:2143",
                                                "--accounts", "/p/accounts.csv", "--source-admin", "admin", "--dest-admin", "admin",
                                                "--source-password-file", "/p/src.pw", "--state-dir", "/run/migrate-state",
                                                "--allow-cleartext", "--report", "/run/migrate.json", "--jobs", "2",
                                                "--progress", "log"}));
    // The display mode is not part of what the run state compares.
    EXPECT_EQ(c.identity.find("--progress"), std::string::npos);
    EXPECT_EQ(c.identity, shell_line({c.argv.begin(), c.argv.end() - 2}));
    // The env credential is handed over under the name the stage reads, never put in argv.
    ASSERT_EQ(c.env.size(), 1u);
    EXPECT_EQ(c.env[0].target, "ARRIVAL_DEST_PASSWORD");
    EXPECT_EQ(c.env[0].from, "MY_DEST_PW");
    EXPECT_EQ(c.report, "/run/migrate.json");
}

TEST(stage_command, provision_and_contacts_and_verify) {
    EXPECT_EQ(argv_of("provision"),
              (std::vector<std::string>{"provision", "--ldap", "ldap://127.0.0.1:3890", "--bind-dn", "cn=admin,dc=x", "--allow-cleartext",
                                        "--report", "/run/provision.json", "/p/a.ldif", "/p/b.ldif"}));
    EXPECT_EQ(argv_of("contacts"),
              (std::vector<std::string>{"contacts", "--dest", "http://127.0.0.1:5232/{user}/", "--accounts", "/p/accounts.csv",
                                        "--allow-cleartext", "--report", "/run/contacts.json", "--dir", "/p/csv", "--progress", "log"}));
    const auto v = argv_of("verify");
    EXPECT_EQ(std::count(v.begin(), v.end(), "--state-dir"), 0);   // verify has no state
}

TEST(stage_command, shares_is_the_imap_form_with_migrates_servers_after_migrate) {
    auto r = parse_plan(std::string(plan_text) + "[stages.shares]\nmap_domain = [\"old.example=new.example\"]\ninclude = \"^Work\"\n",
                        "PLAN.toml", "/p");
    ASSERT_TRUE(r.ok());
    std::vector<std::string> order;
    for (const auto& st : r.plan.stages) order.push_back(st.name);
    EXPECT_EQ(order, (std::vector<std::string>{"provision", "migrate", "contacts", "shares", "verify"}));
    const auto c = build_stage_command(r.plan, *r.plan.find_stage("shares"), {.run_dir = "/run"});
    EXPECT_EQ(c.argv, (std::vector<std::string>{"shares", "--source", "imap://127.0.0.1:1143", "--dest", "imap://127.0.0.1:2143",
                                                "--accounts", "/p/accounts.csv", "--source-admin", "admin", "--dest-admin", "admin",
                                                "--source-password-file", "/p/src.pw", "--allow-cleartext", "--report",
                                                "/run/shares.json", "--map-domain", "old.example=new.example", "--include", "^Work"}));
    EXPECT_EQ(c.env.size(), 1u);   // the destination's env credential, handed over as for migrate
}

TEST(stage_command, grants_is_the_csv_form_of_shares_on_the_carbonio_admin_after_the_folders_exist) {
    auto r = parse_plan(std::string(plan_text) + "[credentials.zx]\nenv = \"ZX_ADMIN_PW\"\n"
                                                 "[servers.carbonio]\nurl = \"https://mail.new.test\"\nlogin = \"admin@new.test\"\n"
                                                 "credentials = \"zx\"\nca_file = \"/p/ca.pem\"\n"
                                                 "[stages.grants]\nfrom = \"shares.csv\"\nretries = 5\n",
                        "PLAN.toml", "/p");
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().message);
    std::vector<std::string> order;
    for (const auto& st : r.plan.stages) order.push_back(st.name);
    EXPECT_EQ(order, (std::vector<std::string>{"provision", "migrate", "contacts", "grants", "verify"}));
    const auto& grants = *r.plan.find_stage("grants");
    EXPECT_EQ(r.plan.runs_after(grants), (std::vector<std::string>{"provision", "migrate", "contacts"}));
    const auto c = build_stage_command(r.plan, grants, {.run_dir = "/run"});
    // It runs `arrival shares --from`, with the host as carbonio+https:// and its report named after the stage.
    EXPECT_EQ(c.stage, "grants");
    EXPECT_EQ(c.argv, (std::vector<std::string>{"shares", "--dest", "carbonio+https://mail.new.test", "--accounts", "/p/accounts.csv",
                                                "--admin", "admin@new.test", "--ca-file", "/p/ca.pem", "--allow-cleartext",
                                                "--report", "/run/grants.json", "--from", "/p/shares.csv", "--retries", "5"}));
    ASSERT_EQ(c.env.size(), 1u);
    EXPECT_EQ(c.env[0].target, "ARRIVAL_PASSWORD");
    EXPECT_EQ(c.env[0].from, "ZX_ADMIN_PW");
}

TEST(stage_command, after_adds_waiting_on_earlier_stages_of_the_plan) {
    auto r = parse_plan(std::string(plan_text) + "[stages.files]\nsource = \"/srv/files\"\nafter = \"contacts\"\n"
                                                 "[servers.files]\nurl = \"https://files.test\"\n",
                        "PLAN.toml", "/p");
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().message);
    EXPECT_EQ(r.plan.runs_after(*r.plan.find_stage("files")), (std::vector<std::string>{"provision", "contacts"}));
    EXPECT_EQ(r.plan.runs_after(*r.plan.find_stage("verify")), (std::vector<std::string>{"migrate"}));
    // A list, and the stage table's own dependency named again: each once, in run order.
    r = parse_plan(std::string(plan_text) + "after = [\"contacts\", \"migrate\", \"provision\"]\n", "PLAN.toml", "/p");
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().message);
    EXPECT_EQ(r.plan.runs_after(*r.plan.find_stage("verify")), (std::vector<std::string>{"provision", "migrate", "contacts"}));
    // after is no flag of the stage command.
    const auto c = build_stage_command(r.plan, *r.plan.find_stage("verify"), {.run_dir = "/run"});
    EXPECT_EQ(std::count(c.argv.begin(), c.argv.end(), "contacts"), 0);
}

TEST(stage_command, a_sharded_run_hands_every_stage_its_shard) {
    const auto p = parsed();
    for (const auto& st : p.stages) {
        const auto c = build_stage_command(p, st, {.run_dir = "/run/shard-1-of-3", .shard = {1, 3}});
        const auto at = std::find(c.argv.begin(), c.argv.end(), "--shard");
        ASSERT_NE(at, c.argv.end()) << st.name;
        EXPECT_EQ(*(at + 1), "1/3") << st.name;
        EXPECT_NE(c.identity.find("--shard 1/3"), std::string::npos);   // another shard is another command
        EXPECT_EQ(c.report, "/run/shard-1-of-3/" + st.name + ".json");
    }
    // Unsharded, no --shard at all: the stage commands' own default, and the command lines of earlier runs.
    for (const auto& st : p.stages) {
        const auto c = build_stage_command(p, st, {.run_dir = "/run"});
        EXPECT_EQ(std::count(c.argv.begin(), c.argv.end(), "--shard"), 0) << st.name;
    }
}

TEST(stage_command, no_secret_value_reaches_argv) {
    // The values behind the plan's credentials, as they would be at run time.
    temp_dir d;
    const std::string secret = "s3cret-Value-9";
    ::setenv("MY_DEST_PW", secret.c_str(), 1);
    ::setenv("ARRIVAL_LDAP_PASSWORD", secret.c_str(), 1);
    const auto p = parsed();
    for (const auto& st : p.stages) {
        const auto c = build_stage_command(p, st, {.run_dir = d.path.string()});
        for (const auto& a : c.argv) EXPECT_EQ(a.find(secret), std::string::npos) << st.name << ": " << a;
        EXPECT_EQ(shell_line(c.argv).find(secret), std::string::npos);
    }
    ::unsetenv("MY_DEST_PW");
    ::unsetenv("ARRIVAL_LDAP_PASSWORD");
}

TEST(stage_command, shell_line_quotes_what_a_shell_would_split) {
    EXPECT_EQ(shell_line({"migrate", "--include", "^Work stuff", "--x", "it's", "--y", ""}),
              "arrival migrate --include '^Work stuff' --x 'it'\\''s' --y ''");
}

TEST(run_state, remembers_completed_stages_by_command_line_in_an_owner_only_file) {
    temp_dir d;
    {
        auto s = run_state::load(d.path.string());
        EXPECT_EQ(s.find("migrate"), nullptr);
        s.set("migrate", {.status = "ok", .exit_status = 0, .command = "arrival migrate --jobs 2"});
        s.set("verify", {.status = "partial", .exit_status = 1, .command = "arrival verify"});
        s.save();
    }
    struct stat st {};
    ASSERT_EQ(::stat((d.path / "run-state.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const auto s = run_state::load(d.path.string());
    EXPECT_TRUE(s.completed("migrate", "arrival migrate --jobs 2"));
    EXPECT_FALSE(s.completed("migrate", "arrival migrate --jobs 4"));   // the plan changed the stage: run it again
    EXPECT_FALSE(s.completed("verify", "arrival verify"));              // partial is not complete
    EXPECT_FALSE(s.find("migrate")->this_run);
}

TEST(run_state, a_damaged_state_file_is_an_error_naming_it) {
    temp_dir d;
    std::ofstream(d.path / "run-state.json") << "{\"stages\": [";
    try {
        (void)run_state::load(d.path.string());
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("run-state.json"), std::string::npos);
    }
}

TEST(run_state, run_json_has_the_shape_of_the_contract) {
    temp_dir d;
    std::ofstream(d.path / "migrate.json") << R"({"accounts": [], "copied": 3})";
    std::ofstream(d.path / "verify.json") << "not json";
    const auto j = run_json({{"migrate", {.status = "ok", .exit_status = 0}, (d.path / "migrate.json").string()},
                             {"verify", {.status = "failed", .exit_status = 3}, (d.path / "verify.json").string()},
                             {"contacts", {.status = "blocked", .reason = "provision did not succeed"}, (d.path / "none.json").string()}},
                            "0/1");
    EXPECT_EQ(j["shard"], "0/1");
    ASSERT_EQ(j["stages"].size(), 3u);
    EXPECT_EQ(j["stages"][0]["name"], "migrate");
    EXPECT_EQ(j["stages"][0]["status"], "ok");
    EXPECT_EQ(j["stages"][0]["report"]["copied"], 3);
    EXPECT_TRUE(j["stages"][1]["report"].is_null());
    EXPECT_EQ(j["stages"][2]["reason"], "provision did not succeed");
    EXPECT_TRUE(j["stages"][2]["report"].is_null());
}

TEST(run_state, exit_statuses_name_the_stage_outcome) {
    EXPECT_EQ(status_for_exit(0), "ok");
    EXPECT_EQ(status_for_exit(1), "partial");
    EXPECT_EQ(status_for_exit(130), "interrupted");
    EXPECT_EQ(status_for_exit(3), "failed");
    EXPECT_EQ(status_for_exit(6), "failed");
}

}  // namespace stage_command_test
