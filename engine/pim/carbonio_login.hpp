// The Carbonio logins and the retrying send that the import stages and `arrival files` share (import_job.cpp
// defines them): the admin's SOAP AuthRequest once per run, a DelegateAuthRequest per user whose token then
// goes to REST and Files as the ZM_AUTH_TOKEN cookie (FACTS.md §3, §7).
#pragma once
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "engine/pim/import_job.hpp"
#include "engine/secret_string.hpp"
#include "protocol/http/client.hpp"

namespace arrival::pim {

// The admin's SOAP login, done once per run before the users (delegate auth): the token, or why not.
struct carbonio_session {
    engine::secret_string admin_token;  // a credential: prints as <redacted>, wiped when dropped
    failure_kind kind = failure_kind::protocol;   // why, when error is set
    std::string error;
};

// Sends with retries (o.retries, o.backoff doubled up to 30 s, Retry-After honoured) on transient failures:
// network errors, 408/429/5xx. With `soap`, a SOAP Fault (HTTP 500 in SOAP 1.2) is an answer, not retried.
// With `body_file`, the body is streamed from that file (client::async_upload), again on every attempt.
boost::asio::awaitable<http::response> send_retrying(http::client& c, const import_options& o,
                                                     const http::request& req, boost::system::error_code& ec,
                                                     bool soap = false, const std::string& body_file = {});

// o.admin's AuthRequest on o.admin_url into `s` (s.error set on failure). Never throws.
boost::asio::awaitable<void> admin_login(const import_options& o, carbonio_session& s);

struct delegated_login {
    engine::secret_string token;  // the user's delegated token (a credential)
    failure_kind kind = failure_kind::protocol;   // why, when error is set
    std::string error;            // "" on success
};
// A DelegateAuthRequest for `user` with the session's admin token; logs the admin in again once when the
// server says the admin token expired.
boost::asio::awaitable<delegated_login> delegate_login(const import_options& o, carbonio_session& session,
                                                       const std::string& user);

}  // namespace arrival::pim
