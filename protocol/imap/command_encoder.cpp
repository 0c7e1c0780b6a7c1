#include "protocol/imap/command_encoder.hpp"

#include <fmt/format.h>

#include "protocol/imap/charclass.hpp"
#include "protocol/imap/mutf7.hpp"
#include "protocol/imap/response.hpp"
#include "protocol/imap/sasl_plain.hpp"
#include "protocol/imap/sequence_set.hpp"

namespace arrival::imap {
namespace {

constexpr std::size_t literal_minus_max = 4096;  // RFC 7888 §4
// Payloads up to this size are copied into the command (one allocation, no lifetime rule for the caller);
// bigger ones are borrowed.
constexpr std::size_t copy_payload_max = 4096;

// flag = "\\Answered" / ... / flag-keyword / flag-extension;  flag-extension = "\\" atom;  flag-keyword = atom
bool valid_flag(std::string_view f) noexcept {
    if (!f.empty() && f[0] == '\\') f.remove_prefix(1);
    if (f.empty()) return false;
    for (unsigned char c : f)
        if (!detail::is_atom_char(c)) return false;
    return true;
}

}  // namespace

std::size_t command::size() const noexcept {
    std::size_t n = 0;
    for (const auto& s : segments) n += s.bytes().size();
    return n;
}

std::size_t command::continuations() const noexcept {
    std::size_t n = 0;
    for (const auto& s : segments) n += s.await_continuation ? 1 : 0;
    return n;
}

std::string command::flatten() const {
    std::string out;
    out.reserve(size());
    for (const auto& s : segments) out += s.bytes();
    return out;
}

std::optional<string_form> choose_string_form(std::string_view s, bool allow_atom, const encoder_options& o) noexcept {
    bool atom = allow_atom && !s.empty();
    bool quoted = s.size() <= o.max_quoted;
    for (unsigned char c : s) {
        if (c == 0) return std::nullopt;  // no IMAP string may hold NUL (literal8 only, for message bodies)
        if (!detail::is_astring_char(c)) atom = false;
        if (c == '\r' || c == '\n' || (c >= 0x80 && !o.utf8_accept)) quoted = false;
    }
    if (atom) return string_form::atom;
    if (quoted) return string_form::quoted;
    return string_form::literal;
}

command_builder::command_builder(std::string_view verb, const encoder_options& o, diagnostics* diag)
    : opts_(o), diag_(diag) {
    cmd_.verb.assign(verb);
    cmd_.segments.emplace_back();
    cmd_.segments.back().owned.assign(verb);
    cmd_.redacted.assign(verb);
    need_sp_ = true;
}

void command_builder::separator() {
    if (need_sp_) {
        cmd_.segments.back().owned += ' ';
        cmd_.redacted += ' ';
    }
    need_sp_ = true;
}

// Appends to the current owned segment (a borrowed segment is closed first).
void command_builder::text(std::string_view t, bool redact_as_is) {
    if (!cmd_.segments.back().borrowed.empty()) cmd_.segments.emplace_back();
    cmd_.segments.back().owned += t;
    if (redact_as_is) cmd_.redacted += t;
}

void command_builder::emit_literal(std::string_view bytes, bool binary, bool borrow, std::string_view redacted_as) {
    const bool non_sync = (opts_.literal_plus && bytes.size() <= opts_.non_sync_max) ||
                          (opts_.literal_minus && bytes.size() <= literal_minus_max);
    const std::string header = fmt::format("{}{{{}{}}}", binary ? "~" : "", bytes.size(), non_sync ? "+" : "");
    text(header, false);
    cmd_.redacted += header;
    if (!redacted_as.empty()) cmd_.redacted += redacted_as;
    text("\r\n", false);
    const bool borrowed = borrow && bytes.size() > copy_payload_max;
    // A synchronizing literal starts a segment the writer holds back until "+"; a borrowed payload is a
    // segment of its own. Otherwise the payload simply continues the current owned text.
    if (!non_sync || borrowed) {
        command_segment payload;
        payload.await_continuation = !non_sync;
        if (borrowed) payload.borrowed = bytes;
        else payload.owned.assign(bytes);
        cmd_.segments.push_back(std::move(payload));
        if (borrowed) cmd_.segments.emplace_back();  // what follows cannot be appended to borrowed bytes
        return;
    }
    text(bytes, false);
}

void command_builder::emit_string(std::string_view s, bool allow_atom, std::string_view redacted_as) {
    separator();
    const auto form = choose_string_form(s, allow_atom, opts_);
    if (!form) {
        if (!ec_) {
            ec_ = errc::unencodable;
            if (diag_) diag_->set_client_message(fmt::format("{}: an argument contains NUL", cmd_.verb));
        }
        return;
    }
    switch (*form) {
    case string_form::atom:
        text(s, redacted_as.empty());
        break;
    case string_form::quoted: {
        std::string q;
        q.reserve(s.size() + 2);
        q += '"';
        for (char c : s) {
            if (c == '"' || c == '\\') q += '\\';
            q += c;
        }
        q += '"';
        text(q, redacted_as.empty());
        break;
    }
    case string_form::literal:
        emit_literal(s, false, false, redacted_as);
        break;
    }
    if (!redacted_as.empty() && *form != string_form::literal) cmd_.redacted += redacted_as;
}

command_builder& command_builder::atom(std::string_view a) {
    separator();
    text(a);
    return *this;
}

command_builder& command_builder::astring(std::string_view s) {
    emit_string(s, true, {});
    return *this;
}

command_builder& command_builder::string(std::string_view s) {
    emit_string(s, false, {});
    return *this;
}

command_builder& command_builder::secret(std::string_view s, std::string_view placeholder) {
    emit_string(s, true, placeholder);
    return *this;
}

command_builder& command_builder::mailbox(std::string_view name) {
    if (iequals(name, "INBOX")) return atom("INBOX");  // RFC 3501 §5.1: INBOX is case-insensitive
    std::string enc;
    error_code ec;
    if (name.empty()) ec = errc::bad_mailbox_name;
    else if (opts_.utf8_accept) {
        if (auto e = encode_mutf7(name, enc); e) ec = errc::bad_mailbox_name;  // validates UTF-8 only
        enc.assign(name);
    } else if (encode_mutf7(name, enc)) {
        ec = errc::bad_mailbox_name;
    }
    if (!ec && (enc.find('\r') != std::string::npos || enc.find('\n') != std::string::npos)) ec = errc::bad_mailbox_name;
    if (ec) {
        separator();
        if (!ec_) {
            ec_ = ec;
            if (diag_) diag_->set_client_message(name.empty() ? std::string("empty mailbox name")
                                                              : "mailbox name is not valid UTF-8 or contains NUL/CR/LF");
        }
        return *this;
    }
    emit_string(enc, true, {});
    return *this;
}

command_builder& command_builder::list_mailbox(std::string_view pattern) {
    // list-mailbox = 1*list-char / string: the wildcards are ASCII, so they survive modified UTF-7.
    std::string enc;
    if (pattern.empty()) {
        separator();
        text("\"\"");
        return *this;
    }
    if (!opts_.utf8_accept && encode_mutf7(pattern, enc)) {
        separator();
        if (!ec_) {
            ec_ = errc::bad_mailbox_name;
            if (diag_) diag_->set_client_message("LIST pattern is not valid UTF-8");
        }
        return *this;
    }
    if (opts_.utf8_accept) enc.assign(pattern);
    bool list_chars = true;
    for (unsigned char c : enc)
        if (!detail::is_list_char(c)) list_chars = false;
    if (list_chars) return atom(enc);
    emit_string(enc, false, {});
    return *this;
}

command_builder& command_builder::literal(std::string_view bytes, bool binary) {
    separator();
    emit_literal(bytes, binary, true, {});
    return *this;
}

command_builder& command_builder::begin_list() {
    separator();
    text("(");
    need_sp_ = false;
    return *this;
}

command_builder& command_builder::end_list() {
    text(")");
    need_sp_ = true;
    return *this;
}

error_code command_builder::finish(command& out) {
    if (ec_) return ec_;
    text("\r\n", false);
    // Drop segments left empty by literals at the end (never the ones that wait for "+").
    std::vector<command_segment> segs;
    segs.reserve(cmd_.segments.size());
    for (auto& s : cmd_.segments)
        if (!s.bytes().empty() || s.await_continuation) segs.push_back(std::move(s));
    cmd_.segments = std::move(segs);
    out = std::move(cmd_);
    return {};
}

command encode_simple(std::string_view verb) {
    command c;
    c.verb.assign(verb);
    c.redacted.assign(verb);
    c.segments.push_back({std::string(verb) + "\r\n", {}, false});
    return c;
}

error_code encode_login(std::string_view user, std::string_view password, const encoder_options& o, command& out,
                        diagnostics* diag) {
    command_builder b("LOGIN", o, diag);
    b.astring(user).secret(password, "<password>");
    return b.finish(out);
}

error_code encode_authenticate_plain(std::string_view authzid, std::string_view authcid, std::string_view password,
                                     bool sasl_ir, command& out) {
    std::string b64;
    if (auto ec = sasl_plain_response(authzid, authcid, password, b64)) return ec;
    command c;
    c.verb = "AUTHENTICATE";
    c.redacted = "AUTHENTICATE PLAIN <credentials>";
    if (sasl_ir) {
        // RFC 4959: an empty initial response would be "=", never the case for PLAIN.
        c.segments.push_back({"AUTHENTICATE PLAIN " + b64 + "\r\n", {}, false});
    } else {
        c.segments.push_back({"AUTHENTICATE PLAIN\r\n", {}, false});
        c.segments.push_back({b64 + "\r\n", {}, true});
    }
    for (auto& ch : b64) *static_cast<volatile char*>(&ch) = 0;
    out = std::move(c);
    return {};
}

error_code encode_id(std::span<const std::pair<std::string_view, std::string_view>> fields, const encoder_options& o,
                     command& out) {
    command_builder b("ID", o);
    if (fields.empty()) {
        b.atom("NIL");
    } else {
        b.begin_list();
        for (const auto& [k, v] : fields) b.string(k).string(v);
        b.end_list();
    }
    return b.finish(out);
}

error_code encode_enable(std::span<const std::string_view> capabilities, command& out) {
    encoder_options o;
    command_builder b("ENABLE", o);
    if (capabilities.empty()) return errc::unencodable;
    for (auto c : capabilities) {
        for (unsigned char ch : c)
            if (!detail::is_atom_char(ch)) return errc::unencodable;
        b.atom(c);
    }
    return b.finish(out);
}

error_code encode_list(std::string_view reference, std::string_view pattern, const list_options& lo,
                       const encoder_options& o, command& out, diagnostics* diag) {
    command_builder b("LIST", o, diag);
    if (lo.select_subscribed || lo.select_special_use) {
        b.begin_list();
        if (lo.select_subscribed) b.atom("SUBSCRIBED");
        if (lo.select_special_use) b.atom("SPECIAL-USE");
        b.end_list();
    }
    if (reference.empty()) b.atom("\"\"");
    else b.mailbox(reference);
    b.list_mailbox(pattern);
    if (lo.return_subscribed || lo.return_special_use || lo.return_children || !lo.return_status.empty()) {
        b.atom("RETURN").begin_list();
        if (lo.return_subscribed) b.atom("SUBSCRIBED");
        if (lo.return_special_use) b.atom("SPECIAL-USE");
        if (lo.return_children) b.atom("CHILDREN");
        if (!lo.return_status.empty()) {
            b.atom("STATUS").begin_list();
            for (auto s : lo.return_status) b.atom(s);
            b.end_list();
        }
        b.end_list();
    }
    return b.finish(out);
}

error_code encode_lsub(std::string_view reference, std::string_view pattern, const encoder_options& o, command& out,
                       diagnostics* diag) {
    command_builder b("LSUB", o, diag);
    if (reference.empty()) b.atom("\"\"");
    else b.mailbox(reference);
    b.list_mailbox(pattern);
    return b.finish(out);
}

error_code encode_status(std::string_view mailbox, std::span<const std::string_view> items, const encoder_options& o,
                         command& out, diagnostics* diag) {
    if (items.empty()) return errc::unencodable;
    command_builder b("STATUS", o, diag);
    b.mailbox(mailbox).begin_list();
    for (auto i : items) b.atom(i);
    b.end_list();
    return b.finish(out);
}

error_code encode_select(std::string_view mailbox, bool read_only, bool condstore, const encoder_options& o,
                         command& out, diagnostics* diag) {
    command_builder b(read_only ? "EXAMINE" : "SELECT", o, diag);
    b.mailbox(mailbox);
    if (condstore) b.begin_list().atom("CONDSTORE").end_list();
    return b.finish(out);
}

error_code encode_create(std::string_view mailbox, std::optional<std::string_view> special_use,
                         const encoder_options& o, command& out, diagnostics* diag) {
    command_builder b("CREATE", o, diag);
    b.mailbox(mailbox);
    if (special_use) b.begin_list().atom("USE").begin_list().atom(*special_use).end_list().end_list();  // RFC 6154 §5.2
    return b.finish(out);
}

error_code encode_subscribe(std::string_view mailbox, bool subscribe, const encoder_options& o, command& out,
                            diagnostics* diag) {
    command_builder b(subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE", o, diag);
    b.mailbox(mailbox);
    return b.finish(out);
}

error_code encode_uid_search(std::string_view criteria, std::span<const std::string_view> esearch_return,
                             command& out) {
    if (criteria.empty() || criteria.find_first_of("\r\n") != std::string_view::npos) return errc::unencodable;
    encoder_options o;
    command_builder b("UID SEARCH", o);
    if (!esearch_return.empty()) {
        b.atom("RETURN").begin_list();
        for (auto r : esearch_return) b.atom(r);
        b.end_list();
    }
    b.atom(criteria);
    return b.finish(out);
}

error_code encode_uid_fetch_changedsince(std::string_view uid_set, std::string_view items, std::uint64_t modseq, command& out,
                                         bool vanished) {
    if (const auto ec = encode_uid_fetch(uid_set, items, out)) return ec;
    auto& text = out.segments.front().owned;
    text.resize(text.size() - 2);   // the CRLF finish() wrote
    const auto modifiers = fmt::format(" (CHANGEDSINCE {}{})", modseq, vanished ? " VANISHED" : "");
    text += modifiers + "\r\n";
    out.redacted += modifiers;
    return {};
}

error_code encode_uid_store(std::string_view uid_set, std::string_view item, std::span<const std::string_view> flags, command& out,
                            std::optional<std::uint64_t> unchangedsince) {
    std::vector<seq_range> check;
    if (decode_sequence_set(uid_set, check)) return errc::bad_sequence_set;
    const auto plain = item.substr(0, item.size() > 0 && (item[0] == '+' || item[0] == '-') ? 1 : 0);
    const auto rest = item.substr(plain.size());
    if (!(rest == "FLAGS" || rest == "FLAGS.SILENT")) return errc::unencodable;
    encoder_options o;
    command_builder b("UID STORE", o);
    b.atom(uid_set);
    if (unchangedsince) b.begin_list().atom("UNCHANGEDSINCE").atom(std::to_string(*unchangedsince)).end_list();
    b.atom(item).begin_list();
    for (auto f : flags) {
        const auto name = f.substr(!f.empty() && f[0] == '\\' ? 1 : 0);   // flag = "\\" atom / keyword
        if (name.empty()) return errc::unencodable;
        for (unsigned char ch : name)
            if (!detail::is_atom_char(ch) || ch == ']') return errc::unencodable;
        b.atom(f);
    }
    b.end_list();
    return b.finish(out);
}

error_code encode_uid_expunge(std::string_view uid_set, command& out) {
    std::vector<seq_range> check;
    if (decode_sequence_set(uid_set, check)) return errc::bad_sequence_set;
    encoder_options o;
    command_builder b("UID EXPUNGE", o);
    b.atom(uid_set);
    return b.finish(out);
}

error_code encode_rename(std::string_view from, std::string_view to, const encoder_options& o, command& out, diagnostics* diag) {
    command_builder b("RENAME", o, diag);
    b.mailbox(from).mailbox(to);
    return b.finish(out);
}

error_code encode_delete(std::string_view mailbox, const encoder_options& o, command& out, diagnostics* diag) {
    command_builder b("DELETE", o, diag);
    b.mailbox(mailbox);
    return b.finish(out);
}

error_code encode_uid_fetch(std::string_view uid_set, std::string_view items, command& out) {
    std::vector<seq_range> check;
    if (decode_sequence_set(uid_set, check)) return errc::bad_sequence_set;
    if (items.empty() || items.find_first_of("\r\n") != std::string_view::npos) return errc::unencodable;
    encoder_options o;
    command_builder b("UID FETCH", o);
    b.atom(uid_set).atom(items);
    return b.finish(out);
}

// append = "APPEND" SP mailbox 1*append-message          ; RFC 3502 MULTIAPPEND
// append-message = [SP flag-list] [SP date-time] SP literal
error_code encode_append(std::string_view mailbox, std::span<const append_message> messages, const encoder_options& o,
                         command& out, diagnostics* diag) {
    if (messages.empty()) return errc::unencodable;
    command_builder b("APPEND", o, diag);
    b.mailbox(mailbox);
    for (const auto& m : messages) {
        bool any_flag = false;
        for (auto f : m.flags) {
            if (iequals(f, "\\Recent")) continue;  // RFC 3501 §6.3.11: \Recent cannot be set
            if (!valid_flag(f)) {
                if (diag) diag->set_client_message("APPEND: a flag is not an IMAP flag or keyword");
                return errc::unencodable;
            }
            if (!any_flag) b.begin_list();
            any_flag = true;
            b.atom(f);
        }
        if (any_flag) b.end_list();
        if (m.date) {
            std::string date(1, '"');
            date += format_internal_date(*m.date);
            date += '"';
            b.atom(date);
        }
        b.literal(m.body, m.binary);
    }
    return b.finish(out);
}

}  // namespace arrival::imap
