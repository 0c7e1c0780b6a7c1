// CSV reader and text decoding on bytes: RFC 4180 quoting, embedded newlines, delimiters, BOMs, UTF-16,
// Windows-1252, and recovery from an unterminated quote.
#include <gtest/gtest.h>

#include "engine/pim/csv_reader.hpp"
#include "engine/pim/sha256.hpp"
#include "engine/pim/text_decode.hpp"
#include "protocol/csv.hpp"

namespace arrival::pim {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace csv_reader_test {

using fields = std::vector<std::string>;

TEST(csv_reader, rfc4180_quoting_and_embedded_newlines) {
    const auto t = parse_csv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\nplain,,last\r\n", ',');
    EXPECT_EQ(t.header, (fields{"a", "b", "c"}));
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.rows[0].fields, (fields{"x, y", "say \"hi\"", "two\r\nlines"}));
    EXPECT_EQ(t.rows[0].line, 2u);
    EXPECT_EQ(t.rows[1].fields, (fields{"plain", "", "last"}));
    EXPECT_EQ(t.rows[1].line, 4u);
    EXPECT_TRUE(t.issues.empty());
}

TEST(csv_reader, line_ends_lf_cr_and_missing_final_newline) {
    const auto t = parse_csv("h1;h2\nA;B\rC;D\r\nE;F", ';');
    ASSERT_EQ(t.rows.size(), 3u);
    EXPECT_EQ(t.rows[1].fields, (fields{"C", "D"}));
    EXPECT_EQ(t.rows[2].fields, (fields{"E", "F"}));
    EXPECT_EQ(t.rows[2].line, 4u);
}

TEST(csv_reader, blank_lines_are_not_records) {
    const auto t = parse_csv("h\n\nx\n\n", ',');
    ASSERT_EQ(t.rows.size(), 1u);
    EXPECT_EQ(t.rows[0].line, 3u);
}

TEST(csv_reader, stray_quote_in_unquoted_field_is_kept) {
    const auto t = parse_csv("h,i\n5\" disk,x\n\"ab\"cd,y\n", ',');
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.rows[0].fields[0], "5\" disk");
    EXPECT_EQ(t.rows[1].fields[0], "abcd");
}

TEST(csv_reader, unterminated_quote_loses_only_that_record) {
    const auto t = parse_csv("n,note\nA,ok\nB,\"never closed\nC,fine\n", ',');
    ASSERT_EQ(t.issues.size(), 1u);
    EXPECT_EQ(t.issues[0].line, 3u);
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.rows[0].fields, (fields{"A", "ok"}));
    EXPECT_EQ(t.rows[1].fields, (fields{"C", "fine"}));
    EXPECT_EQ(t.rows[1].line, 4u);
}

TEST(csv_reader, write_record_round_trips) {
    const fields f{"plain", "with,comma", "with \"quote\"", "two\nlines", ""};
    const auto line = arrival::csv::record(f);
    EXPECT_EQ(line, "plain,\"with,comma\",\"with \"\"quote\"\"\",\"two\nlines\",\r\n");
    const auto t = parse_csv("h\r\n" + line, ',');
    ASSERT_EQ(t.rows.size(), 1u);
    EXPECT_EQ(t.rows[0].fields, f);
}

TEST(text_decode, encodings) {
    text_encoding e{};
    EXPECT_EQ(decode_to_utf8("\xEF\xBB\xBFna\xC3\xAFve", e), "na\xC3\xAFve");
    EXPECT_EQ(e, text_encoding::utf8);
    EXPECT_EQ(decode_to_utf8(std::string("\xFF\xFE" "a\0\xE9\0", 6), e), "a\xC3\xA9");
    EXPECT_EQ(e, text_encoding::utf16le);
    EXPECT_EQ(decode_to_utf8(std::string("\xFE\xFF\0a\xD8\x3D\xDE\x00", 8), e), "a\xF0\x9F\x98\x80");
    EXPECT_EQ(e, text_encoding::utf16be);
    EXPECT_EQ(decode_to_utf8(std::string("a\0b\0c\0d\0", 8), e), "abcd");  // BOM-less UTF-16LE
    EXPECT_EQ(e, text_encoding::utf16le);
    EXPECT_EQ(decode_to_utf8("M\xFCller \x80 \x93q\x94", e), "M\xC3\xBCller \xE2\x82\xAC \xE2\x80\x9Cq\xE2\x80\x9D");
    EXPECT_EQ(e, text_encoding::windows1252);
    // Unpaired surrogate and odd trailing byte become U+FFFD rather than being dropped silently.
    EXPECT_EQ(decode_to_utf8(std::string("\xFF\xFE\x00\xD8" "a", 5), e), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(text_decode, utf8_validation) {
    EXPECT_TRUE(is_valid_utf8("plain ascii"));
    EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x8E\x89"));
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

TEST(sha256, known_vectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1000, 'a'), 4), "41edece4");
}

}  // namespace
}  // namespace arrival::pim
