// Byte-level tests of the response parser: {name, bytes, expected transcript}, each case also fed split at every
// byte position and one byte at a time (tests/support/split_feed).
#include <gtest/gtest.h>

#include "protocol/imap/response_parser.hpp"
#include "tests/protocol/imap/transcript.hpp"
#include "tests/support/split_feed.hpp"

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace response_parser_test {

using imap::response_parser;

struct parse_case {
    const char* name;
    std::string_view bytes;
    std::string_view expected;
    response_parser::limits limits{};
};

response_parser::limits small_literals() {
    response_parser::limits l;
    l.max_inline_literal = 4;
    return l;
}

response_parser::limits literal_cap() {
    response_parser::limits l;
    l.max_literal = 100;
    return l;
}

response_parser::limits total_cap() {
    response_parser::limits l;
    l.max_inline_total = 40;
    return l;
}

response_parser::limits tight() {
    response_parser::limits l;
    l.max_line = 16;
    l.max_depth = 2;
    l.max_literal = 100;
    return l;
}

using namespace std::string_view_literals;

const parse_case cases[] = {
    // --- status responses (server-text mode) ---
    {"greeting", "* OK [CAPABILITY IMAP4rev1 LITERAL+] Dovecot ready.\r\n",
     "* OK [CAPABILITY|IMAP4rev1 LITERAL+] Dovecot ready.\n"},
    {"tagged_ok", "a1 OK done\r\n", "a1 OK done\n"},
    {"tagged_no_code", "A00002 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
     "A00002 NO [AUTHENTICATIONFAILED|] Authentication failed.\n"},
    {"tagged_bad", "x BAD Error in IMAP command\r\n", "x BAD Error in IMAP command\n"},
    {"code_without_text", "a OK [READ-WRITE]\r\n", "a OK [READ-WRITE|] \n"},
    {"no_text_at_all", "a OK\r\n", "a OK \n"},
    {"text_is_not_tokenized", "* OK weird ( \"text {5}\r\n", "* OK weird ( \"text {5}\n"},
    {"bye", "* BYE Logging out\r\n", "* BYE Logging out\n"},
    {"preauth", "* PREAUTH [CAPABILITY IMAP4rev1] Logged in as bob\r\n", "* PREAUTH [CAPABILITY|IMAP4rev1] Logged in as bob\n"},
    {"permanentflags", "* OK [PERMANENTFLAGS (\\Seen \\*)] Flags permitted.\r\n",
     "* OK [PERMANENTFLAGS|(\\Seen \\*)] Flags permitted.\n"},
    {"appenduid", "a3 OK [APPENDUID 38505 3955] APPEND completed\r\n", "a3 OK [APPENDUID|38505 3955] APPEND completed\n"},
    {"lowercase_status", "a1 ok fine\r\n", "a1 OK fine\n"},
    {"bare_lf", "a1 OK fine\n", "a1 OK fine\n"},
    // --- continuation requests ---
    {"continuation", "+ Ready for literal data\r\n", "+ Ready for literal data\n"},
    {"continuation_empty", "+ \r\n", "+ \n"},
    {"continuation_bare", "+\r\n", "+ \n"},
    {"continuation_base64", "+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=\r\n",
     "+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=\n"},
    // --- data responses ---
    {"exists", "* 23 EXISTS\r\n", "* 23 EXISTS\n"},
    {"expunge_recent", "* 3 EXPUNGE\r\n* 0 RECENT\r\n", "* 3 EXPUNGE\n* 0 RECENT\n"},
    {"capability", "* CAPABILITY IMAP4rev1 AUTH=PLAIN ID\r\n", "* CAPABILITY IMAP4rev1 AUTH=PLAIN ID\n"},
    {"flags", "* FLAGS (\\Answered \\Seen $Forwarded)\r\n", "* FLAGS ( \\Answered \\Seen $Forwarded )\n"},
    {"list_quoted_delim", "* LIST (\\HasNoChildren) \"/\" INBOX\r\n", "* LIST ( \\HasNoChildren ) \"/\" INBOX\n"},
    {"list_nil_delim", "* LIST (\\Noselect) NIL \"\"\r\n", "* LIST ( \\Noselect ) NIL \"\"\n"},
    {"quoted_escapes", "* LIST () \"\\\\\" \"a \\\"b\\\" c\"\r\n", "* LIST ( ) \"\\\" \"a \"b\" c\"\n"},
    {"quoted_8bit", "* LIST () \"/\" \"\xc3\xa9t\xc3\xa9\"\r\n", "* LIST ( ) \"/\" \"\xc3\xa9t\xc3\xa9\"\n"},
    {"nil_any_case", "* ID nil\r\n", "* ID NIL\n"},
    {"nested_lists", "* NAMESPACE ((\"\" \"/\")) NIL ((\"#shared/\" \"/\" \"X\" (\"a\")))\r\n",
     "* NAMESPACE ( ( \"\" \"/\" ) ) NIL ( ( \"#shared/\" \"/\" \"X\" ( \"a\" ) ) )\n"},
    {"empty_list", "* FLAGS ()\r\n", "* FLAGS ( )\n"},
    {"literal_inline", "* 1 FETCH (BODY[] {5}\r\nhello UID 7)\r\n", "* 1 FETCH ( BODY[] {5}hello UID 7 )\n"},
    {"literal_empty", "* 1 FETCH (BODY[] {0}\r\n)\r\n", "* 1 FETCH ( BODY[] {0} )\n"},
    {"literal_with_crlf_inside", "* 1 FETCH (BODY[] {7}\r\na\r\nb\r\n )\r\n", "* 1 FETCH ( BODY[] {7}a\r\nb\r\n  )\n"},
    {"literal_at_line_end", "* LIST () \"/\" {3}\r\nabc\r\n", "* LIST ( ) \"/\" {3}abc\n"},
    {"literal_nul_bytes", "* 1 FETCH (BINARY[] ~{3}\r\na\0b)\r\n"sv, "* 1 FETCH ( BINARY[] ~{3}a\0b )\n"sv},
    {"two_literals", "* 1 FETCH (BODY[1] {2}\r\nab BODY[2] {2}\r\ncd)\r\n", "* 1 FETCH ( BODY[1] {2}ab BODY[2] {2}cd )\n"},
    {"section_with_spaces", "* 1 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID SUBJECT)] {2}\r\nab)\r\n",
     "* 1 FETCH ( BODY[HEADER.FIELDS (MESSAGE-ID SUBJECT)] {2}ab )\n"},
    {"section_origin", "* 1 FETCH (BODY[]<0> {2}\r\nab)\r\n", "* 1 FETCH ( BODY[]<0> {2}ab )\n"},
    {"esearch", "* ESEARCH (TAG \"a21\") UID MIN 1 MAX 3 ALL 1:3,5 COUNT 3\r\n",
     "* ESEARCH ( TAG \"a21\" ) UID MIN 1 MAX 3 ALL 1:3,5 COUNT 3\n"},
    {"star_in_atoms", "* FLAGS (\\*)\r\n", "* FLAGS ( \\* )\n"},
    {"pipelined", "* 1 EXISTS\r\na1 OK x\r\n* 2 EXISTS\r\na2 OK y\r\n", "* 1 EXISTS\na1 OK x\n* 2 EXISTS\na2 OK y\n"},
    {"incomplete_is_partial", "* 1 FETCH (UID", "partial"},
    {"incomplete_literal", "* 1 FETCH (BODY[] {5}\r\nhel", "partial"},
    // --- streamed literals (limit 4 bytes inline) ---
    {"streamed", "* 1 FETCH (UID 3 BODY[] {10}\r\n0123456789)\r\n",
     "<literal 10 after: * 1 FETCH ( UID 3 BODY[]><0123456789>\n* 1 FETCH ( UID 3 BODY[] {10*} )\n", small_literals()},
    {"streamed_then_more", "* 1 FETCH (BODY[] {6}\r\nab\r\ncd UID 9)\r\na1 OK\r\n",
     "<literal 6 after: * 1 FETCH ( BODY[]><ab\r\ncd>\n* 1 FETCH ( BODY[] {6*} UID 9 )\na1 OK \n", small_literals()},
    {"streamed_literal8", "* 1 FETCH (BINARY[] ~{5}\r\n\0\1\2\3\4)\r\n"sv,
     "<literal 5 after: * 1 FETCH ( BINARY[]><\0\1\2\3\4>\n* 1 FETCH ( BINARY[] ~{5*} )\n"sv, small_literals()},
    {"inline_at_limit", "* 1 FETCH (BODY[] {4}\r\nabcd)\r\n", "* 1 FETCH ( BODY[] {4}abcd )\n", small_literals()},
    // --- errors ---
    {"empty_line", "\r\n", "error: the server sent malformed IMAP (response line 1: empty line)"},
    {"tagged_not_status", "a1 FETCH x\r\n", "error: the server sent malformed IMAP (response line 1: tagged response without OK, NO or BAD)"},
    {"missing_close_paren", "* FLAGS (\\Seen\r\n", "error: the server sent malformed IMAP (response line 1: missing ')')"},
    {"extra_close_paren", "* FLAGS \\Seen)\r\n", "error: the server sent malformed IMAP (response line 1: unexpected ')')"},
    {"unterminated_quote", "* LIST () \"/ INBOX\r\n", "error: the server sent malformed IMAP (response line 1: unterminated quoted string)"},
    {"bad_escape", "* LIST () \"\\n\" INBOX\r\n", "error: the server sent malformed IMAP (response line 1: invalid escape in a quoted string)"},
    {"nul_in_line", "* FLAGS (a\0b)\r\n"sv, "error: the server sent malformed IMAP (response line 1: NUL in a response)"sv},
    {"nul_in_text", "a1 OK a\0b\r\n"sv, "error: the server sent malformed IMAP (response line 1: NUL or CR in response text)"sv},
    {"cr_in_middle", "* FLAGS (a\rb)\r\n", "error: the server sent malformed IMAP (response line 1: control character in a response)"},
    {"literal_no_size", "* LIST () \"/\" {}\r\n", "error: malformed literal (response line 1: literal without a size)"},
    {"literal_negative", "* LIST () \"/\" {-1}\r\n", "error: malformed literal (response line 1: literal without a size)"},
    {"literal_not_at_end", "* LIST () {3} x\r\n", "error: malformed literal (response line 1: literal header not at the end of the line)"},
    {"literal_overflow", "* 1 FETCH (BODY[] {99999999999999999999999}\r\n", "error: literal size too large (response line 1: literal size overflows)"},
    {"literal_too_big", "* 1 FETCH (BODY[] {101}\r\n", "error: literal size too large (response line 1: literal of 101 bytes exceeds the limit of 100)", literal_cap()},
    {"line_too_long", "* CAPABILITY 0123456789abcdef\r\n", "error: response line too long (response line 1: line longer than 16 bytes)", tight()},
    {"line_too_long_without_lf", "* CAPABILITY 0123456789abcdef", "error: response line too long (response line 1: line longer than 16 bytes)", tight()},
    {"response_too_long", "* LIST () \"/\" {2}\r\nab\r\n* LIST () {2}\r\nab {2}\r\ncd {2}\r\nef {2}\r\ngh\r\n",
     "* LIST ( ) \"/\" {2}ab\nerror: literal size too large (response line 6: response larger than the inline limit)", total_cap()},
    {"response_too_long_lines", "* LIST () \"/\" {2}\r\nab\r\n* LIST () {2}\r\nab {2}\r\ncd {0}\r\n {0}\r\n                 \r\n",
     "* LIST ( ) \"/\" {2}ab\nerror: response line too long (response line 7: response longer than 40 bytes)", total_cap()},
    {"nesting_too_deep", "* X (((a)))\r\n", "error: lists nested too deeply (response line 1: lists nested deeper than 2)", tight()},
    {"missing_tag_space", "a1\r\n", "error: the server sent malformed IMAP (response line 1: missing space after the tag)"},
    {"number_without_name", "* 12\r\n", "error: the server sent malformed IMAP (response line 1: missing space after the message number)"},
    {"number_overflow", "* 99999999999 EXISTS\r\n", "error: the server sent malformed IMAP (response line 1: message number out of range)"},
    {"code_unterminated", "a1 OK [ALERT oops\r\n", "error: the server sent malformed IMAP (response line 1: response code without ']')"},
    {"error_line_number", "* 1 EXISTS\r\n* 2 EXISTS\r\n* FLAGS (\r\n",
     "* 1 EXISTS\n* 2 EXISTS\nerror: the server sent malformed IMAP (response line 3: missing ')')"},
};

class response_parser_table : public ::testing::TestWithParam<parse_case> {};

TEST_P(response_parser_table, every_split_gives_the_expected_transcript) {
    const parse_case& c = GetParam();
    const auto r = split_feed(c.bytes, [&](const std::vector<std::string_view>& chunks) {
        return parse_transcript(chunks, c.limits);
    });
    EXPECT_EQ(r.whole, c.expected);
    EXPECT_EQ(r.mismatch, "");
}

INSTANTIATE_TEST_SUITE_P(cases, response_parser_table, ::testing::ValuesIn(cases),
                         [](const auto& tpi) { return std::string(tpi.param.name); });

TEST(response_parser, stays_failed_until_reset) {
    response_parser p;
    transcript_handler h;
    EXPECT_EQ(p.feed("\r\n", h), imap::errc::bad_syntax);
    EXPECT_EQ(p.feed("* 1 EXISTS\r\n", h), imap::errc::bad_syntax);
    EXPECT_EQ(h.out, "");
    p.reset();
    EXPECT_FALSE(p.feed("* 1 EXISTS\r\n", h));
    EXPECT_EQ(h.out, "* 1 EXISTS\n");
}

TEST(response_parser, handler_error_stops_the_feed) {
    struct refuse : transcript_handler {
        imap::error_code on_response(const imap::response& r) override {
            (void)transcript_handler::on_response(r);
            return imap::errc::unexpected_tag;
        }
    } h;
    response_parser p;
    EXPECT_EQ(p.feed("a9 OK x\r\n* 1 EXISTS\r\n", h), imap::errc::unexpected_tag);
    EXPECT_EQ(h.out, "a9 OK x\n");  // nothing after the refused response was handed out
}

TEST(response_parser, big_literals_are_refused_unless_the_handler_streams_them) {
    struct plain : imap::response_handler {
        int responses = 0;
        imap::error_code on_response(const imap::response&) override { ++responses; return {}; }
    } h;
    response_parser p(small_literals());
    EXPECT_EQ(p.feed("* LIST () \"/\" {10}\r\n0123456789\r\n", h), imap::errc::literal_too_big);
    EXPECT_EQ(h.responses, 0);
}

TEST(response_parser, has_partial_detects_bytes_after_starttls_ok) {
    response_parser p;
    transcript_handler h;
    EXPECT_FALSE(p.feed("a1 OK Begin TLS negotiation now\r\n", h));
    EXPECT_FALSE(p.has_partial());
    EXPECT_FALSE(p.feed("a1 OK Begin TLS\r\n* 1 EX", h));
    EXPECT_TRUE(p.has_partial());
}

TEST(response_parser, large_literal_is_streamed_with_bounded_memory) {
    // 8 MB body fed in 64 KiB chunks: the chunks reach the handler without being buffered.
    const std::size_t size = 8 * 1024 * 1024;
    std::string body(size, 'x');
    for (std::size_t i = 0; i < size; i += 1000) body[i] = '\n';
    const std::string head = "* 1 FETCH (UID 5 BODY[] {" + std::to_string(size) + "}\r\n";
    struct counting : imap::response_handler {
        std::uint64_t bytes = 0, chunks = 0, responses = 0;
        imap::error_code on_response(const imap::response&) override { ++responses; return {}; }
        imap::error_code on_literal_begin(const imap::response&, std::uint64_t) override { return {}; }
        imap::error_code on_literal_chunk(std::string_view b) override { bytes += b.size(); ++chunks; return {}; }
    } h;
    response_parser p;
    ASSERT_FALSE(p.feed(head, h));
    for (std::size_t i = 0; i < size; i += 65536) ASSERT_FALSE(p.feed(std::string_view(body).substr(i, 65536), h));
    ASSERT_FALSE(p.feed(")\r\n", h));
    EXPECT_EQ(h.bytes, size);
    EXPECT_EQ(h.chunks, size / 65536);
    EXPECT_EQ(h.responses, 1u);
}

}  // namespace
}  // namespace arrival::test
