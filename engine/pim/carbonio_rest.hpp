// Requests for Carbonio's REST import endpoints, built as bytes so they can be tested without a
// server (sans-I/O; import_job sends them, authenticated as FACTS.md §7 says zmmailbox does: a delegated
// token as the ZM_AUTH_TOKEN cookie, see carbonio_soap.hpp; or the admin's HTTP basic auth).
//
//   POST /service/home/USER/Calendar?fmt=ics&ignore=1      text/calendar; ignore=1: skip a bad event instead
//                                                           of failing the whole upload
//   POST /service/home/USER/Contacts?fmt=csv&csvfmt=FMT    text/csv with a UTF-8 BOM (Carbonio guesses the
//                                                           charset otherwise; it strips the BOM, FACTS.md §1);
//                                                           Outlook and Thunderbird exports are sent as read
//                                                           with their csvfmt; Google and Carbonio's own
//                                                           columns go as csvfmt=csv (every header is the
//                                                           contact attribute of that name).
//
// What Carbonio does with what is posted (FACTS.md §1, §2), and what the job does about it:
//   Contacts   the import never deduplicates: posted twice, every contact exists twice. So the job GETs
//              /service/home/USER/Contacts?fmt=csv first (header = the sorted union of the fields in use; an
//              empty folder is exactly "\r\n") and posts only the contacts whose contact_key() is missing.
//   Calendars  an existing UID is looked up in the WHOLE mailbox: found in another calendar, the event is
//              moved silently into the target; with a lower SEQUENCE the upload is ignored silently; a
//              VTODO becomes an appointment. So the job reads every calendar of the mailbox (?fmt=ics per
//              folder with view="appointment") and posts only UIDs found nowhere; VTODOs are never posted.
//              judge_calendar_object() says which, and why.
//   Errors     a cookie-authenticated POST to a missing folder answers 401, not 404 (explain_status); a 500
//              is Jetty's HTML page, cut to one line (reply_line).
#pragma once
#include <cstddef>
#include <map>
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
[[nodiscard]] rest_request carbonio_contacts_export_request(std::string_view user,
                                                            std::string_view folder = "/Contacts");
[[nodiscard]] rest_request carbonio_calendar_export_request(std::string_view user);
// GET /service/home/USER/<folder path>?fmt=ics for any calendar folder ("/Work/Team").
[[nodiscard]] rest_request carbonio_folder_export_request(std::string_view user, std::string_view folder_path);
// "/service/home/USER/Work/Team%20A": the REST path of a folder, each segment percent-encoded.
[[nodiscard]] std::string carbonio_folder_target(std::string_view user, std::string_view folder_path);

// A server reply body as one line for an error text: the <title> of an HTML page (Jetty's 500 page:
// "Error 500 system failure: ..."), else its first text; other bodies with control characters as spaces.
// At most `max` characters.
[[nodiscard]] std::string reply_line(std::string_view body, std::size_t max = 200);

// "answered 404 Not Found: <reply_line of the body>" (the caller names the request).
[[nodiscard]] std::string describe_reply(const rest_reply& r);

// What a refused REST request means, in words, for `folder` ("/Calendar"). With cookie (token) auth Carbonio
// answers 401 instead of 404 for a missing folder on POST/PUT (UserServlet.sendError, FACTS.md §2), so a
// 401 there names both causes; with basic auth 404 is the missing folder and 401 the refused credentials.
enum class rest_auth { cookie, basic };
[[nodiscard]] std::string explain_status(std::string_view method, std::string_view folder, int status,
                                         rest_auth auth);

// The path of `paths` naming `wanted` ("" if none), ignoring ASCII case: Carbonio treats folder names
// case-insensitively (FACTS.md §6 matches "calendar"/"contacts" in any case; for lookups by path this is
// the safe reading, not confirmed), so "--folder calendar" is the user's /Calendar, not another calendar.
[[nodiscard]] std::string find_folder(const std::vector<std::string>& paths, std::string_view wanted);

// The SEQUENCE of a component (its own property, not a sub-component's); 0 when absent or not a number.
[[nodiscard]] long ics_sequence(std::string_view component_text);

// What the mailbox already holds, by UID: per calendar component, the folder it is in, its RECURRENCE-ID and
// its SEQUENCE.
struct present_component {
    std::string folder;
    std::string recurrence_id;
    long sequence = 0;
};
using calendar_inventory = std::map<std::string, std::vector<present_component>, std::less<>>;

// Reads the reply to carbonio_folder_export_request for `folder` into `inv`. Returns "" on success, else
// "answered STATUS REASON: <one line of the reply>".
[[nodiscard]] std::string read_calendar_folder(const rest_reply& reply, std::string_view folder,
                                               calendar_inventory& inv);

// What to do with one calendar object of the export, posting into `target` ("/Calendar").
struct calendar_verdict {
    enum class action { post, todo, existing } what = action::post;
    std::string folder;  // existing: the folder holding the UID
    std::string reason;  // todo, or existing when worth reporting (another calendar, lower SEQUENCE)
    [[nodiscard]] bool notable() const { return !reason.empty(); }
};
[[nodiscard]] calendar_verdict judge_calendar_object(const ics_calendar& part, const calendar_object& obj,
                                                     const calendar_inventory& inv, std::string_view target);

// The key a contact is recognised by on a rerun: "email:" + its first e-mail address, trimmed and lower-cased;
// without e-mail, "name:" + its display name lower-cased with whitespace runs collapsed + "|" + the digits of
// its first phone number. Empty when the contact has neither (it is then always posted).
[[nodiscard]] std::string contact_key(const contact& c);

// Reads the reply to carbonio_contacts_export_request into keys. Returns "" on success, else
// "answered STATUS REASON: <one line of the reply>". The header is whatever fields the folder's contacts use
// (sorted union, FACTS.md §1), read by name; an empty folder is the body "\r\n" (or an empty 200/204).
[[nodiscard]] std::string read_present_contacts(const rest_reply& reply, std::set<std::string>& keys);

// The contacts of `contacts` whose key is not in `present`, and how many were skipped as present. Two rows
// of the same file with one key are both kept (the CardDAV path keeps them too).
struct contacts_upload {
    mapped_contacts fresh;
    std::size_t present = 0;
};
[[nodiscard]] contacts_upload plan_contacts_upload(const mapped_contacts& contacts,
                                                   const std::set<std::string>& present);

// The whole file in one upload (every VTIMEZONE first, then every object of `groups`).
[[nodiscard]] rest_request carbonio_calendar_request(std::string_view user, const ics_calendar& cal,
                                                     const grouped_calendar& groups,
                                                     std::string_view folder = "/Calendar");

// The same uploads built from objects handed over one at a time (the streaming path, see ics_file.hpp), cut
// into requests of about `max_bytes` so neither we nor the server hold a whole large export. Every request
// repeats the VCALENDAR header and all VTIMEZONEs, so each stands alone. With max_bytes = SIZE_MAX and every
// object added, take() gives exactly carbonio_calendar_request's bytes.
class carbonio_calendar_batch {
public:
    carbonio_calendar_batch(std::string_view user, const ics_calendar& head, std::size_t max_bytes,
                            std::string_view folder = "/Calendar");
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
                                                     csv_format format, const mapped_contacts& contacts,
                                                     std::string_view folder = "/Contacts");

// Zimbra native CSV (header + one row per contact); what Google exports become. No BOM.
[[nodiscard]] std::string to_zimbra_csv(const mapped_contacts& contacts);

}  // namespace arrival::pim
