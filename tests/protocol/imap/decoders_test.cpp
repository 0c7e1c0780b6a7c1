// LIST/LSUB, STATUS, NAMESPACE, SEARCH/ESEARCH, CAPABILITY/ENABLED, FLAGS, ID and response codes, decoded from
// parsed bytes.
#include <gtest/gtest.h>

#include <functional>

#include "protocol/imap/data_decoder.hpp"
#include "protocol/imap/list_decoder.hpp"
#include "protocol/imap/resp_code.hpp"
#include "protocol/imap/response_parser.hpp"
#include "tests/protocol/imap/transcript.hpp"

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace decoders_test {

using namespace arrival::imap;

TEST(list_decoder, dovecot_special_use) {
    with_response("* LIST (\\Subscribed \\HasNoChildren \\Sent) \"/\" Sent\r\n", [](const response& r) {
        list_entry e;
        ASSERT_FALSE(decode_list(r, e));
        EXPECT_FALSE(e.lsub);
        EXPECT_EQ(e.delimiter, '/');
        EXPECT_EQ(e.name, "Sent");
        EXPECT_EQ(e.use, special_use::sent);
        EXPECT_TRUE(e.subscribed);
        EXPECT_TRUE(e.has_no_children);
        EXPECT_EQ(e.attributes.size(), 3u);
    });
}

TEST(list_decoder, every_special_use_attribute) {
    const std::pair<const char*, special_use> uses[] = {{"\\All", special_use::all}, {"\\Archive", special_use::archive},
        {"\\Drafts", special_use::drafts}, {"\\Flagged", special_use::flagged}, {"\\Junk", special_use::junk},
        {"\\Sent", special_use::sent}, {"\\Trash", special_use::trash}, {"\\junk", special_use::junk}};
    for (const auto& [attr, use] : uses) {
        with_response(std::string("* LIST (") + attr + ") \".\" X\r\n", [&](const response& r) {
            list_entry e;
            ASSERT_FALSE(decode_list(r, e));
            EXPECT_EQ(e.use, use) << attr;
        });
    }
    EXPECT_EQ(to_string(special_use::trash), "\\Trash");
}

TEST(list_decoder, nil_delimiter_quoted_name_inbox_lsub_and_extended_data) {
    with_response("* LIST (\\Noselect) NIL \"&AMk-t&AOk- x\"\r\n", [](const response& r) {
        list_entry e;
        ASSERT_FALSE(decode_list(r, e));
        EXPECT_FALSE(e.delimiter);
        EXPECT_TRUE(e.noselect);
        EXPECT_EQ(e.name, "&AMk-t&AOk- x");
    });
    with_response("* LSUB () \".\" inbox\r\n", [](const response& r) {
        list_entry e;
        ASSERT_FALSE(decode_list(r, e));
        EXPECT_TRUE(e.lsub);
        EXPECT_TRUE(e.subscribed);
        EXPECT_EQ(e.name, "INBOX");
    });
    with_response("* LIST (\\NonExistent) \"/\" Foo (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n", [](const response& r) {
        list_entry e;
        ASSERT_FALSE(decode_list(r, e));
        EXPECT_TRUE(e.nonexistent);
        EXPECT_EQ(e.name, "Foo");
    });
    with_response("* LIST () \"/\" {4}\r\na\"b)\r\n", [](const response& r) {
        list_entry e;
        ASSERT_FALSE(decode_list(r, e));
        EXPECT_EQ(e.name, "a\"b)");
    });
}

TEST(list_decoder, rejects_malformed) {
    for (std::string_view bad : {"* LIST \"/\" INBOX\r\n", "* LIST () \"//\" INBOX\r\n", "* LIST () \"/\"\r\n",
                                 "* LIST (\"x\") \"/\" INBOX\r\n", "* LIST () \"/\" INBOX extra\r\n"}) {
        with_response(bad, [&](const response& r) {
            list_entry e;
            EXPECT_EQ(decode_list(r, e), errc::bad_syntax) << bad;
        });
    }
    with_response("* STATUS x (MESSAGES 1)\r\n", [](const response& r) {
        list_entry e;
        EXPECT_EQ(decode_list(r, e), errc::unexpected_response);
    });
}

TEST(data_decoder, status_with_size_and_modseq) {
    with_response("* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 1795931308 UNSEEN 2 HIGHESTMODSEQ 5 SIZE 42119)\r\n",
                  [](const response& r) {
                      status_entry s;
                      ASSERT_FALSE(decode_status(r, s));
                      EXPECT_EQ(s.mailbox, "INBOX");
                      EXPECT_EQ(s.messages, 3u);
                      EXPECT_EQ(s.uidnext, 4u);
                      EXPECT_EQ(s.uidvalidity, 1795931308u);
                      EXPECT_EQ(s.unseen, 2u);
                      EXPECT_EQ(s.highestmodseq, 5u);
                      EXPECT_EQ(s.size, 42119u);
                      EXPECT_FALSE(s.recent);
                  });
    with_response("* STATUS \"a b\" ()\r\n", [](const response& r) {
        status_entry s;
        ASSERT_FALSE(decode_status(r, s));
        EXPECT_EQ(s.mailbox, "a b");
    });
    with_response("* STATUS x (MESSAGES)\r\n", [](const response& r) {
        status_entry s;
        EXPECT_EQ(decode_status(r, s), errc::bad_syntax);
    });
    with_response("* STATUS x (MESSAGES 99999999999)\r\n", [](const response& r) {
        status_entry s;
        EXPECT_EQ(decode_status(r, s), errc::bad_syntax);
    });
}

TEST(data_decoder, namespace_rfc2342_examples) {
    with_response("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n", [](const response& r) {
        namespace_data n;
        ASSERT_FALSE(decode_namespace(r, n));
        ASSERT_EQ(n.personal.size(), 1u);
        EXPECT_EQ(n.personal[0].prefix, "");
        EXPECT_EQ(n.personal[0].delimiter, '/');
        EXPECT_TRUE(n.other_users.empty());
        EXPECT_TRUE(n.shared.empty());
    });
    with_response("* NAMESPACE ((\"\" \"/\")(\"#mh/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) ((\"~\" \"/\")) "
                  "((\"#shared/\" \"/\")(\"#public/\" \"/\")(\"#ftp/\" \"/\")(\"#news.\" \".\"))\r\n",
                  [](const response& r) {
                      namespace_data n;
                      ASSERT_FALSE(decode_namespace(r, n));
                      EXPECT_EQ(n.personal.size(), 2u);
                      EXPECT_EQ(n.personal[1].prefix, "#mh/");
                      EXPECT_EQ(n.other_users.at(0).prefix, "~");
                      ASSERT_EQ(n.shared.size(), 4u);
                      EXPECT_EQ(n.shared[3].delimiter, '.');
                  });
    with_response("* NAMESPACE ((\"INBOX.\" NIL)) NIL NIL\r\n", [](const response& r) {
        namespace_data n;
        ASSERT_FALSE(decode_namespace(r, n));
        EXPECT_FALSE(n.personal.at(0).delimiter);
    });
    with_response("* NAMESPACE ((\"\" \"/\")) NIL\r\n", [](const response& r) {
        namespace_data n;
        EXPECT_EQ(decode_namespace(r, n), errc::bad_syntax);
    });
}

// RFC 7162 §3.2.10: "VANISHED" [SP "(EARLIER)"] SP known-uids.
TEST(data_decoder, vanished) {
    with_response("* VANISHED (EARLIER) 300:310,405,411\r\n", [](const response& r) {
        vanished_data v;
        ASSERT_FALSE(decode_vanished(r, v));
        EXPECT_TRUE(v.earlier);
        EXPECT_EQ(v.uids, (std::vector<seq_range>{{300, 310}, {405, 405}, {411, 411}}));
    });
    with_response("* vanished 4\r\n", [](const response& r) {
        vanished_data v;
        ASSERT_FALSE(decode_vanished(r, v));
        EXPECT_FALSE(v.earlier);
        EXPECT_EQ(v.uids, (std::vector<seq_range>{{4, 4}}));
    });
    for (const char* bad : {"* VANISHED\r\n", "* VANISHED (EARLIER)\r\n", "* VANISHED (LATER) 4\r\n", "* VANISHED 4 5\r\n",
                            "* VANISHED 1:*\r\n", "* VANISHED 0\r\n"}) {
        with_response(bad, [&](const response& r) {
            vanished_data v;
            EXPECT_TRUE(decode_vanished(r, v)) << bad;
        });
    }
    with_response("* 3 EXPUNGE\r\n", [](const response& r) {
        vanished_data v;
        EXPECT_EQ(decode_vanished(r, v), errc::unexpected_response);
    });
}

TEST(data_decoder, search_and_esearch) {
    with_response("* SEARCH 2 84 882\r\n", [](const response& r) {
        std::vector<std::uint32_t> v;
        ASSERT_FALSE(decode_search(r, v));
        EXPECT_EQ(v, (std::vector<std::uint32_t>{2, 84, 882}));
    });
    with_response("* SEARCH\r\n", [](const response& r) {
        std::vector<std::uint32_t> v;
        ASSERT_FALSE(decode_search(r, v));
        EXPECT_TRUE(v.empty());
    });
    with_response("* SEARCH 1 x\r\n", [](const response& r) {
        std::vector<std::uint32_t> v;
        EXPECT_EQ(decode_search(r, v), errc::bad_syntax);
    });
    with_response("* ESEARCH (TAG \"a21\") UID MIN 1 MAX 3 ALL 1:3,7 COUNT 4\r\n", [](const response& r) {
        esearch_result e;
        ASSERT_FALSE(decode_esearch(r, e));
        EXPECT_EQ(e.tag, "a21");
        EXPECT_TRUE(e.uid);
        EXPECT_EQ(e.min, 1u);
        EXPECT_EQ(e.max, 3u);
        EXPECT_EQ(e.count, 4u);
        EXPECT_EQ(e.all, (std::vector<seq_range>{{1, 3}, {7, 7}}));
    });
    with_response("* ESEARCH (TAG \"x\") UID COUNT 0\r\n", [](const response& r) {
        esearch_result e;
        ASSERT_FALSE(decode_esearch(r, e));
        EXPECT_EQ(e.count, 0u);
        EXPECT_TRUE(e.all.empty());
    });
    with_response("* ESEARCH UID ALL 1:x\r\n", [](const response& r) {
        esearch_result e;
        EXPECT_EQ(decode_esearch(r, e), errc::bad_sequence_set);
    });
}

TEST(data_decoder, capability_flags_id) {
    with_response("* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN\r\n", [](const response& r) {
        std::vector<std::string_view> v;
        ASSERT_FALSE(decode_capability(r, v));
        EXPECT_EQ(v, (std::vector<std::string_view>{"IMAP4rev1", "LITERAL+", "AUTH=PLAIN"}));
    });
    with_response("* ENABLED CONDSTORE\r\n", [](const response& r) {
        std::vector<std::string_view> v;
        ASSERT_FALSE(decode_capability(r, v));
        EXPECT_EQ(v.at(0), "CONDSTORE");
    });
    with_response("* FLAGS (\\Answered \\Flagged $Forwarded)\r\n", [](const response& r) {
        std::vector<std::string_view> v;
        ASSERT_FALSE(decode_flags(r, v));
        EXPECT_EQ(v.size(), 3u);
    });
    with_response("* ID (\"name\" \"Dovecot\" \"version\" NIL)\r\n", [](const response& r) {
        std::vector<std::pair<std::string_view, std::optional<std::string_view>>> v;
        ASSERT_FALSE(decode_id(r, v));
        ASSERT_EQ(v.size(), 2u);
        EXPECT_EQ(v[0].second, "Dovecot");
        EXPECT_FALSE(v[1].second);
    });
    with_response("* ID NIL\r\n", [](const response& r) {
        std::vector<std::pair<std::string_view, std::optional<std::string_view>>> v;
        ASSERT_FALSE(decode_id(r, v));
        EXPECT_TRUE(v.empty());
    });
}

TEST(resp_code, typed_codes) {
    with_response("a13 OK [APPENDUID 1795931308 1] Append completed\r\n", [](const response& r) {
        EXPECT_EQ(classify_code(r.code.name), code_kind::appenduid);
        appenduid_data a;
        ASSERT_FALSE(code_appenduid(r.code, a));
        EXPECT_EQ(a.uidvalidity, 1795931308u);
        EXPECT_EQ(a.uids, (std::vector<seq_range>{{1, 1}}));
    });
    with_response("a1 OK [APPENDUID 38505 3955:3957] done\r\n", [](const response& r) {
        appenduid_data a;
        ASSERT_FALSE(code_appenduid(r.code, a));
        std::vector<std::uint32_t> uids;
        ASSERT_FALSE(expand_sequence_set(a.uids, uids));
        EXPECT_EQ(uids, (std::vector<std::uint32_t>{3955, 3956, 3957}));
    });
    with_response("a2 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n", [](const response& r) {
        copyuid_data c;
        ASSERT_FALSE(code_copyuid(r.code, c));
        EXPECT_EQ(c.source, (std::vector<seq_range>{{304, 304}, {319, 320}}));
        EXPECT_EQ(c.dest, (std::vector<seq_range>{{3956, 3958}}));
    });
    with_response("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n", [](const response& r) {
        std::uint64_t n = 0;
        EXPECT_EQ(classify_code(r.code.name), code_kind::uidvalidity);
        ASSERT_FALSE(code_number(r.code, n));
        EXPECT_EQ(n, 3857529045u);
    });
    with_response("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n", [](const response& r) {
        std::vector<std::string_view> w;
        ASSERT_FALSE(code_words(r.code, w));
        EXPECT_EQ(w, (std::vector<std::string_view>{"\\Deleted", "\\Seen", "\\*"}));
    });
    with_response("* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n", [](const response& r) {
        std::vector<std::string_view> w;
        ASSERT_FALSE(code_words(r.code, w));
        EXPECT_TRUE(w.empty());
    });
    with_response("a1 OK [APPENDUID 0 1] bad uidvalidity\r\n", [](const response& r) {
        appenduid_data a;
        EXPECT_EQ(code_appenduid(r.code, a), errc::bad_syntax);
    });
}

TEST(resp_code, status_error_decides_on_codes_not_text) {
    const std::pair<std::string_view, errc> table[] = {
        {"a NO [UNAVAILABLE] backend down\r\n", errc::unavailable},
        {"a NO [INUSE] locked\r\n", errc::in_use},
        {"a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", errc::authentication_failed},
        {"a NO [OVERQUOTA] Quota exceeded\r\n", errc::over_quota},
        {"a NO [LIMIT] too big\r\n", errc::limit},
        {"a NO [TRYCREATE] Mailbox doesn't exist\r\n", errc::try_create},
        {"a NO [ALREADYEXISTS] Mailbox already exists\r\n", errc::already_exists},
        {"a NO temporarily unavailable, try again\r\n", errc::no},
        {"a BAD Error in IMAP command\r\n", errc::bad},
        {"* BYE shutting down\r\n", errc::bye},
    };
    for (const auto& [bytes, expected] : table) {
        with_response(bytes, [&](const response& r) { EXPECT_EQ(status_error(r), expected) << bytes; });
    }
    with_response("a OK [ALERT] fine\r\n", [](const response& r) { EXPECT_FALSE(status_error(r)); });
    EXPECT_TRUE(is_transient(errc::unavailable));
    EXPECT_TRUE(is_transient(errc::in_use));
    EXPECT_FALSE(is_transient(errc::over_quota));
    EXPECT_FALSE(is_transient(errc::authentication_failed));
    EXPECT_FALSE(is_transient(errc::limit));
    EXPECT_FALSE(is_transient(errc::no));
    EXPECT_TRUE(is_fatal(errc::bad_syntax));
    EXPECT_TRUE(is_fatal(errc::bye));
    EXPECT_TRUE(is_fatal(errc::unexpected_tag));
    EXPECT_FALSE(is_fatal(errc::no));
    EXPECT_FALSE(is_fatal(errc::over_quota));
    EXPECT_TRUE(is_fatal(make_error_code(boost::system::errc::connection_reset)));
    EXPECT_TRUE(is_transient(make_error_code(boost::system::errc::connection_reset)));
    EXPECT_FALSE(is_fatal(error_code{}));
}

// One classification for every command (protocol/failure.hpp): migrate and probe used to disagree on
// [PRIVACYREQUIRED] (auth in one, TLS in the other), so one server got two exit statuses.
TEST(errc, classify_is_one_failure_model_for_connect_and_commands) {
    namespace se = boost::system::errc;
    struct row {
        error_code ec;
        failure connecting, command;
    };
    const row rows[] = {
        {errc::privacy_required, failure::tls, failure::tls},
        {errc::tls_required, failure::tls, failure::tls},
        {errc::starttls_injection, failure::tls, failure::tls},
        {errc::authentication_failed, failure::auth, failure::auth},
        {errc::authorization_failed, failure::auth, failure::auth},
        {errc::expired, failure::auth, failure::auth},
        // A refused or timed-out connect: nobody is there. The same mid-session: worth another connection.
        {make_error_code(se::connection_refused), failure::unreachable, failure::transient},
        {errc::timeout, failure::unreachable, failure::transient},
        // Accepted, then hung up (BYE as greeting, reset, EOF): busy or restarting.
        {errc::bye, failure::transient, failure::transient},
        {make_error_code(se::connection_reset), failure::transient, failure::transient},
        {errc::connection_closed, failure::transient, failure::transient},
        {errc::unavailable, failure::transient, failure::transient},
        {errc::no, failure::protocol, failure::refused},
        {errc::over_quota, failure::protocol, failure::refused},
        {errc::bad_syntax, failure::protocol, failure::protocol},
        {make_error_code(se::host_unreachable), failure::unreachable, failure::transient},
    };
    for (const auto& r : rows) {
        EXPECT_EQ(classify(r.ec, true), r.connecting) << r.ec.message();
        EXPECT_EQ(classify(r.ec, false), r.command) << r.ec.message();
    }
    EXPECT_EQ(to_string(failure::tls), "tls");
    EXPECT_EQ(to_string(failure::input), "input");
}

TEST(response, log_string_elides_literals_and_escapes_controls) {
    with_response("* LIST (\\Noselect \\HasChildren) \"/\" {5}\r\nab\x01" "cd\r\n", [](const response& r) {
        EXPECT_EQ(to_log_string(r), "* LIST (\\Noselect \\HasChildren) \"/\" {5}");
    });
    with_response("a1 NO [OVERQUOTA] over \x1b[2J quota\r\n", [](const response& r) {
        EXPECT_EQ(to_log_string(r), "a1 NO [OVERQUOTA] over \\x1b[2J quota");
    });
    with_response("* 3 FETCH (UID 7 FLAGS ())\r\n", [](const response& r) {
        EXPECT_EQ(to_log_string(r), "* 3 FETCH (UID 7 FLAGS ())");
        EXPECT_EQ(to_log_string(r, 10), "* 3 FETCH ...");
    });
}

TEST(errc, every_code_has_a_message_in_our_category) {
    for (int e = static_cast<int>(errc::bad_syntax); e <= static_cast<int>(errc::connection_closed); ++e) {
        const error_code ec = static_cast<errc>(e);
        EXPECT_EQ(std::string(ec.category().name()), "arrival.imap");
        EXPECT_NE(ec.message(), "unknown arrival.imap error") << e;
    }
}

}  // namespace
}  // namespace arrival::test
