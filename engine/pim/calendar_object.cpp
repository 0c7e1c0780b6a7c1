#include "engine/pim/calendar_object.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "engine/pim/sha256.hpp"
#include "protocol/ascii.hpp"

namespace arrival::pim {
namespace {

std::string_view property_name(std::string_view line) {
    const auto end = line.find_first_of(";:");
    return line.substr(0, end == std::string_view::npos ? line.size() : end);
}

// The VCALENDAR header every resource gets: the file's own VERSION/PRODID/CALSCALE when present.
std::string calendar_header(const ics_calendar& cal) {
    std::string out = "BEGIN:VCALENDAR\r\n";
    bool version = false, prodid = false;
    std::set<std::string, std::less<>> seen;
    for (const auto& line : cal.calendar_properties) {
        const auto name = property_name(line);
        const bool keep = ascii::iequals(name, "VERSION") || ascii::iequals(name, "PRODID") || ascii::iequals(name, "CALSCALE");
        if (!keep || !seen.emplace(std::string(name)).second) continue;
        version = version || ascii::iequals(name, "VERSION");
        prodid = prodid || ascii::iequals(name, "PRODID");
        out += line;
    }
    if (!version) out += "VERSION:2.0\r\n";
    if (!prodid) out += "PRODID:-//arrival//calendar import//EN\r\n";
    return out;
}

void append_timezones(const ics_calendar& cal, const std::vector<std::string>& tzids, std::string& out) {
    std::set<std::string_view> done;
    for (const auto& tzid : tzids) {
        for (const auto& tz : cal.timezones) {
            // First definition wins; later duplicates of the same TZID are the same zone re-exported.
            if (tz.tzid == tzid && done.insert(tz.tzid).second) {
                out += tz.text;
                break;
            }
        }
    }
}

}  // namespace

grouped_calendar group_by_uid(const ics_calendar& cal) {
    grouped_calendar g;
    std::map<std::string, std::size_t, std::less<>> index;  // UID -> objects index
    std::map<std::pair<std::size_t, std::string>, std::size_t> seen_rid;  // (object, rid) -> component
    for (std::size_t i = 0; i < cal.components.size(); ++i) {
        const auto& c = cal.components[i];
        auto [it, fresh] = index.try_emplace(c.uid, g.objects.size());
        if (fresh) g.objects.push_back({c.uid, {}, c.line});
        auto& obj = g.objects[it->second];
        // RECURRENCE-ID values compare on their unfolded line; the master has an empty one.
        const auto [rit, first] = seen_rid.try_emplace({it->second, c.recurrence_id}, i);
        if (!first) {
            g.issues.push_back({c.line, fmt::format("{} UID {} (BEGIN at line {}) skipped: same UID{} as the "
                                                    "component at line {}",
                                                    c.kind, c.uid, c.line,
                                                    c.recurrence_id.empty() ? "" : " and RECURRENCE-ID",
                                                    cal.components[rit->second].line)});
            continue;
        }
        if (c.recurrence_id.empty()) {
            obj.components.insert(obj.components.begin(), i);  // the master leads, as clients expect
        } else {
            obj.components.push_back(i);
        }
    }
    return g;
}

std::string make_caldav_resource(const ics_calendar& cal, const calendar_object& obj) {
    std::string out = calendar_header(cal);
    std::vector<std::string> tzids;
    for (auto i : obj.components) {
        for (const auto& t : cal.components[i].tzid_refs) {
            if (std::find(tzids.begin(), tzids.end(), t) == tzids.end()) tzids.push_back(t);
        }
    }
    append_timezones(cal, tzids, out);
    for (auto i : obj.components) out += cal.components[i].text;
    out += "END:VCALENDAR\r\n";
    return out;
}

std::string resource_name(std::string_view uid, std::string_view extension) {
    const bool plain = !uid.empty() && uid.size() <= 120 && uid.front() != '.' &&
                       std::all_of(uid.begin(), uid.end(), [](char c) {
                           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                  c == '-' || c == '_' || c == '.' || c == '@';
                       });
    return fmt::format("{}{}", plain ? std::string(uid) : sha256_hex(uid, 20), extension);
}

std::string make_carbonio_ics(const ics_calendar& cal, const grouped_calendar& groups) {
    std::string out = calendar_header(cal);
    std::vector<std::string> all;
    for (const auto& tz : cal.timezones) all.push_back(tz.tzid);
    append_timezones(cal, all, out);
    for (const auto& obj : groups.objects) {
        for (auto i : obj.components) out += cal.components[i].text;
    }
    out += "END:VCALENDAR\r\n";
    return out;
}

}  // namespace arrival::pim
