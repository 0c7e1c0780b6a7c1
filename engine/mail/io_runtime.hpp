// The io_context the blocking sessions (engine/mail/imap_session.hpp: verify, preflight, tests) run their
// connections on, and the TLS contexts every connection shares. `arrival migrate` does not use the runtime's
// threads: its account jobs are coroutines on the scheduler's own io_context (engine/mail/scheduler.hpp).
//
// Why a shared, reference-counted runtime: protocol/'s connection is asynchronous (Asio coroutines), while
// verify and preflight are written as blocking steps on their own threads. Every imap_session holds a
// reference; the first one starts a small pool of io threads (at most two: the machines
// we run on are small and the work per byte is a memcpy and a parse), the last one stops and joins them. So
// no thread outlives the sessions (a forked child, as in the kill -9 test, never inherits a runtime whose
// threads it does not have), and one run shares one io_context however many jobs it has. Each connection
// lives on its own strand of it. Job threads block on futures; io threads never block.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace arrival::engine {

class io_runtime {
public:
    // The live runtime, or a new one when none is alive.
    [[nodiscard]] static std::shared_ptr<io_runtime> acquire();
    ~io_runtime();
    io_runtime(const io_runtime&) = delete;
    io_runtime& operator=(const io_runtime&) = delete;

    // The context for a new connection (round robin over the pool); all of that connection's work stays there.
    [[nodiscard]] boost::asio::io_context& context() noexcept;
private:
    io_runtime();
    struct worker {
        boost::asio::io_context io;
        boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
        std::thread thread;
    };
    std::vector<std::unique_ptr<worker>> workers_;
    std::atomic<std::size_t> next_{0};
};

// One TLS client context per (CA file, insecure) pair for the whole process: the system trust store is loaded
// once, not per login. Throws std::runtime_error naming the CA file when it cannot be loaded.
[[nodiscard]] std::shared_ptr<boost::asio::ssl::context> shared_tls_context(const std::string& ca_file, bool insecure);

}  // namespace arrival::engine
