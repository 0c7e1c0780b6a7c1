// The engine's view of one IMAP connection as coroutines: each operation is one awaitable IMAP exchange (or a
// pipelined group of them) on protocol/'s asynchronous client, arrival::imap::connection. It exists so the
// account job and the folder copy read as the migration they perform, and so the engine depends on a handful
// of operations rather than on every detail of the protocol layer.
//
// Threading: open() creates the connection on the executor it is given, which must be a strand (or a
// single-threaded io_context); every operation must be awaited from a coroutine on that executor. Any number
// of coroutines on it may await operations at once: their commands share the connection's pipeline.
//
// Errors are thrown (out of the awaitable) as session_error carrying the kind (what the CLI maps to an exit
// status, and what the account job retries) and the server's own words; credentials never appear in them:
//
//   connecting: TCP/DNS failures and connect timeouts -> unreachable; TLS handshake, certificate, missing
//               STARTTLS -> tls; BYE / EOF at the greeting -> transient
//   logging in: refused credentials, forbidden authzid, LOGINDISABLED, no AUTH=PLAIN for an admin -> auth
//   any call:   resets, read timeouts (a stalled server), BYE, [UNAVAILABLE], [INUSE], [SERVERBUG] -> transient
//               (imap::is_transient); other fatal codes (parse errors, unexpected tags) -> protocol; a tagged
//               NO/BAD -> refused, with the server's words (diagnostics::to_string(), never a credential).
//
// Names crossing this interface are UTF-8; modified UTF-7 (RFC 3501 §5.1.3) is handled inside.
// Every command awaits these operations from coroutines; the integration tests have a blocking face of them
// (tests/integration/blocking_session.hpp).
#pragma once
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/body_buffer.hpp"
#include "engine/mail/copy_planner.hpp"
#include "engine/mail/dest_profile.hpp"
#include "engine/mail/folder_map.hpp"
#include "engine/secret_string.hpp"
#include "protocol/failure.hpp"

namespace arrival::imap {
class connection;
}

namespace arrival::engine {

// The one failure model (protocol/failure.hpp); IMAP's codes are classified by imap::classify.
using error_kind = arrival::failure;

class session_error : public std::runtime_error {
public:
    session_error(error_kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    [[nodiscard]] error_kind kind() const noexcept { return kind_; }

private:
    error_kind kind_;
};

// Where to connect: imaps://host[:993] (implicit TLS) or imap://host[:143] (STARTTLS required; with
// allow_cleartext and without require_starttls, STARTTLS when offered, else cleartext).
struct server_endpoint {
    std::string host;
    std::uint16_t port = 0;
    bool implicit_tls = false;
    bool require_starttls = false;
    bool allow_cleartext = false;  // --allow-cleartext: log in without TLS when imap:// lacks STARTTLS
    bool never_starttls = false;   // --no-starttls (with allow_cleartext): imap:// stays cleartext even when offered
    std::string ca_file;      // empty: the system's trust store
    bool insecure = false;    // no certificate or host-name verification (said loudly by the CLI)
    std::string url;          // as given, for messages
    // --timeout: how long a reply may stay silent (and a connect or a write may take) before the connection
    // is given up as stalled; zero keeps imap::connect_options' defaults (120 s).
    std::chrono::seconds timeout{0};

    // imap::parse_imap_url; throws std::invalid_argument saying what is wrong (user info is never echoed).
    static server_endpoint parse(const std::string& url);
};

// Log in as `user`; with `admin` set, authenticate as the admin acting for the user (SASL PLAIN,
// authzid = user, authcid = admin, RFC 4616).
struct login_identity {
    std::string user;
    std::string admin;
    secret_string password;
};

struct folder_status {
    std::uint32_t uidvalidity = 0;
    std::uint32_t uidnext = 0;
    std::uint32_t messages = 0;
    std::vector<std::string> permanent_flags;   // SELECT/EXAMINE only
    std::vector<std::string> flags;             // FLAGS: what the mailbox defines (SELECT/EXAMINE only)
    std::uint64_t highestmodseq = 0;            // STATUS on a CONDSTORE server; 0: not known
};

struct append_item {
    const body_buffer* body = nullptr;
    std::vector<std::string> flags;
    std::string internaldate;
};

// A destination session: which profile it follows (engine/mail/dest_profile.hpp) and the limits it resolves.
// Under `automatic` the greeting, the capabilities and (when offered) a pre-login ID decide. Under carbonio
// the login is AUTHENTICATE PLAIN (with the admin as authcid when one acts for the user), never LOGIN.
struct dest_options {
    dest_profile_choice choice = dest_profile_choice::automatic;
    std::optional<std::uint64_t> max_message_size;   // --max-message-size
    append_guard* guard = nullptr;   // the account's refusal policy, kept across reconnects; null: the session's own
};

struct append_outcome {
    bool ok = false;
    std::string server_text;   // the tagged reply, for the report
    std::uint32_t dest_uid = 0;   // from [APPENDUID] (UIDPLUS); 0 when the server did not say
};

class async_session {
public:
    template <class T>
    using awaitable = boost::asio::awaitable<T>;
    using body_target = std::function<body_buffer&(std::uint32_t uid, std::uint64_t size)>;

    // Connects on `ex`, upgrades to TLS as the endpoint says, logs in. With `dest`, the session is a
    // destination's: it resolves the profile before logging in. The arguments must outlive the await.
    [[nodiscard]] static awaitable<std::unique_ptr<async_session>> open(const boost::asio::any_io_executor& ex, const server_endpoint& where,
                                                                       const login_identity& who, const std::optional<dest_options>& dest);
    ~async_session();   // closes the socket (call it on the session's executor)
    async_session(const async_session&) = delete;
    async_session& operator=(const async_session&) = delete;

    // The destination profile in force (generic for a source session) and what decided it.
    [[nodiscard]] const dest_profile& profile() const noexcept { return profile_; }
    [[nodiscard]] const std::string& profile_evidence() const noexcept { return evidence_; }
    // The session runs over TLS (imaps://, or imap:// after STARTTLS).
    [[nodiscard]] bool tls_active() const;
    [[nodiscard]] bool has_capability(std::string_view cap) const;
    // APPENDLIMIT (RFC 7889) when advertised with a value.
    [[nodiscard]] std::optional<std::uint64_t> append_limit() const;
    // The connection itself, for operations that live in their own files (they take imap::connection&).
    [[nodiscard]] imap::connection& connection() noexcept;
    // For those operations: the session_error a failed command becomes ("<what> failed: <the server's words>",
    // the kind from the table in async_session.cpp). Call it right after the failing command (diag() is its).
    [[noreturn]] void throw_error(const boost::system::error_code& ec, const std::string& what);

    awaitable<folder_namespace> personal_namespace();
    // The NAMESPACE response's third group (RFC 2342 shared namespaces): prefix in UTF-8 and delimiter ('\0'
    // when flat). Empty when the server has no NAMESPACE or no shared namespace.
    awaitable<std::vector<folder_namespace>> shared_namespaces();
    // The NAMESPACE response's second group (other users' mailboxes shared with this one, e.g. "#users/"),
    // same shape; their folders belong to their owners' jobs.
    awaitable<std::vector<folder_namespace>> other_users_namespaces();
    // LIST "" "*" with special-use attributes and subscription state, names decoded to UTF-8.
    awaitable<std::vector<mailbox_entry>> list();
    awaitable<folder_status> status(const std::string& mailbox);
    // STATUS of many mailboxes, pipelined (one round trip for all); one result per name, in order.
    awaitable<std::vector<folder_status>> status(const std::vector<std::string>& mailboxes);
    // STATUS (MESSAGES SIZE) of many mailboxes, pipelined, where the server has STATUS=SIZE (RFC 8438); else
    // nothing is sent and every answer is empty. A mailbox the server refuses has no answer either.
    struct folder_size {
        std::uint32_t messages = 0;
        std::uint64_t bytes = 0;
    };
    awaitable<std::vector<std::optional<folder_size>>> sizes(const std::vector<std::string>& mailboxes);
    // EXAMINE: read-only, the only way the source is ever opened.
    awaitable<folder_status> examine(const std::string& mailbox);
    awaitable<folder_status> select(const std::string& mailbox);
    // On the selected mailbox: UID, RFC822.SIZE, FLAGS, INTERNALDATE and the dedupe header fields of every
    // message with UID >= from_uid (BODY.PEEK: \Seen is never set). Keys are computed here.
    awaitable<std::vector<source_message>> fetch_index(std::uint32_t from_uid, bool with_flags);
    // A source folder about to be copied from its first message: EXAMINE and the index of every message
    // (fetch_index(1, true)), with_modseq also a STATUS (HIGHESTMODSEQ) ahead of them, all sent together. Over
    // a WAN that is one round trip where it was three, per folder. The STATUS goes first so the HIGHESTMODSEQ
    // it reads is not newer than the flags of the index; 0 without CONDSTORE. The EXAMINE's failure is the
    // one thrown; an empty folder's "UID FETCH 1:*" may be refused, which then does not matter.
    struct examined_folder {
        folder_status status;
        std::vector<source_message> index;
    };
    // With `bodies`, BODY.PEEK[] of every message too, in the index's FETCH, each streamed into the buffer
    // `bodies(uid, size)` returns: a folder small enough to be read whole before its turn (account_job's chains
    // of small folders).
    awaitable<examined_folder> examine_with_index(const std::string& mailbox, bool with_modseq, const body_target* bodies = nullptr);
    // On the selected mailbox: BODY.PEEK[] of `uids`, each streamed into the buffer `sink(uid, size)` returns.
    // A UID that no longer exists is simply not delivered.
    awaitable<void> fetch_bodies(const std::vector<std::uint32_t>& uids, const body_target& sink);
    // fetch_index(1, true) and every body in one UID FETCH (examine_with_index).
    awaitable<std::vector<source_message>> fetch_index_and_bodies(const body_target& bodies);
    // CREATE; an "already exists" NO is not an error. `use`: CREATE mailbox (USE (\Sent)) when the server
    // has CREATE-SPECIAL-USE (RFC 6154 §3), else a plain CREATE.
    awaitable<void> create(const std::string& mailbox, special_use use = special_use::none);
    // SUBSCRIBE, or UNSUBSCRIBE with `subscribed` false.
    awaitable<void> subscribe(const std::string& mailbox, bool subscribed = true);
    // APPENDs the batch (MULTIAPPEND in one command when offered, else one pipelined APPEND each) and
    // returns one result per item. A refused MULTIAPPEND is all-or-nothing, so it is retried message by
    // message to find the one the server refuses. The profile's append_guard decides where NOOPs go and
    // which commands are split or deferred (a deferred item is not ok, with the reason). Several append()s
    // may be in flight on one session; each keeps its items in source order.
    awaitable<std::vector<append_outcome>> append(const std::string& mailbox, const std::vector<append_item>& items);
    // LOGOUT, errors ignored.
    awaitable<void> logout();

private:
    struct state;   // the connection, its namespaces once asked, the refusal policy (async_session.cpp)
    explicit async_session(std::unique_ptr<state> s);
    std::unique_ptr<state> s_;
    dest_profile profile_;
    std::string evidence_;
};

}  // namespace arrival::engine
