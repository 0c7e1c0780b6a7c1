// LDAP's and LDIF's codes in the one failure model (protocol/failure.hpp), beside imap::classify
// (protocol/imap/errc.hpp) and http::classify (protocol/http/client.hpp): each side classifies its own codes
// once, here, and the CLI's one table (tools/arrival/exit_status.hpp) turns the result into an exit status.
#pragma once
#include <stdexcept>
#include <string>

#include "protocol/failure.hpp"
#include "provision/ldif_errc.hpp"

namespace arrival::provision {

// Where an LDAP result code came from: the same code means different things before and after the bind.
enum class ldap_step {
    connect,   // reaching the server (ldap_initialize, the TCP connect, a cleartext bind's first packet)
    tls,       // the TLS handshake (ldaps://, StartTLS), the server known to accept TCP
    bind,      // the simple bind's answer
    request,   // a search, add, modify, rename or delete after the bind
};

// rc: an LDAP result or API code (<ldap.h>: LDAP_SUCCESS is not a failure and is not passed).
//  - the server gone or silent (SERVER_DOWN, CONNECT_ERROR, TIMEOUT): unreachable while connecting, tls in
//    the handshake, transient after the bind (worth a rerun), as a reset is for IMAP;
//  - BUSY, UNAVAILABLE, ADMINLIMIT/TIMELIMIT exceeded: transient, the server's way of saying "later";
//  - CONFIDENTIALITY_REQUIRED: tls (the server wants TLS first, as IMAP's [PRIVACYREQUIRED]);
//  - bad credentials, STRONG_AUTH_REQUIRED, INAPPROPRIATE_AUTH, UNWILLING_TO_PERFORM at the bind,
//    INSUFFICIENT_ACCESS anywhere: auth;
//  - PROTOCOL_ERROR, DECODING_ERROR, ENCODING_ERROR, and anything unexpected at the bind: protocol;
//  - any other answer to a request (NO_SUCH_OBJECT, CONSTRAINT_VIOLATION, OBJECT_CLASS_VIOLATION,
//    ALREADY_EXISTS...): refused, that one entry; the rest goes on.
[[nodiscard]] failure classify_ldap(int rc, ldap_step step) noexcept;

// Every LDIF code is a fault of the input file (a line the reader cannot take), never the server's.
[[nodiscard]] constexpr failure classify(ldif_errc) noexcept { return failure::input; }

// What the online writer throws when the destination cannot be used at all (connect, TLS, bind, reading its
// schema or directory): the classified failure and a message naming the URL and the server's words.
class ldap_failure : public std::runtime_error {
public:
    using kind = arrival::failure;
    ldap_failure(kind k, const std::string& what) : std::runtime_error(what), kind_(k) {}
    [[nodiscard]] kind which() const noexcept { return kind_; }

private:
    kind kind_;
};

}  // namespace arrival::provision
