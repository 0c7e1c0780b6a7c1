#include "protocol/http/url.hpp"

#include <fmt/format.h>

#include "protocol/authority.hpp"

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
    auto hp = uri::parse_host_port(authority, error);
    if (!hp) return std::nullopt;
    u.host = std::move(hp->host);
    u.port = hp->port ? std::to_string(*hp->port) : (u.tls ? "443" : "80");
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

std::string join_target(std::string_view collection, std::string_view segment) {
    std::string out(collection);
    if (out.empty() || out.back() != '/') out += '/';
    out += segment;
    return out;
}

}  // namespace arrival::http
