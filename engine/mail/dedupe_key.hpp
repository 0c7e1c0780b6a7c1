// The identity of a message for "is it already on the destination?".
//
//  - With a Message-ID: 'M' + FNV-1a-128 of the normalized id. Normalization: the header is unfolded
//    (RFC 5322 §2.2.3), the first <...> token is taken (or, without brackets, the whole trimmed value),
//    whitespace inside it is removed, the brackets are dropped, and the domain part (after the last '@') is
//    lower-cased; the local part keeps its case (RFC 5322 says nothing about its case, servers differ).
//    A value with comments or quoted strings is read with the address grammar
//    instead (engine/mail/header_meaning.hpp, mimetic): "(comment) <id@host>" is id@host. Plain ids never reach
//    mimetic, so the common case costs one scan of the header block, as before.
//  - Without one (or an empty one): 'G' + FNV-1a-128 of what Date, From and Subject mean plus the message
//    size in bytes: the Date as a UTC instant, the From addresses only (local@domain, domain lower-cased),
//    the Subject decoded from RFC 2047 and in NFC (engine/mail/header_meaning.hpp). So a copy whose headers a
//    server re-encoded (words re-split, another charset label, the display name re-quoted, the Date in
//    another zone) keeps its key. A field that does not parse counts by its collapsed text. Two different
//    messages without Message-ID that share all four are treated as copies of one another; counting is a
//    multiset, so both are still copied to an empty destination, and the fallback's weakness only shows
//    when the destination already has one of them.
//
// Versions: the first letter of to_string() says how the key was made. 'M' (Message-ID) is unchanged since
// the first release for every plain id; 'F' is the first release's fallback (collapsed text of Date, From,
// Subject), still computed by compute_dedupe_key_v1 for keys written by older runs; 'G' is the current
// fallback. Keys are compared only with keys made by the same run (source and destination are indexed with
// the same function, and the state store holds UIDs, never keys), so a rerun after an upgrade plans against
// a destination filled by the older release exactly as before: copies are byte-identical, so both sides get
// the same new key.
//
// Only the header block is scanned (up to the first empty line), so the same function gives the same key for
// a full message and for the reply to BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)]; the size is
// RFC822.SIZE, identical on both sides because bodies are copied byte for byte.
// The hash is not cryptographic: mail is not adversarial here, and a key collision can only make a message
// count as present; verify reports any such difference by counts.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace arrival::engine {

enum class dedupe_key_kind : char {
    message_id = 'M',
    fallback_v1 = 'F',   // the first release's fallback: collapsed header text
    fallback = 'G',      // the current fallback: header meaning (engine/mail/header_meaning.hpp)
};

struct dedupe_key {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    bool from_message_id = false;
    dedupe_key_kind kind = dedupe_key_kind::fallback;

    friend bool operator==(const dedupe_key& a, const dedupe_key& b) noexcept { return a.hi == b.hi && a.lo == b.lo; }
    friend bool operator<(const dedupe_key& a, const dedupe_key& b) noexcept {
        return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
    }
    // 33 characters: the kind's letter then 32 hex digits (shown in verify and reports).
    [[nodiscard]] std::string to_string() const;
};

// The header fields the key reads, for the FETCH that indexes a folder without downloading bodies.
inline constexpr std::string_view dedupe_header_fields = "MESSAGE-ID DATE FROM SUBJECT";

// `header` may be a whole message, a header block, or HEADER.FIELDS output; `size` is RFC822.SIZE.
[[nodiscard]] dedupe_key compute_dedupe_key(std::string_view header, std::uint64_t size);
// The first release's key ('M' or 'F'), for reading keys older runs wrote and for the compatibility tests.
[[nodiscard]] dedupe_key compute_dedupe_key_v1(std::string_view header, std::uint64_t size);

// Exposed for tests: the normalized id ("" when the header has none usable).
[[nodiscard]] std::string normalize_message_id(std::string_view raw_value);
// Exposed for tests: finds the first `name` field (case-insensitive) in the header block and stores its
// unfolded value; false when the block has none.
[[nodiscard]] bool find_header_field(std::string_view header, std::string_view name, std::string& value);

// A multiset of keys: how many messages with each key a folder holds.
class key_multiset {
public:
    void add(const dedupe_key& k) { ++counts_[k]; }
    [[nodiscard]] std::size_t count(const dedupe_key& k) const {
        const auto it = counts_.find(k);
        return it == counts_.end() ? 0 : it->second;
    }
    // Takes one copy away if there is one; returns whether there was (the destination "absorbs" a source copy).
    bool take(const dedupe_key& k) {
        const auto it = counts_.find(k);
        if (it == counts_.end()) return false;
        if (--it->second == 0) counts_.erase(it);
        return true;
    }
    [[nodiscard]] std::size_t size() const noexcept {
        std::size_t n = 0;
        for (const auto& [k, c] : counts_) n += c;
        return n;
    }
    [[nodiscard]] const std::map<dedupe_key, std::size_t>& counts() const noexcept { return counts_; }

private:
    std::map<dedupe_key, std::size_t> counts_;
};

}  // namespace arrival::engine
