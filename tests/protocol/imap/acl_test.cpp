// RFC 4314 ACL: the five commands byte for byte, the ACL / MYRIGHTS / LISTRIGHTS responses decoded from bytes
// (Dovecot's, Cyrus's and Carbonio's shapes), and the obsolete c/d rights of §2.1.1.
#include <gtest/gtest.h>

#include <functional>

#include "protocol/imap/acl.hpp"
#include "protocol/imap/response_parser.hpp"
#include "tests/protocol/imap/transcript.hpp"

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace acl_test {

using namespace arrival::imap;

TEST(acl_encoder, the_five_commands) {
    const encoder_options o;
    command c;
    ASSERT_FALSE(encode_getacl("INBOX", o, c));
    EXPECT_EQ(c.flatten(), "GETACL INBOX\r\n");
    ASSERT_FALSE(encode_setacl("Shared Work", "bob@example.test", "lrs", o, c));
    EXPECT_EQ(c.flatten(), "SETACL \"Shared Work\" bob@example.test lrs\r\n");
    ASSERT_FALSE(encode_setacl("a", "-bob", "+w", o, c));
    EXPECT_EQ(c.flatten(), "SETACL a -bob +w\r\n");
    ASSERT_FALSE(encode_setacl("a", "anyone", "", o, c));
    EXPECT_EQ(c.flatten(), "SETACL a anyone \"\"\r\n");
    ASSERT_FALSE(encode_deleteacl("a", "$team", o, c));
    EXPECT_EQ(c.flatten(), "DELETEACL a $team\r\n");
    ASSERT_FALSE(encode_myrights("Entwürfe", o, c));
    EXPECT_EQ(c.flatten(), "MYRIGHTS Entw&APw-rfe\r\n");
    ASSERT_FALSE(encode_listrights("Public/Team", "group:staff", o, c));
    EXPECT_EQ(c.flatten(), "LISTRIGHTS Public/Team group:staff\r\n");
    // An identifier with a space is quoted (astring).
    ASSERT_FALSE(encode_listrights("a", "John Doe", o, c));
    EXPECT_EQ(c.flatten(), "LISTRIGHTS a \"John Doe\"\r\n");
}

TEST(acl_encoder, refuses_what_cannot_be_sent) {
    const encoder_options o;
    command c;
    EXPECT_EQ(encode_setacl("a", "", "lr", o, c), errc::unencodable);
    EXPECT_EQ(encode_setacl("a", "bob", "l r", o, c), errc::unencodable);
    EXPECT_EQ(encode_setacl("a", "bob", "+l\r\n", o, c), errc::unencodable);
    EXPECT_EQ(encode_deleteacl("a", "", o, c), errc::unencodable);
    EXPECT_TRUE(encode_getacl("", o, c));
}

TEST(acl_decoder, dovecot_acl_response) {
    with_response("* ACL \"Shared Work\" user331@example.test lrws \"anyone\" lr $team lrwstipekxacd -bob w\r\n",
                  [](const response& r) {
                      acl_data d;
                      ASSERT_FALSE(decode_acl(r, d));
                      EXPECT_EQ(d.mailbox, "Shared Work");
                      ASSERT_EQ(d.entries.size(), 4u);
                      EXPECT_EQ(d.entries[0].identifier, "user331@example.test");
                      EXPECT_EQ(d.entries[0].rights, "lrws");
                      EXPECT_EQ(d.entries[1].identifier, "anyone");
                      EXPECT_EQ(d.entries[2].identifier, "$team");
                      EXPECT_EQ(d.entries[3].identifier, "-bob");
                      EXPECT_EQ(d.entries[3].rights, "w");
                  });
}

TEST(acl_decoder, empty_acl_and_literal_identifier) {
    with_response("* ACL inbox\r\n", [](const response& r) {
        acl_data d;
        ASSERT_FALSE(decode_acl(r, d));
        EXPECT_EQ(d.mailbox, "INBOX");
        EXPECT_TRUE(d.entries.empty());
    });
    with_response("* ACL a {8}\r\nJohn Doe \"\"\r\n", [](const response& r) {
        acl_data d;
        ASSERT_FALSE(decode_acl(r, d));
        ASSERT_EQ(d.entries.size(), 1u);
        EXPECT_EQ(d.entries[0].identifier, "John Doe");
        EXPECT_EQ(d.entries[0].rights, "");
    });
}

TEST(acl_decoder, malformed_acl) {
    with_response("* ACL a bob\r\n", [](const response& r) {
        acl_data d;
        EXPECT_EQ(decode_acl(r, d), errc::bad_syntax);   // an identifier without rights
    });
    with_response("* ACL a bob (lr)\r\n", [](const response& r) {
        acl_data d;
        EXPECT_EQ(decode_acl(r, d), errc::bad_syntax);
    });
    with_response("* MYRIGHTS a lr\r\n", [](const response& r) {
        acl_data d;
        EXPECT_EQ(decode_acl(r, d), errc::unexpected_response);
    });
}

TEST(acl_decoder, myrights) {
    with_response("* MYRIGHTS Sent lrwstipekxacd\r\n", [](const response& r) {
        myrights_data d;
        ASSERT_FALSE(decode_myrights(r, d));
        EXPECT_EQ(d.mailbox, "Sent");
        EXPECT_EQ(d.rights, "lrwstipekxacd");
    });
    with_response("* MYRIGHTS Sent\r\n", [](const response& r) {
        myrights_data d;
        EXPECT_EQ(decode_myrights(r, d), errc::bad_syntax);
    });
}

TEST(acl_decoder, listrights_dovecot_and_carbonio) {
    // Dovecot: nothing required, every letter on its own.
    with_response("* LISTRIGHTS INBOX user332@example.test \"\" l r w s t p i e k x a c d\r\n", [](const response& r) {
        listrights_data d;
        ASSERT_FALSE(decode_listrights(r, d));
        EXPECT_EQ(d.identifier, "user332@example.test");
        EXPECT_EQ(d.required, "");
        EXPECT_EQ(d.optional.size(), 13u);
    });
    // Carbonio (FACTS.md §4): tied sets lr, sw, ick, xted, a.
    with_response("* LISTRIGHTS \"Shared\" bob \"\" lr sw ick xted a p\r\n", [](const response& r) {
        listrights_data d;
        ASSERT_FALSE(decode_listrights(r, d));
        ASSERT_EQ(d.optional.size(), 6u);
        EXPECT_EQ(d.optional[3], "xted");
    });
    with_response("* LISTRIGHTS a bob\r\n", [](const response& r) {
        listrights_data d;
        EXPECT_EQ(decode_listrights(r, d), errc::bad_syntax);
    });
}

TEST(acl_rights, obsolete_c_and_d) {
    // Both old and new letters listed (Dovecot, Cyrus): c and d add nothing.
    EXPECT_EQ(normalize_rights("lrwstipekxacd"), "lrswipkxtea");
    EXPECT_EQ(normalize_rights("lrc"), "lrk");       // c alone: only k, which both readings include
    EXPECT_EQ(normalize_rights("lrd"), "lrte");      // d alone: t and e, not x
    EXPECT_EQ(normalize_rights("lrxd"), "lrx");      // the server listed x itself: d adds nothing
    EXPECT_EQ(normalize_rights("rl"), "lr");
    EXPECT_EQ(normalize_rights("lr0z9"), "lr0z9");   // unknown letters kept, each once
    EXPECT_EQ(normalize_rights(""), "");
}

}  // namespace
}  // namespace arrival::test
