// The calendars and contacts import stages: for every user of the accounts file, read DIR/<user>.ics or
// DIR/<user>.csv, and write it into the destination, users concurrently (--jobs), each user isolated (one
// user's broken file or refused login never stops the others), with retries of transient failures.
//
// Destinations:
//   CalDAV/CardDAV  one resource per calendar object (UID) / per contact (stable UID), PUT with
//                   If-None-Match: * so a rerun finds them present (412) instead of duplicating them.
//   Carbonio REST   POSTs of the file cut into uploads (see carbonio_rest.hpp), after reading what the mailbox
//                   has. Authenticated as zmmailbox does (FACTS.md §7): the admin's AuthRequest once per run
//                   on the admin SOAP URL, a DelegateAuthRequest per user, that token as the ZM_AUTH_TOKEN
//                   cookie; or, with carbonio_auth::basic, the admin's HTTP basic auth on every request.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/pim/csv_mapping.hpp"
#include "engine/pim/vcard_writer.hpp"
#include "protocol/failure.hpp"
#include "protocol/http/client.hpp"
#include "protocol/http/url.hpp"
#include "protocol/tls_policy.hpp"

namespace arrival::pim {

enum class pim_kind { calendars, contacts };

struct destination {
    enum class type { dav, carbonio } kind = type::dav;
    http::url url;  // carbonio+https://host becomes https://host
};

// http(s)://… (DAV, may contain {user}) or carbonio+https://host[:port] (carbonio+http for tests).
[[nodiscard]] std::optional<destination> parse_destination(std::string_view text, std::string& error);

enum class carbonio_auth { delegate, basic };

// The admin SOAP URL Carbonio listens on for a REST origin: https://HOST:7071/service/admin/soap.
[[nodiscard]] http::url default_carbonio_admin_url(const http::url& rest);
// The admin SOAP URL a command uses: `--admin-url` when one is given (a URL without a path gets
// /service/admin/soap), else the default above; nullopt with `error` set when the option is not a URL.
[[nodiscard]] std::optional<http::url> carbonio_admin_url(const http::url& rest, const std::string& admin_url_option,
                                                          std::string& error);

struct import_options {
    pim_kind kind = pim_kind::calendars;
    destination dest;
    std::string admin;             // empty: every user logs in as themselves
    std::string admin_password;    // never logged
    std::string default_password;  // for users whose accounts-file line has none; never logged
    tls::client_options tls;
    http::timeouts timeouts;
    unsigned jobs = 4;
    unsigned retries = 3;                       // extra attempts after a transient failure
    std::chrono::milliseconds backoff{500};     // doubled after each attempt, capped at 30 s
    std::string collection_name;                // created when missing: "calendar" / "contacts" by default
    std::optional<csv_format> forced_format;    // --csv-format
    std::optional<vcard_version> forced_vcard;  // --vcard-version
    std::size_t rest_batch_bytes = 4 << 20;     // Carbonio calendar uploads are cut at about this size
    carbonio_auth rest_auth = carbonio_auth::delegate;
    http::url admin_url;                        // admin SOAP endpoint (delegate auth), path included
    std::string carbonio_folder;                // folder path posted into; "" = /Calendar or /Contacts
};

struct import_user {
    std::string source_user;  // the export file is named after it
    std::string dest_user;
    std::string password;     // empty: import_options::default_password
    std::string file;
};

struct item_failure {
    std::string item;    // "line 12", "UID abc (line 40)", "contact at line 7"
    std::string reason;
};

// A calendar object not posted on purpose: a VTODO, or a UID the mailbox holds in another calendar or with
// a higher SEQUENCE (a plain rerun, the UID already in the target with the same SEQUENCE, is only counted).
struct skipped_item {
    std::string item;    // "UID abc (file:line)"
    std::string uid;
    std::string folder;  // where the mailbox holds the UID ("" for a VTODO)
    std::string reason;
};

enum class user_status { ok, partial, failed, no_file };
// The one failure model (protocol/failure.hpp): HTTP's codes are classified into it here (import_job.cpp).
using failure_kind = arrival::failure;

[[nodiscard]] std::string_view to_string(user_status s) noexcept;
// The report's word: the failure's, or "none".
[[nodiscard]] std::string_view to_string(const std::optional<failure_kind>& k) noexcept;

struct user_result {
    std::string user;        // destination user
    std::string file;
    user_status status = user_status::ok;
    std::optional<failure_kind> kind;        // why the whole user failed
    std::string error;                       // the same in words (server reply included, no secrets)
    std::size_t imported = 0;
    std::size_t existing = 0;                // already present (412): reruns add nothing
    std::size_t failed = 0;
    std::size_t todo_skipped = 0;            // VTODOs not posted to a Carbonio calendar
    std::vector<item_failure> failures;      // unreadable items and refused PUTs, each with its reason
    std::vector<skipped_item> skipped;       // todo_skipped and the notable skipped_existing
    std::string collection;                  // URL written to
    std::string detail;                      // e.g. "csv: google, UTF-16LE, ';'" or "vCard 3.0"
    double seconds = 0;
};

// Hooks for a progress display (the CLI feeds engine/progress from them), called on the import's thread.
// Items are calendar objects (one UID with its overrides) or contacts; bytes are bytes of the export files,
// so a display knowing the files' sizes can give an ETA before every file has been read.
class import_observer {
public:
    virtual ~import_observer() = default;
    virtual void user_started(const import_user&) {}
    // A user's export was read: this many items are to be written.
    virtual void items_found(std::size_t /*items*/) {}
    // Items written, found present or refused, and the export bytes they came from. By the time
    // user_finished is called, the user's whole file has been reported (also when the user failed).
    virtual void items_done(std::size_t /*items*/, std::uint64_t /*bytes*/) {}
    virtual void user_finished(const user_result&, std::size_t /*done*/, std::size_t /*total*/) {}
};

using progress_fn = std::function<void(const user_result& r, std::size_t done, std::size_t total)>;

// Runs every user; never throws for a user's failure (only for programming errors / bad_alloc).
// arrival preflight --rest: one user's access as an import of `o` will use it, read-only: the admin's
// AuthRequest and the user's DelegateAuthRequest (or basic auth), then a GET of the Calendar and Contacts
// exports. status ok or failed (with kind and error); detail lists what was checked. Never throws.
[[nodiscard]] user_result check_carbonio_access(const import_options& o, const std::string& dest_user);

[[nodiscard]] std::vector<user_result> run_import(const import_options& o, const std::vector<import_user>& users,
                                                  import_observer& observer);
// The same, calling `progress` once per finished user.
[[nodiscard]] std::vector<user_result> run_import(const import_options& o, const std::vector<import_user>& users,
                                                  const progress_fn& progress);

}  // namespace arrival::pim
