// One failure model for every command (issue 11, REVIEW-ENGINE P5): what went wrong, in the words the reports
// print and with the exit status tools/arrival/exit_status.hpp gives it. Each side classifies its own codes into
// it once: IMAP's error codes (imap::classify, protocol/imap/errc.hpp), HTTP's (http::classify,
// protocol/http/client.hpp), LDAP's and LDIF's (provision/ldap_failure.hpp). Before this, migrate called [PRIVACYREQUIRED] an auth failure and probe a TLS
// one, so one server got two exit statuses.
#pragma once
#include <cstdint>
#include <string_view>

namespace arrival {

enum class failure : std::uint8_t {
    unreachable,   // DNS, connection refused, connect timeout
    tls,           // handshake, certificate, or a server that wants TLS first ([PRIVACYREQUIRED], LOGINDISABLED)
    auth,          // the server refused the credentials
    transient,     // reset, stall, BYE, [UNAVAILABLE], [INUSE], HTTP 429/5xx: worth a retry on a fresh connection
    refused,       // the server refused one command or item (tagged NO/BAD, HTTP 4xx); the rest goes on
    protocol,      // replies that cannot be understood
    input,         // our own input: a malformed file, a bad option or URL
};

// The report's word for it ("error_kind" in the JSON reports).
[[nodiscard]] constexpr std::string_view to_string(failure f) noexcept {
    switch (f) {
    case failure::unreachable: return "unreachable";
    case failure::tls: return "tls";
    case failure::auth: return "auth";
    case failure::transient: return "transient";
    case failure::refused: return "refused";
    case failure::protocol: return "protocol";
    case failure::input: return "input";
    }
    return "?";
}

}  // namespace arrival
