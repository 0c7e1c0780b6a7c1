// Name-based UUIDs (RFC 4122 version 5, SHA-1) for the zimbraId of entries provisioning creates (lists from
// CSV, accounts converted from inetOrgPerson). Deterministic, so a rerun produces the same ids and stays
// idempotent.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace arrival::provision {

std::array<std::uint8_t, 20> sha1(std::string_view data);

// UUID v5 of `name` in arrival's namespace, as lower-case 8-4-4-4-12 text.
std::string name_uuid(std::string_view name);

}  // namespace arrival::provision
