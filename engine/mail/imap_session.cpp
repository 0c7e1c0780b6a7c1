// imap_session: each call co_spawns the async_session operation on the session's strand and waits on a
// future. Only the threads of verify, preflight and the tests block here; io threads never do.
#include "engine/mail/imap_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <future>

#include "engine/mail/io_runtime.hpp"

namespace arrival::engine {

namespace net = boost::asio;

namespace {

using strand_type = net::strand<net::io_context::executor_type>;

// Runs the coroutine `make()` returns on the strand and waits for its result; rethrows what escapes it.
template <class Make>
auto run_and_wait(const strand_type& strand, Make&& make) {
    using awaitable_t = decltype(make());
    using value_t = typename awaitable_t::value_type;
    auto done = std::make_shared<std::promise<value_t>>();
    auto fut = done->get_future();
    if constexpr (std::is_void_v<value_t>) {
        net::co_spawn(strand, std::forward<Make>(make), [done](std::exception_ptr e) {
            if (e) done->set_exception(e);
            else done->set_value();
        });
    } else {
        net::co_spawn(strand, std::forward<Make>(make), [done](std::exception_ptr e, value_t v) {
            if (e) done->set_exception(e);
            else done->set_value(std::move(v));
        });
    }
    return fut.get();
}

class blocking_session final : public imap_session {
public:
    blocking_session(const server_endpoint& ep, const login_identity& who, const dest_options* dest)
        : rt_(io_runtime::acquire()), strand_(net::make_strand(rt_->context())) {
        std::optional<dest_options> d;
        if (dest) d = *dest;
        const net::any_io_executor ex = strand_;
        s_ = run_and_wait(strand_, [&]() { return async_session::open(ex, ep, who, d); });
    }
    ~blocking_session() override {
        // The connection is closed on its strand; nothing of ours may run after this returns.
        try {
            run_and_wait(strand_, [this]() -> net::awaitable<void> {
                s_.reset();
                co_return;
            });
        } catch (...) {
        }
    }
    blocking_session(const blocking_session&) = delete;
    blocking_session& operator=(const blocking_session&) = delete;

    const dest_profile& profile() const override { return s_->profile(); }
    const std::string& profile_evidence() const override { return s_->profile_evidence(); }
    bool tls_active() const override { return s_->tls_active(); }
    bool has_capability(std::string_view cap) const override { return s_->has_capability(cap); }
    std::optional<std::uint64_t> append_limit() const override { return s_->append_limit(); }
    folder_namespace personal_namespace() override {
        return run_and_wait(strand_, [&] { return s_->personal_namespace(); });
    }
    std::vector<folder_namespace> shared_namespaces() override {
        return run_and_wait(strand_, [&] { return s_->shared_namespaces(); });
    }
    std::vector<folder_namespace> other_users_namespaces() override {
        return run_and_wait(strand_, [&] { return s_->other_users_namespaces(); });
    }
    std::vector<mailbox_entry> list() override {
        return run_and_wait(strand_, [&] { return s_->list(); });
    }
    folder_status status(const std::string& mailbox) override {
        return run_and_wait(strand_, [&] { return s_->status(mailbox); });
    }
    std::vector<folder_status> status(const std::vector<std::string>& mailboxes) override {
        return run_and_wait(strand_, [&] { return s_->status(mailboxes); });
    }
    folder_status examine(const std::string& mailbox) override {
        return run_and_wait(strand_, [&] { return s_->examine(mailbox); });
    }
    folder_status select(const std::string& mailbox) override {
        return run_and_wait(strand_, [&] { return s_->select(mailbox); });
    }
    std::vector<source_message> fetch_index(std::uint32_t from_uid, bool with_flags) override {
        return run_and_wait(strand_, [&] { return s_->fetch_index(from_uid, with_flags); });
    }
    void fetch_bodies(const std::vector<std::uint32_t>& uids,
                      const std::function<body_buffer&(std::uint32_t, std::uint64_t)>& sink) override {
        run_and_wait(strand_, [&] { return s_->fetch_bodies(uids, sink); });
    }
    void create(const std::string& mailbox) override {
        run_and_wait(strand_, [&] { return s_->create(mailbox); });
    }
    void subscribe(const std::string& mailbox) override {
        run_and_wait(strand_, [&] { return s_->subscribe(mailbox); });
    }
    std::vector<append_outcome> append(const std::string& mailbox, const std::vector<append_item>& items) override {
        return run_and_wait(strand_, [&] { return s_->append(mailbox, items); });
    }
    void logout() noexcept override {
        try {
            run_and_wait(strand_, [&] { return s_->logout(); });
        } catch (...) {
        }
    }

private:
    std::shared_ptr<io_runtime> rt_;
    strand_type strand_;
    std::unique_ptr<async_session> s_;
};

}  // namespace

std::unique_ptr<imap_session> imap_session::open(const server_endpoint& where, const login_identity& who, const dest_options* dest) {
    return std::make_unique<blocking_session>(where, who, dest);
}

}  // namespace arrival::engine
