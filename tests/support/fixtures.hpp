// Test fixtures kept in tests/fixtures/ (recorded server transcripts and the like), read as raw bytes.
#pragma once
#include <string>
#include <string_view>

namespace arrival::test {

// The bytes of tests/fixtures/<relative>; throws std::runtime_error naming the path when it cannot be read.
[[nodiscard]] std::string load_fixture(std::string_view relative);

// The absolute path of tests/fixtures/ in the source tree.
[[nodiscard]] std::string fixture_dir();

}  // namespace arrival::test
