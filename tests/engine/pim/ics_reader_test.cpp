// ICS reader and calendar grouping on bytes: unfolding, parameters, nesting, broken-input recovery with
// line numbers, RECURRENCE-ID grouping, and the resources/bodies built for CalDAV and Carbonio.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "engine/pim/calendar_object.hpp"
#include "engine/pim/ics_reader.hpp"
#include "tests/engine/pim/pim_test_support.hpp"

namespace arrival::pim {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace ics_reader_test {

std::string ics_fixture(const std::string& name) { return test::fixture("ics/" + name); }

TEST(ics_content_line, parses_name_params_value) {
    ics_content_line l;
    ASSERT_EQ(parse_content_line(R"(attendee;CN="Müller, Jörg";ROLE=REQ-PARTICIPANT:mailto:j@x)", l), "");
    EXPECT_EQ(l.name, "ATTENDEE");
    ASSERT_EQ(l.params.size(), 2u);
    EXPECT_EQ(l.params[0].first, "CN");
    EXPECT_EQ(l.params[0].second, "Müller, Jörg");
    EXPECT_EQ(l.params[1].second, "REQ-PARTICIPANT");
    EXPECT_EQ(l.value, "mailto:j@x");
}

TEST(ics_content_line, value_may_contain_colons_and_semicolons) {
    ics_content_line l;
    ASSERT_EQ(parse_content_line("RRULE:FREQ=WEEKLY;BYDAY=MO", l), "");
    EXPECT_EQ(l.value, "FREQ=WEEKLY;BYDAY=MO");
    ASSERT_EQ(parse_content_line("X-A;X-P=a,\"b:c\":v", l), "");
    EXPECT_EQ(l.params[0].second, "a,b:c");
}

TEST(ics_content_line, rejects_malformed_lines) {
    ics_content_line l;
    EXPECT_NE(parse_content_line("", l), "");
    EXPECT_NE(parse_content_line(":value", l), "");
    EXPECT_NE(parse_content_line("NAME", l), "");
    EXPECT_NE(parse_content_line("NAME;=x:v", l), "");
    EXPECT_NE(parse_content_line("NAME;P:v", l), "");
    EXPECT_NE(parse_content_line("NAME;P=\"open:v", l), "");
    EXPECT_NE(parse_content_line("has space:v", l), "");
}

TEST(ics_reader, reads_fixture_components_timezones_and_properties) {
    const auto cal = read_ics(ics_fixture("recurring.ics"));
    EXPECT_TRUE(cal.issues.empty()) << cal.issues.front().message;
    ASSERT_EQ(cal.timezones.size(), 2u);
    EXPECT_EQ(cal.timezones[0].tzid, "Europe/Berlin");
    EXPECT_EQ(cal.timezones[1].tzid, "America/New_York");
    ASSERT_EQ(cal.components.size(), 7u);
    EXPECT_EQ(cal.components[0].kind, "VEVENT");
    EXPECT_EQ(cal.components[0].uid, "weekly-standup-0001@example.test");
    EXPECT_EQ(cal.components[0].recurrence_id, "RECURRENCE-ID;TZID=Europe/Berlin:20240115T093000");
    EXPECT_EQ(cal.components[0].line, 7u);
    EXPECT_TRUE(cal.components[1].recurrence_id.empty());
    EXPECT_EQ(cal.components[1].tzid_refs, std::vector<std::string>{"Europe/Berlin"});
    EXPECT_EQ(cal.components[5].kind, "VTODO");
    EXPECT_EQ(cal.components[6].kind, "VJOURNAL");
    // Unknown properties, parameters and folding reach the output byte for byte.
    const auto& master = cal.components[1].text;
    EXPECT_NE(master.find("X-EXAMPLE-CUSTOM;X-PARAM=kept:opaque value\r\n"), std::string::npos);
    EXPECT_NE(master.find("ATTENDEE;CN=\"Müller, Jörg\";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:j\r\n"
                          " .mueller@example.test\r\n"),
              std::string::npos);
    EXPECT_NE(master.find("BEGIN:VALARM\r\n"), std::string::npos);
    EXPECT_EQ(cal.calendar_properties.size(), 5u);
}

// Found by fuzz_ics_reader: an empty UID line was kept beside the derived UID, so the written CalDAV
// resource carried two UIDs and did not read back.
TEST(ics_reader, empty_uid_is_replaced_by_a_derived_uid_and_the_resource_reads_back) {
    const auto cal = read_ics("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
    ASSERT_EQ(cal.components.size(), 1u);
    EXPECT_TRUE(cal.components[0].uid.starts_with("arrival-"));
    EXPECT_EQ(cal.components[0].text.find("UID:\r\n"), std::string::npos);
    const auto groups = group_by_uid(cal);
    ASSERT_EQ(groups.objects.size(), 1u);
    const auto again = read_ics(make_caldav_resource(cal, groups.objects[0]));
    EXPECT_TRUE(again.issues.empty());
    EXPECT_EQ(again.components.size(), 1u);
}

TEST(ics_reader, lf_and_crlf_give_the_same_components) {
    auto crlf = ics_fixture("recurring.ics");
    std::string lf;
    for (char c : crlf) {
        if (c != '\r') lf += c;
    }
    const auto a = read_ics(crlf), b = read_ics(lf);
    ASSERT_EQ(a.components.size(), b.components.size());
    for (std::size_t i = 0; i < a.components.size(); ++i) EXPECT_EQ(a.components[i].text, b.components[i].text);
}

TEST(ics_reader, broken_components_are_reported_with_lines_and_the_rest_is_kept) {
    const auto cal = read_ics(ics_fixture("broken.ics"));
    std::vector<std::string> uids;
    for (const auto& c : cal.components) uids.push_back(c.uid);
    ASSERT_EQ(uids.size(), 4u);
    EXPECT_EQ(uids[0], "good-before@example.test");
    EXPECT_EQ(uids[1], "good-after-1@example.test");
    EXPECT_TRUE(cal.components[2].uid_generated);
    EXPECT_EQ(cal.components[2].uid.rfind("arrival-", 0), 0u);
    EXPECT_NE(cal.components[2].text.find("\r\nUID:" + cal.components[2].uid + "\r\n"), std::string::npos);
    EXPECT_EQ(uids[3], "good-after-2@example.test");
    ASSERT_EQ(cal.issues.size(), 2u);
    EXPECT_EQ(cal.issues[0].line, 10u);
    EXPECT_NE(cal.issues[0].message.find("lost-end@example.test"), std::string::npos);
    EXPECT_NE(cal.issues[0].message.find("no END:VEVENT before BEGIN:VEVENT at line 15"), std::string::npos);
    EXPECT_EQ(cal.issues[1].line, 24u);
    EXPECT_NE(cal.issues[1].message.find("garbled@example.test"), std::string::npos);
}

TEST(ics_reader, generated_uid_is_stable) {
    const auto a = read_ics(ics_fixture("broken.ics")), b = read_ics(ics_fixture("broken.ics"));
    EXPECT_EQ(a.components[2].uid, b.components[2].uid);
}

TEST(ics_reader, mismatched_and_stray_ends) {
    const std::string text =
        "BEGIN:VCALENDAR\r\n"
        "END:VTODO\r\n"                      // 2: stray
        "BEGIN:VEVENT\r\nUID:a\r\n"          // 3
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\n" // 5
        "END:VEVENT\r\n"                     // 7: closes VEVENT while VALARM is open
        "BEGIN:VEVENT\r\nUID:b\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:c\r\n"          // 11: never ends
        "END:VCALENDAR\r\n";
    const auto cal = read_ics(text);
    ASSERT_EQ(cal.components.size(), 1u);
    EXPECT_EQ(cal.components[0].uid, "b");
    ASSERT_EQ(cal.issues.size(), 3u);
    EXPECT_EQ(cal.issues[0].line, 2u);
    EXPECT_EQ(cal.issues[1].line, 5u);
    EXPECT_NE(cal.issues[1].message.find("no END:VALARM"), std::string::npos);
    EXPECT_EQ(cal.issues[2].line, 11u);
}

TEST(ics_reader, unterminated_at_end_of_file) {
    const auto cal = read_ics("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\n");
    EXPECT_TRUE(cal.components.empty());
    ASSERT_EQ(cal.issues.size(), 1u);
    EXPECT_EQ(cal.issues[0].line, 2u);
    EXPECT_NE(cal.issues[0].message.find("before the end of the file"), std::string::npos);
}

TEST(ics_reader, bom_blank_lines_and_concatenated_calendars) {
    const auto cal = read_ics("\xEF\xBB\xBF" "BEGIN:VCALENDAR\n\nBEGIN:VEVENT\nUID:1\nEND:VEVENT\nEND:VCALENDAR\n"
                              "BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:2\nEND:VTODO\nEND:VCALENDAR\n");
    EXPECT_TRUE(cal.issues.empty());
    ASSERT_EQ(cal.components.size(), 2u);
    EXPECT_EQ(cal.components[1].kind, "VTODO");
}

TEST(calendar_object, groups_overrides_with_master_first) {
    const auto cal = read_ics(ics_fixture("recurring.ics"));
    const auto g = group_by_uid(cal);
    EXPECT_TRUE(g.issues.empty());
    ASSERT_EQ(g.objects.size(), 5u);
    EXPECT_EQ(g.objects[0].uid, "weekly-standup-0001@example.test");
    ASSERT_EQ(g.objects[0].components.size(), 3u);
    EXPECT_EQ(g.objects[0].components[0], 1u);  // the master leads even though an override came first
    EXPECT_EQ(g.objects[0].components[1], 0u);
    EXPECT_EQ(g.objects[0].components[2], 2u);
}

TEST(calendar_object, duplicate_uid_and_recurrence_id_is_reported) {
    const auto cal = read_ics("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\nEND:VEVENT\nBEGIN:VEVENT\nUID:d\nEND:VEVENT\n"
                              "END:VCALENDAR\n");
    const auto g = group_by_uid(cal);
    ASSERT_EQ(g.objects.size(), 1u);
    ASSERT_EQ(g.issues.size(), 1u);
    EXPECT_EQ(g.issues[0].line, 5u);
}

TEST(calendar_object, caldav_resource_has_only_used_timezones_and_no_method) {
    const auto cal = read_ics(ics_fixture("recurring.ics"));
    const auto g = group_by_uid(cal);
    const auto standup = make_caldav_resource(cal, g.objects[0]);
    EXPECT_EQ(standup.rfind("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp//Groupware 7.1//EN\r\n"
                            "CALSCALE:GREGORIAN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n",
                            0),
              0u);
    EXPECT_EQ(standup.find("METHOD"), std::string::npos);
    EXPECT_EQ(standup.find("X-WR-CALNAME"), std::string::npos);
    EXPECT_EQ(standup.find("America/New_York"), std::string::npos);
    EXPECT_NE(standup.find("SUMMARY:Standup (late)"), std::string::npos);
    EXPECT_EQ(standup.substr(standup.size() - 15), "END:VCALENDAR\r\n");
    const auto holiday = make_caldav_resource(cal, g.objects[2]);
    EXPECT_EQ(holiday.find("VTIMEZONE"), std::string::npos);
}

TEST(calendar_object, carbonio_body_puts_timezones_first) {
    const auto cal = read_ics(ics_fixture("recurring.ics"));
    const auto body = make_carbonio_ics(cal, group_by_uid(cal));
    const auto last_tz = body.rfind("END:VTIMEZONE");
    const auto first_event = body.find("BEGIN:VEVENT");
    ASSERT_NE(last_tz, std::string::npos);
    EXPECT_LT(last_tz, first_event);
    EXPECT_NE(body.find("BEGIN:VJOURNAL"), std::string::npos);
}

TEST(calendar_object, resource_names) {
    EXPECT_EQ(resource_name("abc-1@example.test", ".ics"), "abc-1@example.test.ics");
    EXPECT_EQ(resource_name("has/slash", ".ics").size(), 44u);
    EXPECT_EQ(resource_name("has/slash", ".ics"), resource_name("has/slash", ".ics"));
    EXPECT_NE(resource_name("..", ".ics"), "...ics");
}

}  // namespace
}  // namespace arrival::pim
