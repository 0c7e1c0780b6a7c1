// blocking_session: each call co_spawns the async_session operation on the session's strand and waits on a
// future. Only test threads block here; io threads never do.
#include "tests/integration/blocking_session.hpp"

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace arrival::test {

namespace net = boost::asio;
using namespace arrival::engine;

namespace {

// The io_context the sessions run their connections on. Reference-counted: every session holds a reference;
// the first one starts a small pool of io threads (at most two), the last one stops and joins them. So no
// thread outlives the sessions (a forked child, as in the kill -9 test, never inherits a runtime whose threads
// it does not have), and a test's sessions share one pool. Each connection lives on its own strand of one
// worker's io_context, which a single thread runs (protocol/imap/connection.cpp needs that).
class io_runtime {
public:
    // The live runtime, or a new one when none is alive.
    static std::shared_ptr<io_runtime> acquire() {
        static std::mutex live_mu;
        static std::weak_ptr<io_runtime> live;
        std::lock_guard lock(live_mu);
        if (auto r = live.lock()) return r;
        std::shared_ptr<io_runtime> r(new io_runtime());
        live = r;
        return r;
    }
    ~io_runtime() {
        // Every session is gone, so every connection was closed; what may remain are their background
        // coroutines finishing. stop() abandons them (their frames are destroyed with the context), so a stuck
        // timer cannot hang the test.
        for (auto& w : workers_) {
            w->guard.reset();
            w->io.stop();
            w->thread.join();
        }
    }
    io_runtime(const io_runtime&) = delete;
    io_runtime& operator=(const io_runtime&) = delete;

    // The context for a new connection (round robin over the pool); all of that connection's work stays there.
    net::io_context& context() noexcept { return workers_[next_++ % workers_.size()]->io; }

private:
    io_runtime() {
        const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 2u);
        for (unsigned i = 0; i < n; ++i) {
            workers_.push_back(std::make_unique<worker>());
            auto* w = workers_.back().get();
            w->thread = std::thread([w] { w->io.run(); });
        }
    }
    struct worker {
        net::io_context io;
        net::executor_work_guard<net::io_context::executor_type> guard{io.get_executor()};
        std::thread thread;
    };
    std::vector<std::unique_ptr<worker>> workers_;
    std::atomic<std::size_t> next_{0};
};

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

class session_on_strand final : public blocking_session {
public:
    session_on_strand(const server_endpoint& ep, const login_identity& who, const dest_options* dest)
        : rt_(io_runtime::acquire()), strand_(net::make_strand(rt_->context())) {
        std::optional<dest_options> d;
        if (dest) d = *dest;
        const net::any_io_executor ex = strand_;
        s_ = run_and_wait(strand_, [&]() { return async_session::open(ex, ep, who, d); });
    }
    ~session_on_strand() override {
        // The connection is closed on its strand; nothing of ours may run after this returns.
        try {
            run_and_wait(strand_, [this]() -> net::awaitable<void> {
                s_.reset();
                co_return;
            });
        } catch (...) {
        }
    }
    session_on_strand(const session_on_strand&) = delete;
    session_on_strand& operator=(const session_on_strand&) = delete;

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

std::unique_ptr<blocking_session> blocking_session::open(const server_endpoint& where, const login_identity& who, const dest_options* dest) {
    return std::make_unique<session_on_strand>(where, who, dest);
}

}  // namespace arrival::test
