// Requests for Carbonio's (Zimbra's) REST import endpoints, built as bytes so they can be tested without a
// server. The I/O side sends them with admin credentials (HTTP basic auth) to carbonio+https://host.
//
//   POST /service/home/USER/Calendar?fmt=ics&ignore=1      text/calendar; ignore=1: skip a bad event instead
//                                                           of failing the whole upload
//   POST /service/home/USER/Contacts?fmt=csv&csvfmt=FMT    text/csv; Outlook and Thunderbird exports are sent
//                                                           as read (re-encoded UTF-8, comma-separated) with
//                                                           their csvfmt; Google has no Carbonio mapping, so it
//                                                           is converted to Zimbra's native column names.
#pragma once
#include <string>
#include <string_view>

#include "engine/pim/calendar_object.hpp"
#include "engine/pim/csv_mapping.hpp"

namespace arrival::pim {

struct rest_request {
    std::string target;        // path and query, percent-encoded
    std::string content_type;
    std::string body;
};

// Percent-encodes a path segment (RFC 3986 pchar stays as is, so user@example.test keeps its '@').
[[nodiscard]] std::string encode_path_segment(std::string_view s);

[[nodiscard]] rest_request carbonio_calendar_request(std::string_view user, const ics_calendar& cal,
                                                     const grouped_calendar& groups);

[[nodiscard]] rest_request carbonio_contacts_request(std::string_view user, const csv_table& table,
                                                     csv_format format, const mapped_contacts& contacts);

// Zimbra native CSV (header + one row per contact); what Google exports become.
[[nodiscard]] std::string to_zimbra_csv(const mapped_contacts& contacts);

}  // namespace arrival::pim
