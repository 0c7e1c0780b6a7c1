#include "engine/pim/carbonio_rest.hpp"

#include <array>
#include <cctype>

#include <fmt/format.h>

namespace arrival::pim {
namespace {

constexpr std::array<std::string_view, 38> zimbra_columns = {
    "firstName", "middleName", "lastName", "namePrefix", "nameSuffix", "fullName", "nickname",
    "company", "department", "jobTitle", "email", "email2", "email3",
    "workPhone", "homePhone", "mobilePhone", "pager", "workFax", "otherPhone",
    "homeStreet", "homeCity", "homeState", "homePostalCode", "homeCountry",
    "workStreet", "workCity", "workState", "workPostalCode", "workCountry",
    "otherStreet", "otherCity", "otherState", "otherPostalCode", "otherCountry",
    "workURL", "homeURL", "birthday", "notes",
};

std::size_t column(std::string_view name) {
    for (std::size_t i = 0; i < zimbra_columns.size(); ++i) {
        if (zimbra_columns[i] == name) return i;
    }
    return zimbra_columns.size();  // unreachable for the names used below
}

std::vector<std::string> zimbra_row(const contact& c) {
    std::vector<std::string> row(zimbra_columns.size());
    auto set = [&](std::string_view name, const std::string& v) { row[column(name)] = v; };
    std::string overflow;  // values without a free column go to the note rather than being dropped
    auto spill = [&](std::string_view what, const std::string& v) {
        overflow += fmt::format("\n{}: {}", what, v);
    };
    set("firstName", c.given);
    set("middleName", c.middle);
    set("lastName", c.family);
    set("namePrefix", c.prefix);
    set("nameSuffix", c.suffix);
    set("fullName", c.full_name);
    set("nickname", c.nickname);
    set("company", c.organization);
    set("department", c.department);
    set("jobTitle", c.title);
    constexpr std::string_view email_cols[] = {"email", "email2", "email3"};
    for (std::size_t i = 0; i < c.emails.size(); ++i) {
        if (i < 3) set(email_cols[i], c.emails[i].value);
        else spill("E-mail", c.emails[i].value);
    }
    for (const auto& p : c.phones) {
        std::string_view col = p.type == "work" ? "workPhone" : p.type == "home" ? "homePhone"
                             : p.type == "cell" ? "mobilePhone" : p.type == "pager" ? "pager"
                             : p.type == "fax" ? "workFax" : "otherPhone";
        if (row[column(col)].empty()) set(col, p.value);
        else spill("Phone", p.value);
    }
    for (const auto& a : c.addresses) {
        const std::string prefix = a.type == "work" || a.type == "home" ? a.type : "other";
        if (!row[column(prefix + "Street")].empty() || !row[column(prefix + "City")].empty()) {
            spill("Address", fmt::format("{} {} {} {} {}", a.street, a.city, a.region, a.postal_code, a.country));
            continue;
        }
        std::string street = a.street;
        if (!a.pobox.empty()) street = street.empty() ? a.pobox : street + "\n" + a.pobox;
        set(prefix + "Street", street);
        set(prefix + "City", a.city);
        set(prefix + "State", a.region);
        set(prefix + "PostalCode", a.postal_code);
        set(prefix + "Country", a.country);
    }
    for (const auto& u : c.urls) {
        std::string_view col = u.type == "home" ? "homeURL" : "workURL";
        if (row[column(col)].empty()) set(col, u.value);
        else spill("Web page", u.value);
    }
    set("birthday", c.birthday);
    std::string notes = c.full_note();
    if (!c.anniversary.empty()) overflow += "\nAnniversary: " + c.anniversary;
    if (!c.categories.empty()) {
        std::string cats;
        for (const auto& x : c.categories) cats += (cats.empty() ? "" : ", ") + x;
        overflow += "\nCategories: " + cats;
    }
    if (!overflow.empty()) notes += notes.empty() ? overflow.substr(1) : overflow;
    set("notes", notes);
    return row;
}

}  // namespace

std::string encode_path_segment(std::string_view s) {
    std::string out;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                          std::string_view("-._~!$&'()*+,;=:@").find(ch) != std::string_view::npos;
        if (keep) out += ch;
        else out += fmt::format("%{:02X}", c);
    }
    return out;
}

rest_request carbonio_calendar_request(std::string_view user, const ics_calendar& cal,
                                       const grouped_calendar& groups) {
    return {fmt::format("/service/home/{}/Calendar?fmt=ics&ignore=1", encode_path_segment(user)),
            "text/calendar; charset=utf-8", make_carbonio_ics(cal, groups)};
}

namespace {
constexpr std::string_view calendar_end = "END:VCALENDAR\r\n";
}  // namespace

carbonio_calendar_batch::carbonio_calendar_batch(std::string_view user, const ics_calendar& head,
                                                 std::size_t max_bytes)
    : target_(carbonio_calendar_request(user, head, {}).target),
      prefix_(make_carbonio_ics(head, {})),
      max_bytes_(max_bytes) {
    prefix_.resize(prefix_.size() - calendar_end.size());  // reopened: objects go before the END
    body_ = prefix_;
}

void carbonio_calendar_batch::add(const ics_calendar& part, const calendar_object& obj) {
    for (auto i : obj.components) body_ += part.components[i].text;
    ++objects_;
}

rest_request carbonio_calendar_batch::take() {
    rest_request r{target_, "text/calendar; charset=utf-8", std::move(body_)};
    r.body += calendar_end;
    body_ = prefix_;
    objects_ = 0;
    return r;
}

std::string to_zimbra_csv(const mapped_contacts& contacts) {
    std::vector<std::string> header(zimbra_columns.begin(), zimbra_columns.end());
    std::string out = write_csv_record(header);
    for (const auto& c : contacts.contacts) out += write_csv_record(zimbra_row(c));
    return out;
}

rest_request carbonio_contacts_request(std::string_view user, const csv_table& table, csv_format format,
                                       const mapped_contacts& contacts) {
    rest_request r;
    r.content_type = "text/csv; charset=utf-8";
    std::string_view csvfmt;
    switch (format) {
        case csv_format::outlook: csvfmt = "outlook-2003-csv"; break;
        case csv_format::thunderbird: csvfmt = "thunderbird-csv"; break;
        case csv_format::zimbra:
        case csv_format::google: csvfmt = "zimbra-csv"; break;
    }
    r.target = fmt::format("/service/home/{}/Contacts?fmt=csv&csvfmt={}", encode_path_segment(user), csvfmt);
    if (format == csv_format::google) {
        r.body = to_zimbra_csv(contacts);
        return r;
    }
    // The server's own mapping for the dialect is used; we only normalise encoding and delimiter.
    std::set<std::size_t> lines;
    for (const auto& c : contacts.contacts) lines.insert(c.line);
    r.body = write_csv_record(table.header);
    for (const auto& row : table.rows) {
        if (lines.count(row.line)) r.body += write_csv_record(row.fields);
    }
    return r;
}

rest_request carbonio_contacts_export_request(std::string_view user) {
    return {fmt::format("/service/home/{}/Contacts?fmt=csv", encode_path_segment(user)), {}, {}, "GET"};
}

rest_request carbonio_calendar_export_request(std::string_view user) {
    return {fmt::format("/service/home/{}/Calendar?fmt=ics", encode_path_segment(user)), {}, {}, "GET"};
}

namespace {

std::string lower_trimmed(std::string_view s) {
    std::string out;
    bool space = false;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isspace(c)) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
    }
    return out;
}

std::string reply_error(std::string_view what, const rest_reply& r) {
    std::string excerpt = r.body.substr(0, 200);
    for (auto& c : excerpt) {
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return fmt::format("{} answered {} {}{}{}", what, r.status, r.reason, excerpt.empty() ? "" : ": ", excerpt);
}

}  // namespace

std::string contact_key(const contact& c) {
    for (const auto& e : c.emails) {
        auto k = lower_trimmed(e.value);
        if (!k.empty()) return "email:" + k;
    }
    auto name = lower_trimmed(c.display_name());
    std::string digits;
    if (!c.phones.empty()) {
        for (char ch : c.phones.front().value) {
            if (ch >= '0' && ch <= '9') digits += ch;
        }
    }
    if (name.empty() && digits.empty()) return {};
    return "name:" + name + "|" + digits;
}

std::string read_present_contacts(const rest_reply& reply, std::set<std::string>& keys) {
    if (reply.status == 204) return {};
    if (reply.status != 200) return reply_error("GET Contacts?fmt=csv", reply);
    if (reply.body.find_first_not_of(" \t\r\n") == std::string::npos) return {};
    const auto table = read_csv(reply.body);
    // The export is always in Zimbra's native columns, whatever the import's csvfmt was.
    const auto mapped = map_contacts(table, csv_format::zimbra);
    for (const auto& c : mapped.contacts) {
        if (auto k = contact_key(c); !k.empty()) keys.insert(std::move(k));
    }
    return {};
}

std::string read_present_uids(const rest_reply& reply, std::set<std::string>& uids) {
    if (reply.status == 204) return {};
    if (reply.status != 200) return reply_error("GET Calendar?fmt=ics", reply);
    const auto cal = read_ics(reply.body);
    for (const auto& c : cal.components) uids.insert(c.uid);
    return {};
}

contacts_upload plan_contacts_upload(const mapped_contacts& contacts, const std::set<std::string>& present) {
    contacts_upload u;
    u.fresh.issues = contacts.issues;
    for (const auto& c : contacts.contacts) {
        const auto k = contact_key(c);
        if (!k.empty() && present.count(k)) ++u.present;
        else u.fresh.contacts.push_back(c);
    }
    return u;
}

calendar_upload plan_calendar_upload(const grouped_calendar& groups, const std::set<std::string>& present) {
    calendar_upload u;
    u.fresh.issues = groups.issues;
    for (const auto& o : groups.objects) {
        if (present.count(o.uid)) ++u.present;
        else u.fresh.objects.push_back(o);
    }
    return u;
}

}  // namespace arrival::pim
