// The per-account runs of `arrival verify`, `arrival preflight` and `arrival shares`: work(i) for every i in
// [0, count), at most `jobs` at once, as coroutines that await the servers and never hold a thread. They run
// the way the scheduler runs migrate's account jobs (engine/mail/scheduler.hpp): `jobs` workers, each taking
// the next account when it is done with one, dealt round robin over at most two io_contexts of one thread
// each, the calling thread running the first. One io_context per thread because a connection's
// io_context must be run by one thread only (protocol/imap/connection.cpp loses track of its tags otherwise);
// two threads because the work per byte (a parse, a copy, at most a SHA-256) leaves a socket's worth of CPU.
//
// work(i) reports its account's failures in its own result and should not throw; what escapes it anyway
// (bad_alloc, a bug) stops that worker, the others go on, and the first such exception is rethrown here once
// every worker has ended. Each work(i) runs on one thread from start to end; two of them may run on two threads
// at once, so what they share must be per account or thread-safe.
#pragma once
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>

namespace arrival::engine {

void run_account_workers(std::size_t count, std::size_t jobs, const std::function<boost::asio::awaitable<void>(std::size_t)>& work);

}  // namespace arrival::engine
