// Dialect detection and column mappings on the fixture exports, the vCard writer, and the Carbonio REST
// request bytes (which cannot be tested against a live Carbonio here).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/pim/carbonio_rest.hpp"
#include "engine/pim/csv_mapping.hpp"
#include "engine/pim/ics_reader.hpp"
#include "engine/pim/vcard_writer.hpp"

#include "tests/engine/pim/pim_test_support.hpp"

namespace arrival::pim {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace csv_mapping_test {

using test::fixture;

test::loaded_csv load(const std::string& name) { return test::load_csv(name); }

bool has_extra(const contact& c, std::string_view header, std::string_view value) {
    return std::any_of(c.extra.begin(), c.extra.end(), [&](const auto& kv) { return kv.first == header && kv.second == value; });
}

TEST(csv_mapping, outlook_windows1252) {
    const auto l = load("outlook.csv");
    EXPECT_EQ(l.format, csv_format::outlook);
    EXPECT_EQ(l.table.encoding, text_encoding::windows1252);
    ASSERT_EQ(l.mapped.contacts.size(), 2u);  // the third row is Outlook filler only
    const auto& c = l.mapped.contacts[0];
    EXPECT_EQ(c.given, "José");
    EXPECT_EQ(c.family, "Müller");
    EXPECT_EQ(c.prefix, "Dr.");
    EXPECT_EQ(c.organization, "Acme GmbH");
    EXPECT_EQ(c.department, "R&D");
    EXPECT_EQ(c.birthday, "1975-04-23");
    ASSERT_EQ(c.emails.size(), 2u);
    EXPECT_EQ(c.emails[1].value, "jm@home.example");
    ASSERT_EQ(c.phones.size(), 3u);
    EXPECT_EQ(c.phones[2], (typed_value{"cell", "+49 170 1111111"}));
    ASSERT_EQ(c.addresses.size(), 1u);
    EXPECT_EQ(c.addresses[0].city, "München");
    EXPECT_EQ(c.categories, (std::vector<std::string>{"Kunden", "VIP"}));
    EXPECT_EQ(c.note, "Met at the fair.\r\nSecond line, with \"quotes\".");
    EXPECT_TRUE(has_extra(c, "Spouse", "Ana"));                    // unknown column kept
    EXPECT_FALSE(has_extra(c, "Priority", "Normal"));              // filler dropped
    EXPECT_EQ(l.mapped.contacts[1].addresses[0].street, "Rue de l\xE2\x80\x99\xC3\x89glise 5");
}

TEST(csv_mapping, outlook_utf16) {
    const auto l = load("outlook_utf16.csv");
    EXPECT_EQ(l.table.encoding, text_encoding::utf16le);
    ASSERT_EQ(l.mapped.contacts.size(), 1u);
    EXPECT_EQ(l.mapped.contacts[0].family, "Σigma");
    EXPECT_EQ(l.mapped.contacts[0].note, "Ünïcödé note 🎉");
}

TEST(csv_mapping, google_groups_multivalues_and_leftovers) {
    const auto l = load("google.csv");
    EXPECT_EQ(l.format, csv_format::google);
    ASSERT_EQ(l.mapped.contacts.size(), 2u);
    const auto& g = l.mapped.contacts[0];
    EXPECT_EQ(g.full_name, "Grace Hopper");
    EXPECT_EQ(g.middle, "Brewster");
    ASSERT_EQ(g.emails.size(), 3u);
    EXPECT_EQ(g.emails[0], (typed_value{"work", "grace@navy.example"}));
    EXPECT_EQ(g.emails[1], (typed_value{"work", "hopper@yale.example"}));
    EXPECT_EQ(g.emails[2], (typed_value{"home", "grace.home@example.com"}));
    EXPECT_EQ(g.phones[0], (typed_value{"cell", "+1 555 0100"}));
    EXPECT_EQ(g.organization, "US Navy");
    EXPECT_EQ(g.title, "Rear Admiral");
    EXPECT_EQ(g.categories, std::vector<std::string>{"Navy"});
    EXPECT_TRUE(has_extra(g, "Relation 1 (Spouse)", "Vincent"));
    EXPECT_TRUE(has_extra(g, "Custom Field 1 (Shoe size)", "7"));
    EXPECT_EQ(l.mapped.contacts[1].birthday, "--06-23");
}

TEST(csv_mapping, thunderbird_bom_and_birthday_columns) {
    const auto l = load("thunderbird.csv");
    EXPECT_EQ(l.format, csv_format::thunderbird);
    ASSERT_EQ(l.mapped.contacts.size(), 2u);
    const auto& a = l.mapped.contacts[0];
    EXPECT_EQ(a.full_name, "Ada Lovelace");
    EXPECT_EQ(a.birthday, "1815-12-10");
    EXPECT_EQ(a.emails.size(), 2u);
    EXPECT_TRUE(has_extra(a, "Custom 1", "Likes: poetry"));
}

TEST(csv_mapping, zimbra_semicolon) {
    const auto l = load("zimbra.csv");
    EXPECT_EQ(l.format, csv_format::zimbra);
    EXPECT_EQ(l.table.delimiter, ';');
    ASSERT_EQ(l.mapped.contacts.size(), 2u);
    EXPECT_EQ(l.mapped.contacts[0].organization, "Institut du Radium");
    EXPECT_TRUE(has_extra(l.mapped.contacts[0], "assistantName", "Irène"));
    EXPECT_EQ(l.mapped.contacts[1].emails.size(), 2u);
}

TEST(csv_mapping, detection_and_names) {
    EXPECT_EQ(detect_csv_format({"foo", "bar"}), std::nullopt);
    EXPECT_EQ(detect_csv_format({" E-mail Address "}), csv_format::outlook);
    EXPECT_EQ(parse_csv_format("google"), csv_format::google);
    EXPECT_EQ(parse_csv_format("carbonio"), csv_format::zimbra);
    EXPECT_EQ(parse_csv_format("excel"), std::nullopt);
}

TEST(csv_mapping, row_without_identity_is_reported) {
    const auto t = parse_csv("First Name,E-mail Address,Spouse\n,,Someone\n", ',');
    const auto m = map_contacts(t, csv_format::outlook);
    EXPECT_TRUE(m.contacts.empty());
    ASSERT_EQ(m.issues.size(), 1u);
    EXPECT_EQ(m.issues[0].line, 2u);
}

TEST(contact, stable_uid_ignores_order_case_and_spacing) {
    contact a, b;
    a.given = "Ada";
    a.family = "Lovelace";
    a.emails = {{"", "Ada@Engine.example"}, {"", "x@y"}};
    b.full_name = "  ada   lovelace ";
    b.emails = {{"work", "x@y"}, {"", "ada@engine.example"}};
    EXPECT_EQ(a.stable_uid(), b.stable_uid());
    b.emails.pop_back();
    EXPECT_NE(a.stable_uid(), b.stable_uid());
}

TEST(vcard_writer, escapes_folds_and_types) {
    contact c;
    c.given = "Jörg";
    c.family = "Müller; Sohn";
    c.organization = "A, B & C";
    c.emails = {{"work", "j@x.example"}};
    c.phones = {{"cell", "+49 1"}};
    c.note = std::string(80, 'n') + "\nline2 \\ end";
    c.extra = {{"Spouse", "Ana"}};
    const auto v3 = write_vcard(c, "arrival-1", vcard_version::v3);
    EXPECT_EQ(v3.rfind("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:arrival-1\r\nFN:Jörg Müller\\; Sohn\r\n"
                       "N:Müller\\; Sohn;Jörg;;;\r\n", 0),
              0u);
    EXPECT_NE(v3.find("ORG:A\\, B & C\r\n"), std::string::npos);
    EXPECT_NE(v3.find("EMAIL;TYPE=INTERNET,WORK:j@x.example\r\n"), std::string::npos);
    EXPECT_NE(v3.find("TEL;TYPE=CELL:+49 1\r\n"), std::string::npos);
    EXPECT_NE(v3.find("\r\n " + std::string(5, 'n')), std::string::npos);   // folded
    EXPECT_NE(v3.find("\\nline2 \\\\ end\\nSpouse: Ana"), std::string::npos);
    for (std::size_t p = 0, e; (e = v3.find("\r\n", p)) != std::string::npos; p = e + 2) EXPECT_LE(e - p, 75u);
    const auto v4 = write_vcard(c, "arrival-1", vcard_version::v4);
    EXPECT_NE(v4.find("VERSION:4.0\r\n"), std::string::npos);
    EXPECT_NE(v4.find("EMAIL;TYPE=work:j@x.example\r\n"), std::string::npos);
}

TEST(vcard_writer, fold_never_splits_utf8) {
    const auto folded = fold_line(std::string(74, 'a') + "é" + std::string(100, 'b'));
    EXPECT_EQ(folded.substr(0, 76), std::string(74, 'a') + "\r\n");
    EXPECT_EQ(folded.substr(76, 3), " é");
}

TEST(carbonio_rest, calendar_request_bytes) {
    const auto cal = read_ics(fixture("ics/recurring.ics"));
    const auto r = carbonio_calendar_request("user 1@example.test", cal, group_by_uid(cal));
    EXPECT_EQ(r.target, "/service/home/user%201@example.test/Calendar?fmt=ics&ignore=1");
    EXPECT_EQ(r.content_type, "text/calendar; charset=utf-8");
    EXPECT_EQ(r.body.rfind("BEGIN:VCALENDAR\r\n", 0), 0u);
    EXPECT_LT(r.body.rfind("END:VTIMEZONE"), r.body.find("BEGIN:VEVENT"));
}

TEST(carbonio_rest, google_contacts_become_zimbra_columns) {
    const auto l = load("google.csv");
    const auto r = carbonio_contacts_request("u@example.test", l.table, l.format, l.mapped);
    EXPECT_EQ(r.target, "/service/home/u@example.test/Contacts?fmt=csv&csvfmt=csv");
    const auto t = read_csv(r.body);  // the upload starts with a BOM, which read_csv strips as Carbonio does
    ASSERT_EQ(t.rows.size(), 2u);
    auto col = [&](std::string_view name) {
        return static_cast<std::size_t>(std::find(t.header.begin(), t.header.end(), name) - t.header.begin());
    };
    EXPECT_EQ(t.rows[0].fields[col("firstName")], "Grace");
    EXPECT_EQ(t.rows[0].fields[col("email")], "grace@navy.example");
    EXPECT_EQ(t.rows[0].fields[col("email2")], "hopper@yale.example");
    EXPECT_EQ(t.rows[0].fields[col("email3")], "grace.home@example.com");
    EXPECT_EQ(t.rows[0].fields[col("mobilePhone")], "+1 555 0100");
    EXPECT_EQ(t.rows[0].fields[col("company")], "US Navy");
    EXPECT_NE(t.rows[0].fields[col("notes")].find("Relation 1 (Spouse): Vincent"), std::string::npos);
}

TEST(carbonio_rest, outlook_contacts_keep_their_columns) {
    const auto l = load("outlook.csv");
    const auto r = carbonio_contacts_request("u@example.test", l.table, l.format, l.mapped);
    EXPECT_EQ(r.target, "/service/home/u@example.test/Contacts?fmt=csv&csvfmt=outlook-2003-csv");
    const auto t = read_csv(r.body);
    EXPECT_EQ(t.header, l.table.header);
    // Only rows that became contacts: the empty last row is reported by the mapping, not sent.
    EXPECT_EQ(l.table.rows.size(), 3u);
    EXPECT_EQ(t.rows.size(), l.mapped.contacts.size());
    EXPECT_EQ(t.rows[0].fields[1], "José");  // re-encoded as UTF-8
}

}  // namespace
}  // namespace arrival::pim
