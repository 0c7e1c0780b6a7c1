// Error codes of the IMAP client, in the "arrival.imap" category (Boost.MySQL's client_errc shape).
//
// Three families share one enum so a connection can report any of them through one error_code:
//  * parse errors of the sans-I/O codec (bad_syntax ... bad_date): the byte stream can no longer be trusted,
//    the connection must be dropped (is_fatal);
//  * command outcomes decided by the server: a tagged NO/BAD, refined by the RFC 5530 response code when the
//    server sent one (unavailable, in_use, over_quota, ...). The connection stays usable;
//  * protocol-level failures the connection detects (unexpected_tag, tls_required, timeout, ...).
// Retry decisions are taken on these codes (is_transient), never on the server's human-readable text.
#pragma once
#include <boost/system/error_code.hpp>

#include "protocol/failure.hpp"

#include <type_traits>

namespace arrival::imap {

using error_code = boost::system::error_code;

enum class errc : int {
    // --- parsing (codec) ---
    bad_syntax = 1,            // the server sent something that is not IMAP
    line_too_long,             // a line exceeded limits::max_line
    literal_too_big,           // a literal exceeded limits::max_literal (or could not be streamed)
    nesting_too_deep,          // parenthesised lists nested deeper than limits::max_depth
    bad_literal,               // malformed {n} / ~{n} header (empty, overflow, no CRLF after it)
    bad_date,                  // an INTERNALDATE / date-time that is not RFC 3501 date-time
    bad_utf8,                  // invalid UTF-8 given to an encoder
    bad_mutf7,                 // invalid modified UTF-7 (RFC 3501 §5.1.3) from the server
    bad_mailbox_name,          // a mailbox name we cannot send (NUL, CR/LF, invalid UTF-8, empty)
    unencodable,               // a string argument that no IMAP string form can carry (e.g. NUL)
    bad_sequence_set,          // malformed sequence-set / uid-set
    unexpected_response,       // well-formed, but not what the decoder expects (e.g. LIST without a name)
    // --- server decisions on a command (tagged NO/BAD, RFC 5530 codes) ---
    no,                        // tagged NO without a more specific code
    bad,                       // tagged BAD: we sent something the server rejects (our bug, or a limit)
    bye,                       // untagged BYE: the server is closing the connection
    unavailable,               // [UNAVAILABLE] temporary failure (backend down)
    in_use,                    // [INUSE] mailbox locked by someone else
    authentication_failed,     // [AUTHENTICATIONFAILED] or a NO to LOGIN/AUTHENTICATE
    authorization_failed,      // [AUTHORIZATIONFAILED] the authzid may not be used
    expired,                   // [EXPIRED] credentials expired
    privacy_required,          // [PRIVACYREQUIRED] the server wants TLS first
    over_quota,                // [OVERQUOTA]
    limit,                     // [LIMIT] a server limit was reached (e.g. message too large)
    try_create,                // [TRYCREATE] the target mailbox does not exist
    nonexistent,               // [NONEXISTENT]
    already_exists,            // [ALREADYEXISTS]
    no_perm,                   // [NOPERM]
    cannot,                    // [CANNOT]
    server_bug,                // [SERVERBUG]
    // --- connection-level (used by the Asio layer) ---
    unexpected_tag,            // a tagged response for a tag we never sent (isync: fatal)
    unexpected_continuation,   // "+" while no command waits for one
    tls_required,              // STARTTLS required (by flag) but not offered, or LOGINDISABLED
    capability_missing,        // the command needs a capability the server does not advertise
    timeout,                   // connect/read/idle timeout
    starttls_injection,        // bytes followed the STARTTLS OK before the TLS handshake (CVE-2011-0411 class)
    connection_closed,         // EOF in the middle of a response
};

[[nodiscard]] const boost::system::error_category& imap_category() noexcept;

[[nodiscard]] inline error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), imap_category()}; }

// True when the connection cannot be used any more after `ec` (parse errors, BYE, unexpected tags, timeouts,
// every I/O error): reconnect. False for a command-level NO/BAD: only that command failed.
[[nodiscard]] bool is_fatal(const error_code& ec) noexcept;

// True when retrying later (on a fresh connection) may succeed: [UNAVAILABLE], [INUSE], timeouts, BYE,
// resets and EOF. False for permanent refusals ([AUTHENTICATIONFAILED], [OVERQUOTA], [LIMIT], BAD, ...).
[[nodiscard]] bool is_transient(const error_code& ec) noexcept;

// Which failure `ec` is (protocol/failure.hpp), for every command alike. `connecting`: `ec` ended the connect
// (TCP, greeting, STARTTLS, TLS handshake), where a refused or timed-out connect means the server is unreachable
// and a hang-up after accepting is transient; otherwise a command on a connection that was up failed.
[[nodiscard]] failure classify(const error_code& ec, bool connecting) noexcept;

}  // namespace arrival::imap

template <>
struct boost::system::is_error_code_enum<arrival::imap::errc> : std::true_type {};
