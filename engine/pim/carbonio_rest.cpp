#include "engine/pim/carbonio_rest.hpp"

#include <array>
#include <cctype>

#include <fmt/format.h>
#include "protocol/ascii.hpp"
#include "protocol/csv.hpp"
#include "protocol/percent.hpp"

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

rest_request carbonio_calendar_request(std::string_view user, const ics_calendar& cal,
                                       const grouped_calendar& groups, std::string_view folder) {
    return {carbonio_folder_target(user, folder) + "?fmt=ics&ignore=1",
            "text/calendar; charset=utf-8", make_carbonio_ics(cal, groups)};
}

namespace {
constexpr std::string_view calendar_end = "END:VCALENDAR\r\n";
}  // namespace

carbonio_calendar_batch::carbonio_calendar_batch(std::string_view user, const ics_calendar& head,
                                                 std::size_t max_bytes, std::string_view folder)
    : target_(carbonio_calendar_request(user, head, {}, folder).target),
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
    std::string out = csv::record(header);
    for (const auto& c : contacts.contacts) out += csv::record(zimbra_row(c));
    return out;
}

rest_request carbonio_contacts_request(std::string_view user, const csv_table& table, csv_format format,
                                       const mapped_contacts& contacts, std::string_view folder) {
    rest_request r;
    r.content_type = "text/csv; charset=utf-8";
    std::string_view csvfmt;
    switch (format) {
        case csv_format::outlook: csvfmt = "outlook-2003-csv"; break;
        case csv_format::thunderbird: csvfmt = "thunderbird-csv"; break;
        // There is no "zimbra-csv" (FACTS.md §1); "csv" is the built-in allfields format: each header is
        // the attribute of that name, which is what Carbonio's own columns are.
        case csv_format::zimbra:
        case csv_format::google: csvfmt = "csv"; break;
    }
    r.target = fmt::format("{}?fmt=csv&csvfmt={}", carbonio_folder_target(user, folder), csvfmt);
    // Carbonio guesses the charset from the first 8 KB unless a BOM says UTF-8, and strips the BOM from the
    // first header (ContactCSV.initFields, FACTS.md §1).
    r.body = "\xEF\xBB\xBF";
    if (format == csv_format::google) {
        r.body += to_zimbra_csv(contacts);
        return r;
    }
    // The server's own mapping for the dialect is used; we only normalise encoding and delimiter.
    std::set<std::size_t> lines;
    for (const auto& c : contacts.contacts) lines.insert(c.line);
    r.body += csv::record(table.header);
    for (const auto& row : table.rows) {
        if (lines.count(row.line)) r.body += csv::record(row.fields);
    }
    return r;
}

rest_request carbonio_contacts_export_request(std::string_view user, std::string_view folder) {
    return {carbonio_folder_target(user, folder) + "?fmt=csv", {}, {}, "GET"};
}

rest_request carbonio_calendar_export_request(std::string_view user) {
    return carbonio_folder_export_request(user, "/Calendar");
}

std::string carbonio_folder_target(std::string_view user, std::string_view folder_path) {
    auto target = "/service/home/" + percent::encode_segment(user);
    for (std::size_t b = 0; b < folder_path.size();) {
        auto e = folder_path.find('/', b);
        if (e == std::string_view::npos) e = folder_path.size();
        if (e > b) target += "/" + percent::encode_segment(folder_path.substr(b, e - b));
        b = e + 1;
    }
    return target;
}

rest_request carbonio_folder_export_request(std::string_view user, std::string_view folder_path) {
    return {carbonio_folder_target(user, folder_path) + "?fmt=ics", {}, {}, "GET"};
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
        out += ascii::lower(static_cast<char>(c));
    }
    return out;
}

// Lower-case ASCII copy, for finding HTML tags in any case.
// Text of an HTML fragment: tags dropped, the common entities decoded, whitespace runs as one space.
std::string html_text(std::string_view html) {
    std::string out;
    bool space = false;
    auto put = [&](char c) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !out.empty();
            return;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    };
    for (std::size_t i = 0; i < html.size(); ++i) {
        const char c = html[i];
        if (c == '<') {
            const auto e = html.find('>', i);
            if (e == std::string_view::npos) break;
            i = e;
            space = !out.empty();
            continue;
        }
        if (c == '&') {
            static constexpr std::pair<std::string_view, char> entities[] = {
                {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&apos;", '\''},
                {"&nbsp;", ' '}};
            bool decoded = false;
            for (const auto& [name, ch] : entities) {
                if (html.substr(i, name.size()) == name) {
                    put(ch);
                    i += name.size() - 1;
                    decoded = true;
                    break;
                }
            }
            if (decoded) continue;
        }
        put(c);
    }
    return out;
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
    if (reply.status != 200) return describe_reply(reply);
    if (reply.body.find_first_not_of(" \t\r\n") == std::string::npos) return {};
    const auto table = read_csv(reply.body);
    // The export has Carbonio's own field names (format "csv", allfields: FACTS.md §1), whatever csvfmt the
    // import used; which of them appear depends on the data, so columns are read by name.
    const auto mapped = map_contacts(table, csv_format::zimbra);
    for (const auto& c : mapped.contacts) {
        if (auto k = contact_key(c); !k.empty()) keys.insert(std::move(k));
    }
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

std::string reply_line(std::string_view body, std::size_t max) {
    std::string line;
    const auto lower = ascii::to_lower(body.substr(0, 64 * 1024));
    if (lower.find("<html") != std::string::npos || lower.find("<title") != std::string::npos) {
        // Jetty's error page puts the message in its title ("Error 500 system failure: ..."); without a
        // title, the page's first text is the most meaningful.
        const auto t = lower.find("<title");
        const auto open_end = t == std::string::npos ? t : lower.find('>', t);
        const auto close = open_end == std::string::npos ? open_end : lower.find("</title", open_end);
        if (close != std::string::npos) line = html_text(body.substr(open_end + 1, close - open_end - 1));
        if (line.empty()) {
            const auto b = lower.find("<body");
            line = html_text(body.substr(b == std::string::npos ? 0 : b));
        }
    } else {
        bool space = false;
        for (char c : body.substr(0, max * 4)) {
            if (static_cast<unsigned char>(c) < 0x20 || c == ' ') {
                space = !line.empty();
                continue;
            }
            if (space) line += ' ';
            space = false;
            line += c;
        }
    }
    if (line.size() > max) line = line.substr(0, max) + "...";
    return line;
}

std::string describe_reply(const rest_reply& r) {
    const auto line = reply_line(r.body);
    return fmt::format("answered {} {}{}{}", r.status, r.reason, line.empty() ? "" : ": ", line);
}

std::string explain_status(std::string_view method, std::string_view folder, int status, rest_auth auth) {
    const bool write = method == "POST" || method == "PUT";
    if (status == 401 && auth == rest_auth::cookie && write) {
        return fmt::format("either the token was refused or the folder {} does not exist (Carbonio answers a "
                           "token-authenticated {} to a missing folder with 401, not 404)",
                           folder, method);
    }
    if (status == 401) {
        return auth == rest_auth::cookie ? std::string("the token was refused")
                                         : std::string("the admin's name or password was refused (basic auth)");
    }
    if (status == 403) return "the admin may not act for this user";
    if (status == 404) return fmt::format("the folder {} does not exist", folder);
    return {};
}

std::string find_folder(const std::vector<std::string>& paths, std::string_view wanted) {
    const auto want = ascii::to_lower(wanted);
    for (const auto& p : paths) {
        if (ascii::to_lower(p) == want) return p;
    }
    return {};
}

long ics_sequence(std::string_view text) {
    // Unfolded lines at depth 1 (inside this component, outside VALARMs and the like).
    int depth = 0;
    std::string line;
    long seq = 0;
    auto take = [&](const std::string& l) {
        if (l.size() > 6 && ascii::to_lower(l.substr(0, 6)) == "begin:") ++depth;
        else if (l.size() > 4 && ascii::to_lower(l.substr(0, 4)) == "end:") --depth;
        else if (depth == 1) {
            ics_content_line cl;
            if (parse_content_line(l, cl).empty() && cl.name == "SEQUENCE") {
                const auto v = cl.value;
                if (!v.empty() && v.size() < 10 && v.find_first_not_of("0123456789") == std::string::npos) {
                    seq = std::stol(v);
                }
            }
        }
    };
    for (std::size_t b = 0; b < text.size();) {
        auto e = text.find('\n', b);
        if (e == std::string_view::npos) e = text.size();
        auto raw = text.substr(b, e - b);
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
        if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) {
            line.append(raw.substr(1));  // RFC 5545 §3.1 folding
        } else {
            if (!line.empty()) take(line);
            line = std::string(raw);
        }
        b = e + 1;
    }
    if (!line.empty()) take(line);
    return seq;
}

std::string read_calendar_folder(const rest_reply& reply, std::string_view folder, calendar_inventory& inv) {
    if (reply.status == 204) return {};
    if (reply.status != 200) return describe_reply(reply);
    const auto cal = read_ics(reply.body);
    for (const auto& c : cal.components) {
        inv[c.uid].push_back({std::string(folder), c.recurrence_id, ics_sequence(c.text)});
    }
    return {};
}

calendar_verdict judge_calendar_object(const ics_calendar& part, const calendar_object& obj,
                                       const calendar_inventory& inv, std::string_view target) {
    calendar_verdict v;
    for (auto i : obj.components) {
        if (part.components[i].kind == "VTODO") {
            // Carbonio has no tasks in the mailbox: a VTODO posted to a calendar becomes an appointment.
            v.what = calendar_verdict::action::todo;
            v.reason = "VTODO not posted: Carbonio would turn it into an appointment (its tasks are a separate "
                       "service)";
            return v;
        }
    }
    const auto it = inv.find(obj.uid);
    if (it == inv.end()) return v;
    v.what = calendar_verdict::action::existing;
    v.folder = it->second.front().folder;
    for (const auto& p : it->second) {
        if (p.folder != target) {
            v.folder = p.folder;
            break;
        }
    }
    std::vector<std::string> why;
    if (v.folder != target) {
        why.push_back(fmt::format("UID already in calendar {}: Carbonio would move the event into {}", v.folder,
                                  target));
    }
    for (auto i : obj.components) {
        const auto& c = part.components[i];
        for (const auto& p : it->second) {
            if (p.recurrence_id != c.recurrence_id) continue;
            const auto mine = ics_sequence(c.text);
            if (mine < p.sequence) {
                why.push_back(fmt::format("SEQUENCE {} lower than the server's {}{}: Carbonio would ignore it",
                                          mine, p.sequence,
                                          c.recurrence_id.empty() ? "" : " (RECURRENCE-ID " + c.recurrence_id + ")"));
            }
        }
    }
    for (const auto& w : why) v.reason += (v.reason.empty() ? "" : "; ") + w;
    return v;
}

}  // namespace arrival::pim
