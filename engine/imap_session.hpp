// The engine's view of one IMAP connection: blocking calls made from a job thread (never from an
// io_context thread), each one a whole IMAP exchange. It exists so the account job and the pipeline read as
// the migration they perform, and so the engine depends on a handful of operations rather than on every
// detail of the protocol layer.
//
// Errors are thrown as session_error carrying the kind (what the CLI maps to an exit status, and what the
// scheduler retries) and the server's own words; credentials never appear in them.
//
// Names crossing this interface are UTF-8; modified UTF-7 (RFC 3501 §5.1.3) is handled inside.
//
// Implemented (engine/imap_session.cpp) on protocol/'s asynchronous client, arrival::imap::connection, which
// does all the IMAP; the facade runs each call as a coroutine on the connection's strand of the shared
// io_runtime (engine/io_runtime.hpp) and waits for it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/body_buffer.hpp"
#include "engine/copy_planner.hpp"
#include "engine/dest_profile.hpp"
#include "engine/folder_map.hpp"
#include "engine/secret_string.hpp"

namespace arrival::engine {

enum class error_kind {
    unreachable,   // DNS, refused, connect timeout
    tls,           // handshake or certificate verification
    auth,          // the server refused the credentials
    transient,     // reset, timeout, BYE, [UNAVAILABLE], [INUSE]: worth a retry on a fresh connection
    refused,       // a tagged NO/BAD for one command (the connection stays usable)
    protocol,      // replies we cannot understand
};

[[nodiscard]] std::string_view to_string(error_kind k) noexcept;

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
    bool allow_cleartext = false;
    bool never_starttls = false;   // --no-starttls (with allow_cleartext): imap:// stays cleartext even when offered  // --allow-cleartext: log in without TLS when imap:// lacks STARTTLS
    std::string ca_file;      // empty: the system's trust store
    bool insecure = false;    // no certificate or host-name verification (said loudly by the CLI)
    std::string url;          // as given, for messages

    // imap::parse_imap_url; throws std::invalid_argument saying what is wrong (user info is never echoed).
    static server_endpoint parse(const std::string& url);
};

// Log in as `user`; with `admin` set, authenticate as the admin acting for the user (SASL PLAIN,
// authzid = user, authcid = admin, RFC 4616).
struct credentials {
    std::string user;
    std::string admin;
    secret_string password;
};

struct mailbox_status {
    std::uint32_t uidvalidity = 0;
    std::uint32_t uidnext = 0;
    std::uint32_t messages = 0;
    std::vector<std::string> permanent_flags;   // SELECT/EXAMINE only
};

struct append_item {
    const body_buffer* body = nullptr;
    std::vector<std::string> flags;
    std::string internaldate;
};

// A destination session: which profile it follows (engine/dest_profile.hpp) and the limits it resolves.
// Under `automatic` the greeting, the capabilities and (when offered) a pre-login ID decide. Under carbonio
// the login is AUTHENTICATE PLAIN (with the admin as authcid when one acts for the user), never LOGIN.
struct dest_options {
    dest_profile_choice choice = dest_profile_choice::automatic;
    std::optional<std::uint64_t> max_message_size;   // --max-message-size
    append_guard* guard = nullptr;   // the account's refusal policy, kept across reconnects; null: the session's own
};

struct append_result {
    bool ok = false;
    std::string server_text;   // the tagged reply, for the report
};

class imap_session {
public:
    virtual ~imap_session() = default;

    // Connects, upgrades to TLS as the endpoint says, logs in. Throws session_error.
    // With `dest`, the session is a destination's: it resolves the profile before logging in.
    static std::unique_ptr<imap_session> open(const server_endpoint& where, const credentials& who,
                                              const dest_options* dest = nullptr);

    // The destination profile in force (generic for a source session) and what decided it.
    [[nodiscard]] virtual const dest_profile& profile() const = 0;
    [[nodiscard]] virtual const std::string& profile_evidence() const = 0;

    // The session runs over TLS (imaps://, or imap:// after STARTTLS).
    [[nodiscard]] virtual bool tls_active() const = 0;
    [[nodiscard]] virtual bool has_capability(std::string_view cap) const = 0;
    // APPENDLIMIT (RFC 7889) when advertised with a value.
    [[nodiscard]] virtual std::optional<std::uint64_t> append_limit() const = 0;
    [[nodiscard]] virtual namespace_info personal_namespace() = 0;
    // The NAMESPACE response's third group (RFC 2342 shared namespaces): prefix in UTF-8 and delimiter ('\0'
    // when flat). Empty when the server has no NAMESPACE or no shared namespace.
    [[nodiscard]] virtual std::vector<namespace_info> shared_namespaces() = 0;
    // The NAMESPACE response's second group (other users' mailboxes shared with this one, e.g. "#users/"),
    // same shape; their folders belong to their owners' jobs.
    [[nodiscard]] virtual std::vector<namespace_info> other_users_namespaces() = 0;
    // LIST "" "*" with special-use attributes and subscription state, names decoded to UTF-8.
    [[nodiscard]] virtual std::vector<mailbox_entry> list() = 0;
    [[nodiscard]] virtual mailbox_status status(const std::string& mailbox) = 0;
    // STATUS of many mailboxes, pipelined (one round trip for all); one result per name, in order.
    [[nodiscard]] virtual std::vector<mailbox_status> status(const std::vector<std::string>& mailboxes) = 0;
    // EXAMINE: read-only, the only way the source is ever opened.
    virtual mailbox_status examine(const std::string& mailbox) = 0;
    virtual mailbox_status select(const std::string& mailbox) = 0;
    // On the selected mailbox: UID, RFC822.SIZE, FLAGS, INTERNALDATE and the dedupe header fields of every
    // message with UID >= from_uid (BODY.PEEK: \Seen is never set). Keys are computed here.
    [[nodiscard]] virtual std::vector<source_message> fetch_index(std::uint32_t from_uid, bool with_flags) = 0;
    // On the selected mailbox: BODY.PEEK[] of `uids`, each streamed into the buffer `sink(uid, size)` returns.
    // A UID that no longer exists is simply not delivered.
    virtual void fetch_bodies(const std::vector<std::uint32_t>& uids,
                              const std::function<body_buffer&(std::uint32_t uid, std::uint64_t size)>& sink) = 0;
    // CREATE; an "already exists" NO is not an error. `use`: CREATE mailbox (USE (\Sent)) when the server
    // has CREATE-SPECIAL-USE (RFC 6154 §3), else a plain CREATE.
    virtual void create(const std::string& mailbox, special_use use = special_use::none) = 0;
    virtual void subscribe(const std::string& mailbox) = 0;
    // APPENDs the batch (MULTIAPPEND in one command when offered, else one pipelined APPEND each) and
    // returns one result per item. A refused MULTIAPPEND is all-or-nothing, so it is retried message by
    // message to find the one the server refuses. The profile's append_guard decides where NOOPs go and
    // which commands are split or deferred (a deferred item is not ok, with the reason).
    [[nodiscard]] virtual std::vector<append_result> append(const std::string& mailbox, const std::vector<append_item>& items) = 0;
    virtual void logout() noexcept = 0;
};

}  // namespace arrival::engine
