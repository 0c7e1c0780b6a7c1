// A generated ICS export for the streaming tests and the memory measurement: `events` calendar objects,
// every tenth recurring with an override placed far from its master (after the next 50 objects), folded
// long lines, LF and CRLF line ends mixed, two VTIMEZONEs (one defined after events that use it) and a BOM.
#pragma once
#include <cstddef>
#include <string>

#include <fmt/format.h>

namespace arrival::pim::test {

inline std::string generated_ics(std::size_t events) {
    std::string out = "\xEF\xBB\xBF" "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//arrival//generator//EN\r\n";
    auto zone = [](std::string_view tzid) {
        return fmt::format("BEGIN:VTIMEZONE\r\nTZID:{}\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
                           "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
                           tzid);
    };
    out += zone("Europe/Berlin");
    std::string pending;  // overrides written later in the file
    for (std::size_t i = 0; i < events; ++i) {
        const bool recurring = i % 10 == 0;
        const char* eol = i % 3 == 0 ? "\n" : "\r\n";
        const char* tz = i % 2 ? "Europe/Berlin" : "America/New_York";
        out += fmt::format("BEGIN:VEVENT{0}UID:event-{1}@generated.test{0}DTSTAMP:20260101T000000Z{0}"
                           "DTSTART;TZID={2}:20260{3}01T090000{0}DURATION:PT1H{0}"
                           "SUMMARY:Event {1} with a summary long enough to be folded by the exporter at seve{0}"
                           " nty-five octets as RFC 5545 says{0}"
                           "DESCRIPTION:{4}{0}{5}END:VEVENT{0}",
                           eol, i, tz, 1 + i % 9, std::string(200 + i % 300, 'd'),
                           recurring ? fmt::format("RRULE:FREQ=WEEKLY;COUNT=10{}", eol) : std::string());
        if (recurring) {
            pending += fmt::format("BEGIN:VEVENT\r\nUID:event-{0}@generated.test\r\nRECURRENCE-ID;TZID={1}:"
                                   "20260{2}08T090000\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID={1}:20260{2}08T100000"
                                   "\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n",
                                   i, tz, 1 + i % 9);
        }
        if (i % 50 == 49) {
            out += pending;
            pending.clear();
        }
        if (i == events / 2) out += zone("America/New_York");  // defined after events that use it
    }
    out += pending;
    out += "END:VCALENDAR\r\n";
    return out;
}

}  // namespace arrival::pim::test
