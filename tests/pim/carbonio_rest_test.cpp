// The Carbonio REST exchange on bytes: what the job GETs before posting, how a recorded reply is read, and
// what is then posted. There is no live Carbonio here: the replies below are hand-written in the shape
// Zimbra/Carbonio's REST export gives (native CSV columns; text/calendar), parsed by Beast's HTTP parser (the
// one the client uses) and fed to the same functions import_job uses.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "engine/pim/carbonio_rest.hpp"
#include "engine/pim/csv_mapping.hpp"
#include "engine/pim/ics_reader.hpp"

#include "tests/pim/pim_test_support.hpp"

namespace arrival::pim {
namespace {

using test::fixture;

// A recorded HTTP/1.1 response, parsed as the client parses it.
rest_reply recorded(const std::string& raw) {
    namespace bhttp = boost::beast::http;
    bhttp::response_parser<bhttp::string_body> p;
    p.eager(true);
    boost::system::error_code ec;
    p.put(boost::asio::buffer(raw), ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(p.is_done());
    const auto& m = p.get();
    return {static_cast<int>(m.result_int()), std::string(m.reason()), m.body()};
}

std::string http_reply(std::string_view status_line, std::string_view type, const std::string& body) {
    return fmt::format("HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{}", status_line, type,
                       body.size(), body);
}

test::loaded_csv load(const std::string& name) { return test::load_csv(name); }

TEST(carbonio_rest, export_requests_are_gets_of_the_users_folders) {
    const auto c = carbonio_contacts_export_request("user 1@example.test");
    EXPECT_EQ(c.method, "GET");
    EXPECT_EQ(c.target, "/service/home/user%201@example.test/Contacts?fmt=csv");
    EXPECT_TRUE(c.body.empty());
    const auto k = carbonio_calendar_export_request("u@example.test");
    EXPECT_EQ(k.method, "GET");
    EXPECT_EQ(k.target, "/service/home/u@example.test/Calendar?fmt=ics");
}

TEST(carbonio_rest, contact_key_is_the_normalised_first_email_else_name_and_phone) {
    contact a;
    a.full_name = "Ada Lovelace";
    a.emails = {{"", "  Ada@Example.TEST "}, {"", "other@x"}};
    EXPECT_EQ(contact_key(a), "email:ada@example.test");
    contact b;
    b.given = "Ada";
    b.family = "  Lovelace";
    b.phones = {{"cell", "+44 (20) 7946-0000"}};
    EXPECT_EQ(contact_key(b), "name:ada lovelace|442079460000");
    contact none;
    EXPECT_EQ(contact_key(none), "");
}

// First run: the server has one of the Outlook file's contacts (its address in other case); only the
// others are posted, and only their rows.
TEST(carbonio_rest, contacts_already_present_are_not_posted) {
    const auto f = load("outlook.csv");
    ASSERT_EQ(f.mapped.contacts.size(), 2u);
    const std::string export_csv =
        "\"company\",\"email\",\"firstName\",\"fullName\",\"lastName\"\r\n"
        "\"Acme GmbH\",\"Jose.Mueller@ACME.example\",\"José\",\"\",\"Müller\"\r\n"
        "\"\",\"someone.else@example.test\",\"Some\",\"\",\"One\"\r\n";
    const auto reply = recorded(http_reply("200 OK", "text/csv;charset=UTF-8", export_csv));
    std::set<std::string> present;
    ASSERT_EQ(read_present_contacts(reply, present), "");
    EXPECT_EQ(present.size(), 2u);
    const auto upload = plan_contacts_upload(f.mapped, present);
    EXPECT_EQ(upload.present, 1u);
    ASSERT_EQ(upload.fresh.contacts.size(), 1u);
    EXPECT_EQ(upload.fresh.contacts[0].emails.at(0).value, "zoe@example.fr");
    const auto post = carbonio_contacts_request("u@example.test", f.table, f.format, upload.fresh);
    EXPECT_EQ(post.method, "POST");
    const auto sent = parse_csv(post.body, ',');
    EXPECT_EQ(sent.header, f.table.header);
    ASSERT_EQ(sent.rows.size(), 1u);
    EXPECT_EQ(sent.rows[0].fields[1], "Zoë");
}

// A rerun: the server's export now holds what the first run posted (in Zimbra's columns, as the export
// gives them back), so nothing is posted, for every dialect.
TEST(carbonio_rest, rerun_posts_nothing_in_every_dialect) {
    for (const auto* name : {"outlook.csv", "google.csv", "thunderbird.csv", "zimbra.csv", "outlook_utf16.csv"}) {
        SCOPED_TRACE(name);
        const auto f = load(name);
        ASSERT_FALSE(f.mapped.contacts.empty());
        const auto reply = recorded(http_reply("200 OK", "text/csv", to_zimbra_csv(f.mapped)));
        std::set<std::string> present;
        ASSERT_EQ(read_present_contacts(reply, present), "");
        const auto upload = plan_contacts_upload(f.mapped, present);
        EXPECT_EQ(upload.present, f.mapped.contacts.size());
        EXPECT_TRUE(upload.fresh.contacts.empty());
    }
}

TEST(carbonio_rest, an_empty_folder_has_nothing_present_and_everything_is_posted) {
    const auto f = load("google.csv");
    for (const auto& raw : {http_reply("200 OK", "text/csv", ""), std::string("HTTP/1.1 204 No Content\r\n\r\n")}) {
        std::set<std::string> present;
        ASSERT_EQ(read_present_contacts(recorded(raw), present), "");
        EXPECT_TRUE(present.empty());
        const auto upload = plan_contacts_upload(f.mapped, present);
        EXPECT_EQ(upload.fresh.contacts.size(), f.mapped.contacts.size());
        const auto post = carbonio_contacts_request("u@example.test", f.table, f.format, upload.fresh);
        EXPECT_EQ(parse_csv(post.body, ',').rows.size(), f.mapped.contacts.size());
    }
}

TEST(carbonio_rest, a_refused_export_names_the_servers_reply) {
    std::set<std::string> present;
    const auto reply = recorded(http_reply("401 Unauthorized", "text/html",
                                           "<html><body>must authenticate</body></html>"));
    const auto error = read_present_contacts(reply, present);
    EXPECT_NE(error.find("401 Unauthorized"), std::string::npos) << error;
    EXPECT_NE(error.find("must authenticate"), std::string::npos) << error;
    const auto error2 = read_present_uids(recorded(http_reply("404 Not Found", "text/plain", "no such folder")),
                                          present);
    EXPECT_NE(error2.find("404"), std::string::npos) << error2;
}

// Calendars: UIDs the server has are skipped; a rerun posts nothing.
TEST(carbonio_rest, calendar_objects_already_present_are_not_posted) {
    const auto cal = read_ics(fixture("ics/recurring.ics"));
    const auto groups = group_by_uid(cal);
    ASSERT_GE(groups.objects.size(), 3u);
    // The server's export: everything but the first object (the server re-serialises; only UIDs matter).
    std::string ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:Zimbra-Calendar-Provider\r\n";
    for (std::size_t i = 1; i < groups.objects.size(); ++i) {
        ics += fmt::format("BEGIN:VEVENT\r\nUID:{}\r\nSUMMARY:x\r\nEND:VEVENT\r\n", groups.objects[i].uid);
    }
    ics += "END:VCALENDAR\r\n";
    std::set<std::string> present;
    ASSERT_EQ(read_present_uids(recorded(http_reply("200 OK", "text/calendar", ics)), present), "");
    auto upload = plan_calendar_upload(groups, present);
    EXPECT_EQ(upload.present, groups.objects.size() - 1);
    ASSERT_EQ(upload.fresh.objects.size(), 1u);
    const auto post = carbonio_calendar_request("u@example.test", cal, upload.fresh);
    const auto sent = read_ics(post.body);
    ASSERT_FALSE(sent.components.empty());
    for (const auto& c : sent.components) EXPECT_EQ(c.uid, groups.objects[0].uid);

    // Rerun: the export now has every object (as the first full upload wrote them).
    const auto full = carbonio_calendar_request("u@example.test", cal, groups);
    present.clear();
    ASSERT_EQ(read_present_uids(recorded(http_reply("200 OK", "text/calendar", full.body)), present), "");
    upload = plan_calendar_upload(groups, present);
    EXPECT_EQ(upload.present, groups.objects.size());
    EXPECT_TRUE(upload.fresh.objects.empty());
}

}  // namespace
}  // namespace arrival::pim
