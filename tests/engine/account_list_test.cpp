#include "engine/account_list.hpp"

#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace account_list_test {

using namespace arrival::engine;

TEST(account_list, imapsync_lines_with_comments) {
    const auto l = parse_account_list(
        "# imapsync batch file\n"
        "\n"
        "old.example;alice@example.test;s3cret;new.example;alice@example.test;n3w;\n"
        "  # indented comment\n"
        "old.example;bob;pw;new.example;bob@example.test;pw2\r\n");
    ASSERT_TRUE(l.ok()) << l.errors.front().message;
    EXPECT_EQ(l.format, account_format::imapsync);
    ASSERT_EQ(l.accounts.size(), 2u);
    EXPECT_EQ(l.accounts[0].source_host, "old.example");
    EXPECT_EQ(l.accounts[0].source_user, "alice@example.test");
    EXPECT_EQ(l.accounts[0].source_password.reveal(), "s3cret");
    EXPECT_EQ(l.accounts[0].dest_host, "new.example");
    EXPECT_EQ(l.accounts[0].dest_password.reveal(), "n3w");
    EXPECT_EQ(l.accounts[0].line, 3u);
    EXPECT_EQ(l.accounts[1].dest_user, "bob@example.test");
    EXPECT_EQ(l.accounts[1].dest_password.reveal(), "pw2");
    EXPECT_EQ(l.accounts[1].line, 5u);
}

TEST(account_list, imapsync_password_kept_verbatim_and_empty_allowed) {
    const auto l = parse_account_list(";u1; p w #x;;u2;;\n");
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l.accounts[0].source_password.reveal(), " p w #x");
    EXPECT_TRUE(l.accounts[0].dest_password.empty());
    EXPECT_TRUE(l.accounts[0].source_host.empty());
}

TEST(account_list, imapsync_bad_lines_reported_without_passwords) {
    const auto l = parse_account_list("h;u;topsecret;h2;u2\nh;u3;pw;h;u4;pw;--extra;\nh;;pw;h;u;pw;\n");
    ASSERT_EQ(l.errors.size(), 3u);
    EXPECT_EQ(l.errors[0].line, 1u);
    EXPECT_EQ(l.errors[1].line, 2u);
    EXPECT_EQ(l.errors[2].line, 3u);
    for (const auto& e : l.errors) {
        EXPECT_EQ(e.message.find("topsecret"), std::string::npos);
        EXPECT_EQ(e.message.find("pw"), std::string::npos) << e.message;
    }
}

TEST(account_list, csv_with_header_any_order_and_quotes) {
    const auto l = parse_account_list(
        "\xEF\xBB\xBF" "dest_user,source_user,source_password,dest_password\n"
        "a@new.test,a@old.test,\"pa,ss\"\"word\",x\n"
        "# comment\n"
        ",b@old.test,,\n");
    ASSERT_TRUE(l.ok()) << l.errors.front().message;
    EXPECT_EQ(l.format, account_format::csv);
    ASSERT_EQ(l.accounts.size(), 2u);
    EXPECT_EQ(l.accounts[0].source_user, "a@old.test");
    EXPECT_EQ(l.accounts[0].dest_user, "a@new.test");
    EXPECT_EQ(l.accounts[0].source_password.reveal(), "pa,ss\"word");
    EXPECT_EQ(l.accounts[0].dest_password.reveal(), "x");
    // An empty dest_user means the same name on both sides.
    EXPECT_EQ(l.accounts[1].dest_user, "b@old.test");
    EXPECT_EQ(l.accounts[1].line, 4u);
}

TEST(account_list, csv_two_columns) {
    const auto l = parse_account_list("source_user,dest_user\nu1@a.test,u1@b.test\nu2@a.test,u2@b.test\n");
    ASSERT_TRUE(l.ok());
    ASSERT_EQ(l.accounts.size(), 2u);
    EXPECT_TRUE(l.accounts[1].source_password.empty());
}

TEST(account_list, csv_errors_name_lines) {
    const auto l = parse_account_list("source_user,dest_user,color\nu1,u2,blue\nu3,u4,red,extra\n\"u5,u6\n");
    ASSERT_FALSE(l.ok());
    ASSERT_EQ(l.errors.size(), 3u);
    EXPECT_EQ(l.errors[0].line, 1u);   // unknown column
    EXPECT_NE(l.errors[0].message.find("color"), std::string::npos);
    EXPECT_EQ(l.errors[1].line, 3u);   // field count
    EXPECT_EQ(l.errors[2].line, 4u);   // unterminated quote
}

// A password file in the wrong format (no header, spaces): the error names the line, never the password.
TEST(account_list, errors_never_quote_what_may_be_a_password) {
    for (const char* text : {"u1@a.test,u1@b.test,Secr3tPW,Secr3tPW\n", "u1@a.test Secr3tPW\n",
                             "u1@a.test\tSecr3tPW\n", "u1@a.test;Secr3tPW\n"}) {
        const auto l = parse_account_list(text);
        ASSERT_FALSE(l.ok()) << text;
        for (const auto& e : l.errors) {
            EXPECT_EQ(e.message.find("Secr3tPW"), std::string::npos) << e.message;
            EXPECT_EQ(e.line, 1u);
        }
    }
    const auto csv = parse_account_list("u1@a.test,u1@b.test,Secr3tPW,Secr3tPW\n", account_format::csv);
    ASSERT_FALSE(csv.ok());
    for (const auto& e : csv.errors) EXPECT_EQ(e.message.find("Secr3tPW"), std::string::npos) << e.message;
}

TEST(account_list, address_list) {
    const auto l = parse_account_list("user001@example.test\n\n# gone\nuser002@example.test  \n");
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l.format, account_format::address_list);
    ASSERT_EQ(l.accounts.size(), 2u);
    EXPECT_EQ(l.accounts[1].source_user, "user002@example.test");
    EXPECT_EQ(l.accounts[1].dest_user, "user002@example.test");
    const auto bad = parse_account_list("a b@x\n");
    EXPECT_FALSE(bad.ok());
}

TEST(account_list, duplicate_source_user_is_an_error) {
    const auto l = parse_account_list("u@x.test\nU@x.test\n");
    ASSERT_EQ(l.errors.size(), 1u);
    EXPECT_EQ(l.errors[0].line, 2u);
    EXPECT_NE(l.errors[0].message.find("line 1"), std::string::npos);
}

TEST(account_list, secrets_never_format) {
    secret_string s("hunter2");
    std::ostringstream os;
    os << s;
    EXPECT_EQ(os.str(), "<redacted>");
    EXPECT_EQ(fmt::format("{}", s), "<redacted>");
    EXPECT_EQ(s.reveal(), "hunter2");
    secret_string moved(std::move(s));
    EXPECT_EQ(moved.reveal(), "hunter2");
    EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): the moved-from secret is wiped
}

TEST(account_list, load_missing_file_names_it) {
    try {
        (void)load_account_list("/nonexistent/accounts.txt");
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/accounts.txt"), std::string::npos);
    }
}

}  // namespace account_list_test
