// engine/plan: PLAN.toml text in, the plan or every error (with its line and column) out. Tables of good
// and bad plans; no server, no file but the text.
#include "engine/plan/plan_parser.hpp"
#include "engine/plan/toml_guard.hpp"

#include <algorithm>

#include <gtest/gtest.h>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace plan_parser_test {

using namespace arrival::plan;
using namespace std::string_literals;

namespace {

const char* const good_plan = R"(# a whole migration
accounts = "accounts.csv"
allow_cleartext = true

[credentials.src]
file = "secrets/source.pw"
[credentials.dst]
env = "DEST_ADMIN_PW"
[credentials.ldap]
env = "ARRIVAL_LDAP_PASSWORD"

[servers.source]
url = "imaps://old.example.test"
ca_file = "/etc/ssl/old-ca.pem"
login = "admin"
credentials = "src"
[servers.dest]
url = "imap://127.0.0.1:1143"
profile = "generic"
login = "admin"
credentials = "dst"
[servers.ldap]
url = "ldap://127.0.0.1:3890"
bind_dn = "cn=admin,dc=example,dc=test"
credentials = "ldap"
[servers.dav]
url = "http://127.0.0.1:5232/{user}/"

[stages.verify]
flags = true
[stages.migrate]
jobs = 8
include = ["^INBOX", "^Work"]
collapse_duplicates = true
[stages.provision]
ldif = "export.ldif"
[stages.calendars]
dir = "ics"
)";

parse_result parse(std::string_view text) { return parse_plan(text, "PLAN.toml", "/plans"); }

std::string all_errors(const parse_result& r) {
    std::string out;
    for (const auto& e : r.errors) out += format_error("PLAN.toml", e) + "\n";
    return out;
}

}  // namespace

TEST(plan_parser, reads_a_whole_plan_and_orders_the_stages_for_the_run) {
    const auto r = parse(good_plan);
    ASSERT_TRUE(r.ok()) << all_errors(r);
    std::vector<std::string> names;
    for (const auto& s : r.plan.stages) names.push_back(s.name);
    EXPECT_EQ(names, (std::vector<std::string>{"provision", "migrate", "calendars", "verify"}));
    EXPECT_EQ(r.plan.accounts, "/plans/accounts.csv");
    EXPECT_TRUE(r.plan.allow_cleartext);
    EXPECT_EQ(r.plan.credentials.at("src").file, "/plans/secrets/source.pw");
    EXPECT_EQ(r.plan.credentials.at("dst").env, "DEST_ADMIN_PW");
    EXPECT_EQ(r.plan.find_server("dest")->profile, "generic");
    EXPECT_EQ(r.plan.find_server("source")->ca_file, "/etc/ssl/old-ca.pem");
    // Options become the stage command's flags in the schema's order, paths made absolute.
    EXPECT_EQ(r.plan.find_stage("migrate")->args,
              (std::vector<std::string>{"--collapse-duplicates", "--jobs", "8", "--include", "^INBOX", "--include", "^Work"}));
    EXPECT_EQ(r.plan.find_stage("provision")->args, (std::vector<std::string>{"/plans/export.ldif"}));
    EXPECT_EQ(r.plan.find_stage("calendars")->args, (std::vector<std::string>{"--dir", "/plans/ics"}));
    EXPECT_EQ(r.plan.find_stage("verify")->args, (std::vector<std::string>{"--flags"}));
    // Every path the plan names, for plan check's existence test.
    const auto has_path = [&](const std::string& p) {
        return std::any_of(r.plan.paths.begin(), r.plan.paths.end(), [&](const named_path& n) { return n.path == p; });
    };
    EXPECT_TRUE(has_path("/plans/accounts.csv"));
    EXPECT_TRUE(has_path("/plans/secrets/source.pw"));
    EXPECT_TRUE(has_path("/plans/export.ldif"));
    EXPECT_TRUE(has_path("/plans/ics"));
}

TEST(plan_parser, keeps_the_plans_shard) {
    const auto r = parse(std::string("shard = \"2/8\"\n") + good_plan);
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.plan.shard, "2/8");
    EXPECT_EQ(r.plan.shard_where.line, 1u);
    EXPECT_EQ(parse(good_plan).plan.shard, "");   // none named: the run's --shard, or 0/1
}

struct bad_case {
    const char* name;
    std::string text;
    std::vector<std::pair<std::size_t, std::string>> errors;   // line, a piece of the message
};

class plan_parser_bad : public ::testing::TestWithParam<bad_case> {};

TEST_P(plan_parser_bad, reports_every_error_with_its_line) {
    const auto& c = GetParam();
    const auto r = parse(c.text);
    ASSERT_EQ(r.errors.size(), c.errors.size()) << all_errors(r);
    for (std::size_t i = 0; i < c.errors.size(); ++i) {
        EXPECT_EQ(r.errors[i].where.line, c.errors[i].first) << all_errors(r);
        EXPECT_NE(r.errors[i].message.find(c.errors[i].second), std::string::npos) << all_errors(r);
        EXPECT_GT(r.errors[i].where.column, 0u);
    }
}

const std::string minimal = "accounts = \"a.csv\"\n[servers.source]\nurl = \"imap://s\"\n[servers.dest]\nurl = \"imap://d\"\n";

INSTANTIATE_TEST_SUITE_P(
    table, plan_parser_bad,
    ::testing::Values(
        bad_case{"syntax", "accounts = \"a.csv\n", {{1, "TOML syntax"}}},
        bad_case{"unknown_keys_everywhere",
                 minimal + "colour = \"blue\"\n[stages.migrate]\njobz = 4\nbatch = 10\n[servers.dav]\nurl = \"http://x\"\nport = 5\n",
                 {{6, "unknown key 'colour'"}, {8, "unknown key 'jobz' in [stages.migrate]"}, {12, "unknown key 'port' in [servers.dav]"}}},
        bad_case{"literal_password_in_a_server", minimal + "[stages.migrate]\n[servers.ldap]\nurl = \"ldap://l\"\npassword = \"hunter2\"\n",
                 {{7, "[servers.ldap] needs bind_dn"}, {7, "bind_dn needs credentials"}, {9, "a plan never holds a password"}}},
        bad_case{"literal_password_as_a_credential", minimal + "[credentials]\nadmin = \"hunter2\"\n[stages.verify]\n",
                 {{7, "a plan never holds a password"}}},
        bad_case{"env_holds_a_value_not_a_name", minimal + "[credentials.x]\nenv = \"hunter2 and more\"\n[stages.verify]\n",
                 {{7, "not an environment variable name"}}},
        bad_case{"credential_with_both_or_neither", minimal + "[credentials.x]\nfile = \"f\"\nenv = \"E\"\n[credentials.y]\n[stages.verify]\n",
                 {{6, "exactly one of"}, {9, "exactly one of"}}},
        bad_case{"wrong_types", minimal + "[stages.migrate]\njobs = \"four\"\ncollapse_duplicates = 1\ninclude = [\"a\", 2]\nbatch = -1\n",
                 {{7, "must be a whole number"}, {8, "must be true or false"}, {9, "every item must be a string"}, {10, "must be a whole number"}}},
        bad_case{"missing_server_and_credential", "accounts = \"a.csv\"\n[servers.dest]\nurl = \"imap://d\"\nlogin = \"admin\"\ncredentials = \"nope\"\n[stages.migrate]\n",
                 {{2, "no [credentials.nope] table"}, {6, "needs a [servers.source] table"}}},
        bad_case{"unknown_stage_and_the_shares_csv_form", minimal + "[stages.migrat]\n[stages.shares]\nfrom = \"s.csv\"\nmap_domain = 3\n",
                 {{6, "unknown stage [stages.migrat]"}, {8, "unknown key 'from' in [stages.shares]"}, {9, "map_domain must be a string or an array"}}},
        bad_case{"grants_without_its_csv_or_admin", minimal + "[servers.carbonio]\nurl = \"imap://c\"\n[stages.grants]\nsource = \"s.csv\"\n",
                 {{6, "[servers.carbonio] needs login"}, {7, "[servers.carbonio] url = \"imap://c\": expected http://"},
                  {8, "[stages.grants] needs from"}, {9, "unknown key 'source' in [stages.grants]"}}},
        bad_case{"after_names_nothing_a_later_stage_or_itself",
                 minimal + "[stages.migrate]\nafter = [\"verify\", \"provison\", \"migrate\", 3]\n[stages.verify]\nafter = \"shares\"\n",
                 {{7, "after = \"verify\": verify runs after migrate, never before it"}, {7, "after = \"provison\": no such stage"},
                  {7, "after = \"migrate\": migrate runs as migrate"}, {7, "every item must be a stage name"},
                  {9, "after = \"shares\": the plan has no [stages.shares]"}}},
        bad_case{"required_option_and_bad_choice", minimal + "[servers.dav]\nurl = \"http://x/{user}/\"\n[stages.contacts]\ncsv_format = \"lotus\"\n",
                 {{8, "[stages.contacts] needs dir"}, {9, "expected one of: outlook"}}},
        bad_case{"bad_url_schemes", "accounts = \"a.csv\"\n[servers.source]\nurl = \"http://s\"\n[servers.dest]\nurl = \"imaps://d\"\nprofile = \"exchange\"\n[stages.verify]\n",
                 {{3, "expected imap://... or imaps://"}, {6, "expected one of: auto"}}},
        bad_case{"insecure_on_one_side_only", minimal + "insecure = true\n[stages.verify]\n", {{4, "must agree on insecure"}}},
        bad_case{"no_accounts_no_stages", "allow_cleartext = false\n", {{1, "no accounts file"}, {1, "no stages"}}},
        bad_case{"shard_out_of_range", "shard = \"4/4\"\n" + minimal + "[stages.verify]\n", {{1, "shard: '4/4' is not a shard K/N"}}},
        bad_case{"shard_not_a_fraction", minimal.substr(0, 19) + "shard = \"2\"\n" + minimal.substr(19) + "[stages.verify]\n",
                 {{2, "expected this task's shard K of N"}}},
        bad_case{"shard_not_a_string", "shard = 3\n" + minimal + "[stages.verify]\n", {{1, "shard must be a string"}}}),
    [](const auto& test) { return std::string(test.param.name); });

// Inputs on which toml++ 3.3.0 has undefined behaviour (engine/plan/toml_guard.hpp), found by fuzz_plan_parser:
// the guard names their line before toml++ sees them.
INSTANTIATE_TEST_SUITE_P(
    toml_hazards, plan_parser_bad,
    ::testing::Values(
        bad_case{"non_ascii_after_a_value", minimal + "insecure = true\xc3\xa9\n", {{6, "non-ASCII character outside a quoted string"}}},
        bad_case{"non_ascii_key", minimal + "\xc3\xa9 = 1\n", {{6, "non-ASCII character outside a quoted string"}}},
        bad_case{"non_ascii_in_a_header", minimal + "[\xc3\xa9]\n", {{6, "a table header needs a name"}}},
        bad_case{"ideographic_comma_after_a_value", "accounts = 1\xe3\x80\x81\n", {{1, "non-ASCII character outside"}}},
        bad_case{"header_without_a_name", minimal + "[=]\n", {{6, "a table header needs a name"}}},
        bad_case{"array_header_control_character", minimal + "[[ \x06]]\n", {{6, "a table header needs a name"}}},
        bad_case{"header_with_a_line_end", minimal + "[\r]\n", {{6, "a table header needs a name"}}},
        bad_case{"backslash_before_non_ascii", minimal + "login = \"\"\"\\\xc3\xa9\"\"\"\n", {{6, "backslash before a non-ASCII character"}}},
        bad_case{"line_ending_backslash_then_non_ascii", minimal + "login = \"\"\"a\\\n  \xc2\xa1\"\"\"\n", {{7, "line-ending backslash"}}},
        bad_case{"not_utf8", minimal + "# caf\xe9\n", {{6, "not UTF-8"}}},
        bad_case{"fuzzer_finding", "accounts = \"a.csv\"\n[\x06\x00\x00\x00\x01\x00\x00\x00servers.dest]\n"s,
                 {{2, "a table header needs a name"}}},
        bad_case{"quote_inside_a_bare_value_then_non_ascii",
                 "a = [1, {b = \"c\"},9-05-credenti\"7T07:32:009-05-credent+:727iT32:0\xd0\xab\n",
                 {{1, "non-ASCII character outside a quoted string"}}},
        bad_case{"equals_and_quotes_inside_a_bare_value", "5=5='''9=<\xcf\xb9\xce\x8f=", {{1, "non-ASCII character outside"}}},
        bad_case{"quote_after_a_dot_in_a_value", minimal + "since = 1.\"\xc3\xa9\"\n", {{6, "non-ASCII character outside"}}},
        bad_case{"date_time_with_a_letter_for_the_hour", minimal + "[stages.verify]\nsince = 0989-05-27Tu07:32:00Z\n",
                 {{7, "the TOML library stopped at its own check"}}}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(plan_parser, non_ascii_in_comments_strings_and_arrays_of_arrays_stays_valid) {
    const std::string text = std::string("# Umzug f\xc3\xbcr die Kunden\n") + good_plan +
                             "[stages.contacts]\ncsv_format = \"outlook\" # \xe3\x80\x81\n"
                             "dir = \"\"\"caf\xc3\xa9\\\n   x\"\"\"\n";
    const auto r = parse(text);
    EXPECT_TRUE(r.ok()) << all_errors(r);
}

// Every place TOML 1.0 lets a string begin, the guard reads as a string (toml_guard.cpp's token_start_):
// quoted keys, dotted keys with quoted parts, inline tables, arrays over several lines with comments.
TEST(toml_guard, reads_strings_wherever_toml_lets_them_begin) {
    const std::string text =
        "\"caf\xc3\xa9\" = 1\n"
        "a . \"\xc3\xa9\" . 'b\xc3\xa9' = \"\xc3\xa9\"\n"
        "[ \"h\xc3\xa9\" . x . '\xc3\xa9' ]\n"
        "[[t.\"\xc3\xa9\"]]\n"
        "i = { \"\xc3\xa9\" = '\xc3\xa9', k.\"\xc3\xa9\" = [\"\xc3\xa9\",'\xc3\xa9'] }\n"
        "arr = [ # \xc3\xa9\n  \"\xc3\xa9\",\n  '''\xc3\xa9''', { x = \"\xc3\xa9\" },\n]\n"
        "n = 1.5\nd = 1979-05-27 07:32:00Z\ns = \"\"\"\xc3\xa9\"\"\"\n";
    const auto hazard = find_toml_hazard(text);
    EXPECT_FALSE(hazard) << hazard->line << ":" << hazard->column << " " << hazard->message;
}

}  // namespace plan_parser_test
