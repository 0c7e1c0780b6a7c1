// Requests for Carbonio's (Zimbra's) REST import endpoints, built as bytes so they can be tested without a
// server. The I/O side sends them with admin credentials (HTTP basic auth) to carbonio+https://host.
//
//   POST /service/home/USER/Calendar?fmt=ics&ignore=1      text/calendar; ignore=1: skip a bad event instead
//                                                           of failing the whole upload
//   POST /service/home/USER/Contacts?fmt=csv&csvfmt=FMT    text/csv; Outlook and Thunderbird exports are sent
//                                                           as read (re-encoded UTF-8, comma-separated) with
//                                                           their csvfmt; Google has no Carbonio mapping, so it
//                                                           is converted to Zimbra's native column names.
//
// Reruns. Neither upload is trusted to be idempotent, so before posting the job GETs what the user already
// has and posts only what is missing (everything else counts as "present"):
//   GET /service/home/USER/Contacts?fmt=csv   Zimbra's native CSV columns. Carbonio's CSV import has no UID:
//                                             posted twice, every contact would exist twice. Matched by
//                                             contact_key() below.
//   GET /service/home/USER/Calendar?fmt=ics   Matched by UID. Zimbra keeps one appointment per UID per
//                                             mailbox, but the REST import's behaviour on a known UID (update,
//                                             skip, or error for the batch) is not documented, so we do not
//                                             rely on it.
// The exchange is sans-I/O: these functions build requests and read replies as bytes; import_job sends them.
#pragma once
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/pim/calendar_object.hpp"
#include "engine/pim/csv_mapping.hpp"

namespace arrival::pim {

struct rest_request {
    std::string target;        // path and query, percent-encoded
    std::string content_type;  // empty for a GET
    std::string body;
    std::string method = "POST";
};

// What the server answered, as far as this module cares.
struct rest_reply {
    int status = 0;
    std::string reason;
    std::string body;
};

// GET requests for what the user already has.
[[nodiscard]] rest_request carbonio_contacts_export_request(std::string_view user);
[[nodiscard]] rest_request carbonio_calendar_export_request(std::string_view user);

// The key a contact is recognised by on a rerun: "email:" + its first e-mail address, trimmed and lower-cased;
// without e-mail, "name:" + its display name lower-cased with whitespace runs collapsed + "|" + the digits of
// its first phone number. Empty when the contact has neither (it is then always posted).
[[nodiscard]] std::string contact_key(const contact& c);

// Reads the reply to carbonio_contacts_export_request into keys. Returns "" on success, else the reason (the
// server's status and an excerpt of its reply). An empty 200/204 reply means no contacts.
[[nodiscard]] std::string read_present_contacts(const rest_reply& reply, std::set<std::string>& keys);

// Reads the reply to carbonio_calendar_export_request: the UID of every calendar object the user has.
[[nodiscard]] std::string read_present_uids(const rest_reply& reply, std::set<std::string>& uids);

// The contacts of `contacts` whose key is not in `present`, and how many were skipped as present. Two rows
// of the same file with one key are both kept (the CardDAV path keeps them too).
struct contacts_upload {
    mapped_contacts fresh;
    std::size_t present = 0;
};
[[nodiscard]] contacts_upload plan_contacts_upload(const mapped_contacts& contacts,
                                                   const std::set<std::string>& present);

// The calendar objects whose UID is not in `present`.
struct calendar_upload {
    grouped_calendar fresh;
    std::size_t present = 0;
};
[[nodiscard]] calendar_upload plan_calendar_upload(const grouped_calendar& groups,
                                                   const std::set<std::string>& present);

// Percent-encodes a path segment (RFC 3986 pchar stays as is, so user@example.test keeps its '@').
[[nodiscard]] std::string encode_path_segment(std::string_view s);

// The whole file in one upload (every VTIMEZONE first, then every object of `groups`).
[[nodiscard]] rest_request carbonio_calendar_request(std::string_view user, const ics_calendar& cal,
                                                     const grouped_calendar& groups);

// The same uploads built from objects handed over one at a time (the streaming path, see ics_file.hpp), cut
// into requests of about `max_bytes` so neither we nor the server hold a whole large export. Every request
// repeats the VCALENDAR header and all VTIMEZONEs, so each stands alone. With max_bytes = SIZE_MAX and every
// object added, take() gives exactly carbonio_calendar_request's bytes.
class carbonio_calendar_batch {
public:
    carbonio_calendar_batch(std::string_view user, const ics_calendar& head, std::size_t max_bytes);
    void add(const ics_calendar& part, const calendar_object& obj);
    [[nodiscard]] bool full() const noexcept { return body_.size() >= max_bytes_; }
    [[nodiscard]] std::size_t objects() const noexcept { return objects_; }
    // The request for what was added since the last take(); starts the next batch.
    [[nodiscard]] rest_request take();

private:
    std::string target_, prefix_, body_;
    std::size_t max_bytes_;
    std::size_t objects_ = 0;
};

// Only the rows of `table` that became one of `contacts` are sent (so a filtered list sends only its rows).
[[nodiscard]] rest_request carbonio_contacts_request(std::string_view user, const csv_table& table,
                                                     csv_format format, const mapped_contacts& contacts);

// Zimbra native CSV (header + one row per contact); what Google exports become.
[[nodiscard]] std::string to_zimbra_csv(const mapped_contacts& contacts);

}  // namespace arrival::pim
