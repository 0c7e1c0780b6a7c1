// protocol/base64.hpp on bytes: the RFC 4648 §10 vectors both ways, binary round trips, and every kind of
// malformed input the strict decoder refuses (the rejects of the three former copies, merged).
#include "protocol/base64.hpp"

#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace base64_test {

TEST(base64, rfc4648_vectors_both_ways) {
    const std::pair<std::string_view, std::string_view> v[] = {{"", ""},          {"f", "Zg=="},         {"fo", "Zm8="},
                                                               {"foo", "Zm9v"},   {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                               {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, enc] : v) {
        EXPECT_EQ(base64::encode(plain), enc);
        std::string out = "old";
        ASSERT_TRUE(base64::decode(enc, out)) << enc;
        EXPECT_EQ(out, plain);
    }
}

TEST(base64, append_encoded_keeps_what_was_there_and_binary_round_trips) {
    std::string line = "cn:: ";
    base64::append_encoded(std::string_view("\0\xff\x10", 3), line);
    EXPECT_EQ(line, "cn:: AP8Q");
    for (const std::string& v : {std::string("a"), std::string("ab"), std::string("abcd"), std::string("\0\x80\xfe\xff", 4)}) {
        std::string dec;
        ASSERT_TRUE(base64::decode(base64::encode(v), dec));
        EXPECT_EQ(dec, v);
    }
}

TEST(base64, rejects_and_leaves_the_output_alone) {
    for (std::string_view bad : {"a", "abc", "Zg=", "ab=c", "a===", "Z===", "=Zg=", "ab$=", "Zm9v!A==", "Zg==Zg==",
                                 "ab==cd==", "Zh==", "Zm9=", "Zg== ", " Zg=", "Zg\n=="}) {
        std::string out = "kept";
        EXPECT_FALSE(base64::decode(bad, out)) << bad;
        EXPECT_EQ(out, "kept") << bad;
    }
}

}  // namespace base64_test
}  // namespace arrival::test
