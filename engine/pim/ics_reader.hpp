// iCalendar (RFC 5545) reader for calendar exports: splits a file into its top-level components without
// re-encoding them, so every property, parameter and unknown X- line reaches the destination byte for byte.
//
// What it understands: line unfolding (§3.1) for parsing names, parameters and values; BEGIN/END nesting
// (VCALENDAR > VEVENT|VTODO|VJOURNAL|VTIMEZONE|VFREEBUSY|X-… > VALARM|STANDARD|DAYLIGHT|…); UID,
// RECURRENCE-ID, a VTIMEZONE's TZID and every TZID= parameter a component uses. Several VCALENDARs in one
// file (concatenated exports) are accepted.
//
// Broken input never stops the read: a component with a malformed line, a missing or mismatched END, or a
// stray BEGIN is dropped and reported with the line number, and reading resumes at the next component.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace arrival::pim {

struct ics_issue {
    std::size_t line = 0;   // 1-based physical line in the file
    std::string message;    // names the component (kind, UID when known, line of its BEGIN) and the fault
};

struct ics_component {
    std::string kind;                    // upper-cased component name: VEVENT, VTODO, VJOURNAL, VTIMEZONE, …
    std::string uid;                     // UID value (generated from content when the component has none)
    bool uid_generated = false;          // true when `text` got a UID line we made up (RFC 5545 requires one)
    std::string recurrence_id;           // RECURRENCE-ID value (with its parameters); empty on a master
    std::string tzid;                    // for VTIMEZONE: its TZID
    std::vector<std::string> tzid_refs;  // TZID= parameter values used inside (sub-components included)
    std::string text;                    // BEGIN..END exactly as read (folding kept), each line ending CRLF
    std::size_t line = 0;                // line of its BEGIN
};

struct ics_calendar {
    std::vector<std::string> calendar_properties;  // VCALENDAR-level property lines (as read, CRLF-terminated)
    std::vector<ics_component> timezones;
    std::vector<ics_component> components;          // everything else at top level, in file order
    std::vector<ics_issue> issues;
};

// One parsed content line (unfolded). Exposed for tests.
struct ics_content_line {
    std::string name;                  // upper-cased
    std::vector<std::pair<std::string, std::string>> params;  // upper-cased name, raw value (quotes removed)
    std::string value;
};

// Parses `name *(";" param) ":" value` (RFC 5545 §3.1). Returns an empty string on success, else the reason.
[[nodiscard]] std::string parse_content_line(std::string_view unfolded, ics_content_line& out);

// Reads a whole file held in memory. Never throws on bad input (only std::bad_alloc). `first_line` numbers
// the first line of `text` (the second pass of ics_file re-reads slices of a file).
[[nodiscard]] ics_calendar read_ics(std::string_view text, std::size_t first_line = 1);

// Reads a stream in chunks: each complete top-level component (not VTIMEZONE) goes to `on_component` with
// the byte range it occupies in the stream, instead of into ics_calendar::components; calendar properties,
// time zones and issues are returned. Memory: one chunk plus the component being read. The caller checks
// the stream for read errors (`in.bad()`).
using ics_component_fn = std::function<void(ics_component&& c, std::uint64_t offset, std::uint64_t length)>;
[[nodiscard]] ics_calendar read_ics(std::istream& in, const ics_component_fn& on_component);

}  // namespace arrival::pim
