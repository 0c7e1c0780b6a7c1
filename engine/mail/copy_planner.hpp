// Which source messages of one folder get copied: the multiset difference of dedupe keys.
//
// Walking the source in UID order, a message whose key the destination still holds "uses up" one of the
// destination's copies and is skipped as a duplicate; otherwise it is copied. So a source folder with k
// messages of one key against a destination folder with j gets max(k - j, 0) copies, and nothing the source
// holds is dropped — imapsync's default, which keeps one of each, lost mail on our corpus. With `collapse`
// (the admin asked for it) at most one message per key ends up on the destination.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/mail/dedupe_key.hpp"

namespace arrival::engine {

struct source_message {
    std::uint32_t uid = 0;
    std::uint64_t size = 0;                // RFC822.SIZE
    dedupe_key key;
    std::vector<std::string> flags;        // as FETCHed (\Recent included; flag_map drops it)
    std::string internaldate;              // as FETCHed, e.g. "17-Jul-1996 02:44:25 -0700"
    // The Date field's instant (header_meaning.hpp's date_meaning), read only when the INTERNALDATE is not
    // usable on every profile (internaldate_usable_anywhere): the APPEND's fallback date (choose_append_date).
    std::optional<std::int64_t> header_date;
};

struct copy_plan {
    std::vector<source_message> to_copy;   // UID order
    std::uint64_t skipped_duplicate = 0;
    std::uint64_t bytes_to_copy = 0;
};

[[nodiscard]] copy_plan plan_copies(std::vector<source_message> source, key_multiset dest, bool collapse);

}  // namespace arrival::engine
