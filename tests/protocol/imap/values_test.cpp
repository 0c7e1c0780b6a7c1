// Small value codecs: sequence sets, INTERNALDATE, SASL PLAIN / base64, diagnostics rendering.
#include <gtest/gtest.h>

#include "protocol/base64.hpp"
#include "protocol/imap/diagnostics.hpp"
#include "protocol/imap/internal_date.hpp"
#include "protocol/imap/sasl_plain.hpp"
#include "protocol/imap/sequence_set.hpp"

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace values_test {

using namespace arrival::imap;

TEST(sequence_set, encode_compresses_and_sorts) {
    const std::vector<std::uint32_t> uids{9, 1, 2, 3, 7, 10, 3};
    EXPECT_EQ(encode_sequence_set(uids), "1:3,7,9:10");
    EXPECT_EQ(encode_sequence_set(std::vector<std::uint32_t>{}), "");
    EXPECT_EQ(encode_range(5, seq_star), "5:*");
    EXPECT_EQ(encode_range(4, 4), "4");
}

TEST(sequence_set, decode) {
    std::vector<seq_range> v;
    ASSERT_FALSE(decode_sequence_set("1:3,7,20:10,5:*", v));
    EXPECT_EQ(v, (std::vector<seq_range>{{1, 3}, {7, 7}, {10, 20}, {5, seq_star}}));
    for (std::string_view bad : {"", "0", "1,", ",1", "1::2", "a", "1:", "4294967296", "01"}) {
        std::vector<seq_range> w;
        EXPECT_EQ(decode_sequence_set(bad, w), errc::bad_sequence_set) << bad;
        EXPECT_TRUE(w.empty());
    }
    std::vector<std::uint32_t> out;
    EXPECT_EQ(expand_sequence_set(v, out), errc::bad_sequence_set);  // contains "*"
    const std::vector<seq_range> huge{{1, 4000000000u}};
    EXPECT_EQ(expand_sequence_set(huge, out), errc::bad_sequence_set);
}

TEST(internal_date, parse_and_format_rfc3501_example) {
    internal_date d;
    ASSERT_FALSE(parse_internal_date("17-Jul-1996 02:44:25 -0700", d));
    EXPECT_EQ(d.year, 1996);
    EXPECT_EQ(d.month, 7);
    EXPECT_EQ(d.day, 17);
    EXPECT_EQ(d.zone_minutes, -420);
    EXPECT_EQ(format_internal_date(d), "17-Jul-1996 02:44:25 -0700");
    EXPECT_EQ(d.to_unix(), 837596665);  // 1996-07-17T09:44:25Z
    ASSERT_FALSE(parse_internal_date(" 5-Jan-2021 23:59:59 +0100", d));
    EXPECT_EQ(format_internal_date(d), "05-Jan-2021 23:59:59 +0100");
    ASSERT_FALSE(parse_internal_date("5-jan-2021 23:59:59 +0100", d));  // lenient day and month case
    EXPECT_EQ(d.day, 5);
    ASSERT_FALSE(parse_internal_date("29-Feb-2024 00:00:00 +0000", d));
}

TEST(internal_date, unix_round_trip) {
    for (std::int64_t t : {std::int64_t{0}, std::int64_t{837596665}, std::int64_t{1700000000}, std::int64_t{-86401},
                           std::int64_t{4102444799}}) {
        for (int zone : {0, -420, 330, 840}) {
            const internal_date d = internal_date::from_unix(t, zone);
            EXPECT_EQ(d.to_unix(), t);
            internal_date back;
            ASSERT_FALSE(parse_internal_date(format_internal_date(d), back));
            EXPECT_EQ(back, d);
        }
    }
}

TEST(internal_date, rejects) {
    for (std::string_view bad : {"", "17-Jul-1996", "17-Jux-1996 02:44:25 -0700", "30-Feb-2024 00:00:00 +0000",
                                 "29-Feb-2023 00:00:00 +0000", "17-Jul-1996 24:00:00 -0700", "17-Jul-1996 02:44:25 0700",
                                 "17-Jul-1996 02:44:25 -07000", "17-Jul-96 02:44:25 -0700", "00-Jul-1996 02:44:25 -0700",
                                 "17-Jul-1996 02:60:25 -0700", "17-Jul-1996 02:44:25 -0760"}) {
        internal_date d;
        EXPECT_EQ(parse_internal_date(bad, d), errc::bad_date) << bad;
    }
}

TEST(sasl_plain, rfc4616_and_master_user) {
    std::string b64;
    ASSERT_FALSE(sasl_plain_response("", "tim", "tanstaaftanstaaf", b64));
    EXPECT_EQ(b64, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");  // RFC 4616 §4 example
    ASSERT_FALSE(sasl_plain_response("bob", "admin", "secret", b64));
    std::string raw;
    ASSERT_TRUE(base64::decode(b64, raw));
    EXPECT_EQ(raw, std::string("bob\0admin\0secret", 16));
    EXPECT_EQ(sasl_plain_response("", "tim", std::string_view("a\0b", 3), b64), errc::unencodable);
    EXPECT_EQ(sasl_plain_response("", "", "x", b64), errc::unencodable);
}

TEST(diagnostics, escapes_server_text_and_combines_parts) {
    diagnostics d;
    d.set_command("A00002 LOGIN bob <password>");
    d.set_response_code("AUTHENTICATIONFAILED");
    d.set_server_message("Authentication failed.\x1b[2J");
    EXPECT_EQ(d.to_string(), "A00002 LOGIN bob <password>: [AUTHENTICATIONFAILED] Authentication failed.\\x1b[2J");
    diagnostics c;
    c.set_client_message("response line 3: missing ')'");
    EXPECT_EQ(c.to_string(), "response line 3: missing ')'");
}

}  // namespace
}  // namespace arrival::test
