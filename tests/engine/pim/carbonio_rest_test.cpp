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

#include "tests/engine/pim/pim_test_support.hpp"

namespace arrival::pim {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace carbonio_rest_test {

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
    const auto sent = read_csv(post.body);
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
        EXPECT_EQ(read_csv(post.body).rows.size(), f.mapped.contacts.size());
    }
}

TEST(carbonio_rest, a_refused_export_names_the_servers_reply) {
    std::set<std::string> present;
    const auto reply = recorded(http_reply("401 Unauthorized", "text/html",
                                           "<html><body>must authenticate</body></html>"));
    const auto error = read_present_contacts(reply, present);
    EXPECT_NE(error.find("401 Unauthorized"), std::string::npos) << error;
    EXPECT_NE(error.find("must authenticate"), std::string::npos) << error;
    calendar_inventory inv;
    const auto error2 = read_calendar_folder(recorded(http_reply("404 Not Found", "text/plain", "no such folder")),
                                             "/Calendar", inv);
    EXPECT_NE(error2.find("404"), std::string::npos) << error2;
}

TEST(carbonio_rest, folder_exports_encode_each_path_segment) {
    EXPECT_EQ(carbonio_folder_export_request("u@example.test", "/Work/Team A").target,
              "/service/home/u@example.test/Work/Team%20A?fmt=ics");
    EXPECT_EQ(carbonio_folder_export_request("u@example.test", "/Calendar").target,
              carbonio_calendar_export_request("u@example.test").target);
}

// FACTS.md §1: the export's header is the sorted union (case-sensitive) of the fields the folder's contacts
// use, so it changes with the data; every cell quoted; CRLF; no BOM.
TEST(carbonio_rest, the_export_header_is_whatever_fields_are_in_use) {
    const std::string export_csv =
        "\"birthday\",\"company\",\"email\",\"email2\",\"fileAs\",\"firstName\",\"homeCity\",\"lastName\","
        "\"mobilePhone\",\"notes\"\r\n"
        "\"\",\"\",\"\",\"\",\"2\",\"Ada\",\"London\",\"Lovelace\",\"+44 20 7946 0000\",\"line one\r\nline two\"\r\n"
        "\"1990-01-01\",\"ACME\",\"B@Example.test\",\"b2@example.test\",\"\",\"Bob\",\"\",\"\",\"\",\"\"\r\n";
    std::set<std::string> present;
    ASSERT_EQ(read_present_contacts(recorded(http_reply("200 OK", "text/csv", export_csv)), present), "");
    EXPECT_EQ(present, (std::set<std::string>{"email:b@example.test", "name:ada lovelace|442079460000"}));
    // Another mailbox, other fields in use: a header with only two columns reads the same way.
    present.clear();
    ASSERT_EQ(read_present_contacts(recorded(http_reply("200 OK", "text/csv",
                                                        "\"email\",\"fullName\"\r\n\"c@example.test\",\"C\"\r\n")),
                                    present),
              "");
    EXPECT_EQ(present, (std::set<std::string>{"email:c@example.test"}));
}

// FACTS.md §1: an empty folder is HTTP 200 with the body exactly "\r\n" (no header line).
TEST(carbonio_rest, an_empty_folder_export_is_crlf_only) {
    std::set<std::string> present;
    ASSERT_EQ(read_present_contacts(recorded(http_reply("200 OK", "text/csv", "\r\n")), present), "");
    EXPECT_TRUE(present.empty());
}

// There is no csvfmt "zimbra-csv" (FACTS.md §1): Carbonio's own columns go as the built-in "csv" format;
// every upload starts with a UTF-8 BOM so the server's charset guess cannot take UTF-8 for Latin-1.
TEST(carbonio_rest, contact_uploads_name_a_real_csvfmt_and_carry_a_bom) {
    for (const auto& [name, csvfmt] : {std::pair{"google.csv", "csv"}, std::pair{"zimbra.csv", "csv"},
                                       std::pair{"outlook.csv", "outlook-2003-csv"},
                                       std::pair{"thunderbird.csv", "thunderbird-csv"}}) {
        SCOPED_TRACE(name);
        const auto f = load(name);
        const auto post = carbonio_contacts_request("u@example.test", f.table, f.format, f.mapped);
        EXPECT_EQ(post.target, std::string("/service/home/u@example.test/Contacts?fmt=csv&csvfmt=") + csvfmt);
        ASSERT_GE(post.body.size(), 3u);
        EXPECT_EQ(post.body.substr(0, 3), "\xEF\xBB\xBF");
        // What the server reads back (BOM stripped from the first header) is the file's contacts.
        const auto table = read_csv(post.body);
        EXPECT_EQ(table.rows.size(), f.mapped.contacts.size());
        EXPECT_EQ(table.header.at(0).substr(0, 3) == "\xEF\xBB\xBF", false);
    }
}

// Jetty's error page for a 500 (FACTS.md §2: any other ServiceException) becomes its title, one line.
TEST(carbonio_rest, an_html_error_page_becomes_one_line) {
    const std::string jetty =
        "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"
        "<title>Error 500 system failure: quota exceeded &amp; more</title>\n</head>\n<body><h2>HTTP ERROR 500</h2>\n"
        "<p>Problem accessing /service/home/u@example.test/Calendar. Reason:\n<pre>    system failure</pre></p>"
        "<hr><a href=\"https://eclipse.org/jetty\">Powered by Jetty:// 9.4.46</a><hr/>\n</body>\n</html>\n";
    EXPECT_EQ(reply_line(jetty), "Error 500 system failure: quota exceeded & more");
    EXPECT_EQ(reply_line("<HTML><BODY>\n\n  <H1>Bad   Gateway</H1>\n<p>try later</p></BODY></HTML>"),
              "Bad Gateway try later");
    EXPECT_EQ(reply_line("Could not parse csv file - Reason : no column name definitions\r\n"),
              "Could not parse csv file - Reason : no column name definitions");
    EXPECT_EQ(reply_line(std::string(500, 'x')).size(), 203u);
    // The job's error for a refused export carries that line, not the page.
    std::set<std::string> present;
    const auto error = read_present_contacts(recorded(http_reply("500 Server Error", "text/html", jetty)), present);
    EXPECT_NE(error.find("500 Server Error: Error 500 system failure"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
    EXPECT_EQ(error.find("<"), std::string::npos);
}

// FACTS.md §2 (UserServlet.sendError): with cookie auth a POST to a missing folder answers 401.
TEST(carbonio_rest, a_401_on_a_token_post_names_both_causes) {
    const auto post = explain_status("POST", "/Contacts", 401, rest_auth::cookie);
    EXPECT_NE(post.find("token was refused"), std::string::npos) << post;
    EXPECT_NE(post.find("folder /Contacts does not exist"), std::string::npos) << post;
    EXPECT_EQ(explain_status("GET", "/Contacts", 401, rest_auth::cookie), "the token was refused");
    EXPECT_EQ(explain_status("GET", "/Contacts", 404, rest_auth::cookie), "the folder /Contacts does not exist");
    EXPECT_EQ(explain_status("POST", "/Calendar", 404, rest_auth::basic), "the folder /Calendar does not exist");
    EXPECT_NE(explain_status("POST", "/Calendar", 401, rest_auth::basic).find("password was refused"),
              std::string::npos);
    EXPECT_EQ(explain_status("POST", "/Calendar", 400, rest_auth::basic), "");
}

TEST(carbonio_rest, folders_are_found_whatever_the_case) {
    const std::vector<std::string> calendars{"/Calendar", "/Work/Team"};
    EXPECT_EQ(find_folder(calendars, "/calendar"), "/Calendar");
    EXPECT_EQ(find_folder(calendars, "/WORK/team"), "/Work/Team");
    EXPECT_EQ(find_folder(calendars, "/Work"), "");
}

TEST(carbonio_rest, sequence_is_the_components_own) {
    EXPECT_EQ(ics_sequence("BEGIN:VEVENT\r\nUID:a\r\nSEQUENCE:3\r\nEND:VEVENT\r\n"), 3);
    EXPECT_EQ(ics_sequence("BEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\n"), 0);
    EXPECT_EQ(ics_sequence("BEGIN:VEVENT\nUID:a\nSEQ\n UENCE:12\nEND:VEVENT\n"), 12);  // folded
    EXPECT_EQ(ics_sequence("BEGIN:VEVENT\r\nBEGIN:VALARM\r\nSEQUENCE:9\r\nEND:VALARM\r\nsequence:2\r\n"
                           "END:VEVENT\r\n"),
              2);
    EXPECT_EQ(ics_sequence("BEGIN:VEVENT\r\nSEQUENCE:x\r\nEND:VEVENT\r\n"), 0);
}

// The empty calendar as Carbonio exports it (FACTS.md §2, Mailbox.writeICalendarForCalendarItems).
TEST(carbonio_rest, an_empty_calendar_export_has_no_uids) {
    const std::string empty = "BEGIN:VCALENDAR\r\nX-WR-CALNAME:Calendar\r\nX-WR-CALID:10\r\n"
                              "PRODID:Carbonio-Calendar-Provider\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n";
    calendar_inventory inv;
    ASSERT_EQ(read_calendar_folder(recorded(http_reply("200 OK", "text/calendar", empty)), "/Calendar", inv), "");
    EXPECT_TRUE(inv.empty());
    const auto error = read_calendar_folder(recorded(http_reply("404 Not Found", "text/html",
                                                                "<html><title>Error 404 no such item</title></html>")),
                                            "/Work", inv);
    EXPECT_EQ(error.find("answered 404 Not Found: Error 404 no such item"), 0u)
        << error;
}

// What judge_calendar_object decides, with the mailbox's calendars read from recorded exports: Carbonio
// would move a UID found in another calendar, ignore a lower SEQUENCE and turn a VTODO into an appointment.
TEST(carbonio_rest, calendar_objects_are_judged_against_every_calendar) {
    const std::string mine =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
        "BEGIN:VEVENT\r\nUID:new\r\nDTSTART:20260101T090000Z\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:in-work\r\nSEQUENCE:5\r\nDTSTART:20260101T090000Z\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:older\r\nSEQUENCE:1\r\nDTSTART:20260101T090000Z\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:rerun\r\nSEQUENCE:2\r\nDTSTART:20260101T090000Z\r\nEND:VEVENT\r\n"
        "BEGIN:VTODO\r\nUID:task\r\nSUMMARY:buy milk\r\nEND:VTODO\r\n"
        "END:VCALENDAR\r\n";
    const auto cal = read_ics(mine);
    const auto groups = group_by_uid(cal);
    ASSERT_EQ(groups.objects.size(), 5u);
    calendar_inventory inv;
    const std::string calendar = "BEGIN:VCALENDAR\r\nPRODID:Carbonio-Calendar-Provider\r\nVERSION:2.0\r\n"
                                 "BEGIN:VEVENT\r\nUID:older\r\nSEQUENCE:4\r\nEND:VEVENT\r\n"
                                 "BEGIN:VEVENT\r\nUID:rerun\r\nSEQUENCE:2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    const std::string work = "BEGIN:VCALENDAR\r\nPRODID:Carbonio-Calendar-Provider\r\nVERSION:2.0\r\n"
                             "BEGIN:VEVENT\r\nUID:in-work\r\nSEQUENCE:0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    ASSERT_EQ(read_calendar_folder(recorded(http_reply("200 OK", "text/calendar", calendar)), "/Calendar", inv), "");
    ASSERT_EQ(read_calendar_folder(recorded(http_reply("200 OK", "text/calendar", work)), "/Work/Team", inv), "");
    using action = calendar_verdict::action;
    const auto v = [&](std::size_t i) { return judge_calendar_object(cal, groups.objects[i], inv, "/Calendar"); };
    EXPECT_EQ(v(0).what, action::post);
    EXPECT_FALSE(v(0).notable());
    EXPECT_EQ(v(1).what, action::existing);
    EXPECT_EQ(v(1).folder, "/Work/Team");
    EXPECT_NE(v(1).reason.find("Carbonio would move the event into /Calendar"), std::string::npos) << v(1).reason;
    EXPECT_EQ(v(2).what, action::existing);
    EXPECT_EQ(v(2).folder, "/Calendar");
    EXPECT_NE(v(2).reason.find("SEQUENCE 1 lower than the server's 4"), std::string::npos) << v(2).reason;
    EXPECT_EQ(v(3).what, action::existing);  // a plain rerun: counted, not itemised
    EXPECT_FALSE(v(3).notable());
    EXPECT_EQ(v(4).what, action::todo);
    EXPECT_NE(v(4).reason.find("VTODO"), std::string::npos);
}

}  // namespace
}  // namespace arrival::pim
