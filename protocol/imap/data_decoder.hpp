// The small untagged data responses (RFC 3501 §7.2-7.3 and extensions), each decoded from a `response` into
// a value. Views point into the response (valid during the handler call); copy what you keep.
//
//   * CAPABILITY / ENABLED (RFC 5161): capability-data = "CAPABILITY" *(SP capability)
//   * FLAGS: flag-list
//   * STATUS (RFC 3501 §7.2.4, + SIZE RFC 8438, + HIGHESTMODSEQ RFC 7162): "STATUS" SP mailbox SP "(" ... ")"
//   * SEARCH: "SEARCH" *(SP nz-number) [SP "(" "MODSEQ" SP n ")"]
//   * ESEARCH (RFC 4731): "ESEARCH" [SP "(" "TAG" SP tag ")"] [SP "UID"] *(SP name SP value)
//   * NAMESPACE (RFC 2342): "NAMESPACE" SP (personal) SP (other users) SP (shared), each NIL or a list of
//     ("prefix" "delim" [extensions])
//   * ID (RFC 2971): "ID" SP ( "(" *(string SP nstring) ")" / NIL )
//   * VANISHED (RFC 7162 §3.2.10, after ENABLE QRESYNC): "VANISHED" [SP "(EARLIER)"] SP known-uids
// EXISTS / EXPUNGE / RECENT need no decoder: response::number holds the value.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/imap/errc.hpp"
#include "protocol/imap/response.hpp"
#include "protocol/imap/sequence_set.hpp"

namespace arrival::imap {

// CAPABILITY or ENABLED: the atoms as sent.
[[nodiscard]] error_code decode_capability(const response& r, std::vector<std::string_view>& out);
// FLAGS (...)
[[nodiscard]] error_code decode_flags(const response& r, std::vector<std::string_view>& out);

struct status_entry {
    std::string_view mailbox;   // raw (modified UTF-7); "INBOX" normalised
    std::optional<std::uint32_t> messages, recent, uidnext, uidvalidity, unseen;
    std::optional<std::uint64_t> size, highestmodseq;  // RFC 8438 SIZE, RFC 7162
};
[[nodiscard]] error_code decode_status(const response& r, status_entry& out);

// SEARCH: the numbers (UIDs after UID SEARCH).
[[nodiscard]] error_code decode_search(const response& r, std::vector<std::uint32_t>& out);

struct esearch_result {
    std::string_view tag;                  // the command's tag, when sent
    bool uid = false;
    std::optional<std::uint32_t> min, max;
    std::optional<std::uint32_t> count;
    std::vector<seq_range> all;            // ALL sequence-set, decoded
    std::optional<std::uint64_t> modseq;
};
[[nodiscard]] error_code decode_esearch(const response& r, esearch_result& out);

struct namespace_desc {
    std::string_view prefix;               // raw (modified UTF-7)
    std::optional<char> delimiter;         // nullopt for NIL
};
struct namespace_data {
    std::vector<namespace_desc> personal, other_users, shared;
};
[[nodiscard]] error_code decode_namespace(const response& r, namespace_data& out);

// ID: field/value pairs; a NIL value is an empty optional.
[[nodiscard]] error_code decode_id(const response& r,
                                   std::vector<std::pair<std::string_view, std::optional<std::string_view>>>& out);

// VANISHED: UIDs permanently removed from the selected mailbox. `earlier`: the answer to a UID FETCH
// (CHANGEDSINCE m VANISHED) or SELECT (QRESYNC ...), i.e. expunged before now; without it, an expunge
// announced as it happens (in place of EXPUNGE once QRESYNC is enabled).
struct vanished_data {
    bool earlier = false;
    std::vector<seq_range> uids;
};
[[nodiscard]] error_code decode_vanished(const response& r, vanished_data& out);

}  // namespace arrival::imap
