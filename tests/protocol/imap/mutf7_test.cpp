// Modified UTF-7 (RFC 3501 §5.1.3) both ways, and the strictness that keeps one name from having two spellings.
#include <gtest/gtest.h>

#include "protocol/imap/diagnostics.hpp"
#include "protocol/imap/mutf7.hpp"

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace mutf7_test {

using namespace arrival::imap;

struct pair_case {
    std::string_view utf8;
    std::string_view mutf7;
};

const pair_case round_trips[] = {
    {"INBOX", "INBOX"},
    {"", ""},
    {"a&b", "a&-b"},
    {"&", "&-"},
    {"\xc3\x89t\xc3\xa9", "&AMk-t&AOk-"},                                           // Été (Dovecot fixture)
    {"\xc3\x89t\xc3\xa9/Projekt \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "&AMk-t&AOk-/Projekt &ZeVnLIqe-"},  // 日本語
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},  // RFC 3501 example
    {"\xf0\x9f\x93\xa7 Mail", "&2D3c5w- Mail"},                                     // U+1F4E7: surrogate pair
    {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
    {"\x7f", "&AH8-"},                                                              // DEL is not printable
    {"\xc3\xa4\xc3\xb6\xc3\xbc", "&AOQA9gD8-"},                                     // one run for adjacent chars
};

TEST(mutf7, round_trips) {
    for (const auto& c : round_trips) {
        std::string enc, dec;
        ASSERT_FALSE(encode_mutf7(c.utf8, enc)) << c.utf8;
        EXPECT_EQ(enc, c.mutf7);
        ASSERT_FALSE(decode_mutf7(c.mutf7, dec)) << c.mutf7;
        EXPECT_EQ(dec, c.utf8);
    }
}

struct bad_case {
    std::string_view input;
    std::string_view message;
};

const bad_case bad_mutf7[] = {
    {"&AMk", "invalid modified UTF-7 at byte 0: encoded run not terminated by '-'"},
    {"&A!k-", "invalid modified UTF-7 at byte 2: invalid modified BASE64 character"},
    {"&AMk/-", "invalid modified UTF-7 at byte 4: invalid modified BASE64 character"},   // "/" is not modified BASE64
    {"&AGE-", "invalid modified UTF-7 at byte 3: printable US-ASCII must not be encoded"},  // "a"
    {"&ACY-", "invalid modified UTF-7 at byte 3: printable US-ASCII must not be encoded"},  // "&" must be "&-"
    {"&AMk-&AOk-", "invalid modified UTF-7 at byte 5: two adjacent encoded runs (not minimal)"},
    {"&2D0-", "invalid modified UTF-7 at byte 4: high surrogate at the end of an encoded run"},
    {"&3OcAQQ-", "invalid modified UTF-7 at byte 3: low surrogate without a high one"},
    {"&2D0AQQ-", "invalid modified UTF-7 at byte 6: high surrogate not followed by a low one"},
    {"&AMl-", "invalid modified UTF-7 at byte 4: non-zero or excess padding bits"},
    {"&AMkA-", "invalid modified UTF-7 at byte 5: non-zero or excess padding bits"},
    {"&AAA-", "invalid modified UTF-7 at byte 3: encoded NUL"},
    {"\xc3\xa9", "invalid modified UTF-7 at byte 0: 8-bit or control character"},
    {"a\tb", "invalid modified UTF-7 at byte 1: 8-bit or control character"},
};

TEST(mutf7, rejects_invalid_input_with_a_clear_error) {
    for (const auto& c : bad_mutf7) {
        std::string out = "untouched";
        diagnostics d;
        EXPECT_EQ(decode_mutf7(c.input, out, &d), errc::bad_mutf7) << c.input;
        EXPECT_EQ(d.client_message(), c.message) << c.input;
        EXPECT_EQ(out, "untouched");
    }
}

const bad_case bad_utf8[] = {
    {"a\xc3", "invalid UTF-8 at byte 1: truncated sequence"},
    {"\xc0\xaf", "invalid UTF-8 at byte 0: overlong encoding"},
    {"\xe0\x80\xaf", "invalid UTF-8 at byte 0: overlong encoding"},
    {"\xed\xa0\x80", "invalid UTF-8 at byte 0: UTF-16 surrogate encoded in UTF-8"},
    {"\xf4\x90\x80\x80", "invalid UTF-8 at byte 0: code point above U+10FFFF"},
    {"\xff", "invalid UTF-8 at byte 0: invalid lead byte"},
    {"\xc3(", "invalid UTF-8 at byte 0: missing continuation byte"},
    {std::string_view("a\0b", 3), "invalid UTF-8 at byte 1: NUL in a mailbox name"},
};

TEST(mutf7, encoder_rejects_invalid_utf8) {
    for (const auto& c : bad_utf8) {
        std::string out;
        diagnostics d;
        EXPECT_EQ(encode_mutf7(c.input, out, &d), errc::bad_utf8);
        EXPECT_EQ(d.client_message(), c.message);
    }
}

}  // namespace
}  // namespace arrival::test
