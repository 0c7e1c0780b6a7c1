// Command encoding compared byte for byte. Segments are shown joined, with "<+>" where the writer must wait for
// the server's continuation and "|" at other segment boundaries (borrowed payloads).
#include <gtest/gtest.h>

#include "protocol/imap/command_encoder.hpp"
#include "protocol/imap/response_parser.hpp"

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace command_encoder_test {

using namespace arrival::imap;

std::string show(const command& c) {
    std::string s;
    for (std::size_t i = 0; i < c.segments.size(); ++i) {
        if (c.segments[i].await_continuation) s += "<+>";
        else if (i > 0) s += "|";
        s += c.segments[i].bytes();
    }
    return s;
}

encoder_options plain() { return {}; }
encoder_options literal_plus() {
    encoder_options o;
    o.literal_plus = true;
    return o;
}
encoder_options literal_minus() {
    encoder_options o;
    o.literal_minus = true;
    return o;
}

TEST(command_encoder, string_forms) {
    const encoder_options o;
    EXPECT_EQ(choose_string_form("bob", true, o), string_form::atom);
    EXPECT_EQ(choose_string_form("bob", false, o), string_form::quoted);
    EXPECT_EQ(choose_string_form("", true, o), string_form::quoted);
    EXPECT_EQ(choose_string_form("a b", true, o), string_form::quoted);
    EXPECT_EQ(choose_string_form("a]b", true, o), string_form::atom);   // ASTRING-CHAR includes "]"
    EXPECT_EQ(choose_string_form("a%b", true, o), string_form::quoted);
    EXPECT_EQ(choose_string_form("a\"b\\", true, o), string_form::quoted);
    EXPECT_EQ(choose_string_form("a\r\nb", true, o), string_form::literal);
    EXPECT_EQ(choose_string_form("\xc3\xa9", true, o), string_form::literal);
    encoder_options u;
    u.utf8_accept = true;
    EXPECT_EQ(choose_string_form("\xc3\xa9", true, u), string_form::quoted);
    EXPECT_EQ(choose_string_form(std::string(1025, 'x') + " ", true, o), string_form::literal);
    EXPECT_EQ(choose_string_form(std::string_view("a\0b", 3), true, o), std::nullopt);
}

TEST(command_encoder, login_forms_and_redaction) {
    command c;
    ASSERT_FALSE(encode_login("bob", "secret", plain(), c));
    EXPECT_EQ(show(c), "LOGIN bob secret\r\n");
    EXPECT_EQ(c.redacted, "LOGIN bob <password>");
    EXPECT_EQ(c.verb, "LOGIN");

    ASSERT_FALSE(encode_login("bob*admin", "p a\"ss\\", plain(), c));
    EXPECT_EQ(show(c), "LOGIN \"bob*admin\" \"p a\\\"ss\\\\\"\r\n");  // "*" is a list-wildcard
    EXPECT_EQ(c.redacted, "LOGIN \"bob*admin\" <password>");

    // A password with CR/LF or 8-bit must go as a literal; the server's "+" gates it.
    ASSERT_FALSE(encode_login("bob", "p\xc3\xa4ss", plain(), c));
    EXPECT_EQ(show(c), "LOGIN bob {5}\r\n<+>p\xc3\xa4ss\r\n");
    EXPECT_EQ(c.redacted, "LOGIN bob {5}<password>");
    EXPECT_EQ(c.continuations(), 1u);
    EXPECT_EQ(c.flatten().find("p\xc3\xa4ss") != std::string::npos, true);
    EXPECT_EQ(c.redacted.find("p\xc3\xa4ss"), std::string::npos);

    ASSERT_FALSE(encode_login("bob", "p\xc3\xa4ss", literal_plus(), c));
    EXPECT_EQ(show(c), "LOGIN bob {5+}\r\np\xc3\xa4ss\r\n");
    EXPECT_EQ(c.continuations(), 0u);

    diagnostics d;
    EXPECT_EQ(encode_login("bob", std::string_view("a\0b", 3), plain(), c, &d), errc::unencodable);
    EXPECT_EQ(d.client_message(), "LOGIN: an argument contains NUL");
}

TEST(command_encoder, authenticate_plain) {
    command c;
    ASSERT_FALSE(encode_authenticate_plain("", "tim", "tanstaaftanstaaf", true, c));
    EXPECT_EQ(show(c), "AUTHENTICATE PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n");
    EXPECT_EQ(c.redacted, "AUTHENTICATE PLAIN <credentials>");
    ASSERT_FALSE(encode_authenticate_plain("bob", "admin", "pw", false, c));
    EXPECT_EQ(show(c), "AUTHENTICATE PLAIN\r\n<+>Ym9iAGFkbWluAHB3\r\n");
    EXPECT_EQ(c.redacted.find("Ym9i"), std::string::npos);
}

TEST(command_encoder, simple_id_enable) {
    EXPECT_EQ(show(encode_simple("CAPABILITY")), "CAPABILITY\r\n");
    command c;
    const std::pair<std::string_view, std::string_view> fields[] = {{"name", "arrival"}, {"version", "0.1"}};
    ASSERT_FALSE(encode_id(fields, plain(), c));
    EXPECT_EQ(show(c), "ID (\"name\" \"arrival\" \"version\" \"0.1\")\r\n");
    ASSERT_FALSE(encode_id({}, plain(), c));
    EXPECT_EQ(show(c), "ID NIL\r\n");
    const std::string_view caps[] = {"CONDSTORE", "UTF8=ACCEPT"};
    ASSERT_FALSE(encode_enable(caps, c));
    EXPECT_EQ(show(c), "ENABLE CONDSTORE UTF8=ACCEPT\r\n");
    const std::string_view bad[] = {"A B"};
    EXPECT_EQ(encode_enable(bad, c), errc::unencodable);
}

TEST(command_encoder, list_variants) {
    command c;
    ASSERT_FALSE(encode_list("", "*", {}, plain(), c));
    EXPECT_EQ(show(c), "LIST \"\" *\r\n");
    list_options lo;
    lo.return_special_use = true;
    lo.return_subscribed = true;
    ASSERT_FALSE(encode_list("", "*", lo, plain(), c));
    EXPECT_EQ(show(c), "LIST \"\" * RETURN (SUBSCRIBED SPECIAL-USE)\r\n");
    list_options sel;
    sel.select_special_use = true;
    sel.return_status = {"MESSAGES", "SIZE"};
    ASSERT_FALSE(encode_list("", "%", sel, plain(), c));
    EXPECT_EQ(show(c), "LIST (SPECIAL-USE) \"\" % RETURN (STATUS (MESSAGES SIZE))\r\n");
    ASSERT_FALSE(encode_list("\xc3\x89t\xc3\xa9", "Proj *", {}, plain(), c));
    EXPECT_EQ(show(c), "LIST &AMk-t&AOk- \"Proj *\"\r\n");
    ASSERT_FALSE(encode_lsub("", "*", plain(), c));
    EXPECT_EQ(show(c), "LSUB \"\" *\r\n");
}

TEST(command_encoder, mailbox_commands) {
    command c;
    ASSERT_FALSE(encode_select("inbox", false, false, plain(), c));
    EXPECT_EQ(show(c), "SELECT INBOX\r\n");
    ASSERT_FALSE(encode_select("Entw\xc3\xbcrfe", true, true, plain(), c));
    EXPECT_EQ(show(c), "EXAMINE Entw&APw-rfe (CONDSTORE)\r\n");
    ASSERT_FALSE(encode_create("\xc3\x89t\xc3\xa9/Projekt \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", std::nullopt, plain(), c));
    EXPECT_EQ(show(c), "CREATE \"&AMk-t&AOk-/Projekt &ZeVnLIqe-\"\r\n");
    ASSERT_FALSE(encode_create("Sent", "\\Sent", plain(), c));
    EXPECT_EQ(show(c), "CREATE Sent (USE (\\Sent))\r\n");
    ASSERT_FALSE(encode_subscribe("a&b", true, plain(), c));
    EXPECT_EQ(show(c), "SUBSCRIBE a&-b\r\n");
    const std::string_view items[] = {"MESSAGES", "UIDNEXT", "UIDVALIDITY", "SIZE"};
    ASSERT_FALSE(encode_status("Archive", items, plain(), c));
    EXPECT_EQ(show(c), "STATUS Archive (MESSAGES UIDNEXT UIDVALIDITY SIZE)\r\n");
    encoder_options u;
    u.utf8_accept = true;
    ASSERT_FALSE(encode_select("\xc3\x89t\xc3\xa9", false, false, u, c));
    EXPECT_EQ(show(c), "SELECT \"\xc3\x89t\xc3\xa9\"\r\n");

    diagnostics d;
    EXPECT_EQ(encode_select("bad\xff", false, false, plain(), c, &d), errc::bad_mailbox_name);
    EXPECT_EQ(d.client_message(), "mailbox name is not valid UTF-8 or contains NUL/CR/LF");
    EXPECT_EQ(encode_create("", std::nullopt, plain(), c, &d), errc::bad_mailbox_name);
    ASSERT_FALSE(encode_create("a\r\nb", std::nullopt, plain(), c, &d));  // controls travel encoded
    EXPECT_EQ(show(c), "CREATE a&AA0ACg-b\r\n");
}

TEST(command_encoder, delta_sync_commands) {
    command c;
    const std::string_view add[] = {"\\Seen", "\\Flagged", "$Work"};
    ASSERT_FALSE(encode_uid_store("3:5,9", "+FLAGS.SILENT", add, c));
    EXPECT_EQ(show(c), "UID STORE 3:5,9 +FLAGS.SILENT (\\Seen \\Flagged $Work)\r\n");
    const std::string_view del[] = {"\\Deleted"};
    ASSERT_FALSE(encode_uid_store("7", "-FLAGS.SILENT", del, c, 42));
    EXPECT_EQ(show(c), "UID STORE 7 (UNCHANGEDSINCE 42) -FLAGS.SILENT (\\Deleted)\r\n");
    ASSERT_FALSE(encode_uid_store("7", "FLAGS.SILENT", {}, c));
    EXPECT_EQ(show(c), "UID STORE 7 FLAGS.SILENT ()\r\n");
    const std::string_view bad[] = {"a b"};
    EXPECT_EQ(encode_uid_store("7", "+FLAGS", bad, c), errc::unencodable);
    const std::string_view bracket[] = {"x]"};
    EXPECT_EQ(encode_uid_store("7", "+FLAGS", bracket, c), errc::unencodable);
    EXPECT_EQ(encode_uid_store("7", "+X-GM-LABELS", add, c), errc::unencodable);
    EXPECT_EQ(encode_uid_store("7:", "+FLAGS", add, c), errc::bad_sequence_set);
    ASSERT_FALSE(encode_uid_expunge("1:3,8", c));
    EXPECT_EQ(show(c), "UID EXPUNGE 1:3,8\r\n");
    EXPECT_EQ(encode_uid_expunge("x", c), errc::bad_sequence_set);
    ASSERT_FALSE(encode_uid_fetch_changedsince("1:*", "(UID FLAGS)", 12345678901ULL, c));
    EXPECT_EQ(show(c), "UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 12345678901)\r\n");
    EXPECT_EQ(c.redacted, "UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 12345678901)");
    ASSERT_FALSE(encode_uid_fetch_changedsince("1:500", "(UID FLAGS)", 7, c, true));
    EXPECT_EQ(show(c), "UID FETCH 1:500 (UID FLAGS) (CHANGEDSINCE 7 VANISHED)\r\n");
    EXPECT_EQ(c.redacted, "UID FETCH 1:500 (UID FLAGS) (CHANGEDSINCE 7 VANISHED)");
    ASSERT_FALSE(encode_rename("Projekte", "Entw\xc3\xbcrfe", plain(), c));
    EXPECT_EQ(show(c), "RENAME Projekte Entw&APw-rfe\r\n");
    ASSERT_FALSE(encode_delete("Old Stuff", plain(), c));
    EXPECT_EQ(show(c), "DELETE \"Old Stuff\"\r\n");
}

TEST(command_encoder, search_and_fetch) {
    command c;
    ASSERT_FALSE(encode_uid_search("UID 5:*", {}, c));
    EXPECT_EQ(show(c), "UID SEARCH UID 5:*\r\n");
    const std::string_view ret[] = {"ALL", "COUNT"};
    ASSERT_FALSE(encode_uid_search("ALL", ret, c));
    EXPECT_EQ(show(c), "UID SEARCH RETURN (ALL COUNT) ALL\r\n");
    ASSERT_FALSE(encode_uid_fetch("1:500,7", "(UID FLAGS BODY.PEEK[])", c));
    EXPECT_EQ(show(c), "UID FETCH 1:500,7 (UID FLAGS BODY.PEEK[])\r\n");
    EXPECT_EQ(encode_uid_fetch("1:", "(UID)", c), errc::bad_sequence_set);
    EXPECT_EQ(encode_uid_fetch("1", "(UID)\r\nA LOGOUT", c), errc::unencodable);
    EXPECT_EQ(encode_uid_search("ALL\r\nX", {}, c), errc::unencodable);
}

TEST(command_encoder, append_with_flags_and_date) {
    internal_date d;
    ASSERT_FALSE(parse_internal_date("17-Jul-1996 02:44:25 -0700", d));
    const append_message m{{"\\Seen", "$Forwarded", "\\Recent"}, d, "Subject: hi\r\n\r\nbody\r\n", false};
    command c;
    ASSERT_FALSE(encode_append("INBOX", std::span(&m, 1), plain(), c));
    EXPECT_EQ(show(c), "APPEND INBOX (\\Seen $Forwarded) \"17-Jul-1996 02:44:25 -0700\" {21}\r\n<+>Subject: hi\r\n\r\nbody\r\n\r\n");
    EXPECT_EQ(c.redacted, "APPEND INBOX (\\Seen $Forwarded) \"17-Jul-1996 02:44:25 -0700\" {21}");
    ASSERT_FALSE(encode_append("INBOX", std::span(&m, 1), literal_plus(), c));
    EXPECT_EQ(show(c), "APPEND INBOX (\\Seen $Forwarded) \"17-Jul-1996 02:44:25 -0700\" {21+}\r\nSubject: hi\r\n\r\nbody\r\n\r\n");
    const append_message bare{{}, std::nullopt, "x", false};
    ASSERT_FALSE(encode_append("Sent", std::span(&bare, 1), plain(), c));
    EXPECT_EQ(show(c), "APPEND Sent {1}\r\n<+>x\r\n");
    const append_message bad_flag{{"\\Se en"}, std::nullopt, "x", false};
    EXPECT_EQ(encode_append("Sent", std::span(&bad_flag, 1), plain(), c), errc::unencodable);
}

TEST(command_encoder, multiappend_borrows_big_bodies) {
    const std::string big(100000, 'b');
    const append_message msgs[] = {{{"\\Seen"}, std::nullopt, "small", false}, {{}, std::nullopt, big, false},
                                   {{}, std::nullopt, "", false}};
    command c;
    ASSERT_FALSE(encode_append("INBOX", msgs, plain(), c));
    ASSERT_EQ(c.segments.size(), 5u);
    EXPECT_EQ(c.segments[0].bytes(), "APPEND INBOX (\\Seen) {5}\r\n");
    EXPECT_TRUE(c.segments[1].await_continuation);
    EXPECT_EQ(c.segments[1].bytes(), "small {100000}\r\n");
    EXPECT_TRUE(c.segments[2].await_continuation);
    EXPECT_TRUE(c.segments[2].owned.empty());
    EXPECT_EQ(c.segments[2].borrowed.data(), big.data());  // not copied
    EXPECT_EQ(c.segments[3].bytes(), " {0}\r\n");
    EXPECT_TRUE(c.segments[4].await_continuation);  // even an empty literal waits for "+"
    EXPECT_EQ(c.segments[4].bytes(), "\r\n");
    EXPECT_EQ(c.continuations(), 3u);
    EXPECT_EQ(c.size(), c.flatten().size());
}

TEST(command_encoder, literal_plus_cap_and_literal_minus) {
    const std::string big(5000, 'b');
    const append_message small{{}, std::nullopt, "tiny", false};
    const append_message large{{}, std::nullopt, big, false};
    command c;
    // LITERAL-: non-synchronizing only up to 4096 bytes (RFC 7888 §4)
    ASSERT_FALSE(encode_append("INBOX", std::span(&small, 1), literal_minus(), c));
    EXPECT_EQ(show(c), "APPEND INBOX {4+}\r\ntiny\r\n");
    ASSERT_FALSE(encode_append("INBOX", std::span(&large, 1), literal_minus(), c));
    EXPECT_EQ(c.segments.at(0).bytes(), "APPEND INBOX {5000}\r\n");
    EXPECT_EQ(c.continuations(), 1u);
    // LITERAL+ with our own cap (isync sends big bodies synchronizing so the server can refuse them early)
    encoder_options capped = literal_plus();
    capped.non_sync_max = 4096;
    ASSERT_FALSE(encode_append("INBOX", std::span(&large, 1), capped, c));
    EXPECT_EQ(c.continuations(), 1u);
    ASSERT_FALSE(encode_append("INBOX", std::span(&large, 1), literal_plus(), c));
    EXPECT_EQ(c.segments.at(0).bytes(), "APPEND INBOX {5000+}\r\n");
    EXPECT_EQ(c.continuations(), 0u);
    const append_message bin{{}, std::nullopt, std::string_view("a\0b", 3), true};
    ASSERT_FALSE(encode_append("INBOX", std::span(&bin, 1), literal_plus(), c));
    EXPECT_EQ(c.flatten(), std::string("APPEND INBOX ~{3+}\r\na\0b\r\n", 25));
}

}  // namespace
}  // namespace arrival::test

namespace arrival::test {
namespace command_encoder_test {

// Whatever form the encoder picks, the IMAP grammar must give the original string back: encode it, wrap it as
// an untagged response and parse it with our own parser.
std::string reparse(const command& c) {
    struct one : response_handler {
        std::string value;
        int n = 0;
        error_code on_response(const response& r) override {
            ++n;
            if (r.args.size() != 1 || !r.args[0].is_string()) return errc::bad_syntax;
            value.assign(r.args[0].text);
            return {};
        }
    } h;
    response_parser p;
    const std::string bytes = "* " + c.flatten();
    if (auto ec = p.feed(bytes, h); ec || h.n != 1) return "<parse error>";
    return h.value;
}

TEST(command_encoder, every_form_parses_back_to_the_original) {
    std::vector<std::string> inputs = {"plain", "", "with space", "q\"uote", "back\\slash", "\\", "\"", "]", "a]b",
                                       "NIL", "%*", "line\r\nbreak", "\r", "\xc3\xa9t\xc3\xa9", std::string(2000, 'x'),
                                       "{5}", "~{3}", "(paren)"};
    std::uint32_t x = 12345;
    for (int i = 0; i < 300; ++i) {
        std::string s;
        const int len = static_cast<int>((x >> 8) % 40);
        for (int k = 0; k < len; ++k) {
            x = x * 1103515245u + 12345u;
            s += static_cast<char>(1 + (x >> 16) % 255);  // any byte but NUL
        }
        x = x * 1103515245u + 12345u;
        inputs.push_back(s);
    }
    for (const auto& opts : {plain(), literal_plus()}) {
        for (const auto& s : inputs) {
            command_builder b("X", opts);
            command c;
            ASSERT_FALSE(b.astring(s).finish(c)) << s;
            // In a command, astring NIL is the string "NIL" (RFC 3501 astring has no NIL), but our response
            // parser reads the atom as nil, as responses (nstring) require; the quoted form is checked below.
            if (s == "NIL") continue;
            EXPECT_EQ(reparse(c), s) << c.flatten();
            command_builder q("X", opts);
            ASSERT_FALSE(q.string(s).finish(c));
            EXPECT_EQ(reparse(c), s) << c.flatten();
        }
    }
}

}  // namespace
}  // namespace arrival::test
