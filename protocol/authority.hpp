// The host and port of a URL's authority (RFC 3986 §3.2.2-3.2.3), for imap(s):// and http(s):// URLs alike:
// "host", "host:port", "[v6]" or "[v6]:port". A host name is letters, digits, '-', '.' and '_'; an IPv6
// literal hex digits, ':' and '.'; a port 1-65535. User info is the caller's to refuse first (each names its
// own way to pass a password). Header-only, std only.
#pragma once
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arrival::uri {

struct host_port {
    std::string host;                    // without the brackets of an IPv6 literal
    std::optional<std::uint16_t> port;   // absent: the scheme's default
};

[[nodiscard]] inline std::optional<host_port> parse_host_port(std::string_view authority, std::string& error) {
    const auto fail = [&](std::string why) -> std::optional<host_port> {
        error = std::move(why);
        return std::nullopt;
    };
    host_port out;
    std::string_view port_text;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return fail("URL has an unterminated IPv6 address '['");
        out.host = std::string(authority.substr(1, close - 1));
        for (const char c : out.host) {
            const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
            if (!ok) return fail("URL has an invalid IPv6 address");
        }
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return fail("URL has garbage after the IPv6 address");
            port_text = after.substr(1);
            has_port = true;
        }
    } else {
        const auto colon = authority.rfind(':');
        const std::string_view host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            has_port = true;
        }
        for (const char c : host) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_';
            if (!ok) return fail("URL has an invalid character in the host name");
        }
        out.host = std::string(host);
    }
    if (out.host.empty()) return fail("URL has no host");
    if (has_port) {
        if (port_text.empty()) return fail("URL has an empty port");
        unsigned value = 0;
        const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || p != port_text.data() + port_text.size() || value == 0 || value > 65535) {
            return fail("URL has an invalid port '" + std::string(port_text) + "' (1-65535)");
        }
        out.port = static_cast<std::uint16_t>(value);
    }
    return out;
}

}  // namespace arrival::uri
