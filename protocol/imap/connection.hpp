// One IMAP client connection on Boost.Asio coroutines: connect (imap:// + STARTTLS, or imaps://), log in
// (LOGIN, AUTHENTICATE PLAIN with an authorization identity, Dovecot's user*master form), and the primitives
// a migration needs, all pipelinable: any number of coroutines may call async_* concurrently and their
// commands are in flight together (up to connect_options::max_in_flight), each awaiting its own tagged reply.
//
// Structure (STYLE §8.2): the protocol lives in the sans-I/O client (client_fsm.hpp: parser, pipeline queue,
// session state; client_ops.hpp: one algorithm per operation); this file only moves bytes. From the TCP
// connect on, three coroutines run on the connection's executor: a reader (read_some -> client_fsm::feed, and
// the TLS handshake when the client asks for it: imaps:// or STARTTLS), a writer (waits on a timer used as a
// condition variable, then writes what client_fsm::prepare_write() allows) and a watchdog (read timeout while
// replies are expected, idle timeout otherwise). Each async_* starts one operation and awaits its completion.
//
// Threading: create the connection on a strand (or a single-threaded io_context) and call every async_* from
// coroutines running on conn->get_executor(). Results are owned values; views never escape.
//
// Errors (STYLE §8.3): every primitive takes `error_code& ec`: a tagged NO/BAD gives an errc from the server's
// RFC 5530 code (authentication_failed, try_create, over_quota, ... or no/bad) and leaves the connection
// usable; I/O errors, timeouts, BYE and protocol violations are fatal (is_fatal(ec)) and fail every command in
// flight. Right after a primitive returns, diag() explains it: the redacted command, the server's text and
// response code, or our own message. Credentials never appear in diag(), traces or exceptions.
//
// Untagged responses are matched to commands by kind: each FETCH/LIST/STATUS/SEARCH/... goes to the oldest
// command in flight that asked for that kind (servers answer pipelined commands in order; RFC 3501 §5.5 forbids
// them to interleave replies of commands that could be confused). Unsolicited ones update session_state.
//
// Lifetime: create() returns a shared_ptr; the background coroutines keep it alive until the socket closes.
// Finish with async_logout() (or close()), otherwise the idle timeout ends it.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/imap/client_fsm.hpp"
#include "protocol/imap/client_values.hpp"
#include "protocol/imap/command_encoder.hpp"
#include "protocol/imap/diagnostics.hpp"
#include "protocol/imap/errc.hpp"
#include "protocol/imap/fetch_decoder.hpp"
#include "protocol/imap/list_decoder.hpp"
#include "protocol/imap/pipeline_queue.hpp"
#include "protocol/imap/response_parser.hpp"
#include "protocol/imap/sequence_set.hpp"
#include "protocol/imap/session_state.hpp"
#include "protocol/imap/transport.hpp"
#include "protocol/imap/url.hpp"

namespace arrival::imap {

struct connect_options {
    imap_url url;
    std::chrono::steady_clock::duration connect_timeout = std::chrono::seconds(20);  // TCP connect + TLS handshake
    std::chrono::steady_clock::duration read_timeout = std::chrono::seconds(120);    // silence while replies are due
    std::chrono::steady_clock::duration write_timeout = std::chrono::seconds(120);   // one write_some
    std::chrono::steady_clock::duration idle_timeout = std::chrono::minutes(29);     // nothing in flight (RFC: 30)
    std::size_t max_in_flight = 128;           // pipeline depth
    std::size_t literal_plus_max = 100 * 1024;  // larger literals are synchronizing even with LITERAL+ (isync)
    response_parser::limits parser_limits{};
    // Called with the bytes of each completed write, which for a large literal are the caller's own (written
    // straight from its memory, never copied): the owner may give back what it no longer needs, as the mail
    // engine does with a spilled message's file pages (engine/mail/body_buffer.hpp). Must not throw.
    std::function<void(std::string_view)> written;
};

class connection : public std::enable_shared_from_this<connection> {
public:
    using executor_type = boost::asio::any_io_executor;
    template <class T>
    using awaitable = boost::asio::awaitable<T>;

    // `tls` comes from tls::make_client_context(); one context serves many connections. It is used for imaps:// and
    // STARTTLS; a cleartext imap:// connection to a server without STARTTLS never touches it.
    [[nodiscard]] static std::shared_ptr<connection> create(executor_type ex,
                                                            std::shared_ptr<boost::asio::ssl::context> tls,
                                                            connect_options opts);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    [[nodiscard]] executor_type get_executor() const { return ex_; }

    // TCP connect, implicit TLS or STARTTLS per the URL (refusing a server that lacks STARTTLS when the mode
    // is starttls_required: errc::tls_required), greeting, CAPABILITY. On a TLS failure ec is an SSL error and
    // diag().client_message() says why (e.g. "certificate verification failed: self-signed certificate").
    awaitable<void> async_connect(error_code& ec);
    // Authenticates, then refreshes capabilities (from [CAPABILITY] in the reply, else a CAPABILITY command).
    // A refusal is errc::authentication_failed (or authorization_failed for a forbidden authzid).
    awaitable<void> async_login(const credentials& cred, error_code& ec);
    // ID (RFC 2971) with our name and version, when the server has ID; returns the server's fields.
    awaitable<std::vector<std::pair<std::string, std::string>>> async_id(error_code& ec);
    awaitable<void> async_noop(error_code& ec);

    awaitable<namespace_info> async_namespace(error_code& ec);
    // LIST reference pattern; with LIST-EXTENDED + SPECIAL-USE the server is asked for RETURN (SPECIAL-USE
    // SUBSCRIBED), else subscriptions come from an LSUB of the same pattern. Names are UTF-8 both ways.
    awaitable<std::vector<mailbox_info>> async_list(std::string_view reference, std::string_view pattern,
                                                    error_code& ec);
    // STATUS with the items given (default MESSAGES UIDNEXT UIDVALIDITY, + SIZE when STATUS=SIZE is offered).
    awaitable<mailbox_status> async_status(std::string_view mailbox, error_code& ec);
    awaitable<mailbox_status> async_status(std::string_view mailbox, std::span<const std::string_view> items,
                                           error_code& ec);
    // SELECT (read_only = false) or EXAMINE. Commands pipelined behind a SELECT apply to the new mailbox.
    awaitable<select_info> async_select(std::string_view mailbox, bool read_only, error_code& ec);
    // UID SEARCH criteria (search-key syntax, e.g. "ALL", "UID 500:*"); the UIDs, ascending.
    awaitable<std::vector<std::uint32_t>> async_uid_search(std::string_view criteria, error_code& ec);
    // UID FETCH uid_set items, e.g. ("1:500", "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"). Bodies stream
    // into `sink` chunk by chunk as they arrive (bounded memory whatever the message size); sink.on_fetch()
    // gets each complete record. An error returned by the sink aborts the connection (the stream position is
    // lost), so sinks should only fail on unrecoverable local errors.
    awaitable<void> async_uid_fetch(std::string_view uid_set, std::string_view items, fetch_handler& sink,
                                    error_code& ec);
    // UID FETCH uid_set items (CHANGEDSINCE modseq) (CONDSTORE, RFC 7162): only messages changed since then.
    // With `vanished` (QRESYNC ENABLEd: session().is_enabled("QRESYNC")), the VANISHED modifier too: the UIDs of
    // uid_set expunged since modseq are appended to *vanished (RFC 7162 §3.2.6, VANISHED (EARLIER)).
    awaitable<void> async_uid_fetch_changedsince(std::string_view uid_set, std::string_view items, std::uint64_t modseq,
                                                 fetch_handler& sink, error_code& ec,
                                                 std::vector<seq_range>* vanished = nullptr);
    // ENABLE capabilities (RFC 5161), e.g. {"CONDSTORE"}; returns what the server says it enabled (also kept in
    // session().is_enabled()).
    awaitable<std::vector<std::string>> async_enable(std::span<const std::string_view> capabilities, error_code& ec);
    // UID STORE uid_set item (flags) on the selected mailbox, item "+FLAGS.SILENT" / "-FLAGS.SILENT" / ...
    // Untagged FETCHes it causes (non-silent forms) only update nothing: the caller asked for no data.
    awaitable<void> async_uid_store(std::string_view uid_set, std::string_view item, std::span<const std::string_view> flags,
                                    error_code& ec);
    // UID EXPUNGE uid_set (UIDPLUS, RFC 4315); errc::capability_missing without UIDPLUS.
    awaitable<void> async_uid_expunge(std::string_view uid_set, error_code& ec);
    awaitable<void> async_rename(std::string_view from, std::string_view to, error_code& ec);
    awaitable<void> async_delete(std::string_view mailbox, error_code& ec);
    awaitable<void> async_create(std::string_view mailbox, error_code& ec);
    // CREATE mailbox (USE (\Sent)) when the server has CREATE-SPECIAL-USE, else plain CREATE.
    awaitable<void> async_create(std::string_view mailbox, special_use use, error_code& ec);
    awaitable<void> async_subscribe(std::string_view mailbox, error_code& ec);
    awaitable<void> async_unsubscribe(std::string_view mailbox, error_code& ec);
    // APPEND of one message, or of a batch: one MULTIAPPEND command when the server has MULTIAPPEND (all or
    // nothing, RFC 3502), else one APPEND per message, pipelined (the first failure is reported; ec refers to
    // it and result.uids is empty). Literals are non-synchronizing under LITERAL+ up to literal_plus_max.
    // Bodies are borrowed until this returns. uids come from [APPENDUID] (UIDPLUS).
    awaitable<append_result> async_append(std::string_view mailbox, std::span<const append_message> messages,
                                          error_code& ec);
    // RFC 4314 ACL (protocol/imap/acl.hpp), errc::capability_missing without ACL. Mailbox names are UTF-8.
    awaitable<std::vector<acl_grant>> async_getacl(std::string_view mailbox, error_code& ec);
    // rights: "lr" replaces the identifier's rights, "+lr"/"-lr" add/remove.
    awaitable<void> async_setacl(std::string_view mailbox, std::string_view identifier, std::string_view rights,
                                 error_code& ec);
    awaitable<std::string> async_myrights(std::string_view mailbox, error_code& ec);
    awaitable<listrights_info> async_listrights(std::string_view mailbox, std::string_view identifier, error_code& ec);
    // LOGOUT, then TLS close_notify and close.
    awaitable<void> async_logout(error_code& ec);
    // Closes the socket now; every command in flight fails with operation_aborted.
    void close();

    [[nodiscard]] const session_state& session() const noexcept { return fsm_.session(); }
    [[nodiscard]] bool has_capability(std::string_view cap) const noexcept { return fsm_.session().has(cap); }
    [[nodiscard]] const diagnostics& diag() const noexcept { return diag_; }
    [[nodiscard]] const connect_options& options() const noexcept { return opts_; }
    [[nodiscard]] bool tls_active() const noexcept { return transport_.tls(); }
    [[nodiscard]] std::string tls_description() const { return transport_.tls_description(); }
    // The server's greeting text and its untagged [ALERT]s (RFC 3501 §7.1: must be shown to the user).
    [[nodiscard]] const std::string& greeting() const noexcept { return fsm_.greeting(); }
    [[nodiscard]] const std::vector<std::string>& alerts() const noexcept { return fsm_.alerts(); }
    [[nodiscard]] bool is_open() const noexcept { return !closed_ && transport_.is_open(); }
    [[nodiscard]] std::size_t in_flight() const noexcept { return fsm_.commands(); }

private:
    connection(executor_type ex, std::shared_ptr<boost::asio::ssl::context> tls, connect_options opts);

    // Starts `op` on the client and waits until it is done; ec and diag() come from it.
    awaitable<void> run(operation& op, error_code& ec);
    // One command with no data of interest; a non-zero encode_error fails it with `why` before sending.
    awaitable<void> run_simple(error_code encode_error, std::string why, command cmd, error_code& ec);
    // A command's op from the bytes `encode(command&, diagnostics*)` writes, or, before anything is sent, the
    // encoder's failure; with `capability` set, errc::capability_missing when the server does not offer it.
    template <class Op, class Encode>
    Op encoded_op(Encode encode, std::string_view capability = {}, std::string_view missing_message = {});
    // An ACL command's op: encoded_op that needs ACL (RFC 4314); the bytes are protocol/imap/acl's.
    template <class Op, class Encode>
    Op acl_op(Encode encode) {
        return encoded_op<Op>(encode, "ACL", "the server does not advertise ACL (RFC 4314)");
    }
    awaitable<void> wait(operation& op, boost::asio::steady_timer& done, error_code& ec);
    awaitable<void> reader();
    awaitable<void> writer();
    awaitable<void> watchdog();
    void start_loops();
    void fail_all(error_code ec, std::string_view why);
    void wake_writer();
    void touch();  // moves the watchdog's deadline

    executor_type ex_;
    std::shared_ptr<boost::asio::ssl::context> tls_ctx_;
    connect_options opts_;
    transport transport_;
    client_fsm fsm_;
    diagnostics diag_;
    boost::asio::steady_timer writer_cv_;
    boost::asio::steady_timer watchdog_timer_;
    std::chrono::steady_clock::time_point deadline_;
    std::vector<char> read_buf_;
    bool closed_ = false;
    bool writer_idle_ = false;  // the writer waits on writer_cv_ for something to write
};

}  // namespace arrival::imap
