// http:// and https:// URLs as the calendars/contacts stages use them: a base URL on the command line and
// the absolute-path hrefs WebDAV servers return (RFC 4918 §8.3), resolved against it.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace arrival::http {

struct url {
    bool tls = false;
    std::string host;    // without brackets for IPv6 literals
    std::string port;    // always set: the explicit port or 80/443
    std::string target;  // path (and query), percent-encoded as given; "/" when empty

    [[nodiscard]] std::string origin() const;        // scheme://host[:port]
    [[nodiscard]] std::string str() const { return origin() + target; }
    // The Host header value: host, plus ":port" when it is not the scheme's default.
    [[nodiscard]] std::string host_header() const;
};

// Parses http(s)://[user@]host[:port][/path]. Returns nullopt with `error` set on anything else.
// Userinfo is rejected: credentials come from the password file, never from a URL.
[[nodiscard]] std::optional<url> parse_url(std::string_view text, std::string& error);

// Resolves an href from a multistatus against `base`: absolute URL, absolute path, or relative path.
[[nodiscard]] url resolve(const url& base, std::string_view href);

// Joins a collection target ("/a/b/") and a segment into "/a/b/segment".
[[nodiscard]] std::string join_target(std::string_view collection, std::string_view segment);

}  // namespace arrival::http
