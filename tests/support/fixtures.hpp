// Test fixtures kept in tests/fixtures/ (recorded server transcripts and the like), read as raw bytes.
#pragma once
#include <string>
#include <string_view>

namespace arrival::test {

// The bytes of tests/fixtures/<relative>; throws std::runtime_error naming the path when it cannot be read.
[[nodiscard]] std::string load_fixture(std::string_view relative);

}  // namespace arrival::test
