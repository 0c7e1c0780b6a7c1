// Grouping of an ICS file into calendar objects and the bytes each destination gets.
//
// CalDAV (RFC 4791 §4.1): one resource per UID, holding the master and all its RECURRENCE-ID overrides and
// the VTIMEZONEs they use; no METHOD property. Carbonio REST: one stream with every VTIMEZONE first, because
// the server parses large uploads as a stream and cannot resolve a TZID defined after the event using it.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/pim/ics_reader.hpp"

namespace arrival::pim {

struct calendar_object {
    std::string uid;
    std::vector<std::size_t> components;  // indices into ics_calendar::components; master first
    std::size_t line = 0;                 // BEGIN line of its first component
};

struct grouped_calendar {
    std::vector<calendar_object> objects;  // in order of first appearance
    std::vector<ics_issue> issues;         // duplicates dropped (same UID and RECURRENCE-ID twice)
};

[[nodiscard]] grouped_calendar group_by_uid(const ics_calendar& cal);

// The VCALENDAR for one CalDAV resource: VERSION, PRODID and CALSCALE from the file (METHOD and X-WR-*
// dropped: RFC 4791 forbids METHOD in stored resources), the used VTIMEZONEs, then the components.
[[nodiscard]] std::string make_caldav_resource(const ics_calendar& cal, const calendar_object& obj);

// A path segment for the resource: the UID when it is made of unreserved characters or '@' and not too long
// (what most clients do), else a hash of it. Stable across runs for the same UID.
[[nodiscard]] std::string resource_name(std::string_view uid, std::string_view extension);

// The body for POST /service/home/USER/Calendar?fmt=ics: one VCALENDAR, VTIMEZONEs before everything else.
[[nodiscard]] std::string make_carbonio_ics(const ics_calendar& cal, const grouped_calendar& groups);

}  // namespace arrival::pim
