// WebDAV, CalDAV and CardDAV requests (RFC 4918, 4791, 6352, 5689) as values, and the discovery of a user's
// calendar or address book collection over a `client`:
//
//   URL with {user}      the placeholder is replaced by the (percent-encoded) user. If that is a calendar /
//                        address book it is used; if it is a plain collection it is taken as the home set;
//                        if it does not exist it is created (MKCALENDAR / extended MKCOL, parents by MKCOL).
//   URL without it       RFC 5397 current-user-principal from the URL, then calendar-home-set /
//                        addressbook-home-set from the principal (RFC 4791 §6.2.1, RFC 6352 §7.1.1), then the
//                        first suitable collection in the home, created as HOME/NAME/ when there is none.
//                        Needs the user's own credentials (an admin's principal is the admin's).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "protocol/http/client.hpp"
#include "protocol/http/multistatus.hpp"

namespace arrival::http {

enum class dav_kind { calendar, addressbook };

[[nodiscard]] request propfind_request(std::string target, int depth, const std::vector<std::string>& props);
[[nodiscard]] request mkcalendar_request(std::string target, std::string_view display_name);
[[nodiscard]] request mkcol_addressbook_request(std::string target, std::string_view display_name);
[[nodiscard]] request mkcol_request(std::string target);
// PUT with If-None-Match: * (RFC 7232 §3.2): the server refuses with 412 when the resource exists, so a
// rerun never overwrites or duplicates.
[[nodiscard]] request put_new_request(std::string target, std::string_view content_type, std::string body);

struct dav_failure {
    boost::system::error_code ec;  // network/TLS failure, or clear when the server answered
    int status = 0;                // the HTTP status that stopped us (0 when ec is set)
    std::string what;              // the step and the server's reply, never credentials
    [[nodiscard]] explicit operator bool() const noexcept { return ec || status != 0 || !what.empty(); }
};

struct dav_collection {
    std::string target;                       // collection path, ending in '/'
    bool created = false;                     // we made it in this run
    std::vector<std::string> vcard_versions;  // supported-address-data versions ("3.0", "4.0"); may be empty
};

struct discovery_options {
    dav_kind kind = dav_kind::calendar;
    std::string user;             // replaces {user}
    std::string collection_name;  // segment used when a collection has to be created ("calendar", "contacts")
    std::string display_name;     // DAV:displayname of a created collection
};

// Sends PROPFIND and parses the 207; a non-207 status is a failure naming `step`.
boost::asio::awaitable<std::vector<dav_response>> async_propfind(client& c, std::string target, int depth,
                                                                 const std::vector<std::string>& props,
                                                                 std::string_view step, dav_failure& err);

boost::asio::awaitable<dav_collection> async_find_collection(client& c, std::string_view base_target,
                                                             const discovery_options& o, dav_failure& err);

// A short, single-line excerpt of a server reply body for error messages.
[[nodiscard]] std::string excerpt(std::string_view body, std::size_t max = 200);

}  // namespace arrival::http
