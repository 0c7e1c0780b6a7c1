// `arrival contacts` against the testbed's real Radicale: one user per CSV dialect (Outlook in
// Windows-1252 and UTF-16, Google, Thunderbird, Zimbra with ';'), read back through CardDAV and compared;
// a rerun adds nothing (stable UIDs + If-None-Match); a file with a broken quote imports the rest and
// reports the line; an unrecognised header fails that user only.
#include <algorithm>
#include <map>

#include "tests/integration/pim_support.hpp"

namespace arrival::pim::test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace pim_contacts_test {

using contacts_fixture = radicale_test;

// Unfolds a vCard and returns property lines by name ("EMAIL" -> ["EMAIL;TYPE=INTERNET:x", ...]).
std::multimap<std::string, std::string> properties(const std::string& card) {
    std::string unfolded;
    for (std::size_t i = 0; i < card.size(); ++i) {
        if (card[i] == '\r') continue;
        if (card[i] == '\n' && i + 1 < card.size() && (card[i + 1] == ' ' || card[i + 1] == '\t')) {
            ++i;
            continue;
        }
        unfolded += card[i];
    }
    std::multimap<std::string, std::string> out;
    std::size_t p = 0;
    while (p < unfolded.size()) {
        auto e = unfolded.find('\n', p);
        if (e == std::string::npos) e = unfolded.size();
        const auto line = unfolded.substr(p, e - p);
        out.emplace(line.substr(0, line.find_first_of(";:")), line);
        p = e + 1;
    }
    return out;
}

std::string value_of(const std::multimap<std::string, std::string>& props, const std::string& name) {
    auto it = props.find(name);
    return it == props.end() ? std::string{} : it->second.substr(it->second.find(':') + 1);
}

// FN -> properties of every card in the collection.
std::map<std::string, std::multimap<std::string, std::string>> cards(const std::vector<std::string>& bodies) {
    std::map<std::string, std::multimap<std::string, std::string>> out;
    for (const auto& b : bodies) {
        auto props = properties(b);
        out[value_of(props, "FN")] = std::move(props);
    }
    return out;
}

TEST_F(contacts_fixture, every_dialect_imports_reads_back_and_rerun_adds_nothing) {
    const std::vector<std::pair<std::string, std::string>> plan = {
        {"user121@example.test", "csv/outlook.csv"},     {"user122@example.test", "csv/outlook_utf16.csv"},
        {"user123@example.test", "csv/google.csv"},      {"user124@example.test", "csv/thunderbird.csv"},
        {"user125@example.test", "csv/zimbra.csv"},      {"user126@example.test", "csv/broken_quote.csv"},
    };
    export_dir dir;
    std::vector<import_user> users;
    for (const auto& [name, file] : plan) {
        reset_user(rb, name);
        dir.add(name, ".csv", file);
        users.push_back(user(dir, name, ".csv"));
    }
    ASSERT_FALSE(HasFatalFailure());
    const auto o = options(rb, pim_kind::contacts, rb.url);
    const auto results = run_import(o, users, {});

    const std::map<std::string, std::size_t> expected = {
        {"user121@example.test", 2}, {"user122@example.test", 1}, {"user123@example.test", 2},
        {"user124@example.test", 2}, {"user125@example.test", 2}, {"user126@example.test", 2}};
    for (const auto& [name, count] : expected) {
        const auto* r = find(results, name);
        ASSERT_NE(r, nullptr) << name;
        EXPECT_EQ(r->imported, count) << name << ": " << r->error;
        EXPECT_EQ(read_collection(rb, name, r->collection).size(), count) << name;
    }
    for (const auto& name : {"user121@example.test", "user122@example.test", "user123@example.test",
                             "user124@example.test", "user125@example.test"}) {
        EXPECT_EQ(find(results, name)->status, user_status::ok) << name;
    }
    // The broken quote costs exactly its own record, reported with the file and line.
    const auto* broken = find(results, "user126@example.test");
    EXPECT_EQ(broken->status, user_status::partial);
    ASSERT_EQ(broken->failures.size(), 1u);
    EXPECT_EQ(broken->failures[0].item, dir.file("user126@example.test", ".csv") + ":3");

    // Read back and compare field by field with what the exports say.
    auto outlook = cards(read_collection(rb, "user121@example.test", find(results, "user121@example.test")->collection));
    ASSERT_TRUE(outlook.count("Dr. José Müller"));
    const auto& jose = outlook.at("Dr. José Müller");
    EXPECT_EQ(jose.count("EMAIL"), 2u);
    EXPECT_EQ(jose.count("TEL"), 3u);
    EXPECT_NE(value_of(jose, "NOTE").find("Spouse: Ana"), std::string::npos);  // unknown column kept
    EXPECT_NE(value_of(jose, "ADR").find("München"), std::string::npos);     // Windows-1252 decoded
    EXPECT_EQ(value_of(jose, "BDAY"), "1975-04-23");
    ASSERT_TRUE(outlook.count("Zoë Ørsted"));

    auto utf16 = cards(read_collection(rb, "user122@example.test", find(results, "user122@example.test")->collection));
    ASSERT_TRUE(utf16.count("Ωmega Σigma"));
    EXPECT_NE(value_of(utf16.at("Ωmega Σigma"), "NOTE").find("🎉"), std::string::npos);

    auto google = cards(read_collection(rb, "user123@example.test", find(results, "user123@example.test")->collection));
    ASSERT_TRUE(google.count("Grace Hopper"));
    EXPECT_EQ(google.at("Grace Hopper").count("EMAIL"), 3u);
    EXPECT_EQ(value_of(google.at("Grace Hopper"), "ORG"), "US Navy");
    ASSERT_TRUE(google.count("Alan Turing"));

    auto tb = cards(read_collection(rb, "user124@example.test", find(results, "user124@example.test")->collection));
    ASSERT_TRUE(tb.count("Ada Lovelace"));
    EXPECT_EQ(value_of(tb.at("Ada Lovelace"), "BDAY"), "1815-12-10");

    auto zimbra = cards(read_collection(rb, "user125@example.test", find(results, "user125@example.test")->collection));
    ASSERT_TRUE(zimbra.count("Marie Curie"));
    EXPECT_EQ(value_of(zimbra.at("Marie Curie"), "TITLE"), "Director");
    ASSERT_TRUE(zimbra.count("Pierre Curie"));

    // Rerun: the same stable UIDs are found present; nothing is added.
    const auto again = run_import(o, users, {});
    for (const auto& [name, count] : expected) {
        const auto* r = find(again, name);
        EXPECT_EQ(r->imported, 0u) << name;
        EXPECT_EQ(r->existing, count) << name;
        EXPECT_EQ(read_collection(rb, name, r->collection).size(), count) << name;
    }
}

TEST_F(contacts_fixture, unknown_header_fails_only_that_user_and_format_can_be_forced) {
    const std::string odd = "user127@example.test", good = "user128@example.test";
    reset_user(rb, odd);
    reset_user(rb, good);
    ASSERT_FALSE(HasFatalFailure());
    export_dir dir;
    dir.write(odd + ".csv", "Vorname,Nachname,Mail\r\nKarl,Marx,karl@example.de\r\n");
    dir.add(good, ".csv", "csv/zimbra.csv");
    auto o = options(rb, pim_kind::contacts, rb.url);
    const auto results = run_import(o, {user(dir, odd, ".csv"), user(dir, good, ".csv")}, {});
    EXPECT_EQ(find(results, odd)->status, user_status::failed);
    EXPECT_EQ(find(results, odd)->kind, failure_kind::input);
    EXPECT_NE(find(results, odd)->error.find(":1: header matches no known CSV export"), std::string::npos);
    EXPECT_EQ(find(results, good)->status, user_status::ok);

    // Forced dialect: nothing maps, so every column is kept in the note rather than dropped; but without a
    // name or address the row is reported, not imported blind.
    o.forced_format = csv_format::zimbra;
    const auto forced = run_import(o, {user(dir, odd, ".csv")}, {});
    EXPECT_EQ(forced[0].status, user_status::failed);
    ASSERT_EQ(forced[0].failures.size(), 1u);
    EXPECT_EQ(forced[0].failures[0].item, dir.file(odd, ".csv") + ":2");
}

TEST_F(contacts_fixture, admin_placeholder_and_vcard4) {
    const std::string name = "user129@example.test";
    reset_user(rb, name);
    ASSERT_FALSE(HasFatalFailure());
    export_dir dir;
    dir.add(name, ".csv", "csv/google.csv");
    auto o = options(rb, pim_kind::contacts, rb.url + "{user}/address-book/");
    o.admin = rb.admin;
    o.admin_password = rb.admin_password;
    o.forced_vcard = vcard_version::v4;
    const auto results = run_import(o, {user(dir, name, ".csv")}, {});
    EXPECT_EQ(results[0].status, user_status::ok) << results[0].error;
    EXPECT_EQ(results[0].imported, 2u);
    const auto bodies = read_collection(rb, name, rb.url + "user129@example.test/address-book/");
    ASSERT_EQ(bodies.size(), 2u);
    for (const auto& b : bodies) EXPECT_NE(b.find("VERSION:4.0"), std::string::npos);
}

}  // namespace
}  // namespace arrival::pim::test
