// Socket-free scripts of the IMAP client's operations (client_fsm + client_ops): what the client writes, the
// server's canned replies, the TLS handshake it asks for, and the results. Every scenario runs with each server
// reply whole, split in two at every byte position, and one byte at a time; the transcript (writes, replies,
// completions) must be the same every time (tests/support/split_feed does the same for the parser).
#include "protocol/imap/client_fsm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>

#include "protocol/imap/client_ops.hpp"
#include "tests/protocol/imap/transcript.hpp"

namespace arrival::imap {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace client_fsm_test {

constexpr std::size_t whole = 0;
constexpr std::size_t bytewise = static_cast<std::size_t>(-1);

// One conversation with a scripted server. split_at: where each reply is cut (whole, bytewise, or a position).
class script {
public:
    explicit script(std::size_t split_at, client_fsm::options o = {}) : fsm(o), split_at_(split_at) {}

    client_fsm fsm;
    std::string log;  // "C: <written>", "S: <reply>", "TLS", "done <op>: <result>", "fatal: ..."

    // Everything the client may write now (as the driver's writer would, one write at a time).
    std::string written() {
        std::string out;
        for (;;) {
            const std::string_view w = fsm.prepare_write();
            if (w.empty()) break;
            out.append(w);
            fsm.commit_write(w.size());
        }
        if (!out.empty()) log += "C: " + out;
        return out;
    }

    // Feeds the server's bytes, cut per split_at. A fatal error is handled as the driver does: fail_all.
    error_code respond(std::string_view bytes) {
        log += "S: ";
        log.append(bytes);
        longest_ = std::max(longest_, bytes.size());
        std::vector<std::string_view> chunks;
        if (split_at_ == bytewise) {
            for (std::size_t i = 0; i < bytes.size(); ++i) chunks.push_back(bytes.substr(i, 1));
        } else if (split_at_ == whole || split_at_ >= bytes.size()) {
            chunks.push_back(bytes);
        } else {
            chunks = {bytes.substr(0, split_at_), bytes.substr(split_at_)};
        }
        for (auto c : chunks) {
            if (const auto ec = fsm.feed(c)) {
                log += "fatal: " + ec.message() + ": " + fsm.failure() + "\n";
                fsm.fail_all(ec, fsm.failure());
                return ec;
            }
        }
        return {};
    }

    // The server closes the connection (the driver's reader sees EOF).
    void eof() {
        log += "EOF\n";
        fsm.fail_all(fsm.bye() ? make_error_code(errc::bye) : make_error_code(errc::connection_closed),
                     "the server closed the connection");
    }

    void handshake(error_code ec = {}) {
        EXPECT_TRUE(fsm.tls_handshake_due());
        log += "TLS\n";
        fsm.tls_handshake_done(ec, ec ? "certificate verify failed" : "");
    }

    void start(operation& op, std::string name) {
        op.on_done = [this, &op, name] {
            log += "done " + name + ": " + (op.error() ? op.error().message() : std::string("ok")) + "\n";
        };
        fsm.start(op);
    }

    [[nodiscard]] std::size_t longest_reply() const noexcept { return longest_; }

private:
    std::size_t split_at_;
    std::size_t longest_ = 0;
};

using scenario = std::function<void(script&)>;

// Runs the scenario whole, then with every reply split at each position, then byte by byte.
void every_split(const scenario& run, client_fsm::options o = {}) {
    std::string reference;
    std::size_t longest = 0;
    {
        script s(whole, o);
        run(s);
        reference = s.log;
        longest = s.longest_reply();
    }
    for (std::size_t k = 1; k < longest && !::testing::Test::HasFailure(); ++k) {
        script s(k, o);
        run(s);
        EXPECT_EQ(s.log, reference) << "replies split at byte " << k;
    }
    if (::testing::Test::HasFailure()) return;
    script s(bytewise, o);
    run(s);
    EXPECT_EQ(s.log, reference) << "replies fed one byte at a time";
}

imap_url url(tls_mode mode, std::uint16_t port = 143) {
    imap_url u;
    u.host = "mail.test";
    u.port = port;
    u.tls = mode;
    return u;
}

// A connected client (cleartext, no STARTTLS) whose greeting announced `caps`; no command sent yet.
void greet(script& s, std::string_view caps) {
    connect_op c(url(tls_mode::none));
    s.start(c, "connect");
    ASSERT_EQ(s.respond("* OK [CAPABILITY " + std::string(caps) + "] ready\r\n"), error_code());
    ASSERT_TRUE(c.done());
    ASSERT_FALSE(c.error());
}

// The command `encode(cmd)` builds (an encode_* call), which must succeed.
template <class F>
command encoded(F encode) {
    command cmd;
    EXPECT_FALSE(encode(cmd));
    return cmd;
}

// ---- connect and STARTTLS ----

TEST(client_fsm_connect, starttls_then_capabilities_are_asked_again) {
    every_split([](script& s) {
        connect_op op(url(tls_mode::starttls_required));
        s.start(op, "connect");
        EXPECT_EQ(s.written(), "");  // the greeting comes first
        s.respond("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.\r\n");
        EXPECT_EQ(s.written(), "A00001 STARTTLS\r\n");
        s.respond("A00001 OK Begin TLS negotiation now.\r\n");
        EXPECT_TRUE(s.fsm.tls_handshake_due());
        EXPECT_EQ(s.written(), "");  // nothing is written until the handshake is done
        EXPECT_FALSE(op.done());
        s.handshake();
        // RFC 3501 §6.2.1: what the plaintext greeting claimed is forgotten.
        EXPECT_FALSE(s.fsm.session().has("STARTTLS"));
        EXPECT_EQ(s.written(), "A00002 CAPABILITY\r\n");
        s.respond("* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\r\nA00002 OK Capabilities listed.\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_FALSE(op.error());
        EXPECT_TRUE(s.fsm.session().has("AUTH=PLAIN"));
        EXPECT_FALSE(s.fsm.session().has("LOGINDISABLED"));
        EXPECT_EQ(s.fsm.session().phase, session_phase::not_authenticated);
        EXPECT_EQ(s.fsm.greeting(), "Dovecot ready.");
    });
}

TEST(client_fsm_connect, plaintext_after_the_starttls_ok_is_an_injection) {
    for (std::string_view after : {"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n", "* CAPA"}) {
        every_split([after](script& s) {
            connect_op op(url(tls_mode::starttls_required));
            s.start(op, "connect");
            s.respond("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n");
            EXPECT_EQ(s.written(), "A00001 STARTTLS\r\n");
            const auto ec = s.respond("A00001 OK Begin TLS.\r\n" + std::string(after));
            EXPECT_EQ(ec, errc::starttls_injection);
            ASSERT_TRUE(op.done());
            EXPECT_EQ(op.error(), errc::starttls_injection);
            EXPECT_FALSE(s.fsm.tls_handshake_due());
            EXPECT_TRUE(s.fsm.closed());
        });
    }
}

TEST(client_fsm_connect, starttls_required_but_not_offered_sends_nothing) {
    every_split([](script& s) {
        connect_op op(url(tls_mode::starttls_required));
        s.start(op, "connect");
        s.respond("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n");
        EXPECT_EQ(s.written(), "");
        ASSERT_TRUE(op.done());
        EXPECT_EQ(op.error(), errc::tls_required);
        EXPECT_NE(op.diag().client_message().find("does not offer STARTTLS"), std::string::npos);
    });
}

TEST(client_fsm_connect, starttls_refused_reports_the_server) {
    every_split([](script& s) {
        connect_op op(url(tls_mode::starttls_if_offered));
        s.start(op, "connect");
        s.respond("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n");
        EXPECT_EQ(s.written(), "A00001 STARTTLS\r\n");
        s.respond("A00001 NO [UNAVAILABLE] TLS backend down\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_EQ(op.error(), errc::unavailable);
        EXPECT_EQ(op.diag().command(), "A00001 STARTTLS");
        EXPECT_EQ(op.diag().server_message(), "TLS backend down");
        EXPECT_EQ(op.diag().client_message(), "STARTTLS refused");
    });
}

TEST(client_fsm_connect, greeting_without_capabilities_asks_for_them) {
    every_split([](script& s) {
        connect_op op(url(tls_mode::starttls_if_offered));
        s.start(op, "connect");
        s.respond("* OK ready\r\n");
        EXPECT_EQ(s.written(), "A00001 CAPABILITY\r\n");
        s.respond("* CAPABILITY IMAP4rev1 LITERAL+\r\nA00001 OK done\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_FALSE(op.error());  // no STARTTLS offered, and the URL allows cleartext
        EXPECT_TRUE(s.fsm.session().has("LITERAL+"));
    });
}

TEST(client_fsm_connect, implicit_tls_handshakes_first_and_reports_its_failure) {
    script s(whole);
    connect_op op(url(tls_mode::implicit, 993));
    s.start(op, "connect");
    EXPECT_TRUE(s.fsm.tls_handshake_due());
    EXPECT_EQ(s.written(), "");
    s.handshake(boost::system::errc::make_error_code(boost::system::errc::protocol_error));
    ASSERT_TRUE(op.done());
    EXPECT_EQ(op.error(), boost::system::errc::protocol_error);
    EXPECT_EQ(op.diag().client_message(), "TLS with imaps://mail.test:993: certificate verify failed");

    script ok(whole);
    connect_op op2(url(tls_mode::implicit, 993));
    ok.start(op2, "connect");
    ok.handshake();
    ok.respond("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n");
    ASSERT_TRUE(op2.done());
    EXPECT_FALSE(op2.error());
}

TEST(client_fsm_connect, bye_greeting_refuses) {
    every_split([](script& s) {
        connect_op op(url(tls_mode::starttls_required));
        s.start(op, "connect");
        s.respond("* BYE Too many connections from your IP\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_EQ(op.error(), errc::bye);
        EXPECT_EQ(op.diag().server_message(), "Too many connections from your IP");
    });
}

// ---- login ----

TEST(client_fsm_login, login_with_capability_code_needs_no_capability_command) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1 AUTH=PLAIN");
        const credentials cred{.user = "bob", .password = "secret", .how = credentials::method::login};
        login_op op(cred);
        s.start(op, "login");
        EXPECT_EQ(s.written(), "A00001 LOGIN bob secret\r\n");
        s.respond("A00001 OK [CAPABILITY IMAP4rev1 MULTIAPPEND UIDPLUS] Logged in\r\n");
        EXPECT_EQ(s.written(), "");
        ASSERT_TRUE(op.done());
        EXPECT_FALSE(op.error());
        EXPECT_EQ(op.diag().command(), "A00001 LOGIN bob <password>");  // never the password
        EXPECT_TRUE(s.fsm.session().has("MULTIAPPEND"));
        EXPECT_EQ(s.fsm.session().phase, session_phase::authenticated);
    });
}

TEST(client_fsm_login, login_without_capability_code_asks_for_them) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1");
        const credentials cred{.user = "bob", .password = "secret"};
        login_op op(cred);
        s.start(op, "login");
        EXPECT_EQ(s.written(), "A00001 LOGIN bob secret\r\n");
        s.respond("A00001 OK Logged in\r\n");
        EXPECT_EQ(s.written(), "A00002 CAPABILITY\r\n");
        s.respond("* CAPABILITY IMAP4rev1 ID\r\nA00002 OK done\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_FALSE(op.error());
        EXPECT_TRUE(s.fsm.session().has("ID"));
    });
}

TEST(client_fsm_login, refusals_keep_their_rfc5530_codes) {
    struct refusal {
        std::string_view reply;
        errc expected;
    };
    for (const refusal& r : {refusal{"A00001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
                                     errc::authentication_failed},
                             refusal{"A00001 NO Authentication failed.\r\n", errc::authentication_failed},
                             refusal{"A00001 NO [UNAVAILABLE] Try later\r\n", errc::unavailable},
                             refusal{"A00001 BAD Syntax\r\n", errc::bad}}) {
        every_split([&r](script& s) {
            greet(s, "IMAP4rev1");
            const credentials cred{.user = "bob", .password = "secret"};
            login_op op(cred);
            s.start(op, "login");
            EXPECT_EQ(s.written(), "A00001 LOGIN bob secret\r\n");
            s.respond(r.reply);
            ASSERT_TRUE(op.done());
            EXPECT_EQ(op.error(), r.expected) << r.reply;
            EXPECT_EQ(op.diag().command(), "A00001 LOGIN bob <password>");
            EXPECT_EQ(s.fsm.session().phase, session_phase::not_authenticated);
            EXPECT_FALSE(s.fsm.closed());  // a refusal leaves the connection usable
        });
    }
}

TEST(client_fsm_login, authenticate_plain_with_sasl_ir_and_authzid) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1 AUTH=PLAIN SASL-IR");
        // An administrator acting for bob: automatic picks PLAIN with authzid=bob, authcid=admin.
        const credentials cred{.user = "bob", .admin = "admin", .password = "secret"};
        login_op op(cred);
        s.start(op, "login");
        EXPECT_EQ(s.written(), "A00001 AUTHENTICATE PLAIN Ym9iAGFkbWluAHNlY3JldA==\r\n");
        s.respond("A00001 NO [AUTHORIZATIONFAILED] Not allowed to log in as bob\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_EQ(op.error(), errc::authorization_failed);
        EXPECT_EQ(op.diag().command().find("Ym9i"), std::string::npos);
    });
}

TEST(client_fsm_login, authenticate_plain_waits_for_the_continuation) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1 AUTH=PLAIN LOGINDISABLED");
        const credentials cred{.user = "bob", .password = "secret"};  // automatic: LOGINDISABLED -> PLAIN
        login_op op(cred);
        s.start(op, "login");
        EXPECT_EQ(s.written(), "A00001 AUTHENTICATE PLAIN\r\n");
        s.respond("+ \r\n");
        EXPECT_EQ(s.written(), "AGJvYgBzZWNyZXQ=\r\n");
        s.respond("A00001 OK [CAPABILITY IMAP4rev1 UIDPLUS] Logged in\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_FALSE(op.error());
    });
}

TEST(client_fsm_login, dovecot_master_user_form) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1");
        const credentials cred{
            .user = "bob", .admin = "admin", .password = "secret", .how = credentials::method::master_login};
        login_op op(cred);
        s.start(op, "login");
        EXPECT_EQ(s.written(), "A00001 LOGIN \"bob*admin\" secret\r\n");
        s.respond("A00001 OK [CAPABILITY IMAP4rev1 UIDPLUS] Logged in\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_FALSE(op.error());
    });
}

TEST(client_fsm_login, logindisabled_refuses_login_before_sending) {
    script s(whole);
    greet(s, "IMAP4rev1 LOGINDISABLED");
    const credentials cred{.user = "bob", .password = "secret", .how = credentials::method::login};
    login_op op(cred);
    s.start(op, "login");
    EXPECT_EQ(s.written(), "");
    ASSERT_TRUE(op.done());
    EXPECT_EQ(op.error(), errc::tls_required);

    const credentials plain{.user = "bob", .password = "secret", .how = credentials::method::plain};
    login_op op2(plain);
    s.start(op2, "login");
    EXPECT_EQ(s.written(), "");
    EXPECT_EQ(op2.error(), errc::capability_missing);  // no AUTH=PLAIN either
}

// ---- mailboxes ----

TEST(client_fsm_select, select_collects_the_mailbox_and_the_session_follows) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1");
        select_op op("INBOX", false, encoded([&](command& c) { return encode_select("INBOX", false, false, s.fsm.encoder(), c); }));
        s.start(op, "select");
        EXPECT_EQ(s.written(), "A00001 SELECT INBOX\r\n");
        s.respond(
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
            "* 3 EXISTS\r\n"
            "* 0 RECENT\r\n"
            "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
            "* OK [UIDNEXT 4] Predicted next UID\r\n"
            "* OK [HIGHESTMODSEQ 9] Highest\r\n"
            "A00001 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_FALSE(op.error());
        EXPECT_EQ(op.out.exists, 3u);
        EXPECT_EQ(op.out.uidvalidity, 1700000000u);
        EXPECT_EQ(op.out.uidnext, 4u);
        EXPECT_EQ(op.out.highestmodseq, 9u);
        EXPECT_EQ(op.out.flags.size(), 6u);
        EXPECT_TRUE(op.out.has_permanent_flags);
        EXPECT_EQ(op.out.permanent_flags.back(), "\\*");
        EXPECT_FALSE(op.out.read_only);
        EXPECT_EQ(s.fsm.session().selected, "INBOX");
        EXPECT_EQ(s.fsm.session().phase, session_phase::selected);
        EXPECT_EQ(s.fsm.session().exists, 3u);

        // RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected.
        select_op missing("Gone", true, encoded([&](command& c) { return encode_select("Gone", true, false, s.fsm.encoder(), c); }));
        s.start(missing, "examine");
        EXPECT_EQ(s.written(), "A00002 EXAMINE Gone\r\n");
        s.respond("A00002 NO [NONEXISTENT] Mailbox doesn't exist: Gone\r\n");
        ASSERT_TRUE(missing.done());
        EXPECT_EQ(missing.error(), errc::nonexistent);
        EXPECT_EQ(missing.diag().response_code(), "NONEXISTENT");
        EXPECT_EQ(s.fsm.session().selected, "");
        EXPECT_EQ(s.fsm.session().phase, session_phase::authenticated);
    });
}

TEST(client_fsm_list, list_then_lsub_without_list_extended) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1");
        list_op op("", "*", false);
        s.start(op, "list");
        EXPECT_EQ(s.written(), "A00001 LIST \"\" *\r\n");
        s.respond(
            "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
            "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n"
            "* LIST (\\HasNoChildren) \"/\" \"&AMQ-rger\"\r\n"
            "A00001 OK List completed.\r\n");
        EXPECT_FALSE(op.done());
        EXPECT_EQ(s.written(), "A00002 LSUB \"\" *\r\n");
        s.respond("* LSUB () \"/\" Sent\r\nA00002 OK Lsub completed.\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_FALSE(op.error());
        ASSERT_EQ(op.out.size(), 3u);
        EXPECT_EQ(op.out[1].use, special_use::sent);
        EXPECT_TRUE(op.out[1].subscribed);
        EXPECT_FALSE(op.out[0].subscribed);
        EXPECT_EQ(op.out[2].name, "\xC3\x84rger");
        EXPECT_EQ(op.out[2].raw_name, "&AMQ-rger");
    });
}

TEST(client_fsm_list, list_extended_asks_for_subscriptions_in_one_command) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1 LIST-EXTENDED SPECIAL-USE");
        list_op op("", "*", false);
        s.start(op, "list");
        EXPECT_EQ(s.written(), "A00001 LIST \"\" * RETURN (SUBSCRIBED SPECIAL-USE)\r\n");
        s.respond("* LIST (\\Subscribed \\Trash) \"/\" Trash\r\nA00001 OK done\r\n");
        EXPECT_EQ(s.written(), "");
        ASSERT_TRUE(op.done());
        ASSERT_EQ(op.out.size(), 1u);
        EXPECT_TRUE(op.out[0].subscribed);
        EXPECT_EQ(op.out[0].use, special_use::trash);
    });
}

TEST(client_fsm_status, pipelined_commands_get_their_own_untagged_replies) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1");
        const std::string_view items[] = {"MESSAGES", "UIDNEXT"};
        status_op first(encoded([&](command& c) { return encode_status("a", items, s.fsm.encoder(), c); }));
        status_op second(encoded([&](command& c) { return encode_status("b", items, s.fsm.encoder(), c); }));
        simple_op noop(encode_simple("NOOP"));
        s.start(first, "status a");
        s.start(second, "status b");
        s.start(noop, "noop");
        // One coalesced write: all three are in flight together.
        EXPECT_EQ(s.written(),
                  "A00001 STATUS a (MESSAGES UIDNEXT)\r\nA00002 STATUS b (MESSAGES UIDNEXT)\r\nA00003 NOOP\r\n");
        s.respond(
            "* STATUS a (MESSAGES 1 UIDNEXT 10)\r\nA00001 OK done\r\n"
            "* STATUS b (MESSAGES 2 UIDNEXT 20)\r\nA00002 NO [NOPERM] no\r\n"
            "* 4 EXISTS\r\nA00003 OK done\r\n");
        ASSERT_TRUE(first.done() && second.done() && noop.done());
        EXPECT_EQ(first.out.messages, 1u);
        EXPECT_EQ(first.out.uidnext, 10u);
        EXPECT_EQ(second.error(), errc::no_perm);
        EXPECT_FALSE(noop.error());
        EXPECT_EQ(s.fsm.session().exists, 4u);
    });
}

TEST(client_fsm_status, the_in_flight_cap_holds_commands_back) {
    every_split(
        [](script& s) {
            greet(s, "IMAP4rev1");
            simple_op a(encode_simple("NOOP")), b(encode_simple("NOOP"));
            s.start(a, "a");
            s.start(b, "b");
            EXPECT_EQ(s.written(), "A00001 NOOP\r\n");
            s.respond("A00001 OK done\r\n");
            EXPECT_EQ(s.written(), "A00002 NOOP\r\n");
            s.respond("A00002 OK done\r\n");
            EXPECT_TRUE(a.done() && b.done());
        },
        client_fsm::options{.max_in_flight = 1});
}

// ---- UID FETCH ----

TEST(client_fsm_fetch, bodies_stream_into_the_sink_whatever_the_split) {
    // Literals over 8 bytes are streamed, so the 26-byte body crosses every split as chunks.
    every_split(
        [](script& s) {
            greet(s, "IMAP4rev1");
            test::fetch_transcript sink;
            fetch_op op(encoded([&](command& c) { return encode_uid_fetch("7:8", "(UID FLAGS BODY.PEEK[])", c); }), sink);
            s.start(op, "fetch");
            EXPECT_EQ(s.written(), "A00001 UID FETCH 7:8 (UID FLAGS BODY.PEEK[])\r\n");
            s.respond(
                "* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[] {26}\r\nSubject: hi\r\n\r\nbody text\r\n)\r\n"
                "* 2 FETCH (UID 8 FLAGS () BODY[] {3}\r\nabc)\r\n"
                "A00001 OK Fetch completed.\r\n");
            ASSERT_TRUE(op.done());
            EXPECT_FALSE(op.error());
            s.log += sink.out;
            EXPECT_NE(sink.out.find("Subject: hi\r\n\r\nbody text\r\n"), std::string::npos) << sink.out;
            EXPECT_NE(sink.out.find("uid=8"), std::string::npos) << sink.out;

            // A FETCH nobody asked for (a flag change during NOOP) is decoded and dropped.
            simple_op noop(encode_simple("NOOP"));
            s.start(noop, "noop");
            EXPECT_EQ(s.written(), "A00002 NOOP\r\n");
            const std::size_t before = sink.out.size();
            s.respond("* 1 FETCH (FLAGS (\\Seen \\Flagged))\r\nA00002 OK done\r\n");
            EXPECT_TRUE(noop.done());
            EXPECT_EQ(sink.out.size(), before);
        },
        client_fsm::options{.parser_limits = {.max_inline_literal = 8}});
}

// QRESYNC (RFC 7162 §3.2.6): ENABLE is remembered by the session; UID FETCH (CHANGEDSINCE m VANISHED) gets the
// changed flags as FETCHes and the expunged UIDs as VANISHED (EARLIER), which the fetch collects. A fetch that
// did not ask for VANISHED leaves it alone, and a malformed one fails the command.
TEST(client_fsm_fetch, changedsince_vanished_collects_the_expunged_uids) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1 CONDSTORE QRESYNC");
        EXPECT_FALSE(s.fsm.session().is_enabled("QRESYNC"));
        const std::string_view caps[] = {"QRESYNC"};
        enable_op en(encoded([&](command& c) { return encode_enable(caps, c); }));
        s.start(en, "enable");
        EXPECT_EQ(s.written(), "A00001 ENABLE QRESYNC\r\n");
        s.respond("* ENABLED QRESYNC\r\nA00001 OK Enabled.\r\n");
        ASSERT_TRUE(en.done());
        EXPECT_TRUE(s.fsm.session().is_enabled("qresync"));

        test::fetch_transcript sink;
        std::vector<seq_range> gone;
        fetch_op op(encoded([&](command& c) { return encode_uid_fetch_changedsince("1:300", "(UID FLAGS)", 41, c, true); }), sink, &gone);
        s.start(op, "fetch");
        EXPECT_EQ(s.written(), "A00002 UID FETCH 1:300 (UID FLAGS) (CHANGEDSINCE 41 VANISHED)\r\n");
        s.respond("* VANISHED (EARLIER) 101,103:104,110\r\n"
                  "* 5 FETCH (UID 9 FLAGS (\\Seen) MODSEQ (44))\r\n"
                  "A00002 OK Fetch completed.\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_FALSE(op.error());
        EXPECT_EQ(gone, (std::vector<seq_range>{{101, 101}, {103, 104}, {110, 110}}));
        EXPECT_NE(sink.out.find("uid=9"), std::string::npos) << sink.out;

        test::fetch_transcript other;
        fetch_op plain(encoded([&](command& c) { return encode_uid_fetch("1:*", "(UID)", c); }), other);
        s.start(plain, "plain fetch");
        EXPECT_EQ(s.written(), "A00003 UID FETCH 1:* (UID)\r\n");
        s.respond("* VANISHED 7\r\nA00003 OK done\r\n");
        ASSERT_TRUE(plain.done());
        EXPECT_FALSE(plain.error());
        EXPECT_EQ(gone.size(), 3u);

        std::vector<seq_range> bad;
        fetch_op broken(encoded([&](command& c) { return encode_uid_fetch_changedsince("1:5", "(UID FLAGS)", 41, c, true); }), sink, &bad);
        s.start(broken, "broken");
        EXPECT_EQ(s.written(), "A00004 UID FETCH 1:5 (UID FLAGS) (CHANGEDSINCE 41 VANISHED)\r\n");
        s.respond("* VANISHED (EARLIER) 1:x\r\nA00004 OK done\r\n");
        ASSERT_TRUE(broken.done());
        EXPECT_TRUE(broken.error());
    });
}

TEST(client_fsm_fetch, bye_mid_command_fails_it_with_the_servers_words) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1");
        test::fetch_transcript sink;
        fetch_op op(encoded([&](command& c) { return encode_uid_fetch("1:*", "(UID)", c); }), sink);
        s.start(op, "fetch");
        EXPECT_EQ(s.written(), "A00001 UID FETCH 1:* (UID)\r\n");
        s.respond("* 1 FETCH (UID 5)\r\n* BYE Server shutting down.\r\n");
        EXPECT_FALSE(op.done());
        s.eof();
        ASSERT_TRUE(op.done());
        EXPECT_EQ(op.error(), errc::bye);
        EXPECT_TRUE(is_fatal(op.error()));
        EXPECT_EQ(op.diag().server_message(), "Server shutting down.");
        EXPECT_EQ(op.diag().command(), "A00001 UID FETCH 1:* (UID)");
        // Later operations fail at once.
        simple_op noop(encode_simple("NOOP"));
        s.start(noop, "noop");
        EXPECT_EQ(noop.error(), errc::bye);
        EXPECT_EQ(s.written(), "");
    });
}

TEST(client_fsm_fetch, unknown_tag_and_stray_continuation_are_fatal) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1");
        simple_op noop(encode_simple("NOOP"));
        s.start(noop, "noop");
        EXPECT_EQ(s.written(), "A00001 NOOP\r\n");
        EXPECT_EQ(s.respond("A00009 OK done\r\n"), errc::unexpected_tag);
        EXPECT_EQ(noop.error(), errc::unexpected_tag);
    });
    every_split([](script& s) {
        greet(s, "IMAP4rev1");
        simple_op noop(encode_simple("NOOP"));
        s.start(noop, "noop");
        EXPECT_EQ(s.written(), "A00001 NOOP\r\n");
        EXPECT_EQ(s.respond("+ go ahead\r\n"), errc::unexpected_continuation);
        EXPECT_EQ(noop.error(), errc::unexpected_continuation);
    });
}

// ---- APPEND ----

std::vector<append_message> two_messages() {
    std::vector<append_message> m(2);
    m[0].flags = {"\\Seen"};
    m[0].body = "hello";
    m[1].body = "world!";
    return m;
}

TEST(client_fsm_append, multiappend_with_literal_plus_and_appenduid) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1 MULTIAPPEND LITERAL+ UIDPLUS");
        const auto msgs = two_messages();
        append_op op("INBOX", msgs);
        s.start(op, "append");
        EXPECT_EQ(s.written(), "A00001 APPEND INBOX (\\Seen) {5+}\r\nhello {6+}\r\nworld!\r\n");
        s.respond("A00001 OK [APPENDUID 1700000000 10:11] Append completed.\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_FALSE(op.error());
        EXPECT_EQ(op.out.uidvalidity, 1700000000u);
        EXPECT_EQ(op.out.uids, (std::vector<std::uint32_t>{10, 11}));
    });
}

TEST(client_fsm_append, multiappend_with_synchronizing_literals_waits_for_each_continuation) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1 MULTIAPPEND UIDPLUS");
        const auto msgs = two_messages();
        append_op op("Sent", msgs);
        s.start(op, "append");
        EXPECT_EQ(s.written(), "A00001 APPEND Sent (\\Seen) {5}\r\n");
        s.respond("+ OK\r\n");
        EXPECT_EQ(s.written(), "hello {6}\r\n");
        s.respond("+ OK\r\n");
        EXPECT_EQ(s.written(), "world!\r\n");
        s.respond("A00001 OK [APPENDUID 7 3:4] done\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_EQ(op.out.uids, (std::vector<std::uint32_t>{3, 4}));
    });
}

TEST(client_fsm_append, big_literals_stay_synchronizing_under_literal_plus_and_a_refusal_drops_the_body) {
    every_split(
        [](script& s) {
            greet(s, "IMAP4rev1 LITERAL+");
            std::vector<append_message> m(1);
            m[0].body = "hello";
            append_op op("INBOX", m);
            s.start(op, "append");
            EXPECT_EQ(s.written(), "A00001 APPEND INBOX {5}\r\n");
            s.respond("A00001 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)\r\n");
            EXPECT_EQ(s.written(), "");  // the body is never sent
            ASSERT_TRUE(op.done());
            EXPECT_EQ(op.error(), errc::over_quota);
            EXPECT_EQ(op.diag().server_message(), "Quota exceeded (mailbox for user is full)");
        },
        client_fsm::options{.literal_plus_max = 4});
}

TEST(client_fsm_append, one_append_per_message_without_multiappend_first_failure_decides) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1 LITERAL+ UIDPLUS");
        const auto msgs = two_messages();
        append_op op("INBOX", msgs);
        s.start(op, "append");
        EXPECT_EQ(s.written(), "A00001 APPEND INBOX (\\Seen) {5+}\r\nhello\r\nA00002 APPEND INBOX {6+}\r\nworld!\r\n");
        s.respond("A00001 OK [APPENDUID 7 3] ok\r\n");
        EXPECT_FALSE(op.done());
        s.respond("A00002 NO [TRYCREATE] Mailbox doesn't exist\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_EQ(op.error(), errc::try_create);
        EXPECT_EQ(op.diag().command().substr(0, 14), "A00002 APPEND ");
        EXPECT_EQ(op.diag().response_code(), "TRYCREATE");
        EXPECT_TRUE(op.out.uids.empty());
    });
}

TEST(client_fsm_append, without_uidplus_there_are_no_uids) {
    every_split([](script& s) {
        greet(s, "IMAP4rev1 LITERAL+");
        const auto msgs = two_messages();
        append_op op("INBOX", msgs);
        s.start(op, "append");
        EXPECT_EQ(s.written(), "A00001 APPEND INBOX (\\Seen) {5+}\r\nhello\r\nA00002 APPEND INBOX {6+}\r\nworld!\r\n");
        s.respond("A00001 OK done\r\nA00002 OK done\r\n");
        ASSERT_TRUE(op.done());
        EXPECT_FALSE(op.error());
        EXPECT_TRUE(op.out.uids.empty());
        EXPECT_EQ(op.out.uidvalidity, 0u);
    });
}

TEST(client_fsm_append, a_bad_mailbox_name_sends_nothing) {
    script s(whole);
    greet(s, "IMAP4rev1 MULTIAPPEND");
    const auto msgs = two_messages();
    append_op op(std::string_view("bad\xffname"), msgs);  // not UTF-8
    s.start(op, "append");
    EXPECT_EQ(s.written(), "");
    ASSERT_TRUE(op.done());
    EXPECT_EQ(op.error(), errc::bad_mailbox_name);
}

// ---- replies that overtake the writer ----
// The driver's writer reports commit_write(n) only after its write completes, and the reader may run first:
// the server can answer bytes the client has handed out but not yet committed, and can refuse a LITERAL+
// command (NO [OVERQUOTA]) while its literal, and the commands behind it, are still being written. A reply
// then completes its command exactly once, after the last byte of the command was written: until then the
// caller's message bodies are still being read by the writer.

// The writer as the driver runs it, stepped by hand: what it has committed (`sent`) and the view it holds.
class stepped_writer {
public:
    explicit stepped_writer(client_fsm& fsm) : fsm_(fsm) {}

    std::string sent;

    // Commits until `target` bytes are sent or nothing may be written, then holds the next view (handed out,
    // not committed), as a writer whose write_some is on the wire.
    void advance_to(std::size_t target) {
        while (sent.size() < target) {
            const std::string_view v = fsm_.prepare_write();
            if (v.empty()) break;
            const std::size_t n = std::min(v.size(), target - sent.size());
            sent.append(v.substr(0, n));
            fsm_.commit_write(n);
        }
        held_ = fsm_.prepare_write().size();
    }
    // Bytes the server may have received: committed, or handed out to a write in progress.
    [[nodiscard]] std::size_t on_the_wire() const noexcept { return sent.size() + held_; }

private:
    client_fsm& fsm_;
    std::size_t held_ = 0;
};

// Two MULTIAPPENDs under LITERAL+ (the first message body_size bytes, the rest small), one refused with
// NO [OVERQUOTA], the other accepted, replies fed at every pair of writer positions (both orders) that the
// server could have reached; then a NOOP on the same connection. `cuts`: writer positions to try (byte
// offsets in the command stream).
void overquota_in_every_interleaving(std::size_t body_size,
                                     const std::function<std::vector<std::size_t>(const std::string&)>& cuts) {
    const std::string big1(body_size, 'a'), big2(7, 'b');
    std::vector<append_message> first(2), second(2);
    first[0].body = big1;
    first[1].body = big2;
    second[0].body = "third";
    second[1].body = "fourth";
    const std::string refusal = "A00001 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)\r\n";
    const std::string accept = "A00002 OK [APPENDUID 9 5:6] Append completed.\r\n";

    // The command stream, as written when nobody answers.
    std::string stream;
    {
        script s(whole);
        greet(s, "IMAP4rev1 MULTIAPPEND LITERAL+ UIDPLUS");
        append_op a("INBOX", first), b("INBOX", second);
        s.start(a, "a");
        s.start(b, "b");
        stream = s.written();
    }
    const std::size_t second_at = stream.find("A00002 APPEND");
    ASSERT_NE(second_at, std::string::npos);
    const std::vector<std::size_t> points = cuts(stream);
    std::size_t runs = 0;
    for (const bool refusal_first : {true, false}) {
        for (std::size_t i = 0; i < points.size(); ++i) {
            for (std::size_t j = i; j < points.size(); ++j) {
                script s(whole);
                greet(s, "IMAP4rev1 MULTIAPPEND LITERAL+ UIDPLUS");
                stepped_writer w(s.fsm);
                append_op a("INBOX", first), b("INBOX", second);
                int a_done = 0, b_done = 0;
                std::size_t a_sent_at_done = 0, b_sent_at_done = 0;
                a.on_done = [&] { ++a_done; a_sent_at_done = w.sent.size(); };
                b.on_done = [&] { ++b_done; b_sent_at_done = w.sent.size(); };
                s.fsm.start(a);
                s.fsm.start(b);
                const std::string& r1 = refusal_first ? refusal : accept;
                const std::string& r2 = refusal_first ? accept : refusal;
                const std::size_t r1_needs = refusal_first ? 1 : second_at + 1;   // its tag's first byte
                const std::size_t r2_needs = refusal_first ? second_at + 1 : 1;
                w.advance_to(points[i]);
                if (w.on_the_wire() < r1_needs) continue;   // the server cannot answer what it never got
                ASSERT_EQ(s.fsm.feed(r1), error_code()) << s.fsm.failure() << " at " << points[i];
                w.advance_to(points[j]);
                if (w.on_the_wire() < r2_needs) continue;
                ASSERT_EQ(s.fsm.feed(r2), error_code()) << s.fsm.failure() << " at " << points[i] << "/" << points[j];
                w.advance_to(stream.size());
                ++runs;
                const std::string where = "replies after " + std::to_string(points[i]) + " and " + std::to_string(points[j]) +
                                          " bytes, refusal " + (refusal_first ? "first" : "second");
                EXPECT_EQ(w.sent, stream) << where;   // every literal byte the server is bound to read
                EXPECT_EQ(a_done, 1) << where;
                EXPECT_EQ(b_done, 1) << where;
                EXPECT_GE(a_sent_at_done, second_at) << where;   // not before its bodies were written
                EXPECT_EQ(b_sent_at_done, stream.size()) << where;
                EXPECT_EQ(a.error(), errc::over_quota) << where;
                EXPECT_EQ(a.diag().server_message(), "Quota exceeded (mailbox for user is full)") << where;
                EXPECT_EQ(a.diag().command().substr(0, 14), "A00001 APPEND ") << where;
                EXPECT_FALSE(b.error()) << where;
                EXPECT_EQ(b.out.uids, (std::vector<std::uint32_t>{5, 6})) << where;
                // The connection goes on.
                simple_op noop(encode_simple("NOOP"));
                s.start(noop, "noop");
                EXPECT_EQ(s.written(), "A00003 NOOP\r\n") << where;
                ASSERT_EQ(s.respond("A00003 OK done\r\n"), error_code()) << where;
                EXPECT_TRUE(noop.done() && !noop.error()) << where;
                if (::testing::Test::HasFailure()) return;
            }
        }
    }
    EXPECT_GT(runs, points.size());
}

// Writer positions around every boundary of the stream (tags, CRLFs: where a command, a literal header or a
// body ends) and every `step` bytes between them.
std::vector<std::size_t> cuts_around_boundaries(const std::string& stream, std::size_t step) {
    std::vector<std::size_t> at;
    for (std::size_t k = 0; k <= stream.size(); k += step) at.push_back(k);
    for (std::size_t p = 0; p < stream.size(); ++p) {
        const bool boundary = stream.compare(p, 2, "\r\n") == 0 || stream.compare(p, 6, "A0000") == 0;
        if (!boundary) continue;
        for (std::size_t d = 0; d < 2; ++d) {
            if (p >= d) at.push_back(p - d);
            at.push_back(std::min(stream.size(), p + 2 + d));
        }
    }
    at.push_back(stream.size());
    std::sort(at.begin(), at.end());
    at.erase(std::unique(at.begin(), at.end()), at.end());
    return at;
}

TEST(client_fsm_overtaking, overquota_refusal_while_coalesced_literals_are_on_the_wire_every_interleaving) {
    // Small bodies: both commands go out in one coalesced write.
    overquota_in_every_interleaving(7, [](const std::string& stream) { return cuts_around_boundaries(stream, 5); });
}

TEST(client_fsm_overtaking, overquota_refusal_while_a_body_is_written_from_the_callers_memory) {
    // Bodies over the 64 KiB coalescing limit are written straight from the caller's memory.
    overquota_in_every_interleaving(64 * 1024 + 1, [](const std::string& stream) {
        return cuts_around_boundaries(stream, 32 * 1024);
    });
}

TEST(client_fsm_overtaking, refusal_before_a_synchronizing_literal_drops_it_and_unblocks_the_next_command) {
    // literal_plus_max 4: the first message's 5-byte body waits for "+" in a MULTIAPPEND that has one
    // LITERAL+ message before it; the refusal comes while that first part is still handed out.
    every_split(
        [](script& s) {
            greet(s, "IMAP4rev1 MULTIAPPEND LITERAL+");
            std::vector<append_message> m(2), next(1);
            m[0].body = "hi";
            m[1].body = "hello";
            next[0].body = "ok";
            append_op a("INBOX", m), b("INBOX", next);
            s.start(a, "a");
            s.start(b, "b");
            const std::string_view held = s.fsm.prepare_write();
            EXPECT_EQ(held, "A00001 APPEND INBOX {2+}\r\nhi {5}\r\n");
            s.respond("A00001 NO [OVERQUOTA] Quota exceeded\r\n");
            EXPECT_FALSE(a.done());   // its bytes are still on their way
            s.fsm.commit_write(held.size());
            ASSERT_TRUE(a.done());
            EXPECT_EQ(a.error(), errc::over_quota);
            EXPECT_EQ(s.written(), "A00002 APPEND INBOX {2+}\r\nok\r\n");   // "hello" is never sent
            s.respond("A00002 OK done\r\n");
            EXPECT_TRUE(b.done() && !b.error());
        },
        client_fsm::options{.literal_plus_max = 4});
}

TEST(client_fsm_overtaking, namespace_and_list_answered_before_the_writer_reports) {
    // NAMESPACE and LIST pipelined in one write; the reader gets both replies before the writer's
    // commit_write() (a 2-thread io_context, or one read that completes before the write's handler runs).
    every_split([](script& s) {
        greet(s, "IMAP4rev1 LIST-EXTENDED");
        namespace_op ns;
        list_op list("", "*", false);
        s.start(ns, "namespace");
        s.start(list, "list");
        const std::string_view held = s.fsm.prepare_write();
        EXPECT_EQ(held, "A00001 NAMESPACE\r\nA00002 LIST \"\" * RETURN (SUBSCRIBED)\r\n");
        const std::size_t n = held.size();
        EXPECT_EQ(s.respond("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\nA00001 OK done\r\n"
                            "* LIST (\\HasNoChildren) \"/\" INBOX\r\nA00002 OK done\r\n"),
                  error_code());
        EXPECT_FALSE(ns.done());
        s.fsm.commit_write(n);
        ASSERT_TRUE(ns.done() && list.done());
        EXPECT_FALSE(ns.error());
        EXPECT_FALSE(list.error());
        ASSERT_EQ(ns.out.personal.size(), 1u);
        ASSERT_EQ(list.out.size(), 1u);
        EXPECT_EQ(list.out[0].name, "INBOX");
        // Their tags are spent: a second reply is still fatal.
        EXPECT_EQ(s.respond("A00002 OK again\r\n"), errc::unexpected_tag);
    });
}

}  // namespace
}  // namespace arrival::imap
