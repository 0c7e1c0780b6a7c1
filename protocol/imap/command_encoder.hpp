// Command encoding (RFC 3501 §6, RFC 7888 LITERAL+/LITERAL-, and the extensions the migration uses).
//
// A command is a sequence of segments rather than one string, for two reasons:
//  * a synchronizing literal ({n}) may only be sent after the server's "+" (RFC 3501 §7.5): the segment after
//    a "{n}\r\n" header has await_continuation set, and the writer (protocol/imap/pipeline_queue) holds it back;
//  * message bodies are borrowed, not copied: an APPEND of a 50 MB message keeps a view of the caller's bytes,
//    which must stay alive until the command completes.
// The tag is NOT part of the command: the pipeline prepends "A00001 " to the first segment (always owned text).
//
// String forms (choose_string_form): an atom when every byte is ATOM-CHAR (astrings only, and never for an
// empty string); a quoted string when every byte is a TEXT-CHAR (7-bit, or 8-bit UTF-8 once UTF8=ACCEPT is
// enabled) and it is short; otherwise a literal. Literals are non-synchronizing ({n+}) when LITERAL+ is on and
// n <= non_sync_max (isync sends big bodies synchronizing so the server can refuse them before they are sent),
// or when LITERAL- is on and n <= 4096 (RFC 7888 §4).
//
// Credentials never appear in command::redacted, which is what logs, traces and diagnostics use.
// Every encode_* function is [[nodiscard]]: it fails (bad_mailbox_name, unencodable, bad_utf8) without
// touching `out` when an argument cannot be sent, naming the argument in `diag` when given.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/imap/diagnostics.hpp"
#include "protocol/imap/errc.hpp"
#include "protocol/imap/internal_date.hpp"

namespace arrival::imap {

struct command_segment {
    std::string owned;             // command text, literal headers, CRLF, small literal payloads
    std::string_view borrowed;     // large payloads the caller keeps alive (used when owned is empty)
    bool await_continuation = false;  // wait for the server's "+" before sending this segment

    [[nodiscard]] std::string_view bytes() const noexcept { return owned.empty() ? borrowed : std::string_view(owned); }
};

struct command {
    std::string verb;                       // "LOGIN", "UID FETCH", "APPEND" ...
    std::vector<command_segment> segments;  // first segment: owned, starts with the verb; last ends with CRLF
    std::string redacted;                   // "LOGIN bob <password>" (no tag, no CRLF, literals as {n} only)

    [[nodiscard]] std::size_t size() const noexcept;         // total bytes (without the tag)
    [[nodiscard]] std::size_t continuations() const noexcept;  // segments that wait for "+"
    [[nodiscard]] std::string flatten() const;  // all bytes concatenated (tests, small commands)
};

struct encoder_options {
    bool literal_plus = false;    // server has LITERAL+
    bool literal_minus = false;   // server has LITERAL-
    std::size_t non_sync_max = static_cast<std::size_t>(-1);  // cap for LITERAL+ non-sync literals
    bool utf8_accept = false;     // UTF8=ACCEPT enabled: names sent as UTF-8, 8-bit allowed in quoted strings
    std::size_t max_quoted = 1024;  // longer strings become literals
};

enum class string_form : std::uint8_t { atom, quoted, literal };
// Which form an astring (allow_atom) or a string takes; nullopt when it cannot be sent at all (NUL).
[[nodiscard]] std::optional<string_form> choose_string_form(std::string_view s, bool allow_atom,
                                                            const encoder_options& o) noexcept;

// Low-level builder. Arguments are separated by one SP automatically (not after "(" or before ")").
class command_builder {
public:
    command_builder(std::string_view verb, const encoder_options& o, diagnostics* diag = nullptr);

    command_builder& atom(std::string_view a);            // sent as is (caller guarantees the syntax)
    command_builder& astring(std::string_view s);
    command_builder& string(std::string_view s);          // quoted or literal, never an atom
    command_builder& secret(std::string_view s, std::string_view placeholder);  // astring, redacted
    command_builder& mailbox(std::string_view utf8_name);  // INBOX normalised, modified UTF-7, astring
    command_builder& list_mailbox(std::string_view utf8_pattern);  // like mailbox, but * and % kept as atoms
    command_builder& literal(std::string_view bytes, bool binary = false);  // borrowed payload
    command_builder& begin_list();                         // "("
    command_builder& end_list();                           // ")"
    // Finishes with CRLF. Returns the first error any argument produced.
    [[nodiscard]] error_code finish(command& out);

private:
    void separator();
    void text(std::string_view t, bool redact_as_is = true);
    void emit_literal(std::string_view bytes, bool binary, bool borrow, std::string_view redacted_as);
    void emit_string(std::string_view s, bool allow_atom, std::string_view redacted_as);

    const encoder_options& opts_;
    diagnostics* diag_;
    command cmd_;
    bool need_sp_ = false;
    error_code ec_;
};

// CAPABILITY, NAMESPACE, STARTTLS, LOGOUT, NOOP, CLOSE, UNSELECT, CHECK, IDLE ...: a verb alone.
[[nodiscard]] command encode_simple(std::string_view verb);

[[nodiscard]] error_code encode_login(std::string_view user, std::string_view password, const encoder_options& o,
                                      command& out, diagnostics* diag = nullptr);

// AUTHENTICATE PLAIN. With sasl_ir (server has SASL-IR) the response is sent on the command line; otherwise the
// command waits for the server's "+ " and then sends the response (second segment, await_continuation).
[[nodiscard]] error_code encode_authenticate_plain(std::string_view authzid, std::string_view authcid,
                                                   std::string_view password, bool sasl_ir, command& out);

// ID ("name" "arrival" ...) or ID NIL when `fields` is empty (RFC 2971).
[[nodiscard]] error_code encode_id(std::span<const std::pair<std::string_view, std::string_view>> fields,
                                   const encoder_options& o, command& out);

[[nodiscard]] error_code encode_enable(std::span<const std::string_view> capabilities, command& out);

struct list_options {
    bool select_subscribed = false;     // LIST (SUBSCRIBED) ...          RFC 5258
    bool select_special_use = false;    // LIST (SPECIAL-USE) ...         RFC 6154
    bool return_subscribed = false;     // RETURN (SUBSCRIBED)            RFC 5258
    bool return_special_use = false;    // RETURN (SPECIAL-USE)           RFC 6154
    bool return_children = false;       // RETURN (CHILDREN)
    std::vector<std::string_view> return_status;  // RETURN (STATUS (MESSAGES ...))  RFC 5819
};
// LIST reference pattern [selection/return options]. reference and pattern are UTF-8 (encoded to mUTF-7).
[[nodiscard]] error_code encode_list(std::string_view reference, std::string_view pattern, const list_options& lo,
                                     const encoder_options& o, command& out, diagnostics* diag = nullptr);
[[nodiscard]] error_code encode_lsub(std::string_view reference, std::string_view pattern,
                                     const encoder_options& o, command& out, diagnostics* diag = nullptr);

// STATUS mailbox (items...), e.g. items {"MESSAGES", "UIDNEXT", "UIDVALIDITY", "SIZE"}.
[[nodiscard]] error_code encode_status(std::string_view mailbox, std::span<const std::string_view> items,
                                       const encoder_options& o, command& out, diagnostics* diag = nullptr);
// SELECT or EXAMINE (read_only) [(CONDSTORE)].
[[nodiscard]] error_code encode_select(std::string_view mailbox, bool read_only, bool condstore,
                                       const encoder_options& o, command& out, diagnostics* diag = nullptr);
[[nodiscard]] error_code encode_create(std::string_view mailbox, std::optional<std::string_view> special_use,
                                       const encoder_options& o, command& out, diagnostics* diag = nullptr);
[[nodiscard]] error_code encode_subscribe(std::string_view mailbox, bool subscribe, const encoder_options& o,
                                          command& out, diagnostics* diag = nullptr);

// UID SEARCH [RETURN (...)] criteria. criteria is search-key syntax built by the caller ("UID 5:*", "ALL");
// esearch_return e.g. {"ALL", "COUNT"} asks for ESEARCH (RFC 4731).
[[nodiscard]] error_code encode_uid_search(std::string_view criteria, std::span<const std::string_view> esearch_return,
                                           command& out);
// UID FETCH set items, e.g. set "1:500" (encode_sequence_set / encode_range), items "(UID FLAGS BODY.PEEK[])".
[[nodiscard]] error_code encode_uid_fetch(std::string_view uid_set, std::string_view items, command& out);

// UID STORE set item (flags), e.g. item "+FLAGS.SILENT" or "-FLAGS.SILENT" (RFC 3501 §6.4.6); flags are
// system flags or keywords (atoms). With unchangedsince, the CONDSTORE modifier (UNCHANGEDSINCE n) (RFC 7162).
[[nodiscard]] error_code encode_uid_store(std::string_view uid_set, std::string_view item, std::span<const std::string_view> flags,
                                          command& out, std::optional<std::uint64_t> unchangedsince = std::nullopt);
// UID EXPUNGE set (RFC 4315 UIDPLUS): only the messages of `set` that carry \Deleted are removed.
[[nodiscard]] error_code encode_uid_expunge(std::string_view uid_set, command& out);
// RENAME from to; DELETE mailbox. Names are UTF-8 (encoded to modified UTF-7).
[[nodiscard]] error_code encode_rename(std::string_view from, std::string_view to, const encoder_options& o, command& out,
                                       diagnostics* diag = nullptr);
[[nodiscard]] error_code encode_delete(std::string_view mailbox, const encoder_options& o, command& out,
                                       diagnostics* diag = nullptr);

// UID FETCH set items (CHANGEDSINCE modseq) (RFC 7162 §3.1.4): only messages whose MODSEQ is above `modseq`.
// With `vanished`, (CHANGEDSINCE modseq VANISHED) (§3.2.6, QRESYNC enabled): the server also names the UIDs of
// `set` expunged since then, in a VANISHED (EARLIER) response.
[[nodiscard]] error_code encode_uid_fetch_changedsince(std::string_view uid_set, std::string_view items, std::uint64_t modseq,
                                                       command& out, bool vanished = false);
struct append_message {
    std::vector<std::string_view> flags;          // "\Seen", "$Forwarded" ... (\Recent is dropped: not allowed)
    std::optional<internal_date> date;
    std::string_view body;                        // borrowed: keep alive until the command completes
    bool binary = false;                          // send as literal8 ~{n} (RFC 3516 BINARY)
};
// APPEND mailbox msg [msg...]: more than one message is MULTIAPPEND (RFC 3502), only when the server has it.
[[nodiscard]] error_code encode_append(std::string_view mailbox, std::span<const append_message> messages,
                                       const encoder_options& o, command& out, diagnostics* diag = nullptr);

}  // namespace arrival::imap
