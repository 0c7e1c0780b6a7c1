// SHA-256 (FIPS 180-4), used to derive stable resource names and contact UIDs from content so that a rerun
// addresses the same resource and If-None-Match: * turns it into "already present" instead of a duplicate.
// Kept here (not OpenSSL) because pim_codec must build in fuzz mode with std only.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace arrival::pim {

[[nodiscard]] std::array<std::uint8_t, 32> sha256(std::string_view data) noexcept;

// Lower-case hex of the first `bytes` bytes of the digest (at most 32).
[[nodiscard]] std::string sha256_hex(std::string_view data, std::size_t bytes = 32);

}  // namespace arrival::pim
