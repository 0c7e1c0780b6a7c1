// The adaptive window of connection pairs (engine/mail/adaptive_concurrency.hpp), scripted interval by interval:
// slow start, the additive phase, the cuts and what the report keeps; then the semaphore it drives, whose
// capacity changes under units already taken.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "engine/mail/adaptive_concurrency.hpp"
#include "engine/progress.hpp"

namespace adaptive_concurrency_test {
using namespace arrival::engine;

aimd_settings settings(std::size_t cap, std::size_t initial) {
    aimd_settings s;
    s.cap = cap;
    s.initial = initial;
    return s;
}

TEST(aimd_window, slow_start_doubles_each_interval_up_to_the_cap_while_the_work_does_not_fall) {
    aimd_window w(settings(20, 4));
    EXPECT_EQ(w.size(), 4u);
    w.interval(0);   // logins and indexes: nothing committed yet is not a fall
    EXPECT_EQ(w.size(), 8u);
    w.interval(1000);
    EXPECT_EQ(w.size(), 16u);
    w.interval(1500);
    EXPECT_EQ(w.size(), 20u);   // clipped to the cap
    w.interval(3000);
    EXPECT_EQ(w.size(), 20u);
    EXPECT_EQ(w.report().initial, 4u);
    EXPECT_EQ(w.report().largest, 20u);
    EXPECT_EQ(w.report().increases, 3u);
    EXPECT_EQ(w.report().decreases, 0u);
}

TEST(aimd_window, slow_start_ends_when_the_work_falls_and_then_grows_by_one_while_it_rises) {
    aimd_window w(settings(64, 4));
    w.interval(1000);
    EXPECT_EQ(w.size(), 8u);
    w.interval(500);   // fell: hold, and leave slow start
    EXPECT_EQ(w.size(), 8u);
    w.interval(800);   // rose: +1, not x2
    EXPECT_EQ(w.size(), 9u);
    w.interval(900);
    EXPECT_EQ(w.size(), 10u);
    w.interval(920);   // +2 %: a plateau, below the 5 % that counts as a rise
    EXPECT_EQ(w.size(), 10u);
}

TEST(aimd_window, a_plateau_holds_and_probes_one_more_every_few_intervals) {
    auto s = settings(64, 4);
    s.probe_after = 3;
    aimd_window w(s);
    w.congestion("* BYE [UNAVAILABLE] try later");   // straight to the additive phase, at 2
    w.interval(100);
    EXPECT_EQ(w.size(), 2u);
    for (int i = 0; i < 2; ++i) w.interval(100);
    EXPECT_EQ(w.size(), 2u);
    w.interval(100);   // the third interval at the plateau
    EXPECT_EQ(w.size(), 3u);
}

TEST(aimd_window, congestion_halves_once_per_interval_down_to_the_floor_and_keeps_the_words) {
    aimd_window w(settings(16, 16));
    w.congestion("connection reset by peer");
    w.congestion("connection reset by peer");   // the same event on another connection: one cut
    w.congestion("a stall");
    EXPECT_EQ(w.size(), 8u);
    w.interval(0);     // the interval of the cut: no growth
    EXPECT_EQ(w.size(), 8u);
    w.congestion("NO [INUSE] mailbox in use");
    EXPECT_EQ(w.size(), 4u);
    w.interval(0);
    for (int i = 0; i < 5; ++i) {
        w.congestion("NO [INUSE] mailbox in use");
        w.interval(0);
    }
    EXPECT_EQ(w.size(), 1u);   // never below the floor
    EXPECT_EQ(w.report().smallest, 1u);
    EXPECT_EQ(w.report().decreases, 4u);   // 16 -> 8 -> 4 -> 2 -> 1; the cuts at the floor change nothing
    EXPECT_EQ(w.report().last_decrease, "NO [INUSE] mailbox in use");
    EXPECT_EQ(w.report().final_window, 1u);
}

TEST(aimd_window, slow_logins_hold_and_cut_by_a_quarter_now_and_then_never_below_the_start) {
    aimd_window w(settings(8, 2));
    w.open_latency(0.020);
    w.interval(1000);
    EXPECT_EQ(w.size(), 4u);
    for (double s : {0.050, 0.060, 0.300}) w.open_latency(s);   // median 0.06: 3x the fastest, but 0.04 s more
    w.interval(1000);
    EXPECT_EQ(w.size(), 8u);
    for (double s : {0.5, 0.6, 0.7}) w.open_latency(s);   // median 0.6 s against 0.02 s
    w.interval(1000);
    EXPECT_EQ(w.size(), 6u);
    EXPECT_NE(w.report().last_decrease.find("logging in got slow: 0.60 s"), std::string::npos) << w.report().last_decrease;
    for (int i = 0; i < 2; ++i) {   // still slow: no growth, and no second cut before the cool-down
        w.open_latency(0.6);
        w.interval(2000);
        EXPECT_EQ(w.size(), 6u) << i;
    }
    w.open_latency(0.6);
    w.interval(2000);
    EXPECT_EQ(w.size(), 5u);
    for (int i = 0; i < 30; ++i) {
        w.open_latency(0.6);
        w.interval(2000);
    }
    EXPECT_EQ(w.size(), 2u);   // where it started: slowness is not failure
    EXPECT_EQ(w.report().smallest, 2u);
}

TEST(adaptive_concurrency, the_window_is_what_jobs_can_take_and_a_cut_waits_for_units_to_come_back) {
    adaptive_concurrency c(settings(8, 4));
    auto& pairs = c.pairs();
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(pairs.try_acquire(1)) << i;
    EXPECT_FALSE(pairs.try_acquire(1));
    c.note_work(1000);
    c.tick();   // slow start: 8
    EXPECT_EQ(c.window(), 8u);
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(pairs.try_acquire(1)) << i;
    EXPECT_FALSE(pairs.try_acquire(1));
    c.note_congestion("reset");   // 4: the 8 taken stay taken
    EXPECT_EQ(pairs.capacity(), 4u);
    EXPECT_EQ(pairs.in_use(), 8u);
    for (int i = 0; i < 4; ++i) pairs.release(1);
    EXPECT_FALSE(pairs.try_acquire(1));   // 4 in use, window 4
    pairs.release(1);
    EXPECT_TRUE(pairs.try_acquire(1));
    EXPECT_EQ(c.report().decreases, 1u);
    EXPECT_EQ(c.report().cap, 8u);
}

TEST(async_semaphore, growing_the_capacity_wakes_a_waiter) {
    boost::asio::io_context io;
    async_semaphore s(1);
    ASSERT_TRUE(s.try_acquire(1));
    bool got = false;
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
        (void)co_await s.acquire(1);
        got = true;
    }, boost::asio::detached);
    io.poll();
    EXPECT_FALSE(got);
    s.set_capacity(2);
    io.poll();
    EXPECT_TRUE(got);
    EXPECT_EQ(s.in_use(), 2u);
}

// The further pairs of one account: worth a login on each server only where the folders' round trips repay it.
// Figures as measured on the testbed (bench/README.md): a loopback login ~25 ms and a plan round trip ~1 ms; at
// 20 ms of RTT ~85 ms and ~20 ms; at 100 ms ~350 ms and ~100 ms; the corpus has 15 folders per account.
TEST(pairs_worth_opening, a_further_pair_opens_only_where_the_folders_round_trips_repay_its_login) {
    EXPECT_EQ(pairs_worth_opening(2, 15, 0.001, 0.025), 1u);    // loopback: the pipeline covers the round trip
    EXPECT_EQ(pairs_worth_opening(2, 15, 0.020, 0.085), 2u);    // 20 ms: 7.5 folders x 20 ms > 85 ms
    EXPECT_EQ(pairs_worth_opening(2, 15, 0.100, 0.350), 2u);
    EXPECT_EQ(pairs_worth_opening(4, 15, 0.020, 0.085), 3u);    // the third takes 5 x 20 ms; a fourth 3.75 x 20 ms < 85 ms
    EXPECT_EQ(pairs_worth_opening(4, 15, 0.100, 0.350), 4u);
    EXPECT_EQ(pairs_worth_opening(2, 1, 0.100, 0.001), 1u);     // one folder: one pair, whatever the latency
    EXPECT_EQ(pairs_worth_opening(2, 0, 0.100, 0.001), 1u);     // nothing to copy: still the first pair
    EXPECT_EQ(pairs_worth_opening(2, 1000, 0.001, 0.025), 2u);  // a LAN account of 1,000 folders: 500 round trips
    EXPECT_EQ(pairs_worth_opening(1, 15, 0.100, 0.001), 1u);    // --connections-per-account 1
}

TEST(progress_line, shows_the_window_only_when_the_run_has_one) {
    progress_snapshot s;
    s.messages_expected = 10;
    EXPECT_EQ(render_log_line(s).find("window"), std::string::npos);
    s.window = 6;
    s.window_cap = 8;
    EXPECT_NE(render_log_line(s).find(", window 6/8"), std::string::npos) << render_log_line(s);
    EXPECT_NE(render_bar(s, 200).find("| window 6/8"), std::string::npos) << render_bar(s, 200);
}

}  // namespace adaptive_concurrency_test
