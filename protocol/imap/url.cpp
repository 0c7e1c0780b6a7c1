#include "protocol/imap/url.hpp"

#include "protocol/ascii.hpp"
#include "protocol/authority.hpp"

namespace arrival::imap {

std::string imap_url::str() const {
    std::string out = tls == tls_mode::implicit ? "imaps://" : "imap://";
    if (host.find(':') != std::string::npos) {
        out += '[';
        out += host;
        out += ']';
    } else {
        out += host;
    }
    out += ':';
    out += std::to_string(port);
    return out;
}

std::optional<imap_url> parse_imap_url(std::string_view text, std::string& error) {
    imap_url out;
    std::string_view rest;
    if (ascii::istarts_with(text, "imaps://")) {
        out.tls = tls_mode::implicit;
        out.port = 993;
        rest = text.substr(8);
    } else if (ascii::istarts_with(text, "imap://")) {
        out.tls = tls_mode::starttls_required;
        out.port = 143;
        rest = text.substr(7);
    } else {
        error = "URL must start with imap:// or imaps://";
        return std::nullopt;
    }
    // Authority ends at the first '/', '?' or '#'. Only an empty path ("/" or nothing) is accepted.
    const auto end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, end);
    if (end != std::string_view::npos) {
        const std::string_view tail = rest.substr(end);
        if (tail != "/") {
            error = "URL must name a server only (imap://host[:port]); a path, query or fragment is not accepted";
            return std::nullopt;
        }
    }
    if (authority.find('@') != std::string_view::npos) {
        error = "URL must not contain a user name or password; use --user and --password-file";
        return std::nullopt;
    }
    auto hp = uri::parse_host_port(authority, error);
    if (!hp) return std::nullopt;
    out.host = std::move(hp->host);
    if (hp->port) out.port = *hp->port;
    return out;
}

}  // namespace arrival::imap
