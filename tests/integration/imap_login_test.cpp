// Connecting and authenticating against the loopback Dovecot: cleartext, implicit TLS, STARTTLS, bad
// password, master user (SASL PLAIN authzid and user*master), certificate checks, unreachable host,
// capability refresh after TLS and after login, ID. Users user180/user181.
#include "tests/integration/imap_test_support.hpp"

namespace imap_test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace imap_login_test {

bool has(const std::vector<std::string>& caps, std::string_view c) {
    return std::any_of(caps.begin(), caps.end(), [&](const auto& x) { return iequals(x, c); });
}

TEST(imap_login, cleartext_login_and_capabilities_refreshed_after_auth) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await make(cleartext_only());
        error_code ec;
        co_await conn->async_connect(ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_FALSE(conn->tls_active());
        const auto before = conn->session().capabilities();
        EXPECT_TRUE(has(before, "AUTH=PLAIN"));
        EXPECT_TRUE(has(before, "STARTTLS"));
        co_await conn->async_login(user_credentials(180), ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_EQ(conn->session().phase, session_phase::authenticated);
        const auto after = conn->session().capabilities();
        // Dovecot's post-login list drops AUTH=* and adds the mailbox extensions.
        EXPECT_FALSE(has(after, "AUTH=PLAIN"));
        EXPECT_TRUE(has(after, "UIDPLUS"));
        EXPECT_TRUE(has(after, "MULTIAPPEND"));
        const auto id = co_await conn->async_id(ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_TRUE(std::any_of(id.begin(), id.end(), [](const auto& kv) { return iequals(kv.first, "name"); }));
        co_await conn->async_logout(ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_FALSE(conn->is_open());
    });
}

TEST(imap_login, implicit_tls_verified_against_the_testbed_ca) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await open(options(endpoint::implicit_tls), user_credentials(180));
        EXPECT_TRUE(conn->tls_active());
        EXPECT_NE(conn->tls_description().find("TLS"), std::string::npos);
        error_code ec;
        co_await conn->async_logout(ec);
        EXPECT_FALSE(ec);
    });
}

TEST(imap_login, starttls_upgrades_and_forgets_plaintext_capabilities) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await make(options(endpoint::starttls));
        error_code ec;
        co_await conn->async_connect(ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_TRUE(conn->tls_active());
        // After TLS the capability list was asked again: STARTTLS is no longer offered.
        EXPECT_FALSE(conn->has_capability("STARTTLS"));
        EXPECT_TRUE(conn->has_capability("IMAP4rev1"));
        co_await conn->async_login(user_credentials(180), ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        co_await conn->async_logout(ec);
    });
}

TEST(imap_login, bad_password_is_authentication_failed_with_server_text_and_no_secret) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await make(cleartext_only());
        error_code ec;
        co_await conn->async_connect(ec);
        EXPECT_FALSE(ec);
        auto c = user_credentials(180);
        c.password = "wrong-password-xyzzy";
        co_await conn->async_login(c, ec);
        EXPECT_EQ(ec, errc::authentication_failed);
        EXPECT_FALSE(is_fatal(ec));
        const std::string text = conn->diag().to_string();
        EXPECT_NE(text.find("LOGIN"), std::string::npos) << text;
        EXPECT_FALSE(conn->diag().server_message().empty()) << text;
        EXPECT_EQ(text.find("xyzzy"), std::string::npos) << "password leaked: " << text;
        // The same connection still works with the right password.
        co_await conn->async_login(user_credentials(180), ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        co_await conn->async_logout(ec);
    });
}

TEST(imap_login, master_user_with_authzid_and_with_user_star_master) {
    run([]() -> net::awaitable<void> {
        const std::string box = unique_name("master-marker");
        {
            auto conn = co_await open(options(endpoint::implicit_tls), master_credentials(181));
            error_code ec;
            co_await conn->async_create(box, ec);  // created as user181 by the master
            EXPECT_FALSE(ec) << conn->diag().to_string();
            EXPECT_EQ(conn->diag().command().find(env("ARRIVAL_DOVECOT_MASTER_PASSWORD")), std::string::npos);
            co_await conn->async_logout(ec);
        }
        {
            auto conn = co_await open(options(endpoint::implicit_tls),
                                      master_credentials(181, credentials::method::master_login));
            error_code ec;
            const auto st = co_await conn->async_status(box, ec);
            EXPECT_FALSE(ec) << "the master's session is not user181's: " << conn->diag().to_string();
            EXPECT_EQ(st.messages.value_or(99), 0u);
            co_await conn->async_logout(ec);
        }
        {
            // And the user sees the folder the master created for them.
            auto conn = co_await open(options(endpoint::implicit_tls), user_credentials(181));
            error_code ec;
            const auto boxes = co_await conn->async_list("", box, ec);
            EXPECT_FALSE(ec);
            EXPECT_EQ(boxes.size(), 1u);
            co_await conn->async_logout(ec);
        }
    });
}

TEST(imap_login, wrong_master_password_is_refused) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await make(options(endpoint::implicit_tls));
        error_code ec;
        co_await conn->async_connect(ec);
        EXPECT_FALSE(ec);
        auto c = master_credentials(181);
        c.password = "not-the-master-password";
        co_await conn->async_login(c, ec);
        EXPECT_EQ(ec, errc::authentication_failed);
        EXPECT_NE(conn->diag().to_string().find("AUTHENTICATE PLAIN"), std::string::npos);
        EXPECT_EQ(conn->diag().to_string().find("not-the-master"), std::string::npos);
        conn->close();
    });
}

TEST(imap_login, untrusted_certificate_is_refused_without_the_ca) {
    run([]() -> net::awaitable<void> {
        for (const auto e : {endpoint::implicit_tls, endpoint::starttls}) {
            auto conn = co_await make(options(e), tls_context(false));
            error_code ec;
            co_await conn->async_connect(ec);
            EXPECT_TRUE(ec);
            EXPECT_TRUE(is_fatal(ec));
            EXPECT_NE(conn->diag().to_string().find("certificate verification failed"), std::string::npos)
                << conn->diag().to_string();
            EXPECT_FALSE(conn->is_open());
        }
    });
}

TEST(imap_login, insecure_opt_out_accepts_the_unknown_certificate) {
    run([]() -> net::awaitable<void> {
        error_code ec;
        std::string why;
        auto ctx = arrival::tls::make_client_context({.ca_file = "", .insecure = true}, ec, why);
        auto conn = co_await open(options(endpoint::implicit_tls), user_credentials(180), ctx);
        EXPECT_TRUE(conn->tls_active());
        co_await conn->async_logout(ec);
    });
}

TEST(imap_login, unreachable_port_fails_fast_with_the_address) {
    run([]() -> net::awaitable<void> {
        auto o = cleartext_only();
        o.url.port = 1;  // nothing listens on tcpmux
        auto conn = co_await make(o);
        error_code ec;
        co_await conn->async_connect(ec);
        EXPECT_EQ(ec, net::error::connection_refused) << ec.message();
        EXPECT_NE(conn->diag().to_string().find("127.0.0.1:1"), std::string::npos) << conn->diag().to_string();
    });
}

TEST(imap_login, commands_after_close_fail_cleanly) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await open(cleartext_only(), user_credentials(180));
        conn->close();
        error_code ec;
        co_await conn->async_noop(ec);
        EXPECT_TRUE(ec);
        EXPECT_TRUE(is_fatal(ec));
    });
}

}  // namespace
}  // namespace imap_test
