// protocol/percent.hpp on bytes: which characters a path segment keeps, %XX for every other byte (UTF-8 and
// controls included), and a decoder that keeps what is not a %XX escape.
#include "protocol/percent.hpp"

#include <string>

#include <gtest/gtest.h>

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace percent_test {

TEST(percent, encode_segment_keeps_pchar_and_encodes_the_rest) {
    EXPECT_EQ(percent::encode_segment("user@example.test"), "user@example.test");
    EXPECT_EQ(percent::encode_segment("a b/c?"), "a%20b%2Fc%3F");
    EXPECT_EQ(percent::encode_segment("AZaz09-._~!$&'()*+,;=:@"), "AZaz09-._~!$&'()*+,;=:@");
    EXPECT_EQ(percent::encode_segment("#%[]\"<>\\^`{|}"), "%23%25%5B%5D%22%3C%3E%5C%5E%60%7B%7C%7D");
    EXPECT_EQ(percent::encode_segment(std::string("caf\xc3\xa9\x00\x7f\xff", 8)), "caf%C3%A9%00%7F%FF");
    EXPECT_EQ(percent::encode_segment(""), "");
}

TEST(percent, decode_turns_escapes_into_bytes_and_keeps_the_rest) {
    EXPECT_EQ(percent::decode("/user%40example.test/%zz"), "/user@example.test/%zz");
    EXPECT_EQ(percent::decode("caf%C3%a9%00"), std::string("caf\xc3\xa9\x00", 6));
    EXPECT_EQ(percent::decode("%4"), "%4");
    EXPECT_EQ(percent::decode("%"), "%");
    EXPECT_EQ(percent::decode("a%41"), "aA");
    EXPECT_EQ(percent::decode("%%41"), "%A");
    for (const std::string s : {"a b/c?", "#%[]", "caf\xc3\xa9"}) EXPECT_EQ(percent::decode(percent::encode_segment(s)), s);
}

}  // namespace percent_test
}  // namespace arrival::test
