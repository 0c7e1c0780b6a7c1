// imap_session on protocol/'s asynchronous client (arrival::imap::connection).
//
// Each session owns one connection on its own strand of the shared io_runtime. A blocking call co_spawns one
// coroutine on that strand and waits on a future: job threads block, io threads never do. Everything that is
// IMAP (encoding, modified UTF-7, SASL PLAIN, parsing, pipelining, TLS verification) is the connection's; this
// file only translates between the engine's types and the connection's, and maps error codes to error_kind:
//
//   connecting: TCP/DNS failures and connect timeouts -> unreachable; TLS handshake, certificate, missing
//               STARTTLS -> tls; BYE / EOF at the greeting -> transient
//   logging in: refused credentials, forbidden authzid, LOGINDISABLED, no AUTH=PLAIN for an admin -> auth
//   any call:   resets, timeouts, BYE, [UNAVAILABLE], [INUSE], [SERVERBUG] -> transient (imap::is_transient);
//               other fatal codes (parse errors, unexpected tags) -> protocol; a tagged NO/BAD -> refused,
//               with the server's words (diagnostics::to_string(), which never holds a credential).
#include "engine/imap_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <exception>
#include <future>
#include <span>

#include <fmt/format.h>

#include "engine/byte_budget.hpp"
#include "engine/io_runtime.hpp"
#include "protocol/connection.hpp"
#include "protocol/internal_date.hpp"
#include "protocol/sequence_set.hpp"

namespace arrival::engine {

namespace net = boost::asio;
using imap::errc;
using imap::error_code;

std::string_view to_string(error_kind k) noexcept {
    switch (k) {
    case error_kind::unreachable: return "unreachable";
    case error_kind::tls: return "tls";
    case error_kind::auth: return "auth";
    case error_kind::transient: return "transient";
    case error_kind::refused: return "refused";
    case error_kind::protocol: return "protocol";
    }
    return "?";
}

server_endpoint server_endpoint::parse(const std::string& url) {
    std::string why;
    const auto u = imap::parse_imap_url(url, why);
    if (!u) throw std::invalid_argument(why);
    server_endpoint e;
    e.url = url;
    e.host = u->host;
    e.port = u->port;
    e.implicit_tls = u->tls == imap::tls_mode::implicit;
    return e;
}

namespace {

bool is_tls_category(const error_code& ec) {
    return std::string_view(ec.category().name()).substr(0, 8) == "asio.ssl";
}

bool is(const error_code& ec, errc e) { return ec == make_error_code(e); }

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y)); });
}

// What a failed call means for the caller (see the table at the top of this file).
error_kind kind_of(const error_code& ec) {
    if (is_tls_category(ec) || is(ec, errc::tls_required) || is(ec, errc::starttls_injection)) return error_kind::tls;
    if (is(ec, errc::authentication_failed) || is(ec, errc::authorization_failed) || is(ec, errc::expired) ||
        is(ec, errc::privacy_required)) {
        return error_kind::auth;
    }
    if (imap::is_transient(ec)) return error_kind::transient;
    if (imap::is_fatal(ec)) return ec.category() == imap::imap_category() ? error_kind::protocol : error_kind::transient;
    return error_kind::refused;
}

error_kind kind_of_connect(const error_code& ec) {
    if (is_tls_category(ec) || is(ec, errc::tls_required) || is(ec, errc::starttls_injection)) return error_kind::tls;
    if (is(ec, errc::bye) || is(ec, errc::connection_closed) || imap::is_transient(ec)) {
        // A refused or timed-out TCP connect is the server being unreachable; a server that hangs up after
        // accepting is busy or restarting: worth another try.
        const auto cond = ec.default_error_condition();
        namespace se = boost::system::errc;
        if (is(ec, errc::timeout) || cond == se::connection_refused || cond == se::network_unreachable ||
            cond == se::host_unreachable || cond == se::network_down) {
            return error_kind::unreachable;
        }
        return error_kind::transient;
    }
    if (ec.category() == imap::imap_category()) return error_kind::protocol;
    return error_kind::unreachable;   // DNS and socket errors
}

// "07-Jul-2022 07:07:07 +0000": the form Dovecot sends (day zero-padded), kept so reports and comparisons
// read as the server's own INTERNALDATE.
std::string format_date(const imap::internal_date& d) {
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const int z = d.zone_minutes < 0 ? -d.zone_minutes : d.zone_minutes;
    return fmt::format("{:02}-{}-{:04} {:02}:{:02}:{:02} {}{:02}{:02}", d.day, months[std::clamp(d.month, 1, 12) - 1], d.year,
                       d.hour, d.minute, d.second, d.zone_minutes < 0 ? '-' : '+', z / 60, z % 60);
}

imap::special_use to_imap(engine::special_use u) noexcept {
    switch (u) {
    case engine::special_use::none: return imap::special_use::none;
    case engine::special_use::sent: return imap::special_use::sent;
    case engine::special_use::drafts: return imap::special_use::drafts;
    case engine::special_use::trash: return imap::special_use::trash;
    case engine::special_use::junk: return imap::special_use::junk;
    case engine::special_use::archive: return imap::special_use::archive;
    }
    return imap::special_use::none;
}

engine::namespace_info to_engine(const imap::namespace_info::entry& e) {
    return {e.prefix, e.delimiter.value_or('\0')};
}

// The index sink: keeps each response's header fields and turns the complete record into a source_message.
class index_sink final : public imap::fetch_handler {
public:
    index_sink(std::uint32_t from_uid, std::vector<source_message>& out) : from_uid_(from_uid), out_(out) {}

    error_code on_body_begin(const imap::fetch_part&, std::uint64_t size) override {
        if (size <= 64 * 1024) header_.reserve(header_.size() + static_cast<std::size_t>(size));
        return {};
    }
    error_code on_body_chunk(std::string_view bytes) override {
        // The dedupe key only reads the first lines of each field; a hostile server cannot make us hold more.
        if (header_.size() < 1 << 20) header_.append(bytes.substr(0, (1u << 20) - header_.size()));
        return {};
    }
    error_code on_body_end() override { return {}; }
    error_code on_fetch(const imap::fetch_record& rec) override {
        std::string header = std::move(header_);
        header_.clear();
        // Unsolicited FETCHes (flag changes by another client) carry no size: not part of the answer. "n:*"
        // also returns the last message when n is past the end.
        if (!rec.uid || !rec.rfc822_size || *rec.uid < from_uid_) return {};
        source_message m;
        m.uid = *rec.uid;
        m.size = *rec.rfc822_size;
        for (auto f : rec.flags) m.flags.emplace_back(f);
        if (rec.internaldate) m.internaldate = format_date(*rec.internaldate);
        m.key = compute_dedupe_key(header, m.size);
        out_.push_back(std::move(m));
        return {};
    }

private:
    std::uint32_t from_uid_;
    std::vector<source_message>& out_;
    std::string header_;
};

// The body sink: streams each BODY[] into the buffer the caller picks for its UID. Dovecot sends UID first
// when asked first; when a server sends it after the body, the bytes wait in a buffer of their own and are
// handed over when the record is complete. An exception from the caller's sink or the disk is kept and
// rethrown after the call (the error returned here aborts the connection: the stream position is lost).
class body_sink final : public imap::fetch_handler {
public:
    using target_fn = std::function<body_buffer&(std::uint32_t, std::uint64_t)>;
    explicit body_sink(const target_fn& target) : target_(target) {}

    error_code on_body_begin(const imap::fetch_part& part, std::uint64_t size) override {
        return guard([&] {
            if (part.section != "" || part.origin) {   // not BODY[]: nothing we asked for
                current_ = nullptr;
                return;
            }
            if (part.uid) {
                current_ = &target_(*part.uid, size);
            } else {
                pending_.emplace();
                pending_->begin(size);
                current_ = &*pending_;
            }
        });
    }
    error_code on_body_chunk(std::string_view bytes) override {
        return guard([&] {
            if (current_) current_->append(bytes);
        });
    }
    error_code on_body_end() override {
        current_ = nullptr;
        return {};
    }
    error_code on_fetch(const imap::fetch_record& rec) override {
        return guard([&] {
            if (!pending_) return;
            if (rec.uid) target_(*rec.uid, pending_->size()) = std::move(*pending_);
            pending_.reset();
        });
    }
    void rethrow() const {
        if (failure_) std::rethrow_exception(failure_);
    }

private:
    template <class F>
    error_code guard(F&& f) noexcept {
        if (failure_) return make_error_code(errc::unexpected_response);
        try {
            f();
            return {};
        } catch (...) {
            failure_ = std::current_exception();
            return make_error_code(errc::unexpected_response);
        }
    }
    const target_fn& target_;
    body_buffer* current_ = nullptr;
    std::optional<body_buffer> pending_;
    std::exception_ptr failure_;
};

// Spilled bodies are mapped only while their APPEND is in flight; this caps what all sessions of the process
// map at once, so a run with several 50 MB messages does not hold them all resident together.
byte_budget& mapped_bytes() {
    static byte_budget b(64 << 20);
    return b;
}

class session_impl final : public imap_session {
public:
    session_impl(const server_endpoint& ep, const credentials& who, const dest_options* dest)
        : rt_(io_runtime::acquire()), strand_(net::make_strand(rt_->context())) {
        imap::connect_options o;
        o.url.host = ep.host;
        o.url.port = ep.port;
        o.url.tls = ep.implicit_tls ? imap::tls_mode::implicit
                    : ep.allow_cleartext && ep.never_starttls ? imap::tls_mode::none
                    : ep.allow_cleartext && !ep.require_starttls ? imap::tls_mode::starttls_if_offered
                                                                 : imap::tls_mode::starttls_required;
        std::shared_ptr<net::ssl::context> tls;
        try {
            tls = rt_->tls_context(ep.ca_file, ep.insecure);
        } catch (const std::exception& e) {
            throw session_error(error_kind::tls, e.what());
        }
        conn_ = imap::connection::create(strand_, tls, std::move(o));
        error_code ec;
        run([&]() -> net::awaitable<void> { co_await conn_->async_connect(ec); });
        if (ec) throw session_error(kind_of_connect(ec), conn_->diag().to_string());
        if (dest) identify(*dest);
        imap::credentials c;
        c.user = who.user;
        c.admin = who.admin;
        c.password = who.password.reveal();
        // Carbonio: PLAIN, never LOGIN (FACTS.md §6 Admin impersonation; LOGIN cannot act for a user).
        if (profile_.kind == dest_profile_kind::carbonio) c.how = imap::credentials::method::plain;
        run([&]() -> net::awaitable<void> { co_await conn_->async_login(c, ec); });
        std::fill(c.password.begin(), c.password.end(), '\0');
        if (ec) {
            std::string why = fmt::format("login refused: {}", conn_->diag().to_string());
            if (profile_.kind == dest_profile_kind::carbonio && !who.admin.empty()) {
                // Carbonio answers "AUTHENTICATE failed" whatever the cause (ImapHandler l.1683-1708).
                why += fmt::format("; on Carbonio the admin {} must itself have zimbraImapEnabled and zimbraPrefImapEnabled TRUE "
                                   "to act for users over IMAP (Authenticator.isProtocolEnabled), besides the right password",
                                   who.admin);
            }
            throw session_error(is(ec, errc::capability_missing) || is(ec, errc::tls_required) || !imap::is_fatal(ec)
                                    ? error_kind::auth
                                    : kind_of(ec),
                                why);
        }
        if (dest) {
            profile_ = dest_profile::make(profile_.kind, append_limit(), dest->max_message_size);
            guard_ = dest->guard ? dest->guard : &own_guard_;
        }
        guard_->on_reconnect(profile_.kind);
    }

    const dest_profile& profile() const override { return profile_; }
    const std::string& profile_evidence() const override { return evidence_; }

    ~session_impl() override {
        // The connection must be closed on its strand; nothing of ours may run after this returns.
        try {
            run([this]() -> net::awaitable<void> {
                conn_->close();
                co_return;
            });
        } catch (...) {
        }
    }
    session_impl(const session_impl&) = delete;
    session_impl& operator=(const session_impl&) = delete;

    bool has_capability(std::string_view cap) const override { return conn_->has_capability(cap); }

    bool tls_active() const override { return conn_->tls_active(); }

    std::optional<std::uint64_t> append_limit() const override {
        const auto v = conn_->session().value_of("APPENDLIMIT");
        std::uint64_t n = 0;
        if (!v || std::from_chars(v->data(), v->data() + v->size(), n).ec != std::errc()) return std::nullopt;
        return n;
    }

    engine::namespace_info personal_namespace() override {
        if (const auto ns = namespaces(); ns && !ns->personal.empty()) return to_engine(ns->personal.front());
        // No NAMESPACE: the delimiter from LIST "" "" (RFC 3501 §6.3.8), no prefix.
        error_code ec;
        std::vector<imap::mailbox_info> r;
        run([&]() -> net::awaitable<void> { r = co_await conn_->async_list("", "", ec); });
        if (ec) fail(ec, "LIST");
        engine::namespace_info out;
        out.delimiter = r.empty() ? '/' : r.front().delimiter.value_or('\0');
        return out;
    }

    std::vector<engine::namespace_info> shared_namespaces() override {
        std::vector<engine::namespace_info> out;
        if (const auto ns = namespaces()) {
            for (const auto& e : ns->shared) out.push_back(to_engine(e));
        }
        return out;
    }

    std::vector<engine::namespace_info> other_users_namespaces() override {
        std::vector<engine::namespace_info> out;
        if (const auto ns = namespaces()) {
            for (const auto& e : ns->other_users) out.push_back(to_engine(e));
        }
        return out;
    }

    std::vector<mailbox_entry> list() override {
        error_code ec;
        std::vector<imap::mailbox_info> r;
        run([&]() -> net::awaitable<void> { r = co_await conn_->async_list("", "*", ec); });
        if (ec) fail(ec, "LIST");
        std::vector<mailbox_entry> out;
        out.reserve(r.size());
        for (auto& m : r) {
            mailbox_entry e;
            e.name = std::move(m.name);
            e.subscribed = m.subscribed;
            for (auto& a : m.attributes) {
                if (!iequals(a, "\\Subscribed")) e.attributes.push_back(std::move(a));
            }
            out.push_back(std::move(e));
        }
        return out;
    }

    mailbox_status status(const std::string& mailbox) override {
        error_code ec;
        imap::mailbox_status s;
        run([&]() -> net::awaitable<void> { s = co_await conn_->async_status(mailbox, ec); });
        if (ec) fail(ec, fmt::format("STATUS '{}'", mailbox));
        mailbox_status out;
        out.uidvalidity = s.uidvalidity.value_or(0);
        out.uidnext = s.uidnext.value_or(0);
        out.messages = s.messages.value_or(0);
        return out;
    }

    std::vector<mailbox_status> status(const std::vector<std::string>& mailboxes) override {
        std::vector<mailbox_status> out(mailboxes.size());
        std::vector<error_code> ecs(mailboxes.size());
        std::vector<std::string> why(mailboxes.size());
        run_all(mailboxes.size(), [&](std::size_t k) -> net::awaitable<void> {
            const auto s = co_await conn_->async_status(mailboxes[k], ecs[k]);
            if (ecs[k]) why[k] = conn_->diag().to_string();
            out[k].uidvalidity = s.uidvalidity.value_or(0);
            out[k].uidnext = s.uidnext.value_or(0);
            out[k].messages = s.messages.value_or(0);
        });
        for (std::size_t k = 0; k < mailboxes.size(); ++k) {
            if (ecs[k]) throw session_error(kind_of(ecs[k]), fmt::format("STATUS '{}' failed: {}", mailboxes[k], why[k]));
        }
        return out;
    }

    mailbox_status examine(const std::string& mailbox) override { return open_mailbox(mailbox, true); }
    mailbox_status select(const std::string& mailbox) override { return open_mailbox(mailbox, false); }

    std::vector<source_message> fetch_index(std::uint32_t from_uid, bool with_flags) override {
        std::vector<source_message> out;
        index_sink sink(from_uid, out);
        const auto set = imap::encode_range(std::max<std::uint32_t>(from_uid, 1), imap::seq_star);
        const auto items = fmt::format("(UID RFC822.SIZE{} BODY.PEEK[HEADER.FIELDS ({})])", with_flags ? " FLAGS INTERNALDATE" : "",
                                       dedupe_header_fields);
        error_code ec;
        run([&]() -> net::awaitable<void> { co_await conn_->async_uid_fetch(set, items, sink, ec); });
        if (ec) fail(ec, "UID FETCH (index)");
        return out;
    }

    void fetch_bodies(const std::vector<std::uint32_t>& uids,
                      const std::function<body_buffer&(std::uint32_t, std::uint64_t)>& sink) override {
        if (uids.empty()) return;
        body_sink s(sink);
        const auto set = imap::encode_sequence_set(uids);
        error_code ec;
        run([&]() -> net::awaitable<void> { co_await conn_->async_uid_fetch(set, "(UID BODY.PEEK[])", s, ec); });
        s.rethrow();
        if (ec) fail(ec, "UID FETCH (bodies)");
    }

    void create(const std::string& mailbox, engine::special_use use) override {
        error_code ec;
        const auto wire_use = to_imap(use);
        guarded([&]() -> net::awaitable<void> { co_await conn_->async_create(mailbox, wire_use, ec); }, ec);
        if (!ec || is(ec, errc::already_exists)) return;
        // A server without RFC 5530 codes that just says so is what we wanted too.
        if (!imap::is_fatal(ec) && conn_->diag().server_message().find("already exists") != std::string::npos) return;
        fail(ec, fmt::format("CREATE '{}'", mailbox));
    }

    void subscribe(const std::string& mailbox) override {
        error_code ec;
        guarded([&]() -> net::awaitable<void> { co_await conn_->async_subscribe(mailbox, ec); }, ec);
        if (ec) fail(ec, fmt::format("SUBSCRIBE '{}'", mailbox));
    }

    std::vector<append_result> append(const std::string& mailbox, const std::vector<append_item>& items) override {
        std::vector<append_result> out(items.size());
        // The batch goes in as few commands as possible (MULTIAPPEND: Dovecot commits once per command). Spilled
        // bodies are mapped only while their command is in flight, so a command takes them up to
        // spilled_per_command bytes and one larger goes alone. (Each spilled body used to go alone: a 500-message
        // corpus with a few >1 MB attachments took 28 commands where 13 folders needed 15; rawlog, session 3.)
        // Source order is kept, so destination UIDs follow source UIDs.
        constexpr std::uint64_t spilled_per_command = 16 << 20;
        for (std::size_t i = 0; i < items.size();) {
            std::size_t j = i;
            std::uint64_t spilled = 0;
            while (j < items.size()) {
                const std::uint64_t add = items[j].body->spilled() ? items[j].body->size() : 0;
                if (j > i && spilled + add > spilled_per_command) break;
                spilled += add;
                ++j;
                if (spilled > spilled_per_command) break;
            }
            append_run(mailbox, items, i, j, spilled, out);
            i = j;
        }
        return out;
    }

    void logout() noexcept override {
        try {
            error_code ec;
            run([&]() -> net::awaitable<void> { co_await conn_->async_logout(ec); });
        } catch (...) {
        }
    }

private:
    // Before login: which profile the destination gets. The greeting and capabilities are free; ID costs a
    // round trip, so it is asked only under `automatic` and only when they did not decide.
    void identify(const dest_options& dest) {
        server_identity id;
        id.greeting = conn_->greeting();
        for (const auto& c : conn_->session().capabilities()) id.capabilities.push_back(c);
        auto d = resolve_dest_profile(dest.choice, id);
        if (dest.choice == dest_profile_choice::automatic && d.kind == dest_profile_kind::generic && conn_->has_capability("ID")) {
            error_code ec;
            run([&]() -> net::awaitable<void> { id.id_fields = co_await conn_->async_id(ec); });
            if (ec && (imap::is_fatal(ec) || imap::is_transient(ec))) fail(ec, "ID");
            d = resolve_dest_profile(dest.choice, id);
        }
        profile_.kind = d.kind;
        evidence_ = d.evidence;
    }

    // A command other than APPEND under the refusal policy: NOOP first when one more refusal in a row could
    // make the server drop the connection; then its verdict counts.
    template <class F>
    void guarded(F&& f, error_code& ec) {
        if (guard_->needs_noop_before_command()) {
            error_code nec;
            run([&]() -> net::awaitable<void> { co_await conn_->async_noop(nec); });
            if (nec) fail(nec, "NOOP");
            guard_->on_noop_ok();
        }
        run(std::forward<F>(f));
        guard_->on_other(!ec);
    }

    // Runs one coroutine on the connection's strand and waits for it; rethrows what escapes it.
    template <class F>
    void run(F&& f) {
        auto done = std::make_shared<std::promise<void>>();
        auto fut = done->get_future();
        net::co_spawn(strand_, std::forward<F>(f), [done](std::exception_ptr e) {
            if (e) done->set_exception(e);
            else done->set_value();
        });
        fut.get();
    }

    // Runs f(0) ... f(n-1) as n coroutines on the strand, so their commands share the pipeline (one round
    // trip for all), and waits for every one. A coroutine reads conn_->diag() right after its own co_await,
    // before anything else can run on the strand, so each sees its own command's diagnostics.
    template <class F>
    void run_all(std::size_t n, F&& f) {
        if (n == 0) return;
        auto done = std::make_shared<std::promise<void>>();
        auto fut = done->get_future();
        auto left = std::make_shared<std::atomic<std::size_t>>(n);
        for (std::size_t k = 0; k < n; ++k) {
            net::co_spawn(strand_, [&f, k]() { return f(k); }, [done, left](std::exception_ptr) {
                if (--*left == 0) done->set_value();
            });
        }
        fut.get();
    }

    [[noreturn]] void fail(const error_code& ec, const std::string& what) {
        throw session_error(kind_of(ec), fmt::format("{} failed: {}", what, conn_->diag().to_string()));
    }

    std::optional<imap::namespace_info> namespaces() {
        if (!conn_->has_capability("NAMESPACE")) return std::nullopt;
        if (!namespaces_) {
            error_code ec;
            imap::namespace_info ns;
            run([&]() -> net::awaitable<void> { ns = co_await conn_->async_namespace(ec); });
            if (ec) fail(ec, "NAMESPACE");
            namespaces_ = std::move(ns);
        }
        return namespaces_;
    }

    mailbox_status open_mailbox(const std::string& mailbox, bool read_only) {
        error_code ec;
        imap::select_info s;
        guarded([&]() -> net::awaitable<void> { s = co_await conn_->async_select(mailbox, read_only, ec); }, ec);
        if (ec) fail(ec, fmt::format("{} '{}'", read_only ? "EXAMINE" : "SELECT", mailbox));
        mailbox_status out;
        out.uidvalidity = s.uidvalidity;
        out.uidnext = s.uidnext;
        out.messages = s.exists;
        out.permanent_flags = std::move(s.permanent_flags);
        return out;
    }

    struct prepared {
        std::vector<imap::append_message> messages;
        std::vector<body_view> views;
    };

    prepared prepare(const std::vector<append_item>& items, std::size_t from, std::size_t to) {
        prepared p;
        p.views.reserve(to - from);
        for (std::size_t k = from; k < to; ++k) {
            const auto& it = items[k];
            p.views.push_back(it.body->view_all());
            imap::append_message m;
            for (const auto& f : it.flags) m.flags.emplace_back(f);
            if (!it.internaldate.empty()) {
                imap::internal_date d;
                if (imap::parse_internal_date(it.internaldate, d)) {
                    throw session_error(error_kind::protocol, fmt::format("INTERNALDATE '{}' is not an IMAP date-time", it.internaldate));
                }
                m.date = d;
            }
            m.body = p.views.back().bytes();
            p.messages.push_back(std::move(m));
        }
        return p;
    }

    // Appends items[from, to): one command when it is one message or the server has MULTIAPPEND; when that
    // all-or-nothing command is refused, or there is no MULTIAPPEND, one APPEND per message, all pipelined,
    // each with its own verdict in the server's words. The profile's append_guard shapes both passes: NOOPs
    // where a run of refusals could reach the server's limit, lists split or deferred where an identical
    // APPEND would be one too many (engine/dest_profile.hpp).
    // `spilled`: the bytes of spilled bodies among them, mapped for the command (under the run's mapping cap).
    void append_run(const std::string& mailbox, const std::vector<append_item>& items, std::size_t from, std::size_t to,
                    std::uint64_t spilled, std::vector<append_result>& out) {
        const std::uint64_t taken = spilled ? mapped_bytes().acquire(spilled) : 0;
        struct release_guard {
            std::uint64_t n;
            ~release_guard() {
                if (n) mapped_bytes().release(n);
            }
        } release{taken};
        auto p = prepare(items, from, to);
        std::vector<append_signature::message> sigs;
        for (std::size_t k = from; k < to; ++k) sigs.push_back({items[k].internaldate, items[k].flags, items[k].body->size()});
        std::vector<std::size_t> all(to - from);
        for (std::size_t k = 0; k < all.size(); ++k) all[k] = k;
        const bool whole = to - from == 1 || conn_->has_capability("MULTIAPPEND");
        // First pass: the batch as planned; a refused command of several messages is retried one by one.
        auto refused = send_planned(mailbox, p, sigs, all, whole, out, from, whole && to - from > 1);
        if (!refused.empty()) (void)send_planned(mailbox, p, sigs, refused, false, out, from, false);
    }

    // Sends the messages `which` (indices into p/sigs) as the guard plans them, pipelined, and writes each
    // verdict into out[base + index]. With `keep_refused_groups`, the messages of a refused command that
    // carried several are returned instead of being given its verdict.
    std::vector<std::size_t> send_planned(const std::string& mailbox, const prepared& p,
                                          const std::vector<append_signature::message>& sigs, const std::vector<std::size_t>& which,
                                          bool whole, std::vector<append_result>& out, std::size_t base, bool keep_refused_groups) {
        std::vector<append_signature::message> chosen;
        std::vector<imap::append_message> messages;
        for (auto i : which) {
            chosen.push_back(sigs[i]);
            messages.push_back(p.messages[i]);
        }
        const auto plan = guard_->plan(mailbox, chosen, whole, append_guard::clock::now());
        std::vector<error_code> ecs(plan.steps.size());
        std::vector<std::string> why(plan.steps.size());
        run_all(plan.steps.size(), [&](std::size_t k) -> net::awaitable<void> {
            const auto& st = plan.steps[k];
            if (st.noop) {
                co_await conn_->async_noop(ecs[k]);
            } else {
                const std::span<const imap::append_message> some(messages.data() + st.from, st.to - st.from);
                (void)co_await conn_->async_append(mailbox, some, ecs[k]);
            }
            if (ecs[k]) why[k] = conn_->diag().to_string();
        });
        std::vector<std::size_t> refused;
        std::exception_ptr fatal;
        const auto now = append_guard::clock::now();
        for (std::size_t k = 0; k < plan.steps.size(); ++k) {
            const auto& st = plan.steps[k];
            const bool ok = !ecs[k];
            if (!ok && (imap::is_fatal(ecs[k]) || imap::is_transient(ecs[k])) && !fatal) {
                fatal = std::make_exception_ptr(session_error(
                    kind_of(ecs[k]), fmt::format("{} to '{}' failed: {}", st.noop ? "NOOP before APPEND" : "APPEND", mailbox, why[k])));
            }
            if (st.noop) {
                if (ok) guard_->on_noop_ok();
                else guard_->on_other(false);
                continue;
            }
            guard_->on_append({mailbox, {chosen.begin() + static_cast<std::ptrdiff_t>(st.from), chosen.begin() + static_cast<std::ptrdiff_t>(st.to)}},
                              ok, now);
            for (std::size_t i = st.from; i < st.to; ++i) {
                if (!ok && keep_refused_groups && st.to - st.from > 1) refused.push_back(which[i]);
                else out[base + which[i]] = ok ? append_result{true, "OK"} : append_result{false, why[k]};
            }
        }
        if (fatal) std::rethrow_exception(fatal);
        for (std::size_t i = plan.deferred_from; i < which.size(); ++i) {
            out[base + which[i]] = {false, fmt::format("not sent now: it would be the {}th identical APPEND to '{}' within 5 minutes, "
                                                       "and Carbonio drops the connection for that; the next run sends it",
                                                       carbonio_identical_command_limit + 1, mailbox)};
        }
        return refused;
    }

    std::shared_ptr<io_runtime> rt_;
    net::strand<net::io_context::executor_type> strand_;
    std::shared_ptr<imap::connection> conn_;
    std::optional<imap::namespace_info> namespaces_;
    dest_profile profile_;
    std::string evidence_;
    append_guard own_guard_;
    append_guard* guard_ = &own_guard_;
};

}  // namespace

std::unique_ptr<imap_session> imap_session::open(const server_endpoint& where, const credentials& who, const dest_options* dest) {
    return std::make_unique<session_impl>(where, who, dest);
}

}  // namespace arrival::engine
