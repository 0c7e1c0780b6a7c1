#include "protocol/imap/client_fsm.hpp"

#include <algorithm>

#include "protocol/imap/data_decoder.hpp"
#include "protocol/imap/resp_code.hpp"

namespace arrival::imap {

namespace {

// Consumes FETCH responses nobody asked for (flag changes announced by the server, RFC 3501 §7.4.2).
class discard_fetch final : public fetch_handler {
public:
    error_code on_body_begin(const fetch_part&, std::uint64_t) override { return {}; }
    error_code on_body_chunk(std::string_view) override { return {}; }
    error_code on_body_end() override { return {}; }
    error_code on_fetch(const fetch_record&) override { return {}; }
};

std::string code_text(const response_code& c) {
    std::string s(c.name);
    if (!c.args.empty()) {
        s += ' ';
        s.append(c.args);
    }
    return s;
}

}  // namespace

// ---- operation ----

std::uint32_t operation::submit(client_fsm& c, command cmd) { return c.submit(*this, std::move(cmd)); }

action operation::finish_with(std::uint32_t slot) {
    diag_ = replies_.at(slot).diag;
    return action::done(replies_[slot].ec);
}

action operation::fail(error_code ec, std::string why) {
    if (!replies_.empty() && diag_.command().empty()) diag_.set_command(replies_.back().diag.command());
    if (diag_.client_message().empty()) diag_.set_client_message(std::move(why));
    return action::done(ec);
}

// ---- the parser's handler ----

// Routes complete responses to the client, and the streamed literals of FETCH bodies to the decoder of the
// operation that asked for them (chosen once per response, at its first literal).
class client_fsm::router final : public response_handler {
public:
    explicit router(client_fsm& c) : c_(c) {}

    error_code on_response(const response& r) override {
        if (r.kind == response_kind::untagged && r.is("FETCH") && !c_.tls_due_) {
            auto [dec, sink] = literal_dec_ != nullptr ? std::pair(literal_dec_, literal_sink_) : c_.fetch_target();
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
        if (literal_dec_ == nullptr) std::tie(literal_dec_, literal_sink_) = c_.fetch_target();
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
    fetch_decoder& discard_decoder() noexcept { return discard_decoder_; }
    fetch_handler& discard() noexcept { return discard_; }

private:
    client_fsm& c_;
    fetch_decoder* literal_dec_ = nullptr;  // set for the duration of one FETCH response with big literals
    fetch_handler* literal_sink_ = nullptr;
    fetch_decoder discard_decoder_;
    discard_fetch discard_;
};

// ---- client_fsm ----

client_fsm::client_fsm(options o)
    : opts_(o),
      parser_(o.parser_limits),
      queue_(pipeline_queue::limits{.max_in_flight = std::max<std::size_t>(1, o.max_in_flight),
                                    .coalesce_bytes = 64 * 1024}),
      router_(std::make_unique<router>(*this)) {}

client_fsm::~client_fsm() = default;

encoder_options client_fsm::encoder() const noexcept {
    encoder_options o;
    o.literal_plus = session_.has("LITERAL+");
    o.literal_minus = session_.has("LITERAL-");
    o.non_sync_max = opts_.literal_plus_max;
    return o;
}

void client_fsm::start(operation& op) {
    op.done_ = false;
    op.ec_ = {};
    op.diag_.clear();
    op.replies_.clear();
    op.pending_ = 0;
    if (closed_) {
        op.diag_.set_client_message("the connection is closed");
        if (bye_) op.diag_.set_server_message(bye_text_);
        complete(op, bye_ ? make_error_code(errc::bye) : make_error_code(errc::connection_closed));
        return;
    }
    step(op, {});
}

std::uint32_t client_fsm::submit(operation& op, command cmd) {
    const auto slot = static_cast<std::uint32_t>(op.replies_.size());
    op.replies_.emplace_back();
    std::vector<command_piece> pieces;
    pieces.reserve(cmd.segments.size());
    for (auto& s : cmd.segments) pieces.push_back({std::move(s.owned), s.borrowed, s.await_continuation});
    const auto id = queue_.push(std::move(pieces), command_owner{&op, slot});
    op.replies_.back().diag.set_command(queue_.tag_of(id) + ' ' + cmd.redacted);
    ++op.pending_;
    return slot;
}

void client_fsm::step(operation& op, error_code ec) {
    const action a = op.resume(*this, ec);
    switch (a.next) {
        case action::kind::wait:
            if (greeting_op_ == &op && got_greeting_) {
                greeting_op_ = nullptr;
                step(op, {});
            }
            return;
        case action::kind::tls_handshake:
            tls_due_ = true;
            tls_op_ = &op;
            return;
        case action::kind::done:
            complete(op, a.ec);
            return;
    }
}

void client_fsm::complete(operation& op, error_code ec) {
    if (op.done_) return;
    op.done_ = true;
    op.ec_ = ec;
    if (greeting_op_ == &op) greeting_op_ = nullptr;
    if (tls_op_ == &op) tls_op_ = nullptr;
    if (op.on_done) op.on_done();
}

std::string_view client_fsm::prepare_write() {
    if (tls_due_ || closed_) return {};
    return queue_.prepare_write();
}

void client_fsm::commit_write(std::size_t n) {
    queue_.commit_write(n);
    // Commands answered while their bytes were still being written complete now that the writer is done
    // with them: until here their operation (and so the caller's message bodies) had to stay alive.
    for (const command_owner& o : queue_.take_finished()) {
        if (o.op == nullptr || o.op->done_ || o.slot >= o.op->replies_.size()) continue;
        if (--o.op->pending_ == 0) step(*o.op, o.op->replies_[o.slot].ec);
    }
}

error_code client_fsm::feed(std::string_view bytes) {
    failure_.clear();
    if (auto ec = parser_.feed(bytes, *router_)) {
        if (!parser_.diag().client_message().empty()) failure_ = parser_.diag().client_message();
        if (failure_.empty()) failure_ = ec.message();
        return ec;
    }
    if (tls_due_ && parser_.has_partial()) {
        failure_ = "the server sent data after its STARTTLS reply, before TLS started";
        return errc::starttls_injection;
    }
    return {};
}

void client_fsm::tls_handshake_done(error_code ec, std::string_view detail) {
    tls_due_ = false;
    tls_detail_.assign(detail);
    operation* op = tls_op_;
    tls_op_ = nullptr;
    if (op != nullptr) step(*op, ec);
}

void client_fsm::fail_all(error_code ec, std::string_view why) {
    if (closed_) return;
    closed_ = true;
    std::vector<operation*> ops;
    queue_.visit_pending([&](const command_owner& o) {
        if (o.op != nullptr && std::find(ops.begin(), ops.end(), o.op) == ops.end()) ops.push_back(o.op);
    });
    for (operation* o : {greeting_op_, tls_op_}) {
        if (o != nullptr && std::find(ops.begin(), ops.end(), o) == ops.end()) ops.push_back(o);
    }
    (void)queue_.clear();
    tls_due_ = false;
    for (operation* o : ops) {
        if (o->done_) continue;
        if (!o->replies_.empty()) o->diag_.set_command(o->replies_.back().diag.command());
        o->diag_.set_client_message(std::string(why));
        if (bye_) o->diag_.set_server_message(bye_text_);
        complete(*o, ec);
    }
}

std::pair<fetch_decoder*, fetch_handler*> client_fsm::fetch_target() {
    std::pair<fetch_decoder*, fetch_handler*> out{&router_->discard_decoder(), &router_->discard()};
    queue_.visit_unanswered([&](const command_owner& o) {
        if (o.op == nullptr || o.op->done_ || o.op->fetch_sink() == nullptr) return false;
        out = {o.op->fetch_dec(), o.op->fetch_sink()};
        return true;
    });
    return out;
}

error_code client_fsm::on_response(const response& r) {
    if (tls_due_) {
        // Anything after the STARTTLS OK in the same plaintext read was injected by a man in the middle.
        failure_ = "the server sent data after its STARTTLS reply, before TLS started";
        return errc::starttls_injection;
    }
    switch (r.kind) {
        case response_kind::continuation:
            if (!queue_.on_continuation()) {
                failure_ = "continuation request (+) while no command waits for one";
                return errc::unexpected_continuation;
            }
            return {};
        case response_kind::tagged:
            return on_tagged(r);
        case response_kind::untagged:
            return on_untagged(r);
    }
    return {};
}

error_code client_fsm::on_tagged(const response& r) {
    command_owner owner;
    bool still_writing = false;
    if (!queue_.on_tagged(r.tag, &owner, &still_writing)) {
        failure_ = "tagged reply for a tag we never sent or already completed: '" + std::string(r.tag.substr(0, 40)) +
                   "'";
        return errc::unexpected_tag;
    }
    // RFC 3501 §7.1: a [CAPABILITY] code on any status response replaces what we knew.
    if (iequals(r.code.name, "CAPABILITY")) {
        std::vector<std::string_view> words;
        if (!code_words(r.code, words)) session_.set_capabilities(words);
    }
    operation* op = owner.op;
    if (op == nullptr || op->done_ || owner.slot >= op->replies_.size()) return {};
    auto& rep = op->replies_[owner.slot];
    rep.answered = true;
    rep.ec = status_error(r);
    rep.diag.set_server_message(r.text);
    rep.diag.set_response_code(code_text(r.code));
    op->on_tagged(r, owner.slot);
    // A reply that overtook its command's last bytes counts once they are written (commit_write()).
    if (still_writing) return {};
    if (--op->pending_ == 0) step(*op, rep.ec);
    return {};
}

error_code client_fsm::on_untagged(const response& r) {
    if (r.is_status()) {
        if (!got_greeting_) {
            got_greeting_ = true;
            greeting_.assign(r.text);
            if (r.status == response_status::preauth) session_.phase = session_phase::authenticated;
        }
        if (r.status == response_status::bye) {
            // The reader reports it when the socket closes; a LOGOUT expects it.
            bye_ = true;
            bye_text_.assign(r.text);
        } else if (iequals(r.code.name, "CAPABILITY")) {
            std::vector<std::string_view> words;
            if (!code_words(r.code, words)) session_.set_capabilities(words);
        } else if (iequals(r.code.name, "ALERT")) {
            alerts_.emplace_back(r.text);
        } else {
            (void)queue_.visit_unanswered([&](const command_owner& o) {
                return o.op != nullptr && !o.op->done_ && o.op->on_untagged(r, o.slot);
            });
        }
        if (greeting_op_ != nullptr) {
            operation* op = greeting_op_;
            greeting_op_ = nullptr;
            step(*op, {});
        }
        return {};
    }
    if (r.is("CAPABILITY")) {
        std::vector<std::string_view> words;
        if (const auto ec = decode_capability(r, words)) {
            failure_ = "cannot decode: " + to_log_string(r);
            return ec;
        }
        session_.set_capabilities(words);
        return {};
    }
    if (r.is("EXISTS") && r.number) session_.exists = *r.number;
    // Unsolicited and of no interest when nobody takes it (RECENT, EXPUNGE outside a command, ...).
    (void)queue_.visit_unanswered([&](const command_owner& o) {
        return o.op != nullptr && !o.op->done_ && o.op->on_untagged(r, o.slot);
    });
    return {};
}

}  // namespace arrival::imap
