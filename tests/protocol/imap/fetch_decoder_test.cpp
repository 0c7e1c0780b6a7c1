// FETCH decoding: records and body streams, every case fed at every split and with literals both inline and
// streamed (inline limit 4 bytes), which must give the same events.
#include <gtest/gtest.h>

#include "protocol/imap/fetch_decoder.hpp"
#include "tests/protocol/imap/transcript.hpp"
#include "tests/support/split_feed.hpp"

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace fetch_decoder_test {

using imap::response_parser;

struct fetch_case {
    const char* name;
    std::string_view bytes;
    std::string_view expected;
};

using namespace std::string_view_literals;

const fetch_case fetch_cases[] = {
    {"metadata", "* 1 FETCH (UID 7 FLAGS (\\Seen $Forwarded) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 44827)\r\n",
     "fetch seq=1 uid=7 flags=(\\Seen $Forwarded) date=17-Jul-1996 02:44:25 -0700 size=44827 parts=0\n"},
    {"empty_flags", "* 2 FETCH (FLAGS () UID 8)\r\n", "fetch seq=2 uid=8 flags=() parts=0\n"},
    {"body_uid_first", "* 1 FETCH (UID 7 BODY[] {11}\r\nhello world)\r\n",
     "body seq=1 uid=7 item=BODY[] section= origin=- nil=false size=11: hello world\nfetch seq=1 uid=7 parts=1\n"},
    {"body_before_uid", "* 3 FETCH (BODY[] {5}\r\nab\r\nc UID 9 FLAGS (\\Seen))\r\n",
     "body seq=3 uid=? item=BODY[] section= origin=- nil=false size=5: ab\r\nc\nfetch seq=3 uid=9 flags=(\\Seen) parts=1\n"},
    {"body_quoted", "* 1 FETCH (UID 1 BODY[TEXT] \"short\")\r\n",
     "body seq=1 uid=1 item=BODY[TEXT] section=TEXT origin=- nil=false size=5: short\nfetch seq=1 uid=1 parts=1\n"},
    {"body_nil", "* 1 FETCH (UID 1 BODY[1] NIL)\r\n",
     "body seq=1 uid=1 item=BODY[1] section=1 origin=- nil=true size=0: \nfetch seq=1 uid=1 parts=1\n"},
    {"body_empty_literal", "* 1 FETCH (UID 1 BODY[] {0}\r\n)\r\n",
     "body seq=1 uid=1 item=BODY[] section= origin=- nil=false size=0: \nfetch seq=1 uid=1 parts=1\n"},
    {"partial_origin", "* 1 FETCH (UID 1 BODY[]<0> {6}\r\nFrom: )\r\n",
     "body seq=1 uid=1 item=BODY[]<0> section= origin=0 nil=false size=6: From: \nfetch seq=1 uid=1 parts=1\n"},
    {"header_fields", "* 1 FETCH (UID 4 BODY[HEADER.FIELDS (MESSAGE-ID)] {21}\r\nMessage-ID: <a@b>\r\n\r\n)\r\n",
     "body seq=1 uid=4 item=BODY[HEADER.FIELDS (MESSAGE-ID)] section=HEADER.FIELDS (MESSAGE-ID) origin=- nil=false size=21: Message-ID: <a@b>\r\n\r\n\nfetch seq=1 uid=4 parts=1\n"},
    {"binary_literal8", "* 1 FETCH (UID 2 BINARY[] ~{4}\r\na\0\1b)\r\n"sv,
     "body seq=1 uid=2 item=BINARY[] section= origin=- nil=false size=4: a\0\1b\nfetch seq=1 uid=2 parts=1\n"sv},
    {"rfc822", "* 1 FETCH (RFC822 {3}\r\nabc UID 5)\r\n",
     "body seq=1 uid=? item=RFC822 section= origin=- nil=false size=3: abc\nfetch seq=1 uid=5 parts=1\n"},
    {"two_bodies_in_order", "* 1 FETCH (UID 1 BODY[1] {3}\r\none BODY[2] \"two\" BODY[3] {5}\r\nthree)\r\n",
     "body seq=1 uid=1 item=BODY[1] section=1 origin=- nil=false size=3: one\n"
     "body seq=1 uid=1 item=BODY[2] section=2 origin=- nil=false size=3: two\n"
     "body seq=1 uid=1 item=BODY[3] section=3 origin=- nil=false size=5: three\nfetch seq=1 uid=1 parts=3\n"},
    {"skips_envelope_with_literal",
     "* 2 FETCH (UID 2 ENVELOPE (\"Wed, 17 Jul 1996 02:44:25 -0700\" {12}\r\ntest 2 \xc3\xa9t\xc3\xa9 ((\"Alice\" NIL \"alice\" \"example.org\")) NIL NIL NIL NIL NIL NIL \"<m2@example.org>\") RFC822.SIZE 10)\r\n",
     "fetch seq=2 uid=2 size=10 parts=0\n"},
    {"skips_bodystructure", "* 1 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1 NIL NIL NIL) \"mixed\" (\"boundary\" \"x\") NIL NIL) UID 3 BODY (\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1))\r\n",
     "fetch seq=1 uid=3 parts=0\n"},
    {"skips_unknown_items", "* 1 FETCH (X-GM-MSGID 1278455344230334865 X-GM-LABELS (\\Inbox \"a b\") EMAILID (M6d99ac3275bb4e) UID 4 SNIPPET (FUZZY {5}\r\nhello))\r\n",
     "fetch seq=1 uid=4 parts=0\n"},
    {"modseq", "* 3 FETCH (UID 3 MODSEQ (6) FLAGS (\\Deleted))\r\n", "fetch seq=3 uid=3 flags=(\\Deleted) modseq=6 parts=0\n"},
    {"binary_size_is_not_a_body", "* 3 FETCH (UID 3 BINARY.SIZE[] 547)\r\n", "fetch seq=3 uid=3 parts=0\n"},
    {"lowercase_items", "* 1 fetch (uid 7 body[] {2}\r\nhi)\r\n",
     "body seq=1 uid=7 item=body[] section= origin=- nil=false size=2: hi\nfetch seq=1 uid=7 parts=1\n"},
    {"other_responses_pass_through", "* 4 EXISTS\r\n* 1 FETCH (UID 1)\r\na1 OK done\r\n",
     "* 4 EXISTS\nfetch seq=1 uid=1 parts=0\na1 OK done\n"},
    // errors (the connection must drop: the stream is not what FETCH says)
    {"uid_not_a_number", "* 1 FETCH (UID x)\r\n", "error: the server sent malformed IMAP"},
    {"uid_zero", "* 1 FETCH (UID 0)\r\n", "error: the server sent malformed IMAP"},
    {"flags_not_a_list", "* 1 FETCH (FLAGS \\Seen)\r\n", "error: the server sent malformed IMAP"},
    {"flags_with_string", "* 1 FETCH (FLAGS (\"x\"))\r\n", "error: the server sent malformed IMAP"},
    {"bad_date", "* 1 FETCH (INTERNALDATE \"32-Jul-1996 02:44:25 -0700\")\r\n", "error: malformed date-time"},
    {"missing_value", "* 1 FETCH (UID)\r\n", "error: the server sent malformed IMAP"},
    {"not_a_list", "* 1 FETCH UID 5\r\n", "error: the server sent malformed IMAP"},
    {"trailing_garbage", "* 1 FETCH (UID 5) X\r\n", "error: the server sent malformed IMAP"},
    {"without_number", "* FETCH (UID 5)\r\n", "error: unexpected response"},
    {"body_as_list", "* 1 FETCH (BODY[] (a))\r\n", "error: the server sent malformed IMAP"},
    {"literal_as_item_name", "* 1 FETCH ({5}\r\nhello 1)\r\n", "error: the server sent malformed IMAP"},
};

class fetch_decoder_table : public ::testing::TestWithParam<fetch_case> {};

TEST_P(fetch_decoder_table, inline_and_streamed_at_every_split) {
    const fetch_case& c = GetParam();
    response_parser::limits streamed;
    streamed.max_inline_literal = 4;
    for (const auto& limits : {response_parser::limits{}, streamed}) {
        const auto r = split_feed(c.bytes, [&](const std::vector<std::string_view>& chunks) {
            return fetch_transcript_of(chunks, limits);
        });
        EXPECT_EQ(r.whole, c.expected) << "inline limit " << limits.max_inline_literal;
        EXPECT_EQ(r.mismatch, "");
    }
}

INSTANTIATE_TEST_SUITE_P(cases, fetch_decoder_table, ::testing::ValuesIn(fetch_cases),
                         [](const auto& tpi) { return std::string(tpi.param.name); });

TEST(fetch_decoder, record_flags_are_views_of_the_final_response) {
    // FLAGS before a streamed body: the parser's buffer grows afterwards, the flags must still read right.
    std::string in = "* 9 FETCH (FLAGS (\\Seen \\Answered $Label1) BODY[] {100}\r\n" + std::string(100, 'z') +
                     " INTERNALDATE \"" + std::string(" 1-Jan-2000 00:00:00 +0000") + "\" UID 99)\r\n";
    response_parser::limits l;
    l.max_inline_literal = 10;
    const std::string t = fetch_transcript_of({in}, l);
    EXPECT_NE(t.find("fetch seq=9 uid=99 flags=(\\Seen \\Answered $Label1) date=01-Jan-2000 00:00:00 +0000 parts=1"),
              std::string::npos)
        << t;
}

}  // namespace
}  // namespace arrival::test
