#include "protocol/url.hpp"

#include <charconv>

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

namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

// RFC 3986 reg-name characters we accept in a host (no percent-encoding: DNS names only).
bool is_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

}  // namespace

std::optional<imap_url> parse_imap_url(std::string_view text, std::string& error) {
    imap_url out;
    std::string_view rest;
    if (starts_with_ci(text, "imaps://")) {
        out.tls = tls_mode::implicit;
        out.port = 993;
        rest = text.substr(8);
    } else if (starts_with_ci(text, "imap://")) {
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
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            error = "URL has an unterminated IPv6 address '['";
            return std::nullopt;
        }
        out.host = std::string(authority.substr(1, close - 1));
        for (char c : out.host) {
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
                  c == '.')) {
                error = "URL has an invalid IPv6 address";
                return std::nullopt;
            }
        }
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                error = "URL has garbage after the IPv6 address";
                return std::nullopt;
            }
            port_text = after.substr(1);
            if (port_text.empty()) {
                error = "URL has an empty port";
                return std::nullopt;
            }
        }
    } else {
        const auto colon = authority.rfind(':');
        std::string_view host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) {
                error = "URL has an empty port";
                return std::nullopt;
            }
        }
        for (char c : host) {
            if (!is_host_char(c)) {
                error = "URL has an invalid character in the host name";
                return std::nullopt;
            }
        }
        out.host = std::string(host);
    }
    if (out.host.empty()) {
        error = "URL has no host";
        return std::nullopt;
    }
    if (!port_text.empty()) {
        unsigned value = 0;
        const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || p != port_text.data() + port_text.size() || value == 0 || value > 65535) {
            error = "URL has an invalid port '" + std::string(port_text) + "' (1-65535)";
            return std::nullopt;
        }
        out.port = static_cast<std::uint16_t>(value);
    }
    return out;
}

}  // namespace arrival::imap
