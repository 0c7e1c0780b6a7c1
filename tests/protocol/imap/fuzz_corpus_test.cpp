// Replays the fuzz seed corpus and any saved crash (tests/fuzz/crashes/fuzz_response_parser/) through the
// parser and FETCH decoder in the unit suite, so a fixed fuzz finding stays fixed without a clang build.
// Each file is the fuzz input layout: byte 0 = inline-literal limit (mod 64), byte 1 = split seed, then bytes.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/protocol/imap/transcript.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/split_feed.hpp"

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace fuzz_corpus_test {

namespace fs = std::filesystem;

TEST(fuzz_corpus, replays_split_invariant) {
    int files = 0;
    for (const char* dir : {"../fuzz/corpus/fuzz_response_parser", "../fuzz/crashes/fuzz_response_parser"}) {
        const fs::path p = fs::path(fixture_dir()) / dir;
        if (!fs::exists(p)) continue;
        for (const auto& e : fs::directory_iterator(p)) {
            const std::string data = load_fixture(fs::relative(e.path(), fixture_dir()).string());
            if (data.size() < 2) continue;
            imap::response_parser::limits limits;
            limits.max_inline_literal = static_cast<unsigned char>(data[0]) % 64;
            limits.max_line = 4096;
            limits.max_depth = 8;
            const auto r = split_feed(std::string_view(data).substr(2), [&](const std::vector<std::string_view>& c) {
                return fetch_transcript_of(c, limits);
            }, 512);
            EXPECT_EQ(r.mismatch, "") << e.path();
            ++files;
        }
    }
    EXPECT_GE(files, 5);  // the seed corpus is in the repository
}

}  // namespace
}  // namespace arrival::test
