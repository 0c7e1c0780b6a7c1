// Response codes (RFC 3501 §7.1, RFC 4315 UIDPLUS, RFC 5530 IMAP response codes, RFC 7162 CONDSTORE) and the
// mapping of a tagged NO/BAD onto errc. Decisions (retry, create-then-retry) are taken on these codes, never
// on the human-readable text.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "protocol/imap/errc.hpp"
#include "protocol/imap/response.hpp"
#include "protocol/imap/sequence_set.hpp"

namespace arrival::imap {

enum class code_kind : std::uint8_t {
    none, other,
    // RFC 3501
    alert, badcharset, capability, parse, permanentflags, read_only, read_write, trycreate, uidnext, uidvalidity,
    unseen,
    // RFC 4315
    appenduid, copyuid, uidnotsticky,
    // RFC 5530
    unavailable, authenticationfailed, authorizationfailed, expired, privacyrequired, contactadmin, noperm,
    inuse, expungeissued, corruption, serverbug, clientbug, cannot, limit, overquota, alreadyexists,
    nonexistent,
    // RFC 7162 / 4978 / 7889 and friends
    highestmodseq, nomodseq, closed, compressionactive, appendlimit,
};

[[nodiscard]] code_kind classify_code(std::string_view name) noexcept;

// [UIDVALIDITY n], [UIDNEXT n], [UNSEEN n], [HIGHESTMODSEQ n], [APPENDLIMIT n]: the single number argument.
[[nodiscard]] error_code code_number(const response_code& c, std::uint64_t& out) noexcept;

// [APPENDUID uidvalidity uid-set] (RFC 4315: one UID, or a set for MULTIAPPEND).
struct appenduid_data {
    std::uint32_t uidvalidity = 0;
    std::vector<seq_range> uids;
};
[[nodiscard]] error_code code_appenduid(const response_code& c, appenduid_data& out);

// [COPYUID uidvalidity source-uid-set dest-uid-set]
struct copyuid_data {
    std::uint32_t uidvalidity = 0;
    std::vector<seq_range> source;
    std::vector<seq_range> dest;
};
[[nodiscard]] error_code code_copyuid(const response_code& c, copyuid_data& out);

// [CAPABILITY ...] and [PERMANENTFLAGS (...)] / [BADCHARSET (...)]: the words, without parentheses.
// Views into c.args.
[[nodiscard]] error_code code_words(const response_code& c, std::vector<std::string_view>& out);

// The outcome of a status response: {} for OK/PREAUTH; for NO a specific errc from the RFC 5530 code when there
// is one (unavailable, in_use, over_quota, ...), else errc::no; errc::bad for BAD; errc::bye for BYE.
[[nodiscard]] error_code status_error(const response& r) noexcept;

}  // namespace arrival::imap
