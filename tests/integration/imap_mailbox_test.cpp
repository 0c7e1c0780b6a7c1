// Mailbox primitives against the loopback Dovecot: NAMESPACE, LIST with SPECIAL-USE and subscriptions,
// CREATE (non-ASCII names through modified UTF-7 both ways), SUBSCRIBE, STATUS, SELECT/EXAMINE. User user182.
#include "tests/integration/imap_test_support.hpp"

namespace imap_test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace imap_mailbox_test {

constexpr int kMailboxUser = 182;

const mailbox_info* find(const std::vector<mailbox_info>& v, std::string_view name) {
    for (const auto& m : v) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

TEST(imap_mailbox, namespace_and_list_with_special_use_and_subscriptions) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await open(options(endpoint::implicit_tls), user_credentials(kMailboxUser));
        error_code ec;
        const auto ns = co_await conn->async_namespace(ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_EQ(ns.personal.size(), 1u);
        if (!ns.personal.empty()) {
            EXPECT_EQ(ns.personal[0].prefix, "");
            EXPECT_EQ(ns.personal[0].delimiter, '/');
        }
        const auto boxes = co_await conn->async_list("", "*", ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        const auto* inbox = find(boxes, "INBOX");
        CO_ASSERT(inbox != nullptr);
        EXPECT_EQ(inbox->delimiter, '/');
        // The testbed defines the RFC 6154 folders; Sent and Drafts are auto-subscribed.
        for (auto [name, use] : {std::pair{"Sent", special_use::sent}, {"Drafts", special_use::drafts},
                                 {"Trash", special_use::trash}, {"Junk", special_use::junk}}) {
            const auto* m = find(boxes, name);
            EXPECT_NE(m, nullptr) << name;
            if (m != nullptr) {
                EXPECT_EQ(m->use, use) << name;
            }
        }
        if (const auto* sent = find(boxes, "Sent")) {
            EXPECT_TRUE(sent->subscribed);
        }
        co_await conn->async_logout(ec);
    });
}

TEST(imap_mailbox, create_non_ascii_subscribe_and_list_back_in_utf8) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await open(options(endpoint::implicit_tls), user_credentials(kMailboxUser));
        error_code ec;
        const std::string parent = unique_name("Büro & Co");
        const std::string child = parent + "/Cartório 📁";
        co_await conn->async_create(parent, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        co_await conn->async_create(child, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        co_await conn->async_subscribe(child, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        const auto boxes = co_await conn->async_list("", parent + "*", ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_EQ(boxes.size(), 2u);
        const auto* c = find(boxes, child);
        CO_ASSERT(c != nullptr);  // listed under its UTF-8 name
        EXPECT_TRUE(c->subscribed);
        EXPECT_NE(c->raw_name, c->name);  // went over the wire as modified UTF-7
        EXPECT_NE(c->raw_name.find("&-"), std::string::npos);
        const auto* p = find(boxes, parent);
        CO_ASSERT(p != nullptr);
        EXPECT_FALSE(p->subscribed);
        // Creating it again is refused with a code, and the connection stays usable.
        co_await conn->async_create(parent, ec);
        EXPECT_EQ(ec, errc::already_exists) << ec.message() << " " << conn->diag().to_string();
        EXPECT_FALSE(is_fatal(ec));
        co_await conn->async_noop(ec);
        EXPECT_FALSE(ec);
        co_await conn->async_logout(ec);
    });
}

TEST(imap_mailbox, status_select_examine) {
    run([]() -> net::awaitable<void> {
        auto conn = co_await open(options(endpoint::implicit_tls), user_credentials(kMailboxUser));
        error_code ec;
        const std::string box = unique_name("status");
        co_await conn->async_create(box, ec);
        EXPECT_FALSE(ec);
        const std::string msg = make_message("status-1");
        const append_message m{.flags = {"\\Seen"}, .date = std::nullopt, .body = msg, .binary = false};
        (void)co_await conn->async_append(box, std::span(&m, 1), ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();

        const auto st = co_await conn->async_status(box, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_EQ(st.messages, 1u);
        EXPECT_EQ(st.uidnext, 2u);
        EXPECT_TRUE(st.uidvalidity.has_value());
        EXPECT_EQ(st.size, msg.size());  // STATUS=SIZE

        const auto sel = co_await conn->async_select(box, false, ec);
        EXPECT_FALSE(ec) << conn->diag().to_string();
        EXPECT_EQ(sel.exists, 1u);
        EXPECT_EQ(sel.uidvalidity, st.uidvalidity.value_or(0));
        EXPECT_EQ(sel.uidnext, 2u);
        EXPECT_FALSE(sel.read_only);
        EXPECT_TRUE(sel.has_permanent_flags);
        EXPECT_NE(std::find(sel.permanent_flags.begin(), sel.permanent_flags.end(), "\\*"), sel.permanent_flags.end());
        EXPECT_NE(std::find(sel.flags.begin(), sel.flags.end(), "\\Seen"), sel.flags.end());
        EXPECT_EQ(conn->session().phase, session_phase::selected);
        EXPECT_EQ(conn->session().selected, box);

        const auto ex = co_await conn->async_select(box, true, ec);
        EXPECT_FALSE(ec);
        EXPECT_TRUE(ex.read_only);

        (void)co_await conn->async_select(box + "-missing", true, ec);
        EXPECT_TRUE(ec == errc::nonexistent || ec == errc::no) << ec.message() << " " << conn->diag().to_string();
        EXPECT_FALSE(is_fatal(ec));
        EXPECT_EQ(conn->session().phase, session_phase::authenticated);
        co_await conn->async_logout(ec);
    });
}

}  // namespace
}  // namespace imap_test
