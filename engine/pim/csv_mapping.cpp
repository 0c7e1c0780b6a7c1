#include "engine/pim/csv_mapping.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

namespace arrival::pim {
namespace {

std::string lower_trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return std::string(s);
}

postal_address& address(contact& c, std::string_view type) {
    for (auto& a : c.addresses) {
        if (a.type == type) return a;
    }
    c.addresses.push_back({});
    c.addresses.back().type = std::string(type);
    return c.addresses.back();
}

void append_line(std::string& field, std::string_view v) {
    if (!field.empty()) field += '\n';
    field += v;
}

// Dates: ISO (YYYY-MM-DD, --MM-DD for no year), US M/D/YYYY (Outlook English), D.M.YYYY (European).
// Anything else is kept as written; "0/0/00" and friends are Outlook's way of saying "no date".
std::string normalise_date(std::string_view v) {
    if (v == "0/0/00" || v == "00/00/0000" || v == "0.0.00" || v == "00.00.0000") return {};
    int a = 0, b = 0, y = 0;
    char s1 = 0, s2 = 0;
    const std::string str(v);
    if (std::sscanf(str.c_str(), "%d-%d-%d", &y, &a, &b) == 3 && y > 999) return fmt::format("{:04}-{:02}-{:02}", y, a, b);
    if (std::sscanf(str.c_str(), "%d%c%d%c%d", &a, &s1, &b, &s2, &y) == 5 && s1 == s2 && (s1 == '/' || s1 == '.')) {
        if (y < 100) y += y < 30 ? 2000 : 1900;
        const int month = s1 == '/' ? a : b, day = s1 == '/' ? b : a;
        if (month >= 1 && month <= 12 && day >= 1 && day <= 31) return fmt::format("{:04}-{:02}-{:02}", y, month, day);
    }
    return str;
}

void split_categories(contact& c, std::string_view v) {
    for (;;) {
        const auto p = v.find(';');
        auto part = trim(v.substr(0, p));
        if (!part.empty()) c.categories.push_back(std::move(part));
        if (p == std::string_view::npos) break;
        v.remove_prefix(p + 1);
    }
}

using setter = void (*)(contact&, const std::string&);

struct column_rule {
    std::string_view header;  // lower-case
    setter set;
};

#define ARRIVAL_SET(expr) [](contact& c, const std::string& v) { expr; }
#define EMAIL(t) ARRIVAL_SET(c.emails.push_back({t, v}))
#define PHONE(t) ARRIVAL_SET(c.phones.push_back({t, v}))
#define URL(t) ARRIVAL_SET(c.urls.push_back({t, v}))
#define ADDR(t, f) ARRIVAL_SET(append_line(address(c, t).f, v))
#define IGNORE ARRIVAL_SET((void)c; (void)v)

// Outlook's English export (Outlook 2003..365 use the same names).
constexpr column_rule outlook_rules[] = {
    {"title", ARRIVAL_SET(c.prefix = v)}, {"first name", ARRIVAL_SET(c.given = v)},
    {"middle name", ARRIVAL_SET(c.middle = v)}, {"last name", ARRIVAL_SET(c.family = v)},
    {"suffix", ARRIVAL_SET(c.suffix = v)}, {"company", ARRIVAL_SET(c.organization = v)},
    {"department", ARRIVAL_SET(c.department = v)}, {"job title", ARRIVAL_SET(c.title = v)},
    {"business street", ADDR("work", street)}, {"business street 2", ADDR("work", street)},
    {"business street 3", ADDR("work", street)}, {"business city", ADDR("work", city)},
    {"business state", ADDR("work", region)}, {"business postal code", ADDR("work", postal_code)},
    {"business country/region", ADDR("work", country)}, {"business country", ADDR("work", country)},
    {"business address po box", ADDR("work", pobox)},
    {"home street", ADDR("home", street)}, {"home street 2", ADDR("home", street)},
    {"home street 3", ADDR("home", street)}, {"home city", ADDR("home", city)},
    {"home state", ADDR("home", region)}, {"home postal code", ADDR("home", postal_code)},
    {"home country/region", ADDR("home", country)}, {"home country", ADDR("home", country)},
    {"home address po box", ADDR("home", pobox)},
    {"other street", ADDR("other", street)}, {"other street 2", ADDR("other", street)},
    {"other street 3", ADDR("other", street)}, {"other city", ADDR("other", city)},
    {"other state", ADDR("other", region)}, {"other postal code", ADDR("other", postal_code)},
    {"other country/region", ADDR("other", country)}, {"other country", ADDR("other", country)},
    {"other address po box", ADDR("other", pobox)},
    {"business phone", PHONE("work")}, {"business phone 2", PHONE("work")}, {"company main phone", PHONE("work")},
    {"business fax", PHONE("fax")}, {"home fax", PHONE("fax")}, {"other fax", PHONE("fax")},
    {"home phone", PHONE("home")}, {"home phone 2", PHONE("home")}, {"mobile phone", PHONE("cell")},
    {"car phone", PHONE("cell")}, {"pager", PHONE("pager")}, {"other phone", PHONE("other")},
    {"primary phone", PHONE("")}, {"assistant's phone", PHONE("other")}, {"callback", PHONE("other")},
    {"e-mail address", EMAIL("")}, {"e-mail 2 address", EMAIL("")}, {"e-mail 3 address", EMAIL("")},
    {"e-mail type", IGNORE}, {"e-mail 2 type", IGNORE}, {"e-mail 3 type", IGNORE},
    // Display names are derived by Outlook from name + address; keeping them would only add noise.
    {"e-mail display name", IGNORE}, {"e-mail 2 display name", IGNORE}, {"e-mail 3 display name", IGNORE},
    {"web page", URL("")}, {"birthday", ARRIVAL_SET(c.birthday = normalise_date(v))},
    {"anniversary", ARRIVAL_SET(c.anniversary = normalise_date(v))}, {"notes", ARRIVAL_SET(c.note = v)},
    {"nickname", ARRIVAL_SET(c.nickname = v)},
    // Outlook separates categories with ';' inside the one cell.
    {"categories", ARRIVAL_SET(split_categories(c, v))},
};

// Thunderbird's address book export.
constexpr column_rule thunderbird_rules[] = {
    {"first name", ARRIVAL_SET(c.given = v)}, {"last name", ARRIVAL_SET(c.family = v)},
    {"display name", ARRIVAL_SET(c.full_name = v)}, {"nickname", ARRIVAL_SET(c.nickname = v)},
    {"primary email", EMAIL("")}, {"secondary email", EMAIL("")},
    {"work phone", PHONE("work")}, {"home phone", PHONE("home")}, {"fax number", PHONE("fax")},
    {"pager number", PHONE("pager")}, {"mobile number", PHONE("cell")},
    {"home address", ADDR("home", street)}, {"home address 2", ADDR("home", street)},
    {"home city", ADDR("home", city)}, {"home state", ADDR("home", region)},
    {"home zipcode", ADDR("home", postal_code)}, {"home country", ADDR("home", country)},
    {"work address", ADDR("work", street)}, {"work address 2", ADDR("work", street)},
    {"work city", ADDR("work", city)}, {"work state", ADDR("work", region)},
    {"work zipcode", ADDR("work", postal_code)}, {"work country", ADDR("work", country)},
    {"job title", ARRIVAL_SET(c.title = v)}, {"department", ARRIVAL_SET(c.department = v)},
    {"organization", ARRIVAL_SET(c.organization = v)}, {"web page 1", URL("work")}, {"web page 2", URL("home")},
    {"notes", ARRIVAL_SET(c.note = v)},
};

// Zimbra/Carbonio's native names (what "Export > Contacts > Zimbra CSV" writes).
constexpr column_rule zimbra_rules[] = {
    {"nameprefix", ARRIVAL_SET(c.prefix = v)}, {"firstname", ARRIVAL_SET(c.given = v)},
    {"middlename", ARRIVAL_SET(c.middle = v)}, {"lastname", ARRIVAL_SET(c.family = v)},
    {"namesuffix", ARRIVAL_SET(c.suffix = v)}, {"fullname", ARRIVAL_SET(c.full_name = v)},
    {"nickname", ARRIVAL_SET(c.nickname = v)}, {"company", ARRIVAL_SET(c.organization = v)},
    {"department", ARRIVAL_SET(c.department = v)}, {"jobtitle", ARRIVAL_SET(c.title = v)},
    {"email", EMAIL("")}, {"email2", EMAIL("")}, {"email3", EMAIL("")},
    {"workphone", PHONE("work")}, {"workphone2", PHONE("work")}, {"companyphone", PHONE("work")},
    {"homephone", PHONE("home")}, {"homephone2", PHONE("home")}, {"mobilephone", PHONE("cell")},
    {"carphone", PHONE("cell")}, {"pager", PHONE("pager")}, {"workfax", PHONE("fax")}, {"homefax", PHONE("fax")},
    {"otherfax", PHONE("fax")}, {"otherphone", PHONE("other")}, {"assistantphone", PHONE("other")},
    {"callbackphone", PHONE("other")},
    {"homestreet", ADDR("home", street)}, {"homecity", ADDR("home", city)}, {"homestate", ADDR("home", region)},
    {"homepostalcode", ADDR("home", postal_code)}, {"homecountry", ADDR("home", country)},
    {"workstreet", ADDR("work", street)}, {"workcity", ADDR("work", city)}, {"workstate", ADDR("work", region)},
    {"workpostalcode", ADDR("work", postal_code)}, {"workcountry", ADDR("work", country)},
    {"otherstreet", ADDR("other", street)}, {"othercity", ADDR("other", city)},
    {"otherstate", ADDR("other", region)}, {"otherpostalcode", ADDR("other", postal_code)},
    {"othercountry", ADDR("other", country)},
    {"homeurl", URL("home")}, {"workurl", URL("work")}, {"otherurl", URL("other")},
    {"birthday", ARRIVAL_SET(c.birthday = normalise_date(v))},
    {"anniversary", ARRIVAL_SET(c.anniversary = normalise_date(v))}, {"notes", ARRIVAL_SET(c.note = v)},
    // Derived by the server from the name fields.
    {"fileas", IGNORE},
};

// Google Contacts, both the 2018-2023 export ("Given Name", "Group Membership") and the current one
// ("First Name", "Labels"). Numbered groups ("E-mail 2 - Value") are handled in google_group().
constexpr column_rule google_rules[] = {
    {"name", ARRIVAL_SET(c.full_name = v)}, {"given name", ARRIVAL_SET(c.given = v)},
    {"first name", ARRIVAL_SET(c.given = v)}, {"additional name", ARRIVAL_SET(c.middle = v)},
    {"middle name", ARRIVAL_SET(c.middle = v)}, {"family name", ARRIVAL_SET(c.family = v)},
    {"last name", ARRIVAL_SET(c.family = v)}, {"name prefix", ARRIVAL_SET(c.prefix = v)},
    {"name suffix", ARRIVAL_SET(c.suffix = v)}, {"nickname", ARRIVAL_SET(c.nickname = v)},
    {"birthday", ARRIVAL_SET(c.birthday = normalise_date(v))}, {"notes", ARRIVAL_SET(c.note = v)},
    {"organization name", ARRIVAL_SET(c.organization = v)}, {"organization title", ARRIVAL_SET(c.title = v)},
    {"organization department", ARRIVAL_SET(c.department = v)},
    {"file as", IGNORE}, {"photo", IGNORE},
};

#undef ARRIVAL_SET
#undef EMAIL
#undef PHONE
#undef URL
#undef ADDR
#undef IGNORE

template <std::size_t N>
setter find_rule(const column_rule (&rules)[N], std::string_view header) {
    for (const auto& r : rules) {
        if (r.header == header) return r.set;
    }
    return nullptr;
}

// Google's type labels: "* Home", "Work", "Mobile", "Home Fax", "Other", custom text.
std::string google_type(std::string_view label) {
    auto t = lower_trim(label);
    if (!t.empty() && t.front() == '*') t = lower_trim(std::string_view(t).substr(1));
    if (t.find("fax") != std::string::npos) return "fax";
    if (t == "mobile" || t == "cell") return "cell";
    if (t == "home" || t == "work" || t == "other" || t == "pager") return t;
    return {};
}

// Google packs several values into one cell separated by " ::: ".
std::vector<std::string> split_google(std::string_view v) {
    std::vector<std::string> out;
    for (;;) {
        const auto p = v.find(" ::: ");
        auto part = trim(v.substr(0, p));
        if (!part.empty()) out.push_back(std::move(part));
        if (p == std::string_view::npos) break;
        v.remove_prefix(p + 5);
    }
    return out;
}

// Numbered Google columns: "<Kind> <n> - <Field>". Values are applied per group after the record is read,
// because the type column of a group may come before or after its value.
struct google_group {
    std::string label;  // the header's "<Kind> <n>" as written, for note lines
    std::string kind;   // lower-case: "e-mail", "phone", "address", "website", "organization", ...
    std::string field;  // "type"/"label", "value", "street", ...
    int index = 0;
};

std::optional<google_group> parse_google_group(std::string_view h) {
    const auto dash = h.find(" - ");
    if (dash == std::string_view::npos) return std::nullopt;
    auto left = h.substr(0, dash);
    const auto sp = left.rfind(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    const auto num = left.substr(sp + 1);
    if (num.empty() || !std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    google_group g;
    g.label = std::string(left);
    g.kind = lower_trim(left.substr(0, sp));
    g.field = lower_trim(h.substr(dash + 3));
    if (g.field == "label") g.field = "type";
    g.index = std::atoi(std::string(num).c_str());
    return g;
}

// Values Outlook and Google fill in for "nothing" in columns we do not map; not worth a note line.
bool is_filler(std::string_view v) {
    return v == "Normal" || v == "False" || v == "Unspecified" || v == "SMTP" || v == "0/0/00" ||
           v == "* myContacts" || v == "* starred ::: * myContacts";
}

void apply_google_groups(contact& c, const std::vector<std::pair<google_group, std::string>>& cells,
                         std::vector<std::pair<std::string, std::string>>& leftovers) {
    std::vector<std::pair<std::string, int>> keys;
    for (const auto& [g, v] : cells) {
        std::pair<std::string, int> key{g.kind, g.index};
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
    for (const auto& [kind, index] : keys) {
        std::map<std::string, std::string> f;
        for (const auto& [g, v] : cells) {
            if (g.kind == kind && g.index == index) f[g.field] = v;
        }
        const auto type = google_type(f["type"]);
        if (kind == "e-mail") {
            for (auto& v : split_google(f["value"])) c.emails.push_back({type, std::move(v)});
        } else if (kind == "phone") {
            for (auto& v : split_google(f["value"])) c.phones.push_back({type, std::move(v)});
        } else if (kind == "website") {
            for (auto& v : split_google(f["value"])) c.urls.push_back({type, std::move(v)});
        } else if (kind == "address") {
            postal_address a;
            a.type = type.empty() ? "other" : type;
            a.street = f["street"];
            a.city = f["city"];
            a.pobox = f["po box"];
            a.region = f["region"];
            a.postal_code = f["postal code"];
            a.country = f["country"];
            a.extended = f["extended address"];
            if (a.empty() && !f["formatted"].empty()) a.street = f["formatted"];
            if (!a.empty()) c.addresses.push_back(std::move(a));
        } else if (kind == "organization") {
            if (c.organization.empty()) c.organization = f["name"];
            if (c.title.empty()) c.title = f["title"];
            if (c.department.empty()) c.department = f["department"];
        } else {
            // Relation, IM, Event, Custom Field: no vCard 3.0 home everyone reads; keep them in the note as
            // "Relation 1 (Spouse): Vincent".
            std::string label, rest;
            for (const auto& [g, v] : cells) {
                if (g.kind != kind || g.index != index) continue;
                label = g.label;
                if (g.field == "type" || g.field == "value") continue;
                if (!v.empty()) rest += fmt::format("{}{}: {}", rest.empty() ? "" : ", ", g.field, v);
            }
            const auto value = f["value"];
            const auto label_type = trim(f["type"]);
            if (value.empty() && rest.empty()) continue;
            leftovers.emplace_back(label_type.empty() ? label : fmt::format("{} ({})", label, label_type),
                                   value.empty() ? rest : rest.empty() ? value : value + ", " + rest);
        }
    }
}

}  // namespace

std::string_view to_string(csv_format f) noexcept {
    switch (f) {
        case csv_format::outlook: return "outlook";
        case csv_format::google: return "google";
        case csv_format::thunderbird: return "thunderbird";
        case csv_format::zimbra: return "zimbra";
    }
    return "?";
}

std::optional<csv_format> parse_csv_format(std::string_view name) noexcept {
    for (auto f : {csv_format::outlook, csv_format::google, csv_format::thunderbird, csv_format::zimbra}) {
        if (to_string(f) == name) return f;
    }
    if (name == "carbonio") return csv_format::zimbra;
    return std::nullopt;
}

std::optional<csv_format> detect_csv_format(const std::vector<std::string>& header) {
    std::vector<std::string> h;
    for (const auto& col : header) h.push_back(lower_trim(col));
    auto has = [&](std::string_view name) { return std::find(h.begin(), h.end(), name) != h.end(); };
    if (has("e-mail 1 - value") || has("group membership") || (has("given name") && has("family name")))
        return csv_format::google;
    if (has("primary email")) return csv_format::thunderbird;
    if (has("e-mail address") || (has("first name") && has("business phone"))) return csv_format::outlook;
    // Zimbra's names are single camelCase words, which the others never use.
    if (has("email") || has("firstname") || has("fullname") || has("lastname")) return csv_format::zimbra;
    return std::nullopt;
}

mapped_contacts map_contacts(const csv_table& table, csv_format format) {
    mapped_contacts out;
    std::vector<std::string> keys;
    for (const auto& col : table.header) keys.push_back(lower_trim(col));
    for (const auto& row : table.rows) {
        contact c;
        c.line = row.line;
        std::vector<std::pair<google_group, std::string>> groups;
        for (std::size_t i = 0; i < row.fields.size(); ++i) {
            auto v = trim(row.fields[i]);
            if (v.empty()) continue;
            const std::string header = i < table.header.size() ? table.header[i] : fmt::format("column {}", i + 1);
            const std::string key = i < keys.size() ? keys[i] : std::string{};
            setter set = nullptr;
            switch (format) {
                case csv_format::outlook: set = find_rule(outlook_rules, key); break;
                case csv_format::thunderbird: set = find_rule(thunderbird_rules, key); break;
                case csv_format::zimbra: set = find_rule(zimbra_rules, key); break;
                case csv_format::google:
                    set = find_rule(google_rules, key);
                    if (!set) {
                        if (auto g = parse_google_group(header)) {
                            groups.emplace_back(std::move(*g), std::move(v));
                            continue;
                        }
                        if (key == "group membership" || key == "labels") {
                            for (auto& label : split_google(v)) {
                                if (label != "* myContacts" && label != "* starred")
                                    c.categories.push_back(label.front() == '*' ? trim(label.substr(1)) : label);
                            }
                            continue;
                        }
                    }
                    break;
            }
            if (set) {
                set(c, v);
            } else if (!is_filler(v)) {
                c.extra.emplace_back(header, std::move(v));
            }
        }
        if (!groups.empty()) apply_google_groups(c, groups, c.extra);
        // Thunderbird splits the birthday into three columns; they arrive in extra as unknowns otherwise.
        if (format == csv_format::thunderbird) {
            std::string y, m, d;
            std::erase_if(c.extra, [&](const auto& kv) {
                const auto k = lower_trim(kv.first);
                if (k == "birth year") y = kv.second;
                else if (k == "birth month") m = kv.second;
                else if (k == "birth day") d = kv.second;
                else return false;
                return true;
            });
            if (!m.empty() && !d.empty()) {
                c.birthday = fmt::format("{}-{:0>2}-{:0>2}", y.empty() ? "-" : y, m, d);
            }
        }
        if (c.anonymous() && c.extra.empty() && c.note.empty()) continue;  // an empty row
        if (c.anonymous()) {
            out.issues.push_back({row.line, "no name, organisation, e-mail or phone; contact skipped"});
            continue;
        }
        out.contacts.push_back(std::move(c));
    }
    return out;
}

}  // namespace arrival::pim
