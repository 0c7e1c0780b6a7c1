// sequence-set / uid-set (RFC 3501 §9, RFC 4315 §4): "1:4,7,9:*". Encoding for UID FETCH/SEARCH ranges and
// decoding for APPENDUID/COPYUID/ESEARCH results.
//
//   sequence-set = (seq-number / seq-range) ["," sequence-set]
//   seq-range    = seq-number ":" seq-number
//   seq-number   = nz-number / "*"        ; "*" is the largest number in use (we store it as 0xFFFFFFFF)
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/imap/errc.hpp"

namespace arrival::imap {

inline constexpr std::uint32_t seq_star = 0xFFFFFFFFu;  // "*"

struct seq_range {
    std::uint32_t first = 0;  // first <= last after decoding (RFC 3501 allows "4:2", meaning 2:4)
    std::uint32_t last = 0;
    friend bool operator==(const seq_range&, const seq_range&) = default;
};

// Appends the ranges of `set`, normalised so first <= last, in the order sent. Rejects 0, overflow, empty
// elements and trailing commas.
[[nodiscard]] error_code decode_sequence_set(std::string_view set, std::vector<seq_range>& out);

// Compresses sorted-or-not UIDs into the shortest set ("1:3,7,9:10"); duplicates are dropped.
[[nodiscard]] std::string encode_sequence_set(std::span<const std::uint32_t> uids);
// One range: "5:*" when last == seq_star, "5" when first == last.
[[nodiscard]] std::string encode_range(std::uint32_t first, std::uint32_t last);

// Expands a decoded set to its numbers (for APPENDUID/COPYUID); refuses sets containing "*" or more than
// `max` numbers (a hostile server must not make us allocate 4 billion entries).
[[nodiscard]] error_code expand_sequence_set(std::span<const seq_range> set, std::vector<std::uint32_t>& out,
                                             std::size_t max = 1'000'000);

}  // namespace arrival::imap
