// How many connection pairs a run keeps open at once, adapted to what the servers take (AIMD, as TCP's
// congestion window): `--jobs` x `--connections-per-account` is the cap, never exceeded.
//
//   start       at min(cap, 8) pairs, so a night's `--jobs 64` does not open 128 logins at the same instant,
//               while `--jobs 4` over a WAN has both pairs of each account from the start;
//   slow start  the window doubles every interval (one second) while the work done per interval does not fall;
//   additive    after the first back-off or plateau, +1 per interval while the work done rises (>= 5 %); at a
//               plateau it holds, and tries one more every `probe_after` intervals (a job that finished, a
//               server that recovered);
//   back off    x 1/2 on a congestion signal: a transient failure of a connection ([UNAVAILABLE], [INUSE],
//               BYE, a reset or a stall past --timeout; Carbonio drops the connection of a throttled client,
//               ../shared/carbonio/FACTS.md §6 "Throttles"), at most once per interval, because one event
//               (a restarting server) fails every connection at once;
//               x 3/4 when logging in got slow: the median open (connect, TLS, login) of an interval took
//               more than `latency_factor` times the fastest interval median seen, and `latency_margin` more.
//               Slowness alone never takes the window below where it started (slow is not failing: cutting
//               on single slow logins drove `--jobs 64` on a busy 2-core box to 1 pair and doubled the run),
//               and cuts at most every `latency_cooldown` intervals, so one cut shows its effect first.
//
// Why connection pairs and not batches in flight: [UNAVAILABLE], [INUSE] and dropped connections answer too
// many sessions, and a pair is what an account job holds (engine/mail/account_job.hpp); the batches in flight per
// connection are already bounded by the pipeline (engine/mail/message_pipeline.hpp). A job gives its slot back
// after a transient failure and waits for one before it reconnects, so a smaller window takes effect at the
// connections that failed, without interrupting healthy ones.
//
// aimd_window is the decision alone (no clock, no I/O: tests feed it intervals and signals);
// adaptive_concurrency is the run's shared instance: thread-safe, it applies the window to an
// async_semaphore that jobs await, and keeps what the report says about it.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/async_semaphore.hpp"
#include "engine/mail/report.hpp"

namespace arrival::engine {

struct aimd_settings {
    std::size_t cap = 8;
    std::size_t initial = 8;             // clipped to cap
    std::size_t floor = 1;
    double rise = 1.05;                  // work done must grow by this factor to count as a rise
    double latency_factor = 2.0;
    double latency_margin_seconds = 0.25;
    int latency_cooldown = 3;
    int probe_after = 5;                 // intervals at a plateau before one more is tried
};

// How many connection pairs one account copies over, of the `most` its flags allow (--connections-per-account,
// and no more than it has folders to copy): the first, and each further one worth its cost. A further pair
// takes folders off the others' path, and each folder costs a pair about one round trip before its first
// message moves (its index: engine/mail/account_job.cpp open_ahead); the pair costs a login on each server,
// which is work for the servers too (the testbed's Dovecot spends ~60 ms of CPU per connection: bench/README.md).
// So pair n+1 opens when the round trips it would take over, folders / (n + 1) of `round_trip_seconds`, come to
// more than `login_seconds`, what the first pair's login took. On a LAN a pair's pipelined batches already cover
// the round trip and more logins only load the servers (bench/README.md: at 0 ms one pair per account copied
// faster than two); over a WAN the folders' round trips dominate.
[[nodiscard]] std::size_t pairs_worth_opening(std::size_t most, std::size_t folders, double round_trip_seconds, double login_seconds);

class aimd_window {
public:
    explicit aimd_window(const aimd_settings& s);

    // A connection failed in a way that says "too much" (see the header). Halves the window, once per interval.
    void congestion(std::string_view what);
    // How long opening a connection (connect, TLS, login) took.
    void open_latency(double seconds);
    // One interval ended with `work` done in it (bytes committed). Grows, holds or shrinks the window.
    void interval(double work);

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] const concurrency_report& report() const noexcept { return report_; }

private:
    void shrink(std::size_t to, std::string_view why);
    void grow(std::size_t to);

    aimd_settings s_;
    std::size_t size_;
    bool slow_start_ = true;
    bool cut_this_interval_ = false;   // a congestion cut happened since the last interval()
    std::vector<double> opens_;        // open latencies since the last interval()
    int since_latency_cut_ = 1 << 20;  // intervals since the last cut for slowness
    double previous_work_ = -1;        // the last interval's work; < 0 before the first
    double fastest_open_ = 0;          // the fastest interval median so far; 0: none seen yet
    int plateau_ = 0;
    concurrency_report report_;
};

class adaptive_concurrency {
public:
    explicit adaptive_concurrency(const aimd_settings& s);
    adaptive_concurrency(const adaptive_concurrency&) = delete;
    adaptive_concurrency& operator=(const adaptive_concurrency&) = delete;

    // What account jobs await: one unit per connection pair.
    [[nodiscard]] async_semaphore& pairs() noexcept { return pairs_; }

    // From any thread.
    void note_work(std::uint64_t bytes) noexcept { work_ += bytes; }
    void note_congestion(std::string_view what);
    void note_open(double seconds);
    // Once per interval (the scheduler's timer): closes the interval and applies the window.
    void tick();

    [[nodiscard]] std::size_t window() const;
    [[nodiscard]] std::size_t cap() const noexcept { return cap_; }
    [[nodiscard]] concurrency_report report() const;

private:
    std::size_t cap_;
    mutable std::mutex mu_;
    aimd_window window_;
    async_semaphore pairs_;
    std::atomic<std::uint64_t> work_{0};
    std::uint64_t work_at_last_tick_ = 0;   // mu_
};

}  // namespace arrival::engine
