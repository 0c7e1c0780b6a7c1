// WebDAV 207 Multi-Status bodies (RFC 4918 §13) -> values. Namespaces are resolved (a server may use any
// prefix), so names are written "namespace-URI local-name", e.g. "DAV: href",
// "urn:ietf:params:xml:ns:caldav calendar-home-set".
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arrival::http {

inline constexpr std::string_view dav_ns = "DAV:";
inline constexpr std::string_view caldav_ns = "urn:ietf:params:xml:ns:caldav";
inline constexpr std::string_view carddav_ns = "urn:ietf:params:xml:ns:carddav";

struct dav_element {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attributes;  // local attribute names
    [[nodiscard]] std::string_view attribute(std::string_view local) const;
};

struct dav_property {
    std::string name;
    std::string text;                   // character data directly inside (trimmed)
    std::vector<std::string> hrefs;     // every DAV:href inside, in order
    std::vector<dav_element> children;  // direct child elements (resourcetype values, comp, address-data-type)
    [[nodiscard]] bool has_child(std::string_view name) const;
};

struct dav_response {
    std::string href;                  // as sent (percent-encoded)
    int status = 0;                    // response-level DAV:status, 0 when only propstats
    std::vector<dav_property> props;   // properties found (propstat status 2xx only)
    [[nodiscard]] const dav_property* prop(std::string_view name) const;
};

// Parses `body`. Returns an empty string on success, else the XML error with its line.
[[nodiscard]] std::string parse_multistatus(std::string_view body, std::vector<dav_response>& out);

// "DAV: href" from a namespace and a local name.
[[nodiscard]] std::string dav_name(std::string_view ns, std::string_view local);

}  // namespace arrival::http
