// Two-pass reading of an ICS export file, so memory is bounded by the largest calendar object (one UID with
// its overrides), not by the file: a 2 GB calendar export imports like a small one.
//
// Pass 1 (open) streams the file through the ICS reader and keeps the VCALENDAR properties, every
// VTIMEZONE (a destination needs them before the events that use them, and they are small), the issues,
// and per component only its identity (UID, RECURRENCE-ID, kind, line) and byte range. Grouping by UID is
// then group_by_uid on that index. Pass 2 (load) reads one calendar object's byte ranges back and parses
// them again, which gives exactly the components the whole-file read_ics gives.
#pragma once
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "engine/pim/calendar_object.hpp"
#include "engine/pim/ics_reader.hpp"

namespace arrival::pim {

class ics_file {
public:
    // Pass 1. Returns false with `ec` set (no_such_file_or_directory for a missing file) and `error` in
    // words when the file cannot be opened or read; bad content is never an error (see issues()).
    [[nodiscard]] bool open(const std::string& path, std::error_code& ec, std::string& error);

    // VCALENDAR properties and VTIMEZONEs (components empty); what a calendar_header/time zone list needs.
    [[nodiscard]] const ics_calendar& head() const noexcept { return part_; }
    // Calendar objects in order of first appearance; their component indices refer to the index, so use
    // load() to get the components.
    [[nodiscard]] const grouped_calendar& groups() const noexcept { return groups_; }
    // What read_ics + group_by_uid report for the same file, in the same order.
    [[nodiscard]] std::vector<ics_issue> issues() const;
    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
    // Bytes of the file the object's components occupy (for progress).
    [[nodiscard]] std::uint64_t object_bytes(std::size_t object) const;

    // Pass 2: the object's components, read again from the file. The returned calendar holds head()'s
    // properties and time zones plus these components; `obj` indexes into it. Valid until the next load().
    [[nodiscard]] const ics_calendar* load(std::size_t object, calendar_object& obj, std::string& error);

private:
    struct extent {
        std::uint64_t offset = 0, length = 0;
    };
    std::string path_;
    std::ifstream in_;
    std::uint64_t size_ = 0;
    ics_calendar index_;           // components without text: identity only
    std::vector<extent> extents_;  // parallel to index_.components
    grouped_calendar groups_;
    ics_calendar part_;            // head, plus the components of the last load()
    std::string slice_;
};

}  // namespace arrival::pim
