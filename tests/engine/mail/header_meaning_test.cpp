// Tables of real-world spellings of one header field meaning, per rule of engine/mail/header_meaning.hpp, and
// broken values that must neither crash nor collide with a parsed meaning.
#include "engine/mail/header_meaning.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/mail/dedupe_key.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace header_meaning_test {

using namespace arrival::engine;

namespace {

struct spelling_row {
    const char* raw;
    const char* meaning;
};

}  // namespace

TEST(header_meaning, subject_encoded_words_split_and_labelled_differently) {
    // "Grüße aus Köln – Café" in every form mail servers and clients produce.
    const std::vector<spelling_row> rows = {
        {"Grüße aus Köln – Café", "Grüße aus Köln – Café"},                                      // RFC 6532 raw UTF-8
        {"=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4g4oCTIENhZsOp?=", "Grüße aus Köln – Café"},           // one B word
        {"=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln_=E2=80=93_Caf=C3=A9?=", "Grüße aus Köln – Café"},  // Q, lower label
        {"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus =?UTF-8?Q?K=C3=B6ln?= =?UTF-8?Q?_=E2=80=93_Caf=C3=A9?=", "Grüße aus Köln – Café"},
        // Split inside a multi-byte character (each word alone is not valid UTF-8), folded between words.
        {"=?UTF-8?B?R3LDvMO=?=\r\n =?UTF-8?B?n2UgYXVzIEvDtmxuIOKAkyBDYWbDqQ==?=", "Grüße aus Köln – Café"},
        {"=?UTF-8*de?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln_=E2=80=93_Caf=C3=A9?=", "Grüße aus Köln – Café"},  // RFC 2231 language
        // NFD (macOS Mail) composes to NFC.
        {"=?UTF-8?Q?Gru=CC=88=C3=9Fe_aus_Ko=CC=88ln_=E2=80=93_Cafe=CC=81?=", "Grüße aus Köln – Café"},
        {"Gru\xCC\x88\xC3\x9F" "e aus Ko\xCC\x88ln \xE2\x80\x93 Cafe\xCC\x81", "Grüße aus Köln – Café"},
        {"  Grüße   aus\r\n\tKöln –  Café ", "Grüße aus Köln – Café"},                                // folding
    };
    for (const auto& r : rows) EXPECT_EQ(unstructured_meaning(r.raw), r.meaning) << r.raw;

    const std::vector<spelling_row> latin1 = {
        {"=?ISO-8859-1?Q?Caf=E9_cr=E8me?=", "Café crème"},
        {"=?iso-8859-1?b?Q2Fm6SBjcuhtZQ==?=", "Café crème"},
        {"=?latin1?Q?Caf=E9?= =?UTF-8?Q?_cr=C3=A8me?=", "Café crème"},   // two charsets in one field
        {"=?windows-1252?Q?Caf=E9_cr=E8me?=", "Café crème"},
        {"=?UTF-8?Q?Caf=C3=A9_cr=C3=A8me?=", "Café crème"},
    };
    for (const auto& r : latin1) EXPECT_EQ(unstructured_meaning(r.raw), r.meaning) << r.raw;

    // Space between an encoded word and plain text is text; between two encoded words it is not (§6.2).
    EXPECT_EQ(unstructured_meaning("Re: =?UTF-8?Q?Caf=C3=A9?= menu"), "Re: Café menu");
    EXPECT_EQ(unstructured_meaning("=?UTF-8?Q?a?= =?UTF-8?Q?b?="), "ab");
    EXPECT_EQ(unstructured_meaning("=?UTF-8?Q?a_?= =?UTF-8?Q?b?="), "a b");
}

TEST(header_meaning, subject_broken_words_stay_as_written) {
    const std::vector<spelling_row> rows = {
        {"=?x-unknown-charset?Q?abc?=", "=?x-unknown-charset?Q?abc?="},
        {"=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="},                 // no such encoding
        {"=?UTF-8?B?not base64!?=", "=?UTF-8?B?not base64!?="},
        {"=?UTF-8?Q?unterminated", "=?UTF-8?Q?unterminated"},
        {"=?\?Q?abc?=", "=?\?Q?abc?="},
        {"=?UTF-8?B?/w==?=", "=?UTF-8?B?/w==?="},              // decodes to 0xFF: not UTF-8
        {"=?", "=?"},
        {"", ""},
    };
    for (const auto& r : rows) EXPECT_EQ(unstructured_meaning(r.raw), r.meaning) << r.raw;
    // 8-bit bytes that are not UTF-8 are kept, not replaced: two such subjects stay different.
    EXPECT_EQ(unstructured_meaning("Caf\xE9"), "Caf\xE9");
    EXPECT_NE(unstructured_meaning("Caf\xE9"), unstructured_meaning("Caf\xE8"));
}

TEST(header_meaning, from_address_only) {
    const std::vector<spelling_row> rows = {
        {"John Doe <John.Doe@Example.COM>", "John.Doe@example.com"},
        {"\"John Doe\" <John.Doe@example.com>", "John.Doe@example.com"},
        {"\"Doe, John\" <John.Doe@EXAMPLE.com>", "John.Doe@example.com"},
        {"=?UTF-8?Q?J=C3=B6hn_D=C3=B6e?= <John.Doe@example.com>", "John.Doe@example.com"},
        {"=?ISO-8859-1?Q?J=F6hn?= <John.Doe@example.com>", "John.Doe@example.com"},
        {"John.Doe@example.com (John Doe)", "John.Doe@example.com"},
        {"John.Doe@Example.Com", "John.Doe@example.com"},
        {"  John\r\n Doe\r\n\t<John.Doe@example.com>  ", "John.Doe@example.com"},
        {"<John.Doe@example.com>", "John.Doe@example.com"},
    };
    for (const auto& r : rows) EXPECT_EQ(address_list_meaning(r.raw), r.meaning) << r.raw;
    EXPECT_EQ(address_list_meaning("a@x.org, B <b@Y.org>"), "a@x.org,b@y.org");
    // The local part keeps its case (RFC 5321 §2.4).
    EXPECT_NE(address_list_meaning("john.doe@example.com"), address_list_meaning("John.Doe@example.com"));
}

TEST(header_meaning, dates_in_many_zones_are_one_instant) {
    // 2024-03-10 12:00:00 UTC.
    const std::int64_t t = 1710072000;
    const std::vector<const char*> rows = {
        "Sun, 10 Mar 2024 12:00:00 +0000",
        "Sun, 10 Mar 2024 12:00:00 GMT",
        "Sun, 10 Mar 2024 12:00:00 UT",
        "10 Mar 2024 12:00:00 -0000",
        "Sun, 10 Mar 2024 13:00:00 +0100",
        "Sun, 10 Mar 2024 13:00:00 +0100 (CET)",
        "Sun, 10 Mar 2024 07:00:00 -0500",
        "Sun, 10 Mar 2024 07:00:00 EST",
        "Sun, 10 Mar 2024 04:00:00 PST",
        "Sun, 10 Mar 2024 17:30:00 +0530",
        "Sun, 10 Mar 2024 21:00:00 +0900",
        "Sat, 9 Mar 2024 23:00:00 -1300",
        "Sun, 10 Mar 24 12:00:00 +0000",             // two-digit year (RFC 5322 §4.3)
        "Sun,\r\n 10 Mar 2024\r\n 12:00:00 +0000",  // folded
        "Sun, 10 Mar 2024 12:00:00 +0000  ",
    };
    for (const char* r : rows) {
        const auto v = date_meaning(r);
        ASSERT_TRUE(v.has_value()) << r;
        EXPECT_EQ(*v, t) << r;
    }
    EXPECT_EQ(date_meaning("Thu, 1 Jan 1998 00:00:00 +0000"), 883612800);
    EXPECT_EQ(date_meaning("Wed, 19 Jan 2039 03:14:08 +0000"), 2179019648);   // past the 32-bit limit
    for (const char* bad : {"", "garbage", "Sun, 31 Feb 2024 12:00:00 +0000", "Sun, 10 Foo 2024 12:00:00 +0000",
                            "Sun, 10 Mar 2024 25:00:00 +0000", "Thu, 1 Jan 1970 00:00:00 +0000", "10", ",,,"}) {
        EXPECT_FALSE(date_meaning(bad).has_value()) << bad;
    }
}

TEST(header_meaning, direct_readers_answer_what_mimetic_answers) {
    // The common spellings are read without mimetic (header_meaning.cpp); every row, inside their grammar or
    // just outside it, must mean what mimetic alone reads, or a rerun would key a message differently.
    for (const char* d : {"Sun, 10 Mar 2024 12:00:00 +0000", "10 Mar 2024 12:00:00 +0000", "Sun, 10 Mar 2024 12:00 +0000",
                          "Mon, 01 Jan 2024 00:00:00 -0000", "Thu, 29 Feb 2024 23:59:60 +2359", "Fri, 31 Dec 9999 23:59:59 -2359",
                          "Tue, 1 Jan 1900 00:00:00 +0000", "Thu, 1 Jan 1970 00:00:00 +0000", "Fri, 1 Jan 1971 00:00:00 +0000",
                          "Sun, 10 Mar 2024 12:00:00 +2400", "Sun, 10 Mar 2024 12:00:00 +0060", "Sun, 10 MAR 2024 12:00:00 +0000",
                          "Sun, 30 Feb 2024 12:00:00 +0000", "Sun, 10 Mar 2024 24:00:00 +0000", "Sun, 10 Mar 2024 12:60:00 +0000",
                          "Sun, 10 Mar 2024 12:00:61 +0000", "Sun, 10 Mar 24 12:00:00 +0000", "Sun, 100 Mar 2024 12:00:00 +0000",
                          "Sun, 10 Mar 2024 12:00:00 GMT", "Sun, 10 Mar 2024 12:00:00 +000", "Sun, 10 Mar 2024 12:00:00 +00000",
                          "Sun,10 Mar 2024 12:00:00 +0000", "Xyz, 10 Mar 2024 12:00:00 +0000", "Sun, 10 Mar 2024 1:00:00 +0000",
                          "Sun, 10 Mar 20245 12:00:00 +0000", "Sun, 10 Mar 2024 12:00:00 +0000 x", "Sun, 0 Mar 2024 12:00:00 +0000"}) {
        EXPECT_EQ(date_meaning(d), detail::date_meaning_by_mimetic(d)) << d;
    }
    for (const char* a : {"alice@example.test", "Alice Example <alice@Example.TEST>", "Alice <john.doe+tag@example.test>",
                          "a=b_c-d@x.y", "Bob 2 <b@x>", "<alice@example.test>", "Alice<alice@example.test>",
                          "Alice <alice@example.test> ", "alice@@example.test", "alice.@example.test", ".alice@example.test",
                          "al..ice@example.test", "alice@example..test", "alice@", "@example.test", "alice", "Alice <alice>",
                          "J. Smith <j@x>", "Liam O'Brien <liam@example.org>", "' <a@x>", "\"Smith, J\" <j@x>", "a@x, b@y", "Al <a@x>, b@y", "=?utf-8?q?J=C3=BCrgen?= <j@x>",
                          "Alice <alice@example.test", "Alice alice@example.test>", "group: a@x;", "Alice <a@x> <b@y>"}) {
        EXPECT_EQ(address_list_meaning(a), detail::address_list_meaning_by_mimetic(a)) << a;
    }
}

TEST(header_meaning, message_id_with_comments_and_folding) {
    const std::vector<spelling_row> rows = {
        {"(comment) <id.1@Host.Example>", "id.1@host.example"},
        {"<id.1@host.example> (trailing comment)", "id.1@host.example"},
        {"(a <decoy@x> comment) <id.1@host.example>", "id.1@host.example"},
        {"(nested (comment)) <id.1@host.example>", "id.1@host.example"},
        {"\r\n (folded\r\n comment)\r\n <id.1@host.example>", "id.1@host.example"},
        {"id.1@HOST.example", "id.1@host.example"},
    };
    for (const auto& r : rows) EXPECT_EQ(message_id_meaning(r.raw), r.meaning) << r.raw;
    // Through the key: every spelling is the key of the plain id.
    const auto plain = compute_dedupe_key("Message-ID: <id.1@host.example>\r\n\r\n", 1);
    for (const auto& r : rows) {
        EXPECT_EQ(compute_dedupe_key(std::string("Message-ID: ") + r.raw + "\r\n\r\n", 1), plain) << r.raw;
    }
    EXPECT_EQ(message_id_meaning("no-at-sign"), "");
    EXPECT_EQ(message_id_meaning(""), "");
}

TEST(header_meaning, broken_values_do_not_crash) {
    const std::vector<std::string> rows = {
        "", "<", ">", "<>", "<<<>>>", "(", ")", "((((", "\"", "\"unterminated <x@y", "@", "@@@", ":;", "a:b;",
        "=?", "=?=", "=?\?=", "=?UTF-8?B?", "=?UTF-8?B?\?=", "=?UTF-8?Q?=?=", "=?UTF-8?Q?=F?=", std::string(5000, '('),
        std::string(5000, '<'), std::string("\0\0\0", 3), "\xFF\xFE\x80", "Mon, 99 Xyz 99999 99:99:99 +9999",
        "Mon, 1 Jan 2024 10:00:00 +", "Mon, 1 Jan", "1 1 1 1 1", "group: a@b, c@d;", "undisclosed-recipients:;",
    };
    for (const auto& r : rows) {
        (void)unstructured_meaning(r);
        (void)address_list_meaning(r);
        (void)date_meaning(r);
        (void)message_id_meaning(r);
        const auto k = compute_dedupe_key("Message-ID: " + r + "\r\nFrom: " + r + "\r\nDate: " + r + "\r\nSubject: " + r + "\r\n\r\n", 10);
        EXPECT_EQ(k.to_string().size(), 33u);
    }
}

TEST(dedupe_key_fallback, re_encoded_copies_share_the_key) {
    // One message without Message-ID as the source has it, and as a server re-wrote its headers.
    const std::string original =
        "Date: Sun, 10 Mar 2024 13:00:00 +0100\r\n"
        "From: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <Joerg@Example.DE>\r\n"
        "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n\r\n";
    const std::vector<std::string> rewritten = {
        "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\r\nFrom: \"J\xC3\xB6rg M\xC3\xBCller\" <Joerg@example.de>\r\n"
        "Date: Sun, 10 Mar 2024 12:00:00 +0000\r\n\r\n",
        "Date: Sun, 10 Mar 2024 07:00:00 -0500 (EST)\r\nFrom: Joerg@example.de (Joerg Mueller)\r\n"
        "Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=\r\n\r\n",
        "Date: Sun, 10 Mar 2024\r\n 13:00:00 +0100\r\nFrom: =?UTF-8?Q?J=C3=B6rg?=\r\n =?UTF-8?Q?_M=C3=BCller?= <Joerg@EXAMPLE.de>\r\n"
        "Subject: =?UTF-8?B?R3LDvMO=?= =?UTF-8?B?n2UgYXVzIEvDtmxu?=\r\n\r\n",
    };
    const auto k = compute_dedupe_key(original, 2048);
    EXPECT_EQ(k.to_string()[0], 'G');
    for (const auto& r : rewritten) {
        EXPECT_EQ(compute_dedupe_key(r, 2048), k) << r;
        EXPECT_FALSE(compute_dedupe_key_v1(r, 2048) == compute_dedupe_key_v1(original, 2048)) << "v1 already agreed: " << r;
    }
    // Each part still tells messages apart.
    EXPECT_FALSE(compute_dedupe_key(original, 2049) == k);
    std::string other_date = original;
    other_date.replace(other_date.find("13:00:00"), 8, "13:00:01");
    EXPECT_FALSE(compute_dedupe_key(other_date, 2048) == k);
    std::string other_from = original;
    other_from.replace(other_from.find("Joerg@"), 6, "joerg@");
    EXPECT_FALSE(compute_dedupe_key(other_from, 2048) == k);
    std::string other_subject = original;
    other_subject.replace(other_subject.find("R3LDvMOfZSBhdXMgS8O2bG4="), 24, "R3LDvMOfZSBhdXMgQm9ubg==");
    EXPECT_FALSE(compute_dedupe_key(other_subject, 2048) == k);
    // An unparsable Date counts by its text, distinct from a missing one.
    EXPECT_FALSE(compute_dedupe_key("Date: soon\r\n\r\n", 1) == compute_dedupe_key("Date: later\r\n\r\n", 1));
    EXPECT_FALSE(compute_dedupe_key("Date: \r\n\r\n", 1) == compute_dedupe_key("X: y\r\n\r\n", 1));
}

}  // namespace header_meaning_test
