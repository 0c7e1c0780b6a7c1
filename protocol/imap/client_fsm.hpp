// The IMAP client without I/O: the response parser, the pipeline queue (the ONE table of commands in flight,
// each tagged with the operation that sent it), the session state, and the routing of every response to the
// operation that asked for it. An operation (client_ops.hpp: connect, login, select, list, fetch, append, ...)
// is an algorithm that, each time it is resumed, submits its next commands and says what it needs next, as
// Boost.MySQL's sansio handshake does: wait for replies, do the TLS handshake, or done with an error_code.
//
// Calling order, for the one driver that owns the socket (protocol/imap/connection.cpp; tests script it by hand):
//     fsm.start(op)                          -> op.resume() runs; its commands are queued
//     writer:  b = fsm.prepare_write(); write some of b; fsm.commit_write(n)       (pipeline_queue's rules)
//     reader:  if (fsm.tls_handshake_due()) { handshake; fsm.tls_handshake_done(ec, detail); }
//              else { read some; ec = fsm.feed(bytes); if (ec) fsm.fail_all(ec, fsm.failure()); }
//     when an operation completes, its on_done callback runs (the driver wakes whoever awaits it); error(),
//     diag() and its result members are then final.
// A reply may arrive before the writer's commit_write() for the bytes it answers (the reader ran first), or
// while the command's non-synchronizing literals are still being written (NO [OVERQUOTA] to a LITERAL+
// MULTIAPPEND): the command counts as sent once prepare_write() handed out its first bytes, and its reply
// completes it, exactly once, when its last byte is committed. So an operation is never done while the writer
// may still read the bodies it borrows.
// A non-zero feed() is fatal (parse error, unexpected tag, STARTTLS injection, a sink's error): the driver
// closes the socket and calls fail_all(), which completes every operation with that error.
//
// STARTTLS: when the tagged OK to STARTTLS arrives, tls_handshake_due() becomes true and nothing more may be
// read in plaintext: a response after the OK in the same feed(), or a partial one left in the parser, is the
// injection RFC 3501 §6.2.1 warns of (errc::starttls_injection). prepare_write() gives nothing until
// tls_handshake_done().
//
// Untagged responses: CAPABILITY, [CAPABILITY], [ALERT], BYE and EXISTS update the session; the rest goes to the
// oldest unanswered command whose operation accepts it (servers answer pipelined commands in order, and RFC
// 3501 §5.5 forbids pipelining commands whose replies could be confused). FETCH responses and their streamed
// literals go to the oldest command whose operation has a fetch_handler, else they are decoded and dropped
// (flag changes announced by the server, RFC 3501 §7.4.2).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/imap/command_encoder.hpp"
#include "protocol/imap/diagnostics.hpp"
#include "protocol/imap/errc.hpp"
#include "protocol/imap/fetch_decoder.hpp"
#include "protocol/imap/pipeline_queue.hpp"
#include "protocol/imap/response_parser.hpp"
#include "protocol/imap/session_state.hpp"

namespace arrival::imap {

class client_fsm;

// What an operation needs next.
struct action {
    enum class kind : std::uint8_t {
        wait,           // its commands (or the greeting) are pending: replies resume it
        tls_handshake,  // the driver must do the TLS handshake before reading again
        done,           // finished; ec is the result
    };
    kind next = kind::wait;
    error_code ec;

    static action wait() { return {}; }
    static action tls_handshake() { return {kind::tls_handshake, {}}; }
    static action done(error_code ec = {}) { return {kind::done, ec}; }
};

// One operation (one public async_* call). Subclasses hold their arguments and results and implement resume().
class operation {
public:
    operation() = default;
    virtual ~operation() = default;
    operation(const operation&) = delete;
    operation& operator=(const operation&) = delete;

    [[nodiscard]] bool done() const noexcept { return done_; }
    [[nodiscard]] const error_code& error() const noexcept { return ec_; }
    // The command that decided the result (redacted, tagged), the server's text and code, or our message.
    [[nodiscard]] const diagnostics& diag() const noexcept { return diag_; }

    // Run once when the operation completes (the driver wakes its awaiting coroutine here).
    std::function<void()> on_done;

protected:
    friend class client_fsm;

    // The tagged reply to one of this operation's commands.
    struct reply {
        error_code ec;
        diagnostics diag;  // command (tag + redacted), then the server's text and code
        bool answered = false;
    };

    // Called by start() (first step), when every command submitted so far is answered (ec: the last reply's),
    // after the greeting when await_greeting() was called, and after the TLS handshake (ec: its result).
    [[nodiscard]] virtual action resume(client_fsm& c, error_code ec) = 0;
    // An untagged response while one of this operation's commands (slot) is unanswered; true when consumed.
    [[nodiscard]] virtual bool on_untagged(const response& /*r*/, std::uint32_t /*slot*/) { return false; }
    // The tagged reply to command `slot`, before replies()[slot] is read and resume() is called.
    virtual void on_tagged(const response& /*r*/, std::uint32_t /*slot*/) {}
    // UID FETCH: where FETCH responses go while this operation's command is unanswered (nullptr: not a fetch).
    [[nodiscard]] virtual fetch_handler* fetch_sink() { return nullptr; }
    [[nodiscard]] virtual fetch_decoder* fetch_dec() { return nullptr; }

    // Queues `cmd` for this operation; returns its slot in replies().
    std::uint32_t submit(client_fsm& c, command cmd);
    [[nodiscard]] const std::vector<reply>& replies() const noexcept { return replies_; }
    // Finishes with the reply of `slot` (its ec and diagnostics).
    action finish_with(std::uint32_t slot);
    // Finishes with an error of our own (nothing was sent, or a reply could not be used).
    action fail(error_code ec, std::string why);
    diagnostics& diag_mut() noexcept { return diag_; }

private:
    std::vector<reply> replies_;
    std::size_t pending_ = 0;  // submitted, not answered
    bool done_ = false;
    error_code ec_;
    diagnostics diag_;
};

class client_fsm {
public:
    struct options {
        std::size_t max_in_flight = 128;
        std::size_t literal_plus_max = 100 * 1024;
        response_parser::limits parser_limits{};
    };

    client_fsm() : client_fsm(options{}) {}
    explicit client_fsm(options o);
    ~client_fsm();
    client_fsm(const client_fsm&) = delete;
    client_fsm& operator=(const client_fsm&) = delete;

    // ---- operations ----
    // Runs op's first step. On a closed client the operation completes at once (errc::bye or connection_closed).
    // `op` must stay alive until it is done (fail_all() completes every operation).
    void start(operation& op);

    // ---- the driver ----
    [[nodiscard]] std::string_view prepare_write();
    void commit_write(std::size_t n);
    // Whether prepare_write() would give bytes now (an idle writer need not be woken otherwise).
    [[nodiscard]] bool has_output() const noexcept { return !tls_due_ && !closed_ && queue_.has_output(); }
    // Parses and routes `bytes`. Non-zero: fatal; failure() says why (never the offending bytes).
    [[nodiscard]] error_code feed(std::string_view bytes);
    [[nodiscard]] const std::string& failure() const noexcept { return failure_; }
    [[nodiscard]] bool tls_handshake_due() const noexcept { return tls_due_; }
    // `detail` explains a failure (transport::tls_failure()).
    void tls_handshake_done(error_code ec, std::string_view detail);
    // The connection is gone: every operation completes with ec and `why`; later start()s fail at once.
    void fail_all(error_code ec, std::string_view why);
    [[nodiscard]] bool closed() const noexcept { return closed_; }
    // Replies are due (the driver's read timeout applies) rather than the line being idle.
    [[nodiscard]] bool expecting_reply() const noexcept { return !queue_.empty() || greeting_op_ != nullptr; }
    [[nodiscard]] std::size_t commands() const noexcept { return queue_.size(); }

    // ---- state, for operations and the public accessors ----
    [[nodiscard]] session_state& session() noexcept { return session_; }
    [[nodiscard]] const session_state& session() const noexcept { return session_; }
    [[nodiscard]] encoder_options encoder() const noexcept;
    [[nodiscard]] const std::string& greeting() const noexcept { return greeting_; }
    [[nodiscard]] const std::vector<std::string>& alerts() const noexcept { return alerts_; }
    [[nodiscard]] bool bye() const noexcept { return bye_; }
    [[nodiscard]] const std::string& bye_text() const noexcept { return bye_text_; }
    // The operation is resumed when the greeting arrives (at once when it already has).
    void await_greeting(operation& op) noexcept { greeting_op_ = &op; }
    // TLS detail of the last handshake failure, for the operation's message.
    [[nodiscard]] const std::string& tls_detail() const noexcept { return tls_detail_; }

private:
    friend class operation;
    class router;

    std::uint32_t submit(operation& op, command cmd);
    void step(operation& op, error_code ec);
    void complete(operation& op, error_code ec);
    [[nodiscard]] error_code on_response(const response& r);
    [[nodiscard]] error_code on_tagged(const response& r);
    [[nodiscard]] error_code on_untagged(const response& r);
    [[nodiscard]] std::pair<fetch_decoder*, fetch_handler*> fetch_target();

    options opts_;
    response_parser parser_;
    pipeline_queue queue_;
    session_state session_;
    std::unique_ptr<router> router_;
    std::string greeting_;
    std::vector<std::string> alerts_;
    std::string failure_;
    std::string tls_detail_;
    std::string bye_text_;
    operation* greeting_op_ = nullptr;  // waits for the greeting
    operation* tls_op_ = nullptr;       // waits for the TLS handshake
    bool got_greeting_ = false;
    bool tls_due_ = false;
    bool closed_ = false;
    bool bye_ = false;
};

}  // namespace arrival::imap
