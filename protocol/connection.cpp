#include "protocol/connection.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <algorithm>

#include "protocol/acl.hpp"
#include "protocol/data_decoder.hpp"
#include "protocol/mutf7.hpp"
#include "protocol/resp_code.hpp"
#include "protocol/sequence_set.hpp"

namespace arrival::imap {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;

// One command from submission to its tagged reply. Shared by the awaiting coroutine and the connection's list.
struct connection::op {
    explicit op(const executor_type& ex) : cv(ex) {}
    command_id id = 0;
    std::string verb;
    std::function<bool(const response&)> untagged;   // responses routed here; true when consumed
    std::function<void(const response&)> on_tagged;  // the tagged reply, before completion
    fetch_handler* sink = nullptr;                   // UID FETCH: body chunks and records go here
    fetch_decoder decoder;
    bool done = false;
    error_code ec;
    diagnostics diag;
    net::steady_timer cv;  // a timer used as a condition variable: cancelled on completion
};

namespace {

// Consumes FETCH responses nobody asked for (flag changes announced by the server, RFC 3501 §7.4.2).
class discard_fetch final : public fetch_handler {
public:
    error_code on_body_begin(const fetch_part&, std::uint64_t) override { return {}; }
    error_code on_body_chunk(std::string_view) override { return {}; }
    error_code on_body_end() override { return {}; }
    error_code on_fetch(const fetch_record&) override { return {}; }
};

std::string to_owned_code(const response_code& c) {
    std::string s(c.name);
    if (!c.args.empty()) {
        s += ' ';
        s.append(c.args);
    }
    return s;
}

std::vector<std::string> owned(const std::vector<std::string_view>& v) { return {v.begin(), v.end()}; }

std::string decode_name(std::string_view raw) {
    std::string out;
    if (decode_mutf7(raw, out)) return std::string(raw);  // shown as sent rather than dropped
    return out;
}

}  // namespace

// The parser's handler: routes complete responses to the connection, and the streamed literals of FETCH
// bodies to the fetch decoder of the command that asked for them.
class connection::router final : public response_handler {
public:
    explicit router(connection& c) : c_(c) {}

    error_code on_response(const response& r) override {
        if (r.kind == response_kind::untagged && r.is("FETCH")) {
            auto [dec, sink] = literal_dec_ != nullptr ? std::pair(literal_dec_, literal_sink_) : fetch_target();
            literal_dec_ = nullptr;
            literal_sink_ = nullptr;
            return dec->on_response(r, *sink);
        }
        return c_.on_response(r);
    }
    error_code on_literal_begin(const response& partial, std::uint64_t size) override {
        if (partial.kind != response_kind::untagged || !partial.is("FETCH")) {
            return response_handler::on_literal_begin(partial, size);
        }
        if (literal_dec_ == nullptr) std::tie(literal_dec_, literal_sink_) = fetch_target();
        return literal_dec_->on_literal_begin(partial, size, *literal_sink_);
    }
    error_code on_literal_chunk(std::string_view bytes) override {
        if (literal_dec_ == nullptr) return response_handler::on_literal_chunk(bytes);
        return literal_dec_->on_literal_chunk(bytes, *literal_sink_);
    }
    error_code on_literal_end() override {
        if (literal_dec_ == nullptr) return response_handler::on_literal_end();
        return literal_dec_->on_literal_end(*literal_sink_);
    }

private:
    // The oldest UID FETCH in flight receives FETCH responses; without one they are decoded and dropped.
    std::pair<fetch_decoder*, fetch_handler*> fetch_target() {
        for (auto& o : c_.ops_) {
            if (o->sink != nullptr && !o->done) return {&o->decoder, o->sink};
        }
        return {&discard_decoder_, &discard_};
    }

    connection& c_;
    fetch_decoder* literal_dec_ = nullptr;  // set for the duration of one FETCH response with big literals
    fetch_handler* literal_sink_ = nullptr;
    fetch_decoder discard_decoder_;
    discard_fetch discard_;
};

std::shared_ptr<connection> connection::create(executor_type ex, std::shared_ptr<net::ssl::context> tls,
                                               connect_options opts) {
    return std::shared_ptr<connection>(new connection(std::move(ex), std::move(tls), std::move(opts)));
}

connection::connection(executor_type ex, std::shared_ptr<net::ssl::context> tls, connect_options opts)
    : ex_(ex),
      tls_ctx_(tls ? tls : std::make_shared<net::ssl::context>(net::ssl::context::tls_client)),
      opts_(std::move(opts)),
      transport_(ex, tls_ctx_),
      parser_(opts_.parser_limits),
      queue_(pipeline_queue::limits{.max_in_flight = std::max<std::size_t>(1, opts_.max_in_flight),
                                    .coalesce_bytes = 64 * 1024}),
      router_(std::make_unique<router>(*this)),
      writer_cv_(ex),
      watchdog_timer_(ex),
      read_buf_(64 * 1024) {}

connection::~connection() { transport_.close(); }

encoder_options connection::encoder() const noexcept {
    encoder_options o;
    o.literal_plus = session_.has("LITERAL+");
    o.literal_minus = session_.has("LITERAL-");
    o.non_sync_max = opts_.literal_plus_max;
    return o;
}

// ---- commands ----

std::shared_ptr<connection::op> connection::submit(command cmd, std::function<bool(const response&)> untagged,
                                                   fetch_handler* sink,
                                                   std::function<void(const response&)> on_tagged) {
    auto o = std::make_shared<op>(ex_);
    o->verb = cmd.verb;
    o->untagged = std::move(untagged);
    o->on_tagged = std::move(on_tagged);
    o->sink = sink;
    if (closed_) {
        o->done = true;
        o->ec = bye_ ? make_error_code(errc::bye) : make_error_code(errc::connection_closed);
        o->diag.set_command(cmd.redacted);
        o->diag.set_client_message("the connection is closed");
        if (bye_) o->diag.set_server_message(bye_text_);
        return o;
    }
    std::vector<command_piece> pieces;
    pieces.reserve(cmd.segments.size());
    for (auto& s : cmd.segments) pieces.push_back({std::move(s.owned), s.borrowed, s.await_continuation});
    o->id = queue_.push(std::move(pieces));
    o->diag.set_command(queue_.tag_of(o->id) + ' ' + cmd.redacted);
    ops_.push_back(o);
    touch();
    wake_writer();
    return o;
}

net::awaitable<void> connection::wait(op& o, error_code& ec) {
    while (!o.done) {
        o.cv.expires_at(clock::time_point::max());
        error_code ignored;
        co_await o.cv.async_wait(net::redirect_error(net::use_awaitable, ignored));
    }
    ec = o.ec;
    diag_ = o.diag;
}

net::awaitable<void> connection::run(command cmd, std::function<bool(const response&)> untagged, error_code& ec,
                                     fetch_handler* sink, std::function<void(const response&)> on_tagged) {
    auto o = submit(std::move(cmd), std::move(untagged), sink, std::move(on_tagged));
    if (loops_started_ || o->done) {
        co_await wait(*o, ec);
    } else {
        co_await run_inline(o.get(), ec);
        if (!ec) {
            ec = o->ec;
            diag_ = o->diag;
        }
    }
}

void connection::complete(op& o, const response& r) {
    o.ec = status_error(r);
    o.diag.set_server_message(r.text);
    o.diag.set_response_code(to_owned_code(r.code));
    // RFC 3501 §7.1: a [CAPABILITY] code on any status response replaces what we knew.
    if (iequals(r.code.name, "CAPABILITY")) {
        std::vector<std::string_view> words;
        if (!code_words(r.code, words)) session_.set_capabilities(words);
    }
    if (o.on_tagged) o.on_tagged(r);
    if (!o.ec && o.verb == "STARTTLS") starttls_ok_ = true;
    o.done = true;
    o.cv.cancel();
}

error_code connection::on_response(const response& r) {
    if (starttls_ok_) {
        // Anything after the STARTTLS OK in the same plaintext read was injected by a man in the middle.
        diag_.set_client_message("the server sent data after its STARTTLS reply, before TLS started");
        return errc::starttls_injection;
    }
    switch (r.kind) {
        case response_kind::continuation:
            if (!queue_.on_continuation()) {
                diag_.set_client_message("continuation request (+) while no command waits for one");
                return errc::unexpected_continuation;
            }
            wake_writer();
            return {};
        case response_kind::tagged: {
            const auto id = queue_.on_tagged(r.tag);
            if (!id) {
                diag_.set_client_message("tagged reply for a tag we never sent or already completed: '" +
                                         std::string(r.tag.substr(0, 40)) + "'");
                return errc::unexpected_tag;
            }
            const auto it = std::find_if(ops_.begin(), ops_.end(), [&](const auto& o) { return o->id == *id; });
            if (it != ops_.end()) {
                auto o = *it;
                ops_.erase(it);
                complete(*o, r);
            }
            touch();
            wake_writer();  // a slot in the pipeline is free
            return {};
        }
        case response_kind::untagged:
            break;
    }
    if (r.is_status()) {
        if (!got_greeting_) {
            got_greeting_ = true;
            greeting_.assign(r.text);
            if (r.status == response_status::bye) {
                bye_ = true;
                bye_text_.assign(r.text);
            } else if (r.status == response_status::preauth) {
                session_.phase = session_phase::authenticated;
            }
        }
        if (r.status == response_status::bye) {
            // The reader reports it when the socket closes; a LOGOUT expects it.
            bye_ = true;
            bye_text_.assign(r.text);
            return {};
        }
        if (iequals(r.code.name, "CAPABILITY")) {
            std::vector<std::string_view> words;
            if (!code_words(r.code, words)) session_.set_capabilities(words);
            return {};
        }
        if (iequals(r.code.name, "ALERT")) {
            alerts_.emplace_back(r.text);
            return {};
        }
    } else if (r.is("CAPABILITY")) {
        std::vector<std::string_view> words;
        if (const auto ec = decode_capability(r, words)) return ec;
        session_.set_capabilities(words);
        return {};
    } else if (r.is("EXISTS") && r.number) {
        session_.exists = *r.number;
    }
    for (auto& o : ops_) {
        if (!o->done && o->untagged && o->untagged(r)) return {};
    }
    return {};  // unsolicited and of no interest (RECENT, EXPUNGE outside a command, OK without a code ...)
}

// ---- the three loops ----

void connection::wake_writer() { writer_cv_.cancel(); }

void connection::touch() {
    const auto now = clock::now();
    deadline_ = now + (queue_.empty() ? opts_.idle_timeout : opts_.read_timeout);
    // The watchdog sleeps until the previous deadline; wake it when the new one is earlier (idle -> busy).
    if (deadline_ < watchdog_timer_.expiry()) watchdog_timer_.cancel();
}

void connection::start_loops() {
    loops_started_ = true;
    auto self = shared_from_this();
    net::co_spawn(ex_, [self]() { return self->reader(); }, net::detached);
    net::co_spawn(ex_, [self]() { return self->writer(); }, net::detached);
}

net::awaitable<void> connection::watchdog() {
    auto self = shared_from_this();
    while (!closed_) {
        watchdog_timer_.expires_at(deadline_);
        error_code ec;
        co_await watchdog_timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (closed_) break;
        if (clock::now() >= deadline_) {
            timed_out_ = true;
            fail_all(errc::timeout, queue_.empty() ? "idle timeout: nothing sent or received"
                                                   : "read timeout: no reply from the server");
            break;
        }
    }
}

net::awaitable<void> connection::reader() {
    auto self = shared_from_this();
    while (!closed_) {
        error_code ec;
        const std::size_t n = co_await transport_.async_read_some(net::buffer(read_buf_), ec);
        if (ec) {
            if (closed_) co_return;  // close(), logout or an earlier failure already reported
            if (ec == net::error::eof || ec == net::ssl::error::stream_truncated) {
                fail_all(bye_ ? make_error_code(errc::bye) : make_error_code(errc::connection_closed),
                         "the server closed the connection");
            } else {
                fail_all(ec, "read failed: " + ec.message());
            }
            co_return;
        }
        touch();
        if (const auto pec = parser_.feed({read_buf_.data(), n}, *router_)) {
            const std::string why = !parser_.diag().client_message().empty() ? parser_.diag().client_message()
                                                                             : diag_.client_message();
            fail_all(pec, why.empty() ? pec.message() : why);
            co_return;
        }
    }
}

net::awaitable<void> connection::writer() {
    auto self = shared_from_this();
    while (!closed_) {
        const std::string_view bytes = queue_.prepare_write();
        if (bytes.empty()) {
            writer_cv_.expires_at(clock::time_point::max());
            error_code ignored;
            co_await writer_cv_.async_wait(net::redirect_error(net::use_awaitable, ignored));
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
        queue_.commit_write(n);
        touch();  // a long upload is progress too: the server stays silent until the literal is complete
    }
}

net::awaitable<void> connection::run_inline(op* o, error_code& ec) {
    // Only before start_loops(): nobody else reads or writes, so this coroutine does both in turn.
    for (;;) {
        if (o != nullptr ? o->done : got_greeting_) co_return;
        if (closed_) break;
        const std::string_view bytes = queue_.prepare_write();
        if (!bytes.empty()) {
            const std::size_t n = co_await transport_.async_write_some(net::buffer(bytes.data(), bytes.size()),
                                                                       opts_.write_timeout, ec);
            if (ec) break;
            queue_.commit_write(n);
            continue;
        }
        const std::size_t n = co_await transport_.async_read_some(net::buffer(read_buf_), ec);
        if (ec) break;
        touch();
        if (const auto pec = parser_.feed({read_buf_.data(), n}, *router_)) {
            ec = pec;
            diag_.set_client_message(!parser_.diag().client_message().empty() ? parser_.diag().client_message()
                                                                              : diag_.client_message());
            co_return;
        }
    }
    if (timed_out_) ec = errc::timeout;
    if (ec == net::error::eof) ec = bye_ ? make_error_code(errc::bye) : make_error_code(errc::connection_closed);
    if (o != nullptr) diag_.set_command(o->diag.command());
    if (bye_) diag_.set_server_message(bye_text_);
    if (diag_.client_message().empty()) diag_.set_client_message(ec.message());
}

void connection::fail_all(error_code ec, std::string_view why) {
    if (closed_) return;
    closed_ = true;
    // Close first: once close() returns no send() can be reading a caller's body (Asio takes the descriptor
    // lock), so waking the waiters below, who may free those bodies, is safe.
    transport_.close();
    auto pending = std::move(ops_);
    ops_.clear();
    (void)queue_.clear();
    for (auto& o : pending) {
        if (o->done) continue;
        o->ec = ec;
        o->diag.set_client_message(std::string(why));
        if (bye_) o->diag.set_server_message(bye_text_);
        o->done = true;
        o->cv.cancel();
    }
    writer_cv_.cancel();
    watchdog_timer_.cancel();
}

void connection::close() {
    if (closed_) return;
    fail_all(net::error::operation_aborted, "connection closed by the client");
    session_.phase = session_phase::logout;
}

// ---- connect and authenticate ----

net::awaitable<void> connection::read_greeting(error_code& ec) { co_await run_inline(nullptr, ec); }

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
    if (url.tls == tls_mode::implicit) {
        co_await transport_.async_handshake(url.host, opts_.connect_timeout, ec);
        if (ec) {
            diag_.set_client_message("TLS with " + url.str() + ": " + transport_.tls_failure());
            closed_ = true;
            transport_.close();
            co_return;
        }
    }
    deadline_ = clock::now() + opts_.read_timeout;
    {
        auto self = shared_from_this();
        net::co_spawn(ex_, [self]() { return self->watchdog(); }, net::detached);
    }
    auto fail = [&](std::string why) {
        if (diag_.client_message().empty()) diag_.set_client_message(std::move(why));
        fail_all(ec, diag_.client_message());
    };
    co_await read_greeting(ec);
    if (ec) co_return fail("no greeting from " + url.str());
    if (bye_) {
        ec = errc::bye;
        diag_.set_server_message(bye_text_);
        co_return fail("the server refused the connection");
    }
    if (session_.capabilities().empty()) {
        co_await run(encode_simple("CAPABILITY"), nullptr, ec);
        if (ec) co_return fail("CAPABILITY failed");
    }
    if (url.tls == tls_mode::starttls_if_offered || url.tls == tls_mode::starttls_required) {
        if (session_.has("STARTTLS")) {
            co_await run(encode_simple("STARTTLS"), nullptr, ec);
            if (ec) co_return fail("STARTTLS refused");
            if (parser_.has_partial()) {
                ec = errc::starttls_injection;
                co_return fail("the server sent data after its STARTTLS reply, before TLS started");
            }
            starttls_ok_ = false;
            co_await transport_.async_handshake(url.host, opts_.connect_timeout, ec);
            if (ec) {
                diag_.clear();
                co_return fail("TLS (STARTTLS) with " + url.str() + ": " + transport_.tls_failure());
            }
            // RFC 3501 §6.2.1: forget the capabilities learned in plaintext; they may have been forged.
            session_.clear_capabilities();
        } else if (url.tls == tls_mode::starttls_required) {
            ec = errc::tls_required;
            co_return fail(url.str() + " does not offer STARTTLS: refusing to send credentials in cleartext "
                           "(--allow-cleartext allows it)");
        }
    }
    if (session_.phase == session_phase::not_connected) session_.phase = session_phase::not_authenticated;
    start_loops();
    if (session_.capabilities().empty()) co_await async_capability(ec);
}

net::awaitable<void> connection::async_login(const credentials& cred, error_code& ec) {
    ec = {};
    using m = credentials::method;
    m how = cred.how;
    if (how == m::automatic) {
        how = !cred.admin.empty() ? m::plain : (session_.has("LOGINDISABLED") ? m::plain : m::login);
    }
    command cmd;
    diagnostics enc_diag;
    if (how == m::login || how == m::master_login) {
        if (session_.has("LOGINDISABLED")) {
            ec = errc::tls_required;
            diag_.clear();
            diag_.set_client_message("the server disables LOGIN here (LOGINDISABLED); use imaps:// or STARTTLS");
            co_return;
        }
        if (how == m::master_login && cred.admin.empty()) {
            ec = errc::unencodable;
            diag_.clear();
            diag_.set_client_message("the master-user login form needs an admin user");
            co_return;
        }
        const std::string user = how == m::login ? cred.user : cred.user + cred.master_separator + cred.admin;
        ec = encode_login(user, cred.password, encoder(), cmd, &enc_diag);
    } else {
        if (!session_.has("AUTH=PLAIN")) {
            ec = errc::capability_missing;
            diag_.clear();
            diag_.set_client_message("the server does not offer AUTHENTICATE PLAIN (AUTH=PLAIN)");
            co_return;
        }
        const std::string_view authcid = cred.admin.empty() ? std::string_view(cred.user) : cred.admin;
        const std::string_view authzid = cred.admin.empty() ? std::string_view() : std::string_view(cred.user);
        ec = encode_authenticate_plain(authzid, authcid, cred.password, session_.has("SASL-IR"), cmd);
    }
    if (ec) {
        diag_ = enc_diag;
        if (diag_.client_message().empty()) diag_.set_client_message("cannot encode the credentials");
        co_return;
    }
    const auto caps_before = session_.capabilities();
    co_await run(std::move(cmd), nullptr, ec);
    if (ec) {
        // A NO without an RFC 5530 code is still a refusal of the credentials.
        if (ec == errc::no) ec = errc::authentication_failed;
        co_return;
    }
    session_.phase = session_phase::authenticated;
    // Dovecot sends [CAPABILITY ...] in the tagged OK; otherwise ask (RFC 3501 §6.2.3: they may change).
    if (session_.capabilities() == caps_before) co_await async_capability(ec);
}

net::awaitable<void> connection::async_capability(error_code& ec) {
    co_await run(encode_simple("CAPABILITY"), nullptr, ec);
}

net::awaitable<void> connection::async_noop(error_code& ec) { co_await run(encode_simple("NOOP"), nullptr, ec); }

net::awaitable<std::vector<std::pair<std::string, std::string>>> connection::async_id(error_code& ec) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!session_.has("ID")) {
        ec = errc::capability_missing;
        diag_.clear();
        diag_.set_client_message("the server does not support ID");
        co_return out;
    }
    const std::pair<std::string_view, std::string_view> fields[] = {{"name", "arrival"}, {"version", "0.1.0"}};
    command cmd;
    if ((ec = encode_id(fields, encoder(), cmd))) co_return out;
    error_code dec;
    co_await run(std::move(cmd), [&](const response& r) {
        if (!r.is("ID")) return false;
        std::vector<std::pair<std::string_view, std::optional<std::string_view>>> kv;
        if ((dec = decode_id(r, kv))) return true;
        for (auto& [k, v] : kv) out.emplace_back(std::string(k), v ? std::string(*v) : std::string());
        return true;
    }, ec);
    if (!ec) ec = dec;
    co_return out;
}

// ---- mailboxes ----

net::awaitable<namespace_info> connection::async_namespace(error_code& ec) {
    namespace_info out;
    error_code dec;
    co_await run(encode_simple("NAMESPACE"), [&](const response& r) {
        if (!r.is("NAMESPACE")) return false;
        namespace_data d;
        if ((dec = decode_namespace(r, d))) return true;
        auto conv = [](const std::vector<namespace_desc>& in, std::vector<namespace_info::entry>& to) {
            for (const auto& n : in) to.push_back({decode_name(n.prefix), n.delimiter});
        };
        conv(d.personal, out.personal);
        conv(d.other_users, out.other_users);
        conv(d.shared, out.shared);
        return true;
    }, ec);
    if (!ec) ec = dec;
    co_return out;
}

namespace {

mailbox_info to_info(const list_entry& e) {
    mailbox_info m;
    m.raw_name.assign(e.name);
    m.name = decode_name(e.name);
    m.delimiter = e.delimiter;
    m.attributes = owned(e.attributes);
    m.use = e.use;
    m.noselect = e.noselect;
    m.subscribed = e.subscribed;
    return m;
}

}  // namespace

net::awaitable<std::vector<mailbox_info>> connection::async_list(std::string_view reference, std::string_view pattern,
                                                                 error_code& ec) {
    std::vector<mailbox_info> out;
    list_options lo;
    const bool extended = session_.has("LIST-EXTENDED");
    lo.return_subscribed = extended;
    lo.return_special_use = extended && session_.has("SPECIAL-USE");
    command cmd;
    diagnostics enc;
    if ((ec = encode_list(reference, pattern, lo, encoder(), cmd, &enc))) {
        diag_ = enc;
        co_return out;
    }
    error_code dec;
    co_await run(std::move(cmd), [&](const response& r) {
        if (!r.is("LIST")) return false;
        list_entry e;
        if (const auto d = decode_list(r, e)) {
            dec = d;
            return true;
        }
        out.push_back(to_info(e));
        return true;
    }, ec);
    if (!ec) ec = dec;
    if (ec || extended) co_return out;
    // Without LIST-EXTENDED, subscriptions come from LSUB.
    const auto subs = co_await async_lsub(reference, pattern, ec);
    for (auto& m : out) {
        m.subscribed = std::any_of(subs.begin(), subs.end(), [&](const auto& s) { return s.raw_name == m.raw_name; });
    }
    co_return out;
}

net::awaitable<std::vector<mailbox_info>> connection::async_lsub(std::string_view reference, std::string_view pattern,
                                                                 error_code& ec) {
    std::vector<mailbox_info> out;
    command cmd;
    diagnostics enc;
    if ((ec = encode_lsub(reference, pattern, encoder(), cmd, &enc))) {
        diag_ = enc;
        co_return out;
    }
    error_code dec;
    co_await run(std::move(cmd), [&](const response& r) {
        if (!r.is("LSUB")) return false;
        list_entry e;
        if (const auto d = decode_list(r, e)) {
            dec = d;
            return true;
        }
        out.push_back(to_info(e));
        out.back().subscribed = true;
        return true;
    }, ec);
    if (!ec) ec = dec;
    co_return out;
}

net::awaitable<mailbox_status> connection::async_status(std::string_view mailbox, error_code& ec) {
    std::vector<std::string_view> items = {"MESSAGES", "UIDNEXT", "UIDVALIDITY"};
    if (session_.has("STATUS=SIZE")) items.push_back("SIZE");
    co_return co_await async_status(mailbox, items, ec);
}

net::awaitable<mailbox_status> connection::async_status(std::string_view mailbox,
                                                        std::span<const std::string_view> items, error_code& ec) {
    mailbox_status out;
    command cmd;
    diagnostics enc;
    if ((ec = encode_status(mailbox, items, encoder(), cmd, &enc))) {
        diag_ = enc;
        co_return out;
    }
    error_code dec;
    co_await run(std::move(cmd), [&](const response& r) {
        if (!r.is("STATUS")) return false;
        status_entry s;
        if ((dec = decode_status(r, s))) return true;
        out.messages = s.messages;
        out.uidnext = s.uidnext;
        out.uidvalidity = s.uidvalidity;
        out.unseen = s.unseen;
        out.size = s.size;
        out.highestmodseq = s.highestmodseq;
        return true;
    }, ec);
    if (!ec) ec = dec;
    co_return out;
}

net::awaitable<select_info> connection::async_select(std::string_view mailbox, bool read_only, error_code& ec) {
    select_info out;
    out.read_only = read_only;
    command cmd;
    diagnostics enc;
    if ((ec = encode_select(mailbox, read_only, false, encoder(), cmd, &enc))) {
        diag_ = enc;
        co_return out;
    }
    error_code dec;
    auto untagged = [&](const response& r) {
        if (r.is_status()) {
            if (r.status != response_status::ok) return false;
            std::uint64_t v = 0;
            switch (classify_code(r.code.name)) {
                case code_kind::uidvalidity:
                    if (!(dec = code_number(r.code, v))) out.uidvalidity = static_cast<std::uint32_t>(v);
                    return true;
                case code_kind::uidnext:
                    if (!(dec = code_number(r.code, v))) out.uidnext = static_cast<std::uint32_t>(v);
                    return true;
                case code_kind::highestmodseq:
                    if (!(dec = code_number(r.code, v))) out.highestmodseq = v;
                    return true;
                case code_kind::permanentflags: {
                    std::vector<std::string_view> w;
                    if (!(dec = code_words(r.code, w))) out.permanent_flags = owned(w);
                    out.has_permanent_flags = true;
                    return true;
                }
                case code_kind::unseen:
                    return true;
                default:
                    return false;
            }
        }
        if (r.is("FLAGS")) {
            std::vector<std::string_view> w;
            if (!(dec = decode_flags(r, w))) out.flags = owned(w);
            return true;
        }
        if (r.is("EXISTS") && r.number) {
            out.exists = *r.number;
            return true;
        }
        return r.is("RECENT");
    };
    auto tagged = [&](const response& r) {
        const auto k = classify_code(r.code.name);
        if (k == code_kind::read_only) out.read_only = true;
        if (k == code_kind::read_write) out.read_only = false;
    };
    co_await run(std::move(cmd), untagged, ec, nullptr, tagged);
    if (!ec) ec = dec;
    if (ec) {
        // RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected.
        if (!is_fatal(ec)) {
            session_.selected.clear();
            session_.phase = session_phase::authenticated;
        }
        co_return out;
    }
    session_.selected.assign(mailbox);
    session_.read_only = out.read_only;
    session_.exists = out.exists;
    session_.phase = session_phase::selected;
    co_return out;
}

net::awaitable<std::vector<std::uint32_t>> connection::async_uid_search(std::string_view criteria, error_code& ec) {
    std::vector<std::uint32_t> out;
    command cmd;
    if ((ec = encode_uid_search(criteria, {}, cmd))) {
        diag_.clear();
        diag_.set_client_message("cannot encode UID SEARCH criteria");
        co_return out;
    }
    error_code dec;
    co_await run(std::move(cmd), [&](const response& r) {
        if (r.is("SEARCH")) {
            if (const auto d = decode_search(r, out)) dec = d;
            return true;
        }
        if (r.is("ESEARCH")) {
            esearch_result e;
            if ((dec = decode_esearch(r, e))) return true;
            std::vector<std::uint32_t> uids;
            if (!(dec = expand_sequence_set(e.all, uids, 100'000'000))) out.insert(out.end(), uids.begin(), uids.end());
            return true;
        }
        return false;
    }, ec);
    if (!ec) ec = dec;
    std::sort(out.begin(), out.end());
    co_return out;
}

net::awaitable<void> connection::async_uid_fetch(std::string_view uid_set, std::string_view items, fetch_handler& sink,
                                                 error_code& ec) {
    command cmd;
    if ((ec = encode_uid_fetch(uid_set, items, cmd))) {
        diag_.clear();
        diag_.set_client_message("cannot encode UID FETCH " + std::string(uid_set.substr(0, 64)));
        co_return;
    }
    co_await run(std::move(cmd), nullptr, ec, &sink);
}

net::awaitable<void> connection::async_uid_fetch_changedsince(std::string_view uid_set, std::string_view items, std::uint64_t modseq,
                                                              fetch_handler& sink, error_code& ec) {
    command cmd;
    if ((ec = encode_uid_fetch_changedsince(uid_set, items, modseq, cmd))) {
        diag_.clear();
        diag_.set_client_message("cannot encode UID FETCH " + std::string(uid_set.substr(0, 64)) + " (CHANGEDSINCE)");
        co_return;
    }
    co_await run(std::move(cmd), nullptr, ec, &sink);
}

net::awaitable<std::vector<std::string>> connection::async_enable(std::span<const std::string_view> capabilities, error_code& ec) {
    std::vector<std::string> out;
    command cmd;
    if ((ec = encode_enable(capabilities, cmd))) {
        diag_.clear();
        diag_.set_client_message("cannot encode ENABLE");
        co_return out;
    }
    co_await run(std::move(cmd), [&](const response& r) {
        if (!r.is("ENABLED")) return false;
        for (const auto& t : r.args) {
            if (t.type == token_type::atom) out.emplace_back(t.text);
        }
        return true;
    }, ec);
    co_return out;
}

net::awaitable<void> connection::async_uid_store(std::string_view uid_set, std::string_view item,
                                                 std::span<const std::string_view> flags, error_code& ec) {
    command cmd;
    if ((ec = encode_uid_store(uid_set, item, flags, cmd))) {
        diag_.clear();
        diag_.set_client_message("cannot encode UID STORE " + std::string(uid_set.substr(0, 64)) + " " + std::string(item));
        co_return;
    }
    co_await run(std::move(cmd), nullptr, ec);
}

net::awaitable<void> connection::async_uid_expunge(std::string_view uid_set, error_code& ec) {
    if (!session_.has("UIDPLUS")) {
        ec = errc::capability_missing;
        diag_.clear();
        diag_.set_client_message("UID EXPUNGE needs UIDPLUS, which the server does not offer");
        co_return;
    }
    command cmd;
    if ((ec = encode_uid_expunge(uid_set, cmd))) {
        diag_.clear();
        diag_.set_client_message("cannot encode UID EXPUNGE " + std::string(uid_set.substr(0, 64)));
        co_return;
    }
    co_await run(std::move(cmd), nullptr, ec);
}

net::awaitable<void> connection::async_rename(std::string_view from, std::string_view to, error_code& ec) {
    command cmd;
    diagnostics enc;
    if ((ec = encode_rename(from, to, encoder(), cmd, &enc))) {
        diag_ = enc;
        co_return;
    }
    co_await run(std::move(cmd), nullptr, ec);
}

net::awaitable<void> connection::async_delete(std::string_view mailbox, error_code& ec) {
    command cmd;
    diagnostics enc;
    if ((ec = encode_delete(mailbox, encoder(), cmd, &enc))) {
        diag_ = enc;
        co_return;
    }
    co_await run(std::move(cmd), nullptr, ec);
}

net::awaitable<void> connection::async_create(std::string_view mailbox, error_code& ec) {
    co_await async_create(mailbox, special_use::none, ec);
}

net::awaitable<void> connection::async_create(std::string_view mailbox, special_use use, error_code& ec) {
    std::optional<std::string_view> attr;
    if (use != special_use::none && session_.has("CREATE-SPECIAL-USE")) attr = to_string(use);
    command cmd;
    diagnostics enc;
    if ((ec = encode_create(mailbox, attr, encoder(), cmd, &enc))) {
        diag_ = enc;
        co_return;
    }
    co_await run(std::move(cmd), nullptr, ec);
}

net::awaitable<void> connection::async_subscribe(std::string_view mailbox, error_code& ec) {
    command cmd;
    diagnostics enc;
    if ((ec = encode_subscribe(mailbox, true, encoder(), cmd, &enc))) {
        diag_ = enc;
        co_return;
    }
    co_await run(std::move(cmd), nullptr, ec);
}

net::awaitable<append_result> connection::async_append(std::string_view mailbox,
                                                       std::span<const append_message> messages, error_code& ec) {
    append_result out;
    ec = {};
    if (messages.empty()) co_return out;
    const bool multi = messages.size() > 1 && session_.has("MULTIAPPEND");
    // One command (MULTIAPPEND or a single message), or one per message, all submitted before any is awaited
    // so they share the pipeline.
    const std::size_t commands = (multi || messages.size() == 1) ? 1 : messages.size();
    struct pending {
        std::shared_ptr<op> o;
        appenduid_data uid;
        bool has_uid = false;
    };
    std::vector<pending> ops(commands);
    for (std::size_t i = 0; i < commands; ++i) {
        command cmd;
        diagnostics enc;
        const auto batch = commands == 1 ? messages : messages.subspan(i, 1);
        if ((ec = encode_append(mailbox, batch, encoder(), cmd, &enc))) {
            diag_ = enc;
            // Commands already submitted still complete; wait for them so their bodies are not freed early.
            for (std::size_t j = 0; j < i; ++j) {
                error_code ignored;
                co_await wait(*ops[j].o, ignored);
            }
            diag_ = enc;
            co_return out;
        }
        auto* p = &ops[i];
        ops[i].o = submit(std::move(cmd), nullptr, nullptr, [p](const response& r) {
            if (classify_code(r.code.name) == code_kind::appenduid) p->has_uid = !code_appenduid(r.code, p->uid);
        });
    }
    error_code first;
    diagnostics first_diag;
    for (auto& p : ops) {
        error_code e;
        co_await wait(*p.o, e);
        if (e && !first) {
            first = e;
            first_diag = diag_;
        }
    }
    if (first) {
        ec = first;
        diag_ = first_diag;
        co_return out;
    }
    for (auto& p : ops) {
        if (!p.has_uid) {
            out.uids.clear();
            out.uidvalidity = 0;
            break;
        }
        out.uidvalidity = p.uid.uidvalidity;
        std::vector<std::uint32_t> uids;
        if (expand_sequence_set(p.uid.uids, uids, messages.size())) {
            out.uids.clear();
            break;
        }
        out.uids.insert(out.uids.end(), uids.begin(), uids.end());
    }
    if (out.uids.size() != messages.size()) {
        out.uids.clear();
        out.uidvalidity = 0;
    }
    co_return out;
}

// ---- RFC 4314 ACL: the bytes are protocol/acl's; these only run them ----

namespace {
// The encoders' failure or a missing ACL capability, before anything is sent.
error_code acl_precheck(const session_state& s, error_code encoded, diagnostics& enc) {
    if (encoded) return encoded;
    if (!s.has("ACL")) {
        enc.set_client_message("the server does not advertise ACL (RFC 4314)");
        return errc::capability_missing;
    }
    return {};
}
}  // namespace

net::awaitable<std::vector<acl_grant>> connection::async_getacl(std::string_view mailbox, error_code& ec) {
    std::vector<acl_grant> out;
    command cmd;
    diagnostics enc;
    if ((ec = acl_precheck(session_, encode_getacl(mailbox, encoder(), cmd, &enc), enc))) {
        diag_ = enc;
        co_return out;
    }
    error_code dec;
    co_await run(std::move(cmd), [&](const response& r) {
        if (!r.is("ACL")) return false;
        acl_data d;
        if ((dec = decode_acl(r, d))) return true;
        for (const auto& e : d.entries) out.push_back({std::string(e.identifier), std::string(e.rights)});
        return true;
    }, ec);
    if (!ec) ec = dec;
    co_return out;
}

net::awaitable<void> connection::async_setacl(std::string_view mailbox, std::string_view identifier,
                                              std::string_view rights, error_code& ec) {
    command cmd;
    diagnostics enc;
    if ((ec = acl_precheck(session_, encode_setacl(mailbox, identifier, rights, encoder(), cmd, &enc), enc))) {
        diag_ = enc;
        co_return;
    }
    co_await run(std::move(cmd), nullptr, ec);
}

net::awaitable<void> connection::async_deleteacl(std::string_view mailbox, std::string_view identifier, error_code& ec) {
    command cmd;
    diagnostics enc;
    if ((ec = acl_precheck(session_, encode_deleteacl(mailbox, identifier, encoder(), cmd, &enc), enc))) {
        diag_ = enc;
        co_return;
    }
    co_await run(std::move(cmd), nullptr, ec);
}

net::awaitable<std::string> connection::async_myrights(std::string_view mailbox, error_code& ec) {
    std::string out;
    command cmd;
    diagnostics enc;
    if ((ec = acl_precheck(session_, encode_myrights(mailbox, encoder(), cmd, &enc), enc))) {
        diag_ = enc;
        co_return out;
    }
    error_code dec;
    co_await run(std::move(cmd), [&](const response& r) {
        if (!r.is("MYRIGHTS")) return false;
        myrights_data d;
        if (!(dec = decode_myrights(r, d))) out.assign(d.rights);
        return true;
    }, ec);
    if (!ec) ec = dec;
    co_return out;
}

net::awaitable<listrights_info> connection::async_listrights(std::string_view mailbox, std::string_view identifier,
                                                             error_code& ec) {
    listrights_info out;
    command cmd;
    diagnostics enc;
    if ((ec = acl_precheck(session_, encode_listrights(mailbox, identifier, encoder(), cmd, &enc), enc))) {
        diag_ = enc;
        co_return out;
    }
    error_code dec;
    co_await run(std::move(cmd), [&](const response& r) {
        if (!r.is("LISTRIGHTS")) return false;
        listrights_data d;
        if ((dec = decode_listrights(r, d))) return true;
        out.required.assign(d.required);
        for (auto o : d.optional) out.optional.emplace_back(o);
        return true;
    }, ec);
    if (!ec) ec = dec;
    co_return out;
}

net::awaitable<void> connection::async_logout(error_code& ec) {
    ec = {};
    if (closed_) co_return;
    co_await run(encode_simple("LOGOUT"), nullptr, ec);
    session_.phase = session_phase::logout;
    // The server closes after its tagged OK (RFC 3501 §6.1.3), and the reader may already be reading that EOF,
    // so no TLS close_notify exchange here (it would need a second concurrent read on the TLS stream): the
    // stream is self-delimited after the OK, so nothing can be truncated. Nothing is in flight any more, so
    // fail_all() only closes.
    fail_all(net::error::operation_aborted, "logged out");
}

}  // namespace arrival::imap
