// imap:// and imaps:// URLs as the CLI takes them (a server, never a mailbox: RFC 5092's path part is not
// used). The URL chooses the TLS mode: imap:// requires STARTTLS, so no credential crosses the network in
// cleartext; only an explicit choice (the CLI's --allow-cleartext) loosens it to starttls_if_offered.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arrival::imap {

enum class tls_mode {
    starttls_if_offered,  // imap:// with --allow-cleartext: upgrade when the server offers STARTTLS, else stay cleartext
    starttls_required,    // imap:// (and --starttls): fail (errc::tls_required) when STARTTLS is not offered
    implicit,             // imaps:// : TLS from the first byte
    none,                 // imap:// and never STARTTLS, even when offered: never from a URL, only by explicit
                          // choice (tests of the cleartext path, servers whose STARTTLS is broken)
};

struct imap_url {
    std::string host;      // without brackets for IPv6 literals; also the TLS SNI / verified name
    std::uint16_t port = 0;  // always set: the explicit port or 143/993
    tls_mode tls = tls_mode::starttls_required;

    // "imap://host:port" or "imaps://host:port" (IPv6 hosts bracketed). Safe for logs: URLs never hold secrets.
    [[nodiscard]] std::string str() const;
};

// Parses imap://host[:port][/] and imaps://host[:port][/]. Returns nullopt with `error` set otherwise.
// Userinfo ("user@" or "user:pass@") is rejected without echoing it: credentials come from files or the
// environment, never from a URL that ends up in shell history and process lists.
[[nodiscard]] std::optional<imap_url> parse_imap_url(std::string_view text, std::string& error);

}  // namespace arrival::imap
