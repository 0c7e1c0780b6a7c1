// What the destination server accepts, as a profile: `generic` (any IMAP server; today's rules) or `carbonio`
// (Zextras Carbonio / Zimbra, whose IMAP refuses or punishes what /work/shared/carbonio/FACTS.md §6 lists).
// Pure: values in, values out, so migrate, verify, reruns and preflight decide alike from the same inputs.
//
// Rules under carbonio (each cites FACTS.md §6; generic leaves everything as it was):
//  - Detection (`--dest-profile auto`): the greeting or the ID reply names Zimbra or Carbonio (ImapHandler:
//    greeting "<host> Zimbra IMAP4rev1 server ready", ID ("NAME" "Zimbra" ...)), or a capability starts with
//    X-ZIMBRA / X-CARBONIO. What Carbonio's nginx proxy says in its greeting and ID is NOT CONFIRMED by
//    FACTS.md; where auto cannot tell, --dest-profile carbonio settles it.
//  - Folder names (MailItem.validateItemName, ImapPath.isCreatable): in every level `: " TAB CR LF`, C0 control
//    characters, DEL and U+FFFE/U+FFFF become '_'; trailing spaces (anything <= ' ') are trimmed, as the server
//    would; "." and ".." become "_" and "__"; a level over 255 UTF-16 units is cut on a character boundary; a
//    top-level Calendar / Contacts / Notebook (any case, surrounding spaces) becomes "<name> (mail)" and its
//    subfolders follow; what would land below the top-level Junk (\NoInferiors on Carbonio) goes below
//    "Junk folders" instead. Siblings that end up equal (case-insensitively: Carbonio's folder names are) get
//    " (2)", " (3)", ... in source-name order, so the mapping depends on the source's folder list only: migrate,
//    verify and every rerun map alike, whatever the destination holds already.
//  - Keywords: engine/mail/flag_map.hpp (map_flags with the profile's kind); then a message's flag list is cut so
//    the command line without literals stays under 10,240 bytes (zimbraImapMaxRequestSize).
//  - Size: the limit is APPENDLIMIT when advertised, else --max-message-size, else 10,240,000 bytes
//    (zimbraMtaMaxMessageSize); a message over it is not sent (too_large). A 0-byte message is not sent
//    (AppendMessage.checkContent). Under generic, only APPENDLIMIT or an explicit --max-message-size limit.
//  - Dates: an INTERNALDATE after 2038-01-19T03:14:07Z (Integer.MAX_VALUE seconds, AppendMessage.checkDate)
//    is left out of the APPEND; the message is sent without it.
//  - Refusals: append_guard below.
//
// Rules under cyrus (Cyrus IMAP 3.6, found on the testbed's server, tools/testbed/cyrus.sh; otherwise generic):
//  - Detection: the ID reply's name or vendor, or the greeting, says Cyrus ("Cyrus IMAPD", "Project Cyrus",
//    "localhost Cyrus IMAP 3.6.1 server ready").
//  - A 0-byte message is not sent: Cyrus answers NO "Zero-length message literal".
//  - An INTERNALDATE before 1970-01-01 is left out of the APPEND (the message is sent without it): Cyrus
//    answers BAD "Invalid date-time in Append command".
//  - Keywords: at most 100 per folder (engine/mail/flag_map.hpp); the ones beyond are dropped and reported.
//  - NUL bytes (under every profile, choose_body_literal below): Cyrus answers NO "Message contains NUL
//    characters" to a message with a NUL in a plain literal, and takes it byte for byte as a literal8 (it offers
//    BINARY, RFC 3516, and gives the NUL back as a literal8 in FETCH BODY[]).
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/mail/dest_profile_kind.hpp"
#include "engine/mail/flag_map.hpp"

namespace arrival::engine {

// What --dest-profile says: a profile, or "auto" (decide from what the server says about itself).
enum class dest_profile_choice { automatic, generic, carbonio, cyrus };

[[nodiscard]] std::string_view to_string(dest_profile_kind k) noexcept;
// "auto" | "generic" | "carbonio" | "cyrus" (exact); nullopt otherwise.
[[nodiscard]] std::optional<dest_profile_choice> parse_dest_profile_choice(std::string_view s) noexcept;

// FACTS.md §6 figures (ATTRS defaults and LC values).
inline constexpr std::uint64_t carbonio_max_message_size = 10'240'000;   // zimbraMtaMaxMessageSize
inline constexpr std::size_t carbonio_max_request_line = 10'240;         // zimbraImapMaxRequestSize
inline constexpr std::size_t carbonio_max_name_length = 255;             // MailItem.MAX_NAME_LENGTH (UTF-16 units)
inline constexpr int carbonio_max_consecutive_errors = 5;                // imap_max_consecutive_error
inline constexpr int carbonio_identical_command_limit = 25;              // imap_throttle_command_limit
inline constexpr std::chrono::seconds carbonio_throttle_window{300 + 10};  // 5 minutes (ImapCommandThrottle), + a margin
inline constexpr std::int64_t carbonio_last_internaldate = 2147483647;   // seconds since 1970, AppendMessage.checkDate

// What a server says about itself before login: greeting text, ID fields (RFC 2971), capabilities.
struct server_identity {
    std::string greeting;
    std::vector<std::pair<std::string, std::string>> id_fields;
    std::vector<std::string> capabilities;
};

struct profile_detection {
    dest_profile_kind kind = dest_profile_kind::generic;
    std::string evidence;   // what decided it, e.g. `ID NAME "Zimbra"`; empty for generic
};
[[nodiscard]] profile_detection detect_dest_profile(const server_identity& id);
// The profile in force: the one chosen, or the detected one for `automatic`.
[[nodiscard]] profile_detection resolve_dest_profile(dest_profile_choice choice, const server_identity& id);

// The profile with its limits resolved for one destination.
struct dest_profile {
    dest_profile_kind kind = dest_profile_kind::generic;
    std::optional<std::uint64_t> max_message_size;   // none: no limit known
    bool max_from_appendlimit = false;                // the limit is the server's APPENDLIMIT

    // append_limit: the server's APPENDLIMIT, when advertised; option: --max-message-size, when given.
    [[nodiscard]] static dest_profile make(dest_profile_kind kind, std::optional<std::uint64_t> append_limit,
                                           std::optional<std::uint64_t> option);
};

// What becomes of one message.
struct message_decision {
    enum class action { send, too_large, empty };
    action what = action::send;
    bool drop_internaldate = false;   // send it without its INTERNALDATE (the server would refuse the date)
};
// internaldate: IMAP date-time "dd-Mon-yyyy hh:mm:ss +zzzz" or empty.
[[nodiscard]] message_decision decide_message(const dest_profile& p, std::uint64_t size, std::string_view internaldate);

// Which date one message is APPENDed with (issue 16). The source's INTERNALDATE when it is usable: present, an
// IMAP date-time, after 1970 (servers that lost the date write 01-Jan-1970), not more than a day in the future
// and not after the profile's last date (Carbonio refuses anything after 2038-01-19: AppendMessage.checkDate).
// Otherwise the message's own Date field (its instant, header_meaning.hpp's date_meaning), when that one passes
// the same test, sent in UTC. Otherwise none: the destination stamps its arrival time. `reason` says why the
// INTERNALDATE was not used, for the report.
struct append_date {
    enum class source : std::uint8_t { internaldate, date_header, none };
    source from = source::internaldate;
    std::string date;     // what to send ("dd-Mon-yyyy hh:mm:ss +zzzz"); empty with source::none
    std::string reason;   // empty with source::internaldate
};
[[nodiscard]] append_date choose_append_date(const dest_profile& p, std::string_view internaldate,
                                             std::optional<std::int64_t> header_date, std::int64_t now);
[[nodiscard]] std::string_view to_string(append_date::source s) noexcept;
// The INTERNALDATE passes choose_append_date's test under every profile (the strictest's, Carbonio's): when
// it does, the index path need not read the Date field at all.
[[nodiscard]] bool internaldate_usable_anywhere(std::string_view internaldate, std::int64_t now);

// Seconds since 1970-01-01T00:00:00Z of an IMAP date-time; nullopt when it is not one.
[[nodiscard]] std::optional<std::int64_t> internaldate_epoch(std::string_view date);

// How one message's bytes go into an APPEND. RFC 3501 allows no NUL in a literal; RFC 3516 (BINARY) adds the
// literal8 ~{n}, which may carry any octet. A message without NUL goes as a plain literal, as always. One with
// NUL goes as a literal8 when the server offers BINARY; otherwise under cyrus it is not sent (Cyrus refuses it,
// the report says why and the next run tries again), and under the other profiles it goes as a plain literal
// and the server decides (Dovecot takes it and serves the NUL as 0x80).
enum class body_literal : std::uint8_t { plain, binary, refused };
[[nodiscard]] body_literal choose_body_literal(dest_profile_kind kind, bool contains_nul, bool server_has_binary) noexcept;
// Why a message is not sent (body_literal::refused), for the report.
inline constexpr std::string_view nul_refused_reason =
    "the message contains NUL bytes, which Cyrus refuses in an APPEND (\"Message contains NUL characters\") unless sent as "
    "a literal8, and this server does not offer BINARY (RFC 3516); not attempted";

// One destination folder path (levels, UTF-8, as folder_map joins them) after the profile's name rule.
struct adapted_path {
    std::vector<std::string> levels;
    std::string note;   // why it changed ("'a:b' -> 'a_b': ':' is not allowed ..."); empty when unchanged
};
// Maps every path of a plan; the result has the input's size and order. Parents and children map alike
// (a child's first levels are its parent's mapped levels). INBOX at the top stays INBOX.
[[nodiscard]] std::vector<adapted_path> adapt_folder_paths(dest_profile_kind kind, const std::vector<std::vector<std::string>>& paths);

// The flags one message is sent with: map_flags (flag_map.hpp) under the profile's keyword rule, then, under
// carbonio, keywords dropped from the end while the APPEND line for `mailbox` would reach 10,240 bytes.
[[nodiscard]] std::vector<std::string> adapt_flags(dest_profile_kind kind, std::string_view mailbox,
                                                   const std::vector<std::string>& source_flags, const permanent_flags& dest,
                                                   std::vector<flag_change>& changes);

// What makes two APPENDs "identical" to Carbonio's throttle (AppendCommand.hasSameParams): the folder and, per
// message, the date, the flags and the literal size. A MULTIAPPEND is one command: its signature is the list.
struct append_signature {
    struct message {
        std::string date;
        std::vector<std::string> flags;
        std::uint64_t size = 0;
        friend bool operator==(const message&, const message&) = default;
    };
    std::string mailbox;
    std::vector<message> messages;
    friend bool operator==(const append_signature&, const append_signature&) = default;
};

// The refusal policy, sans I/O. Carbonio drops a connection at the 5th NO/BAD in a row (NioImapHandler
// l.67-72; any OK resets the count: ImapHandler.sendOK) and at the 26th identical throttled command within
// 5 minutes (ImapCommandThrottle, AppendCommand.hasSameParams). Carbonio counts identical commands in a row on
// one connection (a NOOP resets it, ImapHandler l.483-485); the testbed's stand-in counts them per account
// over every connection, NOOP or not. The guard keeps to the stricter reading: per account (the job keeps
// one guard across reconnects), at most 25 APPENDs of one signature in any 5 minutes, whatever came between.
//  - Before a command that could be the 5th refusal in a row, the driver sends NOOP: its OK resets the count.
//    Plans assume the worst (every APPEND refused), so a pipelined run is safe before any reply is read.
//  - A command whose signature is used up is not sent as it is: message by message, the message goes in one
//    MULTIAPPEND with the next ones (a different signature: a longer list) until the signature is fresh; when
//    none is left, the rest is deferred (reported, tried again by the next run).
// Under generic it plans one command per message (or one for the whole run) and nothing else.
class append_guard {
public:
    using clock = std::chrono::steady_clock;
    explicit append_guard(dest_profile_kind kind = dest_profile_kind::generic) : kind_(kind) {}

    // One step of a plan: a NOOP, or a command carrying messages [from, to) of the list given to plan().
    struct step {
        bool noop = false;
        std::size_t from = 0, to = 0;
        friend bool operator==(const step&, const step&) = default;
    };
    struct plan_result {
        std::vector<step> steps;
        std::size_t deferred_from;   // messages [deferred_from, end) are not sent now (== size: none)
    };
    // whole = true: one command for all `messages` (MULTIAPPEND), message by message only when its signature
    // is used up; whole = false: one command per message (after a refused MULTIAPPEND).
    [[nodiscard]] plan_result plan(const std::string& mailbox, const std::vector<append_signature::message>& messages, bool whole,
                                   clock::time_point now) const;

    // Feed what was sent and answered, in order: an APPEND (ok or refused), a NOOP's OK, any other command.
    void on_append(const append_signature& sig, bool ok, clock::time_point now);
    void on_noop_ok();
    void on_other(bool ok);
    // A new connection (of the profile it resolved): the error count starts again; the identical-APPEND
    // history does not.
    void on_reconnect(dest_profile_kind kind) {
        kind_ = kind;
        errors_ = 0;
    }

    [[nodiscard]] int consecutive_errors() const noexcept { return errors_; }
    // Whether the next command (of any kind) must wait for a NOOP.
    [[nodiscard]] bool needs_noop_before_command() const noexcept;
    // How many APPENDs of this signature went out in the 5 minutes before `now`.
    [[nodiscard]] std::size_t sent_recently(const append_signature& sig, clock::time_point now) const;

private:
    [[nodiscard]] bool used_up(std::uint64_t key, clock::time_point now) const;
    void record(std::uint64_t key, clock::time_point now);

    dest_profile_kind kind_;
    int errors_ = 0;   // NO/BAD in a row on this connection
    std::map<std::uint64_t, std::deque<clock::time_point>> sent_;   // signature hash -> send times, last 5 minutes
};

[[nodiscard]] std::uint64_t signature_hash(const append_signature& sig);

}  // namespace arrival::engine
