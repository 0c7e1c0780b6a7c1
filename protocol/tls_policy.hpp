// The one client TLS policy of arrival: IMAP (protocol/imap/transport), HTTP (protocol/http/client: CalDAV/CardDAV,
// Carbonio SOAP/REST, WebDAV files) and, as far as libldap lets it, LDAP (provision/ldap_writer) build their
// TLS from these rules, so a flag means the same on every protocol.
//
// - TLS 1.2 is the lowest version offered; TLS compression is off (CRIME).
// - The peer is verified by default: its chain must end at a trusted CA, and its certificate must name the
//   host the user gave (a DNS name against the DNS names, without partial wildcards such as "f*.example";
//   an IP literal against the IP addresses). SNI carries DNS names only (RFC 6066 §3).
// - --ca-file REPLACES the system trust store, as curl's --cacert does: an administrator who names a CA file
//   says "trust this CA", and a private CA must not silently widen to every public CA the system trusts.
//   Without --ca-file the system store is used: OpenSSL's default paths (SSL_CERT_FILE and SSL_CERT_DIR move
//   them); for LDAP libldap's own (TLS_CACERT in ldap.conf), since libldap does its TLS with GnuTLS.
// - A CA file that cannot be loaded is an error naming the file, never a silent fallback to the system store.
// - --insecure turns certificate and host-name verification off and nothing else (TLS is still used, and the
//   CA file is then not read).
#pragma once
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string>

namespace arrival::tls {

struct client_options {
    std::string ca_file;    // PEM CA bundle trusted INSTEAD of the system store; "" = the system store
    bool insecure = false;  // skip certificate and host-name checks; only ever set from an explicit flag
};

// One client context for many connections. Fails (nullptr, ec set, `detail` naming the file or the store)
// when the trust anchors cannot be loaded.
[[nodiscard]] std::shared_ptr<boost::asio::ssl::context> make_client_context(const client_options& opts,
                                                                             boost::system::error_code& ec,
                                                                             std::string& detail);
// The same, throwing std::runtime_error(detail) for callers whose failures are exceptions.
[[nodiscard]] std::shared_ptr<boost::asio::ssl::context> make_client_context(const client_options& opts);

// Before the handshake of one connection (`ssl` made from a context above): SNI for a DNS name and, unless the
// context is insecure, the name or address the certificate must carry. OpenSSL checks it during the handshake,
// so a mismatch fails it with X509_V_ERR_HOSTNAME_MISMATCH ("hostname mismatch") as its verify result.
// Returns an error (and `detail`) only when OpenSSL refuses the name.
[[nodiscard]] boost::system::error_code name_peer(SSL* ssl, const std::string& host, std::string& detail);

// Certificates the handshake refused: the value is OpenSSL's X509_V_ERR_*, the message "certificate verification
// failed: " and OpenSSL's reason (e.g. "unable to get local issuer certificate", "hostname mismatch").
[[nodiscard]] const boost::system::error_category& verify_category() noexcept;

// After a failed handshake on `ssl`: why the peer's certificate was refused (in verify_category()), or no error
// when the handshake failed for another reason (then the handshake's own error code says it).
[[nodiscard]] boost::system::error_code verify_failure(SSL* ssl);

}  // namespace arrival::tls
