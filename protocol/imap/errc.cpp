#include "protocol/imap/errc.hpp"

#include <string>
#include <string_view>

namespace arrival::imap {
namespace {

const char* message_of(errc e) noexcept {
    switch (e) {
    case errc::bad_syntax: return "the server sent malformed IMAP";
    case errc::line_too_long: return "response line too long";
    case errc::literal_too_big: return "literal size too large";
    case errc::nesting_too_deep: return "lists nested too deeply";
    case errc::bad_literal: return "malformed literal";
    case errc::bad_date: return "malformed date-time";
    case errc::bad_utf8: return "invalid UTF-8";
    case errc::bad_mutf7: return "invalid modified UTF-7 mailbox name";
    case errc::bad_mailbox_name: return "mailbox name cannot be sent";
    case errc::unencodable: return "argument cannot be encoded in IMAP";
    case errc::bad_sequence_set: return "malformed sequence set";
    case errc::unexpected_response: return "unexpected response";
    case errc::no: return "the server refused the command (NO)";
    case errc::bad: return "the server rejected the command as invalid (BAD)";
    case errc::bye: return "the server closed the connection (BYE)";
    case errc::unavailable: return "temporarily unavailable (UNAVAILABLE)";
    case errc::in_use: return "mailbox in use (INUSE)";
    case errc::authentication_failed: return "authentication failed";
    case errc::authorization_failed: return "authorization failed (AUTHORIZATIONFAILED)";
    case errc::expired: return "credentials expired (EXPIRED)";
    case errc::privacy_required: return "encryption required (PRIVACYREQUIRED)";
    case errc::over_quota: return "over quota (OVERQUOTA)";
    case errc::limit: return "server limit reached (LIMIT)";
    case errc::try_create: return "mailbox does not exist (TRYCREATE)";
    case errc::nonexistent: return "mailbox does not exist (NONEXISTENT)";
    case errc::already_exists: return "mailbox already exists (ALREADYEXISTS)";
    case errc::no_perm: return "permission denied (NOPERM)";
    case errc::cannot: return "the server cannot do that (CANNOT)";
    case errc::server_bug: return "server bug (SERVERBUG)";
    case errc::unexpected_tag: return "response with a tag that was never sent";
    case errc::unexpected_continuation: return "continuation request while no command waits for one";
    case errc::tls_required: return "TLS required but not available";
    case errc::capability_missing: return "the server lacks a required capability";
    case errc::timeout: return "timed out";
    case errc::starttls_injection: return "data received in plaintext after the STARTTLS reply";
    case errc::connection_closed: return "connection closed in the middle of a response";
    }
    return "unknown arrival.imap error";
}

// boost::system::error_category's destructor is protected and non-virtual by design (categories are never
// deleted through a base pointer); -Wnon-virtual-dtor cannot know that.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class imap_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "arrival.imap"; }
    std::string message(int ev) const override { return message_of(static_cast<errc>(ev)); }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& imap_category() noexcept {
    static const imap_category_impl cat;
    return cat;
}

bool is_fatal(const error_code& ec) noexcept {
    if (!ec) return false;
    if (ec.category() != imap_category()) return true;  // I/O, TLS, resolver: the stream is gone
    switch (static_cast<errc>(ec.value())) {
    // Refusals of one command: the connection is still in a known state.
    case errc::no:
    case errc::bad:
    case errc::unavailable:
    case errc::in_use:
    case errc::authentication_failed:
    case errc::authorization_failed:
    case errc::expired:
    case errc::privacy_required:
    case errc::over_quota:
    case errc::limit:
    case errc::try_create:
    case errc::nonexistent:
    case errc::already_exists:
    case errc::no_perm:
    case errc::cannot:
    case errc::server_bug:
    // Detected before anything was sent.
    case errc::bad_utf8:
    case errc::bad_mailbox_name:
    case errc::unencodable:
    case errc::capability_missing:
        return false;
    default:
        return true;
    }
}

bool is_transient(const error_code& ec) noexcept {
    if (!ec) return false;
    if (ec.category() == imap_category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::unavailable:
        case errc::in_use:
        case errc::timeout:
        case errc::bye:
        case errc::connection_closed:
        case errc::server_bug:
            return true;
        default:
            return false;
        }
    }
    // Asio's EOF lives in "asio.misc" (value 2); we do not include Asio here, so compare by name.
    if (std::string_view(ec.category().name()) == "asio.misc" && ec.value() == 2) return true;
    namespace se = boost::system::errc;
    const auto cond = ec.default_error_condition();
    return cond == se::connection_reset || cond == se::connection_aborted || cond == se::timed_out ||
           cond == se::broken_pipe || cond == se::connection_refused || cond == se::network_unreachable ||
           cond == se::host_unreachable || cond == se::network_down || cond == se::network_reset;
}

failure classify(const error_code& ec, bool connecting) noexcept {
    // Asio's SSL categories are "asio.ssl" and "asio.ssl.stream"; we do not include Asio here, so by name.
    const bool tls_category = std::string_view(ec.category().name()).substr(0, 8) == "asio.ssl";
    if (tls_category || ec == errc::tls_required || ec == errc::starttls_injection || ec == errc::privacy_required) {
        return failure::tls;
    }
    if (ec == errc::authentication_failed || ec == errc::authorization_failed || ec == errc::expired) return failure::auth;
    if (connecting) {
        if (ec == errc::bye || ec == errc::connection_closed || is_transient(ec)) {
            namespace se = boost::system::errc;
            const auto cond = ec.default_error_condition();
            if (ec == errc::timeout || cond == se::connection_refused || cond == se::network_unreachable ||
                cond == se::host_unreachable || cond == se::network_down) {
                return failure::unreachable;
            }
            return failure::transient;   // accepted, then hung up: busy or restarting
        }
        return ec.category() == imap_category() ? failure::protocol : failure::unreachable;   // DNS, socket errors
    }
    if (is_transient(ec)) return failure::transient;
    if (is_fatal(ec)) return ec.category() == imap_category() ? failure::protocol : failure::transient;
    return failure::refused;
}

}  // namespace arrival::imap
