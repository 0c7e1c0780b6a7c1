#include "protocol/imap/connection.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <algorithm>

#include "protocol/imap/acl.hpp"
#include "protocol/imap/client_ops.hpp"

namespace arrival::imap {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;

std::shared_ptr<connection> connection::create(executor_type ex, std::shared_ptr<net::ssl::context> tls,
                                               connect_options opts) {
    return std::shared_ptr<connection>(new connection(std::move(ex), std::move(tls), std::move(opts)));
}

connection::connection(executor_type ex, std::shared_ptr<net::ssl::context> tls, connect_options opts)
    : ex_(ex),
      tls_ctx_(tls ? tls : std::make_shared<net::ssl::context>(net::ssl::context::tls_client)),
      opts_(std::move(opts)),
      transport_(ex, tls_ctx_),
      fsm_(client_fsm::options{.max_in_flight = opts_.max_in_flight,
                               .literal_plus_max = opts_.literal_plus_max,
                               .parser_limits = opts_.parser_limits}),
      writer_cv_(ex),
      watchdog_timer_(ex),
      read_buf_(64 * 1024) {}

connection::~connection() { transport_.close(); }

// ---- operations ----

net::awaitable<void> connection::wait(operation& op, net::steady_timer& done, error_code& ec) {
    while (!op.done()) {
        done.expires_at(clock::time_point::max());
        error_code ignored;
        co_await done.async_wait(net::redirect_error(net::use_awaitable, ignored));
    }
    op.on_done = nullptr;
    ec = op.error();
    diag_ = op.diag();
}

net::awaitable<void> connection::run(operation& op, error_code& ec) {
    net::steady_timer done(ex_);  // a timer used as a condition variable: cancelled when op completes
    op.on_done = [&done] { done.cancel(); };
    fsm_.start(op);
    touch();
    wake_writer();
    co_await wait(op, done, ec);
}

net::awaitable<void> connection::run_simple(error_code encode_error, std::string why, command cmd, error_code& ec) {
    diagnostics enc;
    if (encode_error) enc.set_client_message(std::move(why));
    simple_op op = encode_error ? simple_op(encode_error, enc) : simple_op(std::move(cmd));
    co_await run(op, ec);
}

template <class Op, class Encode>
Op connection::encoded_op(Encode encode, std::string_view capability, std::string_view missing_message) {
    command cmd;
    diagnostics enc;
    error_code e = encode(cmd, &enc);
    if (!e && !capability.empty() && !fsm_.session().has(capability)) {
        enc.set_client_message(std::string(missing_message));
        e = errc::capability_missing;
    }
    return e ? Op(e, enc) : Op(std::move(cmd));
}

// ---- the three loops ----

// Only when there is something to write: waking an idle writer after every read of a long FETCH, to find
// nothing, cost a timer cancel and two coroutine switches per read.
void connection::wake_writer() {
    if (writer_idle_ && fsm_.has_output()) writer_cv_.cancel();
}

void connection::touch() {
    const auto now = clock::now();
    deadline_ = now + (fsm_.expecting_reply() ? opts_.read_timeout : opts_.idle_timeout);
    // The watchdog sleeps until the previous deadline; wake it when the new one is earlier (idle -> busy).
    if (deadline_ < watchdog_timer_.expiry()) watchdog_timer_.cancel();
}

void connection::start_loops() {
    auto self = shared_from_this();
    net::co_spawn(ex_, [self]() { return self->reader(); }, net::detached);
    net::co_spawn(ex_, [self]() { return self->writer(); }, net::detached);
    net::co_spawn(ex_, [self]() { return self->watchdog(); }, net::detached);
}

net::awaitable<void> connection::watchdog() {
    auto self = shared_from_this();
    while (!closed_) {
        watchdog_timer_.expires_at(deadline_);
        error_code ec;
        co_await watchdog_timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (closed_) break;
        if (clock::now() >= deadline_) {
            fail_all(errc::timeout, fsm_.expecting_reply() ? "read timeout: no reply from the server"
                                                           : "idle timeout: nothing sent or received");
            break;
        }
    }
}

net::awaitable<void> connection::reader() {
    auto self = shared_from_this();
    while (!closed_) {
        error_code ec;
        if (fsm_.tls_handshake_due()) {
            // imaps://, or the tagged OK to STARTTLS: nothing more is read in plaintext.
            co_await transport_.async_handshake(opts_.url.host, opts_.connect_timeout, ec);
            if (closed_) co_return;
            touch();
            fsm_.tls_handshake_done(ec, transport_.tls_failure());
            wake_writer();
            if (ec) co_return;  // the connect operation failed with it; async_connect closes
            continue;
        }
        const std::size_t n = co_await transport_.async_read_some(net::buffer(read_buf_), ec);
        if (ec) {
            if (closed_) co_return;  // close(), logout or an earlier failure already reported
            if (ec == net::error::eof || ec == net::ssl::error::stream_truncated) {
                fail_all(fsm_.bye() ? make_error_code(errc::bye) : make_error_code(errc::connection_closed),
                         "the server closed the connection");
            } else {
                fail_all(ec, "read failed: " + ec.message());
            }
            co_return;
        }
        if (const auto pec = fsm_.feed({read_buf_.data(), n})) {
            fail_all(pec, fsm_.failure());
            co_return;
        }
        touch();          // commands may have completed: idle or busy
        wake_writer();    // a "+" arrived or a slot in the pipeline is free
    }
}

net::awaitable<void> connection::writer() {
    auto self = shared_from_this();
    while (!closed_) {
        const std::string_view bytes = fsm_.prepare_write();
        if (bytes.empty()) {
            writer_cv_.expires_at(clock::time_point::max());
            error_code ignored;
            writer_idle_ = true;
            co_await writer_cv_.async_wait(net::redirect_error(net::use_awaitable, ignored));
            writer_idle_ = false;
            continue;
        }
        error_code ec;
        const std::size_t n = co_await transport_.async_write_some(net::buffer(bytes.data(), bytes.size()),
                                                                   opts_.write_timeout, ec);
        if (closed_) co_return;
        if (ec) {
            fail_all(ec == boost::beast::error::timeout ? make_error_code(errc::timeout) : ec,
                     "write failed: " + ec.message());
            co_return;
        }
        if (opts_.written) opts_.written(bytes.substr(0, n));
        fsm_.commit_write(n);
        touch();  // a long upload is progress too: the server stays silent until the literal is complete
    }
}

void connection::fail_all(error_code ec, std::string_view why) {
    if (closed_) return;
    closed_ = true;
    // Close first: once close() returns no send() can be reading a caller's body (Asio takes the descriptor
    // lock), so completing the operations below, whose awaiters may free those bodies, is safe.
    transport_.close();
    fsm_.fail_all(ec, why);
    writer_cv_.cancel();
    watchdog_timer_.cancel();
}

void connection::close() {
    if (closed_) return;
    fail_all(net::error::operation_aborted, "connection closed by the client");
    fsm_.session().phase = session_phase::logout;
}

// ---- connect and authenticate ----

net::awaitable<void> connection::async_connect(error_code& ec) {
    ec = {};
    diag_.clear();
    const auto& url = opts_.url;
    co_await transport_.async_connect(url.host, url.port, opts_.connect_timeout, ec);
    if (ec) {
        if (ec == boost::beast::error::timeout) ec = errc::timeout;
        diag_.set_client_message("cannot connect to " + url.str() + ": " + ec.message());
        closed_ = true;
        transport_.close();
        co_return;
    }
    connect_op op(url);
    net::steady_timer done(ex_);
    op.on_done = [&done] { done.cancel(); };
    fsm_.start(op);  // before the reader runs: imaps:// asks for the handshake first
    touch();
    start_loops();
    co_await wait(op, done, ec);
    if (ec) fail_all(ec, diag_.client_message());
}

net::awaitable<void> connection::async_login(const credentials& cred, error_code& ec) {
    login_op op(cred);
    co_await run(op, ec);
}

net::awaitable<void> connection::async_noop(error_code& ec) {
    simple_op op(encode_simple("NOOP"));
    co_await run(op, ec);
}

net::awaitable<std::vector<std::pair<std::string, std::string>>> connection::async_id(error_code& ec) {
    if (!fsm_.session().has("ID")) {
        ec = errc::capability_missing;
        diag_.clear();
        diag_.set_client_message("the server does not support ID");
        co_return std::vector<std::pair<std::string, std::string>>{};
    }
    const std::pair<std::string_view, std::string_view> fields[] = {{"name", "arrival"}, {"version", "0.1.0"}};
    command cmd;
    const error_code enc = encode_id(fields, fsm_.encoder(), cmd);
    id_op op = enc ? id_op(enc, diagnostics{}) : id_op(std::move(cmd));
    co_await run(op, ec);
    co_return std::move(op.out);
}

// ---- mailboxes ----

net::awaitable<namespace_info> connection::async_namespace(error_code& ec) {
    namespace_op op;
    co_await run(op, ec);
    co_return std::move(op.out);
}

net::awaitable<std::vector<mailbox_info>> connection::async_list(std::string_view reference, std::string_view pattern,
                                                                 error_code& ec) {
    list_op op(reference, pattern, false);
    co_await run(op, ec);
    co_return std::move(op.out);
}

net::awaitable<mailbox_status> connection::async_status(std::string_view mailbox, error_code& ec) {
    std::vector<std::string_view> items = {"MESSAGES", "UIDNEXT", "UIDVALIDITY"};
    if (fsm_.session().has("STATUS=SIZE")) items.push_back("SIZE");
    co_return co_await async_status(mailbox, items, ec);
}

net::awaitable<mailbox_status> connection::async_status(std::string_view mailbox,
                                                        std::span<const std::string_view> items, error_code& ec) {
    command cmd;
    diagnostics enc;
    const error_code e = encode_status(mailbox, items, fsm_.encoder(), cmd, &enc);
    status_op op = e ? status_op(e, enc) : status_op(std::move(cmd));
    co_await run(op, ec);
    co_return std::move(op.out);
}

net::awaitable<select_info> connection::async_select(std::string_view mailbox, bool read_only, error_code& ec) {
    command cmd;
    diagnostics enc;
    const error_code e = encode_select(mailbox, read_only, false, fsm_.encoder(), cmd, &enc);
    select_op op = e ? select_op(e, enc) : select_op(mailbox, read_only, std::move(cmd));
    co_await run(op, ec);
    co_return std::move(op.out);
}

net::awaitable<std::vector<std::uint32_t>> connection::async_uid_search(std::string_view criteria, error_code& ec) {
    command cmd;
    diagnostics enc;
    const error_code e = encode_uid_search(criteria, {}, cmd);
    if (e) enc.set_client_message("cannot encode UID SEARCH criteria");
    search_op op = e ? search_op(e, enc) : search_op(std::move(cmd));
    co_await run(op, ec);
    co_return std::move(op.out);
}

net::awaitable<void> connection::async_uid_fetch(std::string_view uid_set, std::string_view items, fetch_handler& sink,
                                                 error_code& ec) {
    command cmd;
    if (const error_code e = encode_uid_fetch(uid_set, items, cmd)) {
        co_await run_simple(e, "cannot encode UID FETCH " + std::string(uid_set.substr(0, 64)), {}, ec);
        co_return;
    }
    fetch_op op(std::move(cmd), sink);
    co_await run(op, ec);
}

net::awaitable<void> connection::async_uid_fetch_changedsince(std::string_view uid_set, std::string_view items,
                                                              std::uint64_t modseq, fetch_handler& sink,
                                                              error_code& ec, std::vector<seq_range>* vanished) {
    command cmd;
    if (const error_code e = encode_uid_fetch_changedsince(uid_set, items, modseq, cmd, vanished != nullptr)) {
        co_await run_simple(e, "cannot encode UID FETCH " + std::string(uid_set.substr(0, 64)) + " (CHANGEDSINCE)", {}, ec);
        co_return;
    }
    fetch_op op(std::move(cmd), sink, vanished);
    co_await run(op, ec);
}

net::awaitable<std::vector<std::string>> connection::async_enable(std::span<const std::string_view> capabilities,
                                                                  error_code& ec) {
    command cmd;
    const error_code e = encode_enable(capabilities, cmd);
    diagnostics enc;
    if (e) enc.set_client_message("cannot encode ENABLE");
    enable_op op = e ? enable_op(e, enc) : enable_op(std::move(cmd));
    co_await run(op, ec);
    co_return std::move(op.out);
}

net::awaitable<void> connection::async_uid_store(std::string_view uid_set, std::string_view item,
                                                 std::span<const std::string_view> flags, error_code& ec) {
    command cmd;
    const error_code e = encode_uid_store(uid_set, item, flags, cmd);
    co_await run_simple(e, "cannot encode UID STORE " + std::string(uid_set.substr(0, 64)) + " " + std::string(item),
                        std::move(cmd), ec);
}

net::awaitable<void> connection::async_uid_expunge(std::string_view uid_set, error_code& ec) {
    if (!fsm_.session().has("UIDPLUS")) {
        co_await run_simple(errc::capability_missing, "UID EXPUNGE needs UIDPLUS, which the server does not offer", {},
                            ec);
        co_return;
    }
    command cmd;
    const error_code e = encode_uid_expunge(uid_set, cmd);
    co_await run_simple(e, "cannot encode UID EXPUNGE " + std::string(uid_set.substr(0, 64)), std::move(cmd), ec);
}

net::awaitable<void> connection::async_rename(std::string_view from, std::string_view to, error_code& ec) {
    auto op = encoded_op<simple_op>([&](command& c, diagnostics* d) { return encode_rename(from, to, fsm_.encoder(), c, d); });
    co_await run(op, ec);
}

net::awaitable<void> connection::async_delete(std::string_view mailbox, error_code& ec) {
    auto op = encoded_op<simple_op>([&](command& c, diagnostics* d) { return encode_delete(mailbox, fsm_.encoder(), c, d); });
    co_await run(op, ec);
}

net::awaitable<void> connection::async_create(std::string_view mailbox, error_code& ec) {
    co_await async_create(mailbox, special_use::none, ec);
}

net::awaitable<void> connection::async_create(std::string_view mailbox, special_use use, error_code& ec) {
    std::optional<std::string_view> attr;
    if (use != special_use::none && fsm_.session().has("CREATE-SPECIAL-USE")) attr = to_string(use);
    auto op = encoded_op<simple_op>([&](command& c, diagnostics* d) { return encode_create(mailbox, attr, fsm_.encoder(), c, d); });
    co_await run(op, ec);
}

net::awaitable<void> connection::async_subscribe(std::string_view mailbox, error_code& ec) {
    auto op = encoded_op<simple_op>([&](command& c, diagnostics* d) { return encode_subscribe(mailbox, true, fsm_.encoder(), c, d); });
    co_await run(op, ec);
}

net::awaitable<void> connection::async_unsubscribe(std::string_view mailbox, error_code& ec) {
    auto op = encoded_op<simple_op>([&](command& c, diagnostics* d) { return encode_subscribe(mailbox, false, fsm_.encoder(), c, d); });
    co_await run(op, ec);
}

net::awaitable<append_result> connection::async_append(std::string_view mailbox,
                                                       std::span<const append_message> messages, error_code& ec) {
    append_op op(mailbox, messages);
    co_await run(op, ec);
    co_return std::move(op.out);
}

// ---- RFC 4314 ACL: the bytes are protocol/imap/acl's; these only run them ----


net::awaitable<std::vector<acl_grant>> connection::async_getacl(std::string_view mailbox, error_code& ec) {
    auto op = acl_op<getacl_op>([&](command& c, diagnostics* d) { return encode_getacl(mailbox, fsm_.encoder(), c, d); });
    co_await run(op, ec);
    co_return std::move(op.out);
}

net::awaitable<void> connection::async_setacl(std::string_view mailbox, std::string_view identifier,
                                              std::string_view rights, error_code& ec) {
    auto op = acl_op<simple_op>(
        [&](command& c, diagnostics* d) { return encode_setacl(mailbox, identifier, rights, fsm_.encoder(), c, d); });
    co_await run(op, ec);
}

net::awaitable<std::string> connection::async_myrights(std::string_view mailbox, error_code& ec) {
    auto op = acl_op<myrights_op>([&](command& c, diagnostics* d) { return encode_myrights(mailbox, fsm_.encoder(), c, d); });
    co_await run(op, ec);
    co_return std::move(op.out);
}

net::awaitable<listrights_info> connection::async_listrights(std::string_view mailbox, std::string_view identifier,
                                                             error_code& ec) {
    auto op = acl_op<listrights_op>(
        [&](command& c, diagnostics* d) { return encode_listrights(mailbox, identifier, fsm_.encoder(), c, d); });
    co_await run(op, ec);
    co_return std::move(op.out);
}

net::awaitable<void> connection::async_logout(error_code& ec) {
    ec = {};
    if (closed_) co_return;
    simple_op op(encode_simple("LOGOUT"));
    co_await run(op, ec);
    fsm_.session().phase = session_phase::logout;
    // The server closes after its tagged OK (RFC 3501 §6.1.3), and the reader may already be reading that EOF,
    // so no TLS close_notify exchange here (it would need a second concurrent read on the TLS stream): the
    // stream is self-delimited after the OK, so nothing can be truncated. Nothing is in flight any more, so
    // fail_all() only closes.
    fail_all(net::error::operation_aborted, "logged out");
}

}  // namespace arrival::imap
