// Fuzzes the engine's byte-level inputs: the accounts file parser (all three formats) and the dedupe-key
// header scan (messages come from any server). Neither may crash or throw anything but bad_alloc.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/account_list.hpp"
#include "engine/mail/dedupe_key.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (auto f : {arrival::engine::account_format::detect, arrival::engine::account_format::imapsync,
                   arrival::engine::account_format::csv, arrival::engine::account_format::address_list}) {
        const auto l = arrival::engine::parse_account_list(text, f);
        for (const auto& a : l.accounts) {
            if (a.source_user.empty() || a.dest_user.empty()) __builtin_trap();   // invariant: users are never empty
        }
    }
    const auto k = arrival::engine::compute_dedupe_key(text, size);
    if (k.to_string().size() != 33) __builtin_trap();
    (void)arrival::engine::normalize_message_id(text);
    return 0;
}
