// What a message's header fields mean, as opposed to how a server happened to spell them: the inputs of the
// dedupe key's fallback identity (engine/mail/dedupe_key.hpp) and of the INTERNALDATE fallback.
//
// The RFC 5322 grammar (addresses with comments, quoted display names and source routes; dates with named
// and numeric zones) is mimetic's (mimetic::MailboxList, mimetic::Mailbox, mimetic::DateTime). mimetic does
// not decode RFC 2047 encoded words, so that is done here with mimetic's Base64 and QP decoders, iconv
// (glibc) for the charset and ICU for NFC. ICU rather than a hand-written table: NFC needs the full
// composition/decomposition data and its exclusions, which a small table gets wrong for anything beyond
// Latin; Debian's libicu-dev is already on every build machine and costs nothing on the hot path (only
// messages without a usable Message-ID reach this file).
//
// Every function takes an unfolded field value (find_header_field's output), never throws, and returns a
// canonical form or "nothing usable" for input that does not parse.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arrival::engine {

// RFC 2047 encoded words decoded to UTF-8 (adjacent words joined before the charset is applied, so a
// character split across two words survives; the whitespace between adjacent encoded words dropped as
// §6.2 says), then NFC, then whitespace runs collapsed to one space and trimmed. An encoded word whose
// charset iconv does not know or whose text does not decode stays as written. Bytes that are not UTF-8
// after decoding are kept as they are (not normalised, never replaced).
// Runs of whitespace (folding CRLFs included) become one space; both ends are trimmed. Also the dedupe key's
// text form of a field that does not parse (engine/mail/dedupe_key.cpp).
[[nodiscard]] std::string collapse_whitespace(std::string_view value);

[[nodiscard]] std::string unstructured_meaning(std::string_view value);

// The addresses of an address-list field (From), display names and comments dropped: "local@domain" each,
// the domain lower-cased, joined by ','. "" when no address parses.
[[nodiscard]] std::string address_list_meaning(std::string_view value);

// A Date field as seconds since 1970-01-01 UTC. Two-digit years follow RFC 5322 §4.3 (< 50: 20xx, else
// 19xx); unknown alphabetic zones count as UTC (§4.3: "-0000"). nullopt when the value does not parse to a
// real calendar instant after 1971 (mimetic reads what it cannot parse as 1970-01-01).
[[nodiscard]] std::optional<std::int64_t> date_meaning(std::string_view value);

// A Message-ID read with the address grammar (msg-id is "<" id-left "@" id-right ">", RFC 5322 §3.6.4), so
// comments and folding around or inside it are dropped: "id-left@id-right" with id-right lower-cased, ""
// when it has no '@' form.
[[nodiscard]] std::string message_id_meaning(std::string_view value);

// The same two readings through mimetic alone, without the direct readers of the common spellings: for the
// tests and the fuzz target that hold both to the same answer.
namespace detail {
[[nodiscard]] std::string address_list_meaning_by_mimetic(std::string_view value);
[[nodiscard]] std::optional<std::int64_t> date_meaning_by_mimetic(std::string_view value);
}  // namespace detail

}  // namespace arrival::engine
