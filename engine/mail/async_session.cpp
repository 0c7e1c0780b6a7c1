// async_session on protocol/'s asynchronous client (arrival::imap::connection). Everything that is IMAP
// (encoding, modified UTF-7, SASL PLAIN, parsing, pipelining, TLS verification) is the connection's; this file
// only translates between the engine's types and the connection's, and maps error codes to error_kind (the
// table is in engine/mail/async_session.hpp).
#include "engine/mail/async_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <exception>
#include <span>

#include <fmt/format.h>

#include "engine/mail/byte_budget.hpp"
#include "engine/mail/header_meaning.hpp"
#include "engine/mail/tls_contexts.hpp"
#include "engine/mail/when_all.hpp"
#include "protocol/ascii.hpp"
#include "protocol/imap/connection.hpp"
#include "protocol/imap/internal_date.hpp"
#include "protocol/imap/sequence_set.hpp"

namespace arrival::engine {

namespace net = boost::asio;
using imap::errc;
using imap::error_code;

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

bool is(const error_code& ec, errc e) { return ec == make_error_code(e); }

// What a failed call means for the caller (see the table at the top of this file): one classification for
// every command (imap::classify).
error_kind kind_of(const error_code& ec) { return imap::classify(ec, false); }
error_kind kind_of_connect(const error_code& ec) { return imap::classify(ec, true); }

engine::folder_namespace to_engine(const imap::namespace_info::entry& e) {
    return {e.prefix, e.delimiter.value_or('\0')};
}

// The index sink: keeps each response's header fields and turns the complete record into a source_message.
class index_sink final : public imap::fetch_handler {
public:
    // with_dates: INTERNALDATE was asked for, so a message whose INTERNALDATE is unusable also gets its Date
    // field's instant (the APPEND's fallback date).
    index_sink(std::uint32_t from_uid, bool with_dates, std::vector<source_message>& out)
        : from_uid_(from_uid), with_dates_(with_dates), now_(std::time(nullptr)), out_(out) {}

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
        if (rec.internaldate) m.internaldate = imap::format_internal_date(*rec.internaldate);
        m.key = compute_dedupe_key(header, m.size);
        if (std::string date; with_dates_ && !internaldate_usable_anywhere(m.internaldate, now_) && find_header_field(header, "Date", date))
            m.header_date = date_meaning(date);
        out_.push_back(std::move(m));
        return {};
    }

private:
    std::uint32_t from_uid_;
    bool with_dates_;
    std::int64_t now_;
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


// One response carrying both the index's items and the whole message (fetch_index_and_bodies): BODY[] goes to
// the body sink, the header fields to the index sink, and each complete record to both.
class index_and_body_sink final : public imap::fetch_handler {
public:
    index_and_body_sink(index_sink& index, body_sink& body) : index_(index), body_(body) {}

    error_code on_body_begin(const imap::fetch_part& part, std::uint64_t size) override {
        current_ = part.section.empty() && !part.origin ? static_cast<imap::fetch_handler*>(&body_) : &index_;
        return current_->on_body_begin(part, size);
    }
    error_code on_body_chunk(std::string_view bytes) override { return current_ ? current_->on_body_chunk(bytes) : error_code{}; }
    error_code on_body_end() override {
        auto* c = std::exchange(current_, nullptr);
        return c ? c->on_body_end() : error_code{};
    }
    error_code on_fetch(const imap::fetch_record& rec) override {
        if (const auto ec = body_.on_fetch(rec)) return ec;
        return index_.on_fetch(rec);
    }

private:
    index_sink& index_;
    body_sink& body_;
    imap::fetch_handler* current_ = nullptr;
};

// The FETCH items of an index (index_sink): the dedupe key's header fields, with the flags and dates the copy
// sends; with `bodies`, the whole message too (index_and_body_sink).
std::string index_items(bool with_flags, bool bodies) {
    return fmt::format("(UID RFC822.SIZE{} BODY.PEEK[HEADER.FIELDS ({})]{})", with_flags ? " FLAGS INTERNALDATE" : "", dedupe_header_fields,
                       bodies ? " BODY.PEEK[]" : "");
}

[[noreturn]] void fail(imap::connection& c, const error_code& ec, const std::string& what) {
    throw session_error(kind_of(ec), fmt::format("{} failed: {}", what, c.diag().to_string()));
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

imap::connect_options options_for(const server_endpoint& ep) {
    imap::connect_options o;
    o.url.host = ep.host;
    o.url.port = ep.port;
    o.url.tls = ep.implicit_tls ? imap::tls_mode::implicit
                : ep.allow_cleartext && ep.never_starttls ? imap::tls_mode::none
                : ep.allow_cleartext && !ep.require_starttls ? imap::tls_mode::starttls_if_offered
                                                             : imap::tls_mode::starttls_required;
    if (ep.timeout.count() > 0) o.connect_timeout = o.read_timeout = o.write_timeout = ep.timeout;
    // Non-synchronizing literals (LITERAL+) up to 4 MB, not isync's 100 KB: a synchronizing one holds the
    // connection's pipeline for a round trip until the server's "+" is back, so over a WAN every batch with a
    // message over 100 KB paid one. What a destination's known limit refuses is kept back before it is sent
    // (engine/mail/dest_profile.hpp); above a few MB the transfer outlasts the round trip, and a refusal for
    // another reason (a quota) would waste the bytes, so those still wait for the "+".
    o.literal_plus_max = 4 << 20;
    o.written = release_written_pages;   // a spilled body's pages, once sent (engine/mail/body_buffer.hpp)
    return o;
}

}  // namespace

struct async_session::state {
    std::shared_ptr<imap::connection> conn;
    std::optional<imap::namespace_info> namespaces;
    append_guard own_guard;
    append_guard* guard = &own_guard;

    // NAMESPACE once per session; nullopt when the server has none.
    net::awaitable<std::optional<imap::namespace_info>> namespace_info() {
        if (!conn->has_capability("NAMESPACE")) co_return std::nullopt;
        if (!namespaces) {
            error_code ec;
            auto ns = co_await conn->async_namespace(ec);
            if (ec) fail(*conn, ec, "NAMESPACE");
            namespaces = std::move(ns);
        }
        co_return namespaces;
    }

    // Before a command other than APPEND under the refusal policy: a NOOP when one more refusal in a row could
    // make the server drop the connection.
    net::awaitable<void> noop_if_guarded() {
        if (!guard->needs_noop_before_command()) co_return;
        error_code ec;
        co_await conn->async_noop(ec);
        if (ec) fail(*conn, ec, "NOOP");
        guard->on_noop_ok();
    }

    net::awaitable<folder_status> open_mailbox(const std::string& mailbox, bool read_only) {
        co_await noop_if_guarded();
        error_code ec;
        auto s = co_await conn->async_select(mailbox, read_only, ec);
        guard->on_other(!ec);
        if (ec) fail(*conn, ec, fmt::format("{} '{}'", read_only ? "EXAMINE" : "SELECT", mailbox));
        folder_status out;
        out.uidvalidity = s.uidvalidity;
        out.uidnext = s.uidnext;
        out.messages = s.exists;
        out.permanent_flags = std::move(s.permanent_flags);
        out.flags = std::move(s.flags);
        co_return out;
    }
};

imap::connection& async_session::connection() noexcept { return *s_->conn; }

async_session::async_session(std::unique_ptr<state> s) : s_(std::move(s)) {}

async_session::~async_session() {
    if (s_ && s_->conn) s_->conn->close();
}

net::awaitable<std::unique_ptr<async_session>> async_session::open(const net::any_io_executor& ex, const server_endpoint& ep,
                                                                  const login_identity& who, const std::optional<dest_options>& dest) {
    const auto options = options_for(ep);
    std::shared_ptr<net::ssl::context> tls;   // null: the connection's own empty context, never used
    // A session that never speaks TLS (--allow-cleartext --no-starttls) does not load the trust store: on a
    // rerun with nothing new, loading it was a tenth of the run.
    try {
        if (options.url.tls != imap::tls_mode::none) tls = shared_tls_context(ep.ca_file, ep.insecure);
    } catch (const std::exception& e) {
        throw session_error(error_kind::tls, e.what());
    }
    auto st = std::make_unique<state>();
    st->conn = imap::connection::create(ex, tls, options);
    std::unique_ptr<async_session> s(new async_session(std::move(st)));
    auto& conn = *s->s_->conn;
    error_code ec;
    co_await conn.async_connect(ec);
    if (ec) throw session_error(kind_of_connect(ec), conn.diag().to_string());
    imap::credentials c;
    c.user = who.user;
    c.admin = who.admin;
    c.password = who.password.reveal();
    struct wipe_on_exit {   // also when the ID or the login throws
        std::string& secret;
        ~wipe_on_exit() { std::fill(secret.begin(), secret.end(), '\0'); }
    } wipe{c.password};
    // Which profile the destination gets. The greeting and capabilities are free; ID costs a round trip, so it
    // is asked only under `automatic` and only when they did not decide.
    server_identity id;
    std::optional<profile_detection> decided;
    bool ask_id = false;
    if (dest) {
        id.greeting = conn.greeting();
        for (const auto& cap : conn.session().capabilities()) id.capabilities.push_back(cap);
        decided = resolve_dest_profile(dest->choice, id);
        ask_id = dest->choice == dest_profile_choice::automatic && decided->kind == dest_profile_kind::generic && conn.has_capability("ID");
    }
    const auto take_profile = [&] {
        if (!decided) return;
        s->profile_.kind = decided->kind;
        s->evidence_ = decided->evidence;
        // Carbonio: PLAIN, never LOGIN (FACTS.md §6 Admin impersonation; LOGIN cannot act for a user).
        if (decided->kind == dest_profile_kind::carbonio) c.how = imap::credentials::method::plain;
    };
    error_code id_ec;
    const auto read_id = [&]() -> net::awaitable<void> {
        id.id_fields = co_await conn.async_id(id_ec);
        if (id_ec && (imap::is_fatal(id_ec) || imap::is_transient(id_ec))) fail(conn, id_ec, "ID");
        decided = resolve_dest_profile(dest->choice, id);
    };
    ec = {};
    if (ask_id && !who.admin.empty()) {
        // An admin acting for the user logs in with AUTHENTICATE PLAIN under every profile, so the login does
        // not wait for the ID's answer: both in one round trip.
        co_await for_each_concurrently(2, [&](std::size_t k) -> net::awaitable<void> {
            if (k == 0) co_await read_id();
            else co_await conn.async_login(c, ec);
        });
        take_profile();
    } else {
        if (ask_id) co_await read_id();
        take_profile();
        co_await conn.async_login(c, ec);
    }
    if (ec) {
        std::string why = fmt::format("login refused: {}", conn.diag().to_string());
        if (s->profile_.kind == dest_profile_kind::carbonio && !who.admin.empty()) {
            // Carbonio answers "AUTHENTICATE failed" whatever the cause (ImapHandler l.1683-1708).
            why += fmt::format("; on Carbonio the admin {} must itself have zimbraImapEnabled and zimbraPrefImapEnabled TRUE "
                               "to act for users over IMAP (Authenticator.isProtocolEnabled), besides the right password",
                               who.admin);
        }
        // The one classification (a server that wants TLS first is tls, [UNAVAILABLE] transient), where a refusal
        // without a code, or a mechanism the server lacks, is the credentials refused.
        auto kind = kind_of(ec);
        if (kind == error_kind::refused || is(ec, errc::capability_missing)) kind = error_kind::auth;
        throw session_error(kind, why);
    }
    if (dest) {
        s->profile_ = dest_profile::make(s->profile_.kind, s->append_limit(), dest->max_message_size);
        if (dest->guard) s->s_->guard = dest->guard;
    }
    s->s_->guard->on_reconnect(s->profile_.kind);
    co_return s;
}

bool async_session::has_capability(std::string_view cap) const { return s_->conn->has_capability(cap); }

bool async_session::tls_active() const { return s_->conn->tls_active(); }

std::optional<std::uint64_t> async_session::append_limit() const {
    const auto v = s_->conn->session().value_of("APPENDLIMIT");
    std::uint64_t n = 0;
    if (!v || std::from_chars(v->data(), v->data() + v->size(), n).ec != std::errc()) return std::nullopt;
    return n;
}

net::awaitable<folder_namespace> async_session::personal_namespace() {
    if (const auto ns = co_await s_->namespace_info(); ns && !ns->personal.empty()) co_return to_engine(ns->personal.front());
    // No NAMESPACE: the delimiter from LIST "" "" (RFC 3501 §6.3.8), no prefix.
    error_code ec;
    const auto r = co_await s_->conn->async_list("", "", ec);
    if (ec) fail(*s_->conn, ec, "LIST");
    folder_namespace out;
    out.delimiter = r.empty() ? '/' : r.front().delimiter.value_or('\0');
    co_return out;
}

net::awaitable<std::vector<folder_namespace>> async_session::shared_namespaces() {
    std::vector<folder_namespace> out;
    if (const auto ns = co_await s_->namespace_info()) {
        for (const auto& e : ns->shared) out.push_back(to_engine(e));
    }
    co_return out;
}

net::awaitable<std::vector<folder_namespace>> async_session::other_users_namespaces() {
    std::vector<folder_namespace> out;
    if (const auto ns = co_await s_->namespace_info()) {
        for (const auto& e : ns->other_users) out.push_back(to_engine(e));
    }
    co_return out;
}

net::awaitable<std::vector<mailbox_entry>> async_session::list() {
    error_code ec;
    auto r = co_await s_->conn->async_list("", "*", ec);
    if (ec) fail(*s_->conn, ec, "LIST");
    std::vector<mailbox_entry> out;
    out.reserve(r.size());
    for (auto& m : r) {
        mailbox_entry e;
        e.name = std::move(m.name);
        e.subscribed = m.subscribed;
        for (auto& a : m.attributes) {
            if (!ascii::iequals(a, "\\Subscribed")) e.attributes.push_back(std::move(a));
        }
        out.push_back(std::move(e));
    }
    co_return out;
}

void async_session::throw_error(const boost::system::error_code& ec, const std::string& what) { fail(*s_->conn, ec, what); }

net::awaitable<folder_status> async_session::status(const std::string& mailbox) {
    std::vector<std::string> one{mailbox};
    auto all = co_await status(one);
    co_return std::move(all.front());
}

net::awaitable<std::vector<folder_status>> async_session::status(const std::vector<std::string>& mailboxes) {
    std::vector<folder_status> out(mailboxes.size());
    std::vector<error_code> ecs(mailboxes.size());
    std::vector<std::string> why(mailboxes.size());
    auto& conn = *s_->conn;
    // With CONDSTORE, HIGHESTMODSEQ too: it moves on every flag change and expunge (RFC 7162 §3.1.2).
    std::vector<std::string_view> items = {"MESSAGES", "UIDNEXT", "UIDVALIDITY"};
    if (conn.has_capability("CONDSTORE")) items.push_back("HIGHESTMODSEQ");
    co_await for_each_concurrently(mailboxes.size(), [&](std::size_t k) -> net::awaitable<void> {
        const auto s = co_await conn.async_status(mailboxes[k], items, ecs[k]);
        if (ecs[k]) why[k] = conn.diag().to_string();
        out[k].uidvalidity = s.uidvalidity.value_or(0);
        out[k].uidnext = s.uidnext.value_or(0);
        out[k].messages = s.messages.value_or(0);
        out[k].highestmodseq = s.highestmodseq.value_or(0);
    });
    for (std::size_t k = 0; k < mailboxes.size(); ++k) {
        if (ecs[k]) throw session_error(kind_of(ecs[k]), fmt::format("STATUS '{}' failed: {}", mailboxes[k], why[k]));
    }
    co_return out;
}

net::awaitable<std::vector<std::optional<async_session::folder_size>>> async_session::sizes(const std::vector<std::string>& mailboxes) {
    std::vector<std::optional<folder_size>> out(mailboxes.size());
    auto& conn = *s_->conn;
    if (!conn.has_capability("STATUS=SIZE")) co_return out;
    const std::vector<std::string_view> items = {"MESSAGES", "SIZE"};
    co_await for_each_concurrently(mailboxes.size(), [&](std::size_t k) -> net::awaitable<void> {
        error_code ec;
        const auto s = co_await conn.async_status(mailboxes[k], items, ec);
        if (!ec && s.messages && s.size) out[k] = folder_size{*s.messages, *s.size};
    });
    // A connection failure is the next command's to report (the caller only loses the sizes).
    co_return out;
}

net::awaitable<folder_status> async_session::examine(const std::string& mailbox) { return s_->open_mailbox(mailbox, true); }
net::awaitable<folder_status> async_session::select(const std::string& mailbox) { return s_->open_mailbox(mailbox, false); }

net::awaitable<std::vector<source_message>> async_session::fetch_index(std::uint32_t from_uid, bool with_flags) {
    std::vector<source_message> out;
    index_sink sink(from_uid, with_flags, out);
    const auto set = imap::encode_range(std::max<std::uint32_t>(from_uid, 1), imap::seq_star);
    const auto items = index_items(with_flags, false);
    error_code ec;
    co_await s_->conn->async_uid_fetch(set, items, sink, ec);
    if (ec) fail(*s_->conn, ec, "UID FETCH (index)");
    co_return out;
}

net::awaitable<async_session::examined_folder> async_session::examine_with_index(const std::string& mailbox, bool with_modseq,
                                                                                  const body_target* bodies) {
    examined_folder out;
    auto& conn = *s_->conn;
    const bool modseq = with_modseq && conn.has_capability("CONDSTORE");
    std::uint64_t highestmodseq = 0;
    std::optional<session_error> status_failed, index_failed;   // kept: the EXAMINE's failure explains first
    // Started in this order, so sent in this order: STATUS, EXAMINE, UID FETCH.
    co_await for_each_concurrently(modseq ? 3 : 2, [&](std::size_t k) -> net::awaitable<void> {
        const std::size_t step = modseq ? k : k + 1;
        if (step == 0) {
            const std::string_view items[] = {"HIGHESTMODSEQ"};
            error_code ec;
            const auto st = co_await conn.async_status(mailbox, items, ec);
            if (ec) status_failed = session_error(kind_of(ec), fmt::format("STATUS '{}' failed: {}", mailbox, conn.diag().to_string()));
            highestmodseq = st.highestmodseq.value_or(0);
        } else if (step == 1) {
            out.status = co_await s_->open_mailbox(mailbox, true);
        } else {
            try {
                if (bodies) out.index = co_await fetch_index_and_bodies(*bodies);
                else out.index = co_await fetch_index(1, true);
            } catch (const session_error& e) {
                index_failed = e;
            }
        }
    });
    if (status_failed) throw *status_failed;
    if (index_failed && (out.status.messages > 0 || index_failed->kind() != error_kind::refused)) throw *index_failed;
    out.status.highestmodseq = highestmodseq;
    co_return out;
}

// The index and every body in one command: two pipelined FETCHes would not do, since a server may run them at
// once and interleave their answers (Dovecot does), while untagged FETCHes go to the oldest FETCH in flight.
net::awaitable<std::vector<source_message>> async_session::fetch_index_and_bodies(const body_target& bodies) {
    std::vector<source_message> out;
    index_sink index(1, true, out);
    body_sink body(bodies);
    index_and_body_sink both(index, body);
    const auto items = index_items(true, true);
    error_code ec;
    co_await s_->conn->async_uid_fetch("1:*", items, both, ec);
    body.rethrow();
    if (ec) fail(*s_->conn, ec, "UID FETCH (index and bodies)");
    co_return out;
}

net::awaitable<void> async_session::fetch_bodies(const std::vector<std::uint32_t>& uids, const body_target& target) {
    if (uids.empty()) co_return;
    body_sink s(target);
    const auto set = imap::encode_sequence_set(uids);
    error_code ec;
    co_await s_->conn->async_uid_fetch(set, "(UID BODY.PEEK[])", s, ec);
    s.rethrow();
    if (ec) fail(*s_->conn, ec, "UID FETCH (bodies)");
}

net::awaitable<void> async_session::create(const std::string& mailbox, special_use use) {
    co_await s_->noop_if_guarded();
    error_code ec;
    const auto wire_use = to_imap(use);
    co_await s_->conn->async_create(mailbox, wire_use, ec);
    s_->guard->on_other(!ec);
    if (!ec || is(ec, errc::already_exists)) co_return;
    // A server without RFC 5530 codes that just says so is what we wanted too.
    if (!imap::is_fatal(ec) && s_->conn->diag().server_message().find("already exists") != std::string::npos) co_return;
    fail(*s_->conn, ec, fmt::format("CREATE '{}'", mailbox));
}

net::awaitable<void> async_session::subscribe(const std::string& mailbox, bool subscribed) {
    co_await s_->noop_if_guarded();
    error_code ec;
    if (subscribed) co_await s_->conn->async_subscribe(mailbox, ec);
    else co_await s_->conn->async_unsubscribe(mailbox, ec);
    s_->guard->on_other(!ec);
    if (ec) fail(*s_->conn, ec, fmt::format("{} '{}'", subscribed ? "SUBSCRIBE" : "UNSUBSCRIBE", mailbox));
}

net::awaitable<void> async_session::logout() {
    try {
        error_code ec;
        co_await s_->conn->async_logout(ec);
    } catch (...) {
    }
}

namespace {

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

// Sends the messages `which` (indices into p/sigs) as the guard plans them, pipelined, and writes each
// verdict into out[base + index]. With `keep_refused_groups`, the messages of a refused command that
// carried several are returned instead of being given its verdict.
net::awaitable<std::vector<std::size_t>> send_planned(imap::connection& conn, append_guard& guard, const std::string& mailbox,
                                                      const prepared& p, const std::vector<append_signature::message>& sigs,
                                                      const std::vector<std::size_t>& which, bool whole, std::vector<append_outcome>& out,
                                                      std::size_t base, bool keep_refused_groups) {
    std::vector<append_signature::message> chosen;
    std::vector<imap::append_message> messages;
    for (auto i : which) {
        chosen.push_back(sigs[i]);
        messages.push_back(p.messages[i]);
    }
    const auto plan = guard.plan(mailbox, chosen, whole, append_guard::clock::now());
    std::vector<error_code> ecs(plan.steps.size());
    std::vector<std::string> why(plan.steps.size());
    std::vector<std::vector<std::uint32_t>> uids(plan.steps.size());
    co_await for_each_concurrently(plan.steps.size(), [&](std::size_t k) -> net::awaitable<void> {
        const auto& st = plan.steps[k];
        if (st.noop) {
            co_await conn.async_noop(ecs[k]);
        } else {
            const std::span<const imap::append_message> some(messages.data() + st.from, st.to - st.from);
            auto r = co_await conn.async_append(mailbox, some, ecs[k]);
            uids[k] = std::move(r.uids);
        }
        if (ecs[k]) why[k] = conn.diag().to_string();
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
            if (ok) guard.on_noop_ok();
            else guard.on_other(false);
            continue;
        }
        guard.on_append({mailbox, {chosen.begin() + static_cast<std::ptrdiff_t>(st.from), chosen.begin() + static_cast<std::ptrdiff_t>(st.to)}},
                        ok, now);
        for (std::size_t i = st.from; i < st.to; ++i) {
            if (!ok && keep_refused_groups && st.to - st.from > 1) refused.push_back(which[i]);
            else if (!ok) out[base + which[i]] = append_outcome{false, why[k], 0};
            else out[base + which[i]] = append_outcome{true, "OK", uids[k].size() == st.to - st.from ? uids[k][i - st.from] : 0};
        }
    }
    if (fatal) std::rethrow_exception(fatal);
    for (std::size_t i = plan.deferred_from; i < which.size(); ++i) {
        out[base + which[i]] = {false, fmt::format("not sent now: it would be the {}th identical APPEND to '{}' within 5 minutes, "
                                                   "and Carbonio drops the connection for that; the next run sends it",
                                                   carbonio_identical_command_limit + 1, mailbox)};
    }
    co_return refused;
}

// Appends items[from, to): one command when it is one message or the server has MULTIAPPEND; when that
// all-or-nothing command is refused, or there is no MULTIAPPEND, one APPEND per message, all pipelined,
// each with its own verdict in the server's words. The profile's append_guard shapes both passes: NOOPs
// where a run of refusals could reach the server's limit, lists split or deferred where an identical
// APPEND would be one too many (engine/mail/dest_profile.hpp).
// A body with NUL bytes goes as a literal8 or not at all, as choose_body_literal says (engine/mail/dest_profile.hpp).
// `spilled`: the bytes of spilled bodies among them, mapped for the command (under the run's mapping cap).
net::awaitable<void> append_run(imap::connection& conn, append_guard& guard, dest_profile_kind kind, const std::string& mailbox,
                                const std::vector<append_item>& items, std::size_t from, std::size_t to, std::uint64_t spilled,
                                std::vector<append_outcome>& out) {
    std::uint64_t taken = 0;
    if (spilled) taken = co_await mapped_bytes().acquire(spilled);
    struct release_guard {
        std::uint64_t n;
        ~release_guard() {
            if (n) mapped_bytes().release(n);
        }
    } release{taken};
    auto p = prepare(items, from, to);
    std::vector<append_signature::message> sigs;
    for (std::size_t k = from; k < to; ++k) sigs.push_back({items[k].internaldate, items[k].flags, items[k].body->size()});
    std::vector<std::size_t> all;
    const bool binary = conn.has_capability("BINARY");
    for (std::size_t k = 0; k < to - from; ++k) {
        const auto how = choose_body_literal(kind, items[from + k].body->contains_nul(), binary);
        if (how == body_literal::refused) {
            out[from + k] = append_outcome{false, std::string(nul_refused_reason), 0};
            continue;
        }
        p.messages[k].binary = how == body_literal::binary;
        all.push_back(k);
    }
    if (all.empty()) co_return;
    const bool whole = all.size() == 1 || conn.has_capability("MULTIAPPEND");
    // First pass: the batch as planned; a refused command of several messages is retried one by one.
    const auto refused = co_await send_planned(conn, guard, mailbox, p, sigs, all, whole, out, from, whole && all.size() > 1);
    if (!refused.empty()) (void)co_await send_planned(conn, guard, mailbox, p, sigs, refused, false, out, from, false);
}

}  // namespace

net::awaitable<std::vector<append_outcome>> async_session::append(const std::string& mailbox, const std::vector<append_item>& items) {
    std::vector<append_outcome> out(items.size());
    // The batch goes in as few commands as possible (MULTIAPPEND: Dovecot commits once per command). Spilled
    // bodies are mapped only while their command is in flight, so a command takes them up to
    // spilled_per_command bytes and one larger goes alone. Source order is kept, so destination UIDs follow
    // source UIDs.
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
        co_await append_run(*s_->conn, *s_->guard, profile_.kind, mailbox, items, i, j, spilled, out);
        i = j;
    }
    co_return out;
}

}  // namespace arrival::engine
