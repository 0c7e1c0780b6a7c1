#include "protocol/http/url.hpp"

#include <fmt/format.h>

namespace arrival::http {

std::string url::origin() const {
    const bool default_port = port == (tls ? "443" : "80");
    const bool v6 = host.find(':') != std::string::npos;
    return fmt::format("{}://{}{}{}{}", tls ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "",
                       default_port ? "" : ":" + port);
}

std::string url::host_header() const {
    const bool default_port = port == (tls ? "443" : "80");
    const bool v6 = host.find(':') != std::string::npos;
    return fmt::format("{}{}{}{}", v6 ? "[" : "", host, v6 ? "]" : "", default_port ? "" : ":" + port);
}

std::optional<url> parse_url(std::string_view text, std::string& error) {
    url u;
    if (text.substr(0, 7) == "http://") {
        text.remove_prefix(7);
    } else if (text.substr(0, 8) == "https://") {
        u.tls = true;
        text.remove_prefix(8);
    } else {
        error = "URL must start with http:// or https://";
        return std::nullopt;
    }
    const auto slash = text.find_first_of("/?");
    auto authority = text.substr(0, slash);
    u.target = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
    if (u.target.front() == '?') u.target.insert(0, "/");
    if (authority.find('@') != std::string_view::npos) {
        error = "URL must not contain a user name or password (use --admin and --password-file)";
        return std::nullopt;
    }
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            error = "unterminated IPv6 address in URL";
            return std::nullopt;
        }
        u.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
        if (!authority.empty() && authority.front() != ':') {
            error = "unexpected characters after the IPv6 address in URL";
            return std::nullopt;
        }
    } else {
        const auto colon = authority.find(':');
        u.host = std::string(authority.substr(0, colon));
        authority = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
    }
    if (u.host.empty()) {
        error = "URL has no host";
        return std::nullopt;
    }
    if (!authority.empty()) {
        auto port = authority.substr(1);
        if (port.empty() || port.size() > 5 ||
            port.find_first_not_of("0123456789") != std::string_view::npos) {
            error = fmt::format("bad port '{}' in URL", port);
            return std::nullopt;
        }
        u.port = std::string(port);
    } else {
        u.port = u.tls ? "443" : "80";
    }
    return u;
}

url resolve(const url& base, std::string_view href) {
    if (href.substr(0, 7) == "http://" || href.substr(0, 8) == "https://") {
        std::string ignored;
        if (auto u = parse_url(href, ignored)) return *u;
    }
    url u = base;
    if (!href.empty() && href.front() == '/') {
        u.target = std::string(href);
        return u;
    }
    auto dir = base.target.substr(0, base.target.find('?'));
    dir = dir.substr(0, dir.rfind('/') + 1);
    u.target = dir + std::string(href);
    return u;
}

std::string percent_decode(std::string_view s) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            const int h = hex(s[i + 1]), l = hex(s[i + 2]);
            if (h >= 0 && l >= 0) {
                out += static_cast<char>(h * 16 + l);
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

std::string encode_segment(std::string_view s) {
    std::string out;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                          std::string_view("-._~!$&'()*+,;=:@").find(ch) != std::string_view::npos;
        if (keep) out += ch;
        else out += fmt::format("%{:02X}", c);
    }
    return out;
}

std::string join_target(std::string_view collection, std::string_view segment) {
    std::string out(collection);
    if (out.empty() || out.back() != '/') out += '/';
    out += segment;
    return out;
}

}  // namespace arrival::http
