// Why a TLS handshake with an LDAP server failed, in words: "certificate verify failed (self-signed
// certificate in certificate chain): /CN=… (depth 1)". Debian's libldap does TLS with GnuTLS and reports
// every handshake failure as "Can't contact LDAP server" with the diagnostic "(unknown error code)"
// (its GnuTLS glue returns -1 when the chain check fails, and the reason goes only to its debug log).
// So after libldap gives up, the handshake is repeated with OpenSSL under arrival's TLS policy
// (protocol/tls_policy.hpp: the CA file instead of the system store, the URL's host name checked) and
// OpenSSL's verify result is reported. Diagnosis
// only: nothing is sent after the handshake (StartTLS: the extended request, then the handshake).
#pragma once
#include <string>

namespace arrival::provision {

// "" when the server cannot be reached; when OpenSSL's handshake verifies the server, a sentence saying
// that the refusal is libldap's own. Waits at most a few seconds.
std::string diagnose_tls(const std::string& url, const std::string& ca_file, bool starttls);

}  // namespace arrival::provision
