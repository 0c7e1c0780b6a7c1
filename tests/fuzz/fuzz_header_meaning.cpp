// Fuzzes the mimetic-backed header reading (engine/mail/header_meaning.hpp) and the dedupe key's fallback that
// uses it: every field function on the raw bytes as one unfolded value, and the key of the bytes as a header
// block. Headers come from any server; none of this may crash, hang or throw.
// Invariants checked: the meaning functions are stable (same input, same output), unstructured_meaning's
// result has no whitespace run and no leading or trailing blank, and the direct readers of the common From and
// Date spellings answer what mimetic alone answers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/mail/dedupe_key.hpp"
#include "engine/mail/header_meaning.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace arrival::engine;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string subject = unstructured_meaning(text);
    if (subject != unstructured_meaning(text)) __builtin_trap();
    if (!subject.empty() && (subject.front() == ' ' || subject.back() == ' ')) __builtin_trap();
    if (subject.find("  ") != std::string::npos) __builtin_trap();
    if (address_list_meaning(text) != detail::address_list_meaning_by_mimetic(text)) __builtin_trap();
    const auto t = date_meaning(text);
    if (t && *t < 365 * 86400) __builtin_trap();
    if (t != detail::date_meaning_by_mimetic(text)) __builtin_trap();
    const std::string id = message_id_meaning(text);
    if (!id.empty() && id.find('@') == std::string::npos) __builtin_trap();
    // As a header block: with the id removed the fallback reads Date, From and Subject through mimetic.
    const auto k = compute_dedupe_key(text, size);
    if (k.to_string().size() != 33) __builtin_trap();
    const std::string fields = "Date: " + std::string(text) + "\r\nFrom: " + std::string(text) + "\r\nSubject: " +
                               std::string(text) + "\r\nMessage-ID: (c) " + std::string(text) + "\r\n\r\n";
    (void)compute_dedupe_key(fields, size);
    return 0;
}
