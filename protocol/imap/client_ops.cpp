#include "protocol/imap/client_ops.hpp"

#include <algorithm>

#include "protocol/imap/acl.hpp"
#include "protocol/imap/data_decoder.hpp"
#include "protocol/imap/mutf7.hpp"
#include "protocol/imap/sequence_set.hpp"

namespace arrival::imap {

namespace {

std::vector<std::string> owned(const std::vector<std::string_view>& v) { return {v.begin(), v.end()}; }

std::string decode_name(std::string_view raw) {
    std::string out;
    if (decode_mutf7(raw, out)) return std::string(raw);  // shown as sent rather than dropped
    return out;
}

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

// ---- connect ----

action connect_op::resume(client_fsm& c, error_code ec) {
    switch (st_) {
        case state::start:
            if (url_.tls == tls_mode::implicit) {
                st_ = state::implicit_tls;
                return action::tls_handshake();
            }
            st_ = state::greeting;
            c.await_greeting(*this);
            return action::wait();
        case state::implicit_tls:
            if (ec) return fail(ec, "TLS with " + url_.str() + ": " + c.tls_detail());
            st_ = state::greeting;
            c.await_greeting(*this);
            return action::wait();
        case state::greeting:
            if (c.bye()) {
                diag_mut().set_server_message(c.bye_text());
                return fail(errc::bye, "the server refused the connection");
            }
            if (!c.session().capabilities().empty()) return after_capabilities(c);
            st_ = state::capability;
            submit(c, encode_simple("CAPABILITY"));
            return action::wait();
        case state::capability:
            if (ec) {
                auto a = finish_with(0);
                return fail(a.ec, "CAPABILITY failed");
            }
            return after_capabilities(c);
        case state::starttls:
            if (ec) {
                auto a = finish_with(static_cast<std::uint32_t>(replies().size() - 1));
                return fail(a.ec, "STARTTLS refused");
            }
            st_ = state::starttls_tls;
            return action::tls_handshake();
        case state::starttls_tls:
            if (ec) {
                diag_mut().clear();
                return fail(ec, "TLS (STARTTLS) with " + url_.str() + ": " + c.tls_detail());
            }
            // RFC 3501 §6.2.1: forget the capabilities learned in plaintext; they may have been forged.
            c.session().clear_capabilities();
            return finish(c);
        case state::final_capability:
            return finish_with(static_cast<std::uint32_t>(replies().size() - 1));
    }
    return action::done();
}

action connect_op::after_capabilities(client_fsm& c) {
    if (url_.tls == tls_mode::starttls_if_offered || url_.tls == tls_mode::starttls_required) {
        if (c.session().has("STARTTLS")) {
            st_ = state::starttls;
            submit(c, encode_simple("STARTTLS"));
            return action::wait();
        }
        if (url_.tls == tls_mode::starttls_required) {
            return fail(errc::tls_required, url_.str() + " does not offer STARTTLS: refusing to send credentials "
                                                         "in cleartext (--allow-cleartext allows it)");
        }
    }
    return finish(c);
}

action connect_op::finish(client_fsm& c) {
    if (c.session().phase == session_phase::not_connected) c.session().phase = session_phase::not_authenticated;
    if (!c.session().capabilities().empty()) return action::done();
    st_ = state::final_capability;
    submit(c, encode_simple("CAPABILITY"));
    return action::wait();
}

// ---- login ----

action login_op::resume(client_fsm& c, error_code ec) {
    switch (st_) {
        case state::start: {
            using m = credentials::method;
            const session_state& s = c.session();
            m how = cred_.how;
            if (how == m::automatic) how = !cred_.admin.empty() || s.has("LOGINDISABLED") ? m::plain : m::login;
            command cmd;
            diagnostics enc;
            if (how == m::login || how == m::master_login) {
                if (s.has("LOGINDISABLED")) {
                    return fail(errc::tls_required,
                                "the server disables LOGIN here (LOGINDISABLED); use imaps:// or STARTTLS");
                }
                if (how == m::master_login && cred_.admin.empty()) {
                    return fail(errc::unencodable, "the master-user login form needs an admin user");
                }
                const std::string user =
                    how == m::login ? cred_.user : cred_.user + cred_.master_separator + cred_.admin;
                ec = encode_login(user, cred_.password, c.encoder(), cmd, &enc);
            } else {
                if (!s.has("AUTH=PLAIN")) {
                    return fail(errc::capability_missing, "the server does not offer AUTHENTICATE PLAIN (AUTH=PLAIN)");
                }
                const std::string_view authcid = cred_.admin.empty() ? std::string_view(cred_.user) : cred_.admin;
                const std::string_view authzid = cred_.admin.empty() ? std::string_view() : std::string_view(cred_.user);
                ec = encode_authenticate_plain(authzid, authcid, cred_.password, s.has("SASL-IR"), cmd);
            }
            if (ec) {
                diag_mut() = enc;
                return fail(ec, "cannot encode the credentials");
            }
            caps_before_ = s.capabilities();
            st_ = state::sent;
            submit(c, std::move(cmd));
            return action::wait();
        }
        case state::sent: {
            auto a = finish_with(0);
            if (a.ec) {
                // A NO without an RFC 5530 code is still a refusal of the credentials.
                if (a.ec == errc::no) a.ec = errc::authentication_failed;
                return a;
            }
            c.session().phase = session_phase::authenticated;
            // Dovecot sends [CAPABILITY ...] in the tagged OK; otherwise ask (RFC 3501 §6.2.3: they may change).
            if (c.session().capabilities() != caps_before_) return a;
            st_ = state::capability;
            submit(c, encode_simple("CAPABILITY"));
            return action::wait();
        }
        case state::capability:
            return finish_with(1);
    }
    return action::done();
}

// ---- one command ----

action simple_op::resume(client_fsm& c, error_code) {
    if (!sent_) {
        sent_ = true;
        if (encode_error_) {
            diag_mut() = encode_diag_;
            return fail(encode_error_, "cannot encode the command's arguments");
        }
        submit(c, std::move(cmd_));
        return action::wait();
    }
    auto a = finish_with(0);
    if (!a.ec) a.ec = decode_error_;
    a.ec = on_reply(c, a.ec);
    return a;
}

bool id_op::on_untagged(const response& r, std::uint32_t) {
    if (!r.is("ID")) return false;
    std::vector<std::pair<std::string_view, std::optional<std::string_view>>> kv;
    if ((decode_error_ = decode_id(r, kv))) return true;
    for (auto& [k, v] : kv) out.emplace_back(std::string(k), v ? std::string(*v) : std::string());
    return true;
}

bool namespace_op::on_untagged(const response& r, std::uint32_t) {
    if (!r.is("NAMESPACE")) return false;
    namespace_data d;
    if ((decode_error_ = decode_namespace(r, d))) return true;
    auto conv = [](const std::vector<namespace_desc>& in, std::vector<namespace_info::entry>& to) {
        for (const auto& n : in) to.push_back({decode_name(n.prefix), n.delimiter});
    };
    conv(d.personal, out.personal);
    conv(d.other_users, out.other_users);
    conv(d.shared, out.shared);
    return true;
}

bool status_op::on_untagged(const response& r, std::uint32_t) {
    if (!r.is("STATUS")) return false;
    status_entry s;
    if ((decode_error_ = decode_status(r, s))) return true;
    out.messages = s.messages;
    out.uidnext = s.uidnext;
    out.uidvalidity = s.uidvalidity;
    out.unseen = s.unseen;
    out.size = s.size;
    out.highestmodseq = s.highestmodseq;
    return true;
}

bool enable_op::on_untagged(const response& r, std::uint32_t) {
    if (!r.is("ENABLED")) return false;
    for (const auto& t : r.args) {
        if (t.type == token_type::atom) out.emplace_back(t.text);
    }
    return true;
}

error_code enable_op::on_reply(client_fsm& c, error_code ec) {
    if (!ec) {
        for (const auto& e : out) c.session().add_enabled(e);
    }
    return ec;
}

bool fetch_op::on_untagged(const response& r, std::uint32_t) {
    if (vanished_ == nullptr || !r.is("VANISHED") || r.number) return false;
    vanished_data v;
    if (const auto ec = decode_vanished(r, v)) {
        decode_error_ = ec;
        return true;
    }
    vanished_->insert(vanished_->end(), v.uids.begin(), v.uids.end());
    return true;
}

// ---- RFC 4314 ACL ----

bool getacl_op::on_untagged(const response& r, std::uint32_t) {
    if (!r.is("ACL")) return false;
    acl_data d;
    if ((decode_error_ = decode_acl(r, d))) return true;
    for (const auto& e : d.entries) out.push_back({std::string(e.identifier), std::string(e.rights)});
    return true;
}

bool myrights_op::on_untagged(const response& r, std::uint32_t) {
    if (!r.is("MYRIGHTS")) return false;
    myrights_data d;
    if (!(decode_error_ = decode_myrights(r, d))) out.assign(d.rights);
    return true;
}

bool listrights_op::on_untagged(const response& r, std::uint32_t) {
    if (!r.is("LISTRIGHTS")) return false;
    listrights_data d;
    if ((decode_error_ = decode_listrights(r, d))) return true;
    out.required.assign(d.required);
    for (auto o : d.optional) out.optional.emplace_back(o);
    return true;
}

// ---- LIST / LSUB ----

action list_op::resume(client_fsm& c, error_code ec) {
    const bool extended = c.session().has("LIST-EXTENDED");
    switch (st_) {
        case state::start: {
            command cmd;
            diagnostics enc;
            if (lsub_only_) {
                ec = encode_lsub(reference_, pattern_, c.encoder(), cmd, &enc);
            } else {
                list_options lo;
                lo.return_subscribed = extended;
                lo.return_special_use = extended && c.session().has("SPECIAL-USE");
                ec = encode_list(reference_, pattern_, lo, c.encoder(), cmd, &enc);
            }
            if (ec) {
                diag_mut() = enc;
                return fail(ec, "cannot encode the mailbox pattern");
            }
            st_ = lsub_only_ ? state::lsub : state::list;
            submit(c, std::move(cmd));
            return action::wait();
        }
        case state::list: {
            auto a = finish_with(0);
            if (!a.ec) a.ec = dec_;
            if (a.ec || extended) return a;
            // Without LIST-EXTENDED, subscriptions come from LSUB.
            command cmd;
            diagnostics enc;
            if ((ec = encode_lsub(reference_, pattern_, c.encoder(), cmd, &enc))) {
                diag_mut() = enc;
                return fail(ec, "cannot encode the mailbox pattern");
            }
            st_ = state::lsub;
            submit(c, std::move(cmd));
            return action::wait();
        }
        case state::lsub: {
            auto a = finish_with(static_cast<std::uint32_t>(replies().size() - 1));
            if (!a.ec) a.ec = dec_;
            if (a.ec || lsub_only_) return a;
            for (auto& m : out) {
                m.subscribed = std::find(subscribed_.begin(), subscribed_.end(), m.raw_name) != subscribed_.end();
            }
            return a;
        }
    }
    return action::done();
}

bool list_op::on_untagged(const response& r, std::uint32_t) {
    const bool lsub = st_ == state::lsub;
    if (!r.is(lsub ? "LSUB" : "LIST")) return false;
    list_entry e;
    if (const auto d = decode_list(r, e)) {
        dec_ = d;
        return true;
    }
    if (lsub && !lsub_only_) {
        subscribed_.emplace_back(e.name);
        return true;
    }
    out.push_back(to_info(e));
    if (lsub) out.back().subscribed = true;
    return true;
}

// ---- SELECT ----

bool select_op::on_untagged(const response& r, std::uint32_t) {
    if (r.is_status()) {
        if (r.status != response_status::ok) return false;
        std::uint64_t v = 0;
        switch (classify_code(r.code.name)) {
            case code_kind::uidvalidity:
                if (!(decode_error_ = code_number(r.code, v))) out.uidvalidity = static_cast<std::uint32_t>(v);
                return true;
            case code_kind::uidnext:
                if (!(decode_error_ = code_number(r.code, v))) out.uidnext = static_cast<std::uint32_t>(v);
                return true;
            case code_kind::highestmodseq:
                if (!(decode_error_ = code_number(r.code, v))) out.highestmodseq = v;
                return true;
            case code_kind::permanentflags: {
                std::vector<std::string_view> w;
                if (!(decode_error_ = code_words(r.code, w))) out.permanent_flags = owned(w);
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
        if (!(decode_error_ = decode_flags(r, w))) out.flags = owned(w);
        return true;
    }
    if (r.is("EXISTS") && r.number) {
        out.exists = *r.number;
        return true;
    }
    return r.is("RECENT");
}

void select_op::on_tagged(const response& r, std::uint32_t) {
    const auto k = classify_code(r.code.name);
    if (k == code_kind::read_only) out.read_only = true;
    if (k == code_kind::read_write) out.read_only = false;
}

error_code select_op::on_reply(client_fsm& c, error_code ec) {
    session_state& s = c.session();
    if (ec) {
        s.selected.clear();
        s.phase = session_phase::authenticated;
        return ec;
    }
    s.selected.assign(mailbox_);
    s.read_only = out.read_only;
    s.exists = out.exists;
    s.phase = session_phase::selected;
    return ec;
}

// ---- UID SEARCH ----

bool search_op::on_untagged(const response& r, std::uint32_t) {
    if (r.is("SEARCH")) {
        if (const auto d = decode_search(r, out)) decode_error_ = d;
        return true;
    }
    if (r.is("ESEARCH")) {
        esearch_result e;
        if ((decode_error_ = decode_esearch(r, e))) return true;
        std::vector<std::uint32_t> uids;
        if (!(decode_error_ = expand_sequence_set(e.all, uids, 100'000'000))) {
            out.insert(out.end(), uids.begin(), uids.end());
        }
        return true;
    }
    return false;
}

error_code search_op::on_reply(client_fsm&, error_code ec) {
    std::sort(out.begin(), out.end());
    return ec;
}

// ---- APPEND ----

action append_op::resume(client_fsm& c, error_code) {
    if (!sent_) {
        sent_ = true;
        if (messages_.empty()) return action::done();
        const bool multi = messages_.size() > 1 && c.session().has("MULTIAPPEND");
        // One command (MULTIAPPEND or a single message), or one per message; all encoded before any is queued
        // so a message that cannot be encoded sends nothing, then all queued together to share the pipeline.
        const std::size_t n = (multi || messages_.size() == 1) ? 1 : messages_.size();
        std::vector<command> cmds(n);
        for (std::size_t i = 0; i < n; ++i) {
            diagnostics enc;
            const auto batch = n == 1 ? messages_ : messages_.subspan(i, 1);
            if (const auto ec = encode_append(mailbox_, batch, c.encoder(), cmds[i], &enc)) {
                diag_mut() = enc;
                return fail(ec, "cannot encode the APPEND");
            }
        }
        uids_.assign(n, {});
        for (auto& cmd : cmds) submit(c, std::move(cmd));
        return action::wait();
    }
    for (std::uint32_t i = 0; i < replies().size(); ++i) {
        if (replies()[i].ec) return finish_with(i);
    }
    auto a = finish_with(static_cast<std::uint32_t>(replies().size() - 1));
    for (auto& [has, uid] : uids_) {
        if (!has) {
            out.uids.clear();
            break;
        }
        out.uidvalidity = uid.uidvalidity;
        std::vector<std::uint32_t> uids;
        if (expand_sequence_set(uid.uids, uids, messages_.size())) {
            out.uids.clear();
            break;
        }
        out.uids.insert(out.uids.end(), uids.begin(), uids.end());
    }
    if (out.uids.size() != messages_.size()) {
        out.uids.clear();
        out.uidvalidity = 0;
    }
    return a;
}

void append_op::on_tagged(const response& r, std::uint32_t slot) {
    if (classify_code(r.code.name) == code_kind::appenduid) {
        uids_[slot].first = !code_appenduid(r.code, uids_[slot].second);
    }
}

}  // namespace arrival::imap
