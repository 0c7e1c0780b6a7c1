// engine/run_progress: the one line of `arrival run`'s display, and the listener that takes a stage's counters.
#include "engine/run_progress.hpp"

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace run_progress_test {

using namespace arrival::engine;

namespace {

progress_snapshot migrate_half_done() {
    progress_snapshot s;
    s.messages_done = 500;
    s.messages_expected = 1000;
    s.bytes_done = 50'000'000;
    s.bytes_expected = 100'000'000;
    s.accounts_done = 3;
    s.accounts_total = 10;
    s.seconds = 60;   // 50 MB a minute: a minute left
    return s;
}

}  // namespace

TEST(run_progress, a_line_says_stage_accounts_messages_bytes_and_both_etas) {
    run_progress_view v{.index = 2, .count = 5, .stage = "migrate", .run_seconds = 75, .stage_seconds = 60,
                        .counters = migrate_half_done(), .later_seconds = 120.0};
    EXPECT_EQ(render_run_progress(v), "run 01:15, stage 2/5 migrate: 3/10 accounts, 500/1000 messages, " + human_bytes(50'000'000) +
                                          " of " + human_bytes(100'000'000) + ", stage ETA 01:00, run ETA 03:00");
    // The stages after it: unknown, so the run's ETA is too.
    v.later_seconds.reset();
    EXPECT_NE(render_run_progress(v).find("stage ETA 01:00, run ETA --:--"), std::string::npos);
}

TEST(run_progress, a_stage_without_counters_shows_how_long_it_runs) {
    const run_progress_view v{.index = 1, .count = 3, .stage = "provision", .run_seconds = 12, .stage_seconds = 12, .later_seconds = 0.0};
    EXPECT_EQ(render_run_progress(v), "run 00:12, stage 1/3 provision: running 00:12, stage ETA --:--, run ETA --:--");
}

TEST(run_progress, the_units_are_the_stages_and_a_finished_stage_has_nothing_left) {
    auto s = migrate_half_done();
    s.units = {"events", "events", "events/s", "users", "users"};
    s.messages_done = s.messages_expected = 40;
    s.bytes_done = s.bytes_expected = 4000;
    s.accounts_done = s.accounts_total = 2;
    const run_progress_view v{.index = 3, .count = 3, .stage = "calendars", .counters = s, .later_seconds = 0.0};
    const auto line = render_run_progress(v);
    EXPECT_NE(line.find("2/2 users, 40/40 events"), std::string::npos) << line;
    EXPECT_NE(line.find("stage ETA 00:00, run ETA 00:00"), std::string::npos) << line;
}

TEST(run_progress, draws_the_stage_progress_it_listens_to_and_its_final_counters) {
    char* text = nullptr;
    std::size_t size = 0;
    std::FILE* out = ::open_memstream(&text, &size);
    {
        run_progress display(out, false, std::chrono::hours(1));   // no interval line: only the final one
        display.start();
        display.stage_started(1, 2, "migrate", 30.0);
        {
            progress stage(stderr, false);   // the stage's own display: replaced by the run's
            stage.set_accounts(2);
            stage.add_expected(10, 1000);
            stage.start();
            for (const char* who : {"a", "b"}) {
                stage.account_started(who);
                stage.add_done(5, 500);
                stage.account_finished(who);
            }
            stage.stop();
        }
        display.stage_finished();
        display.stop();
    }
    std::fclose(out);
    const std::string drawn(text, size);
    std::free(text);
    EXPECT_NE(drawn.find("stage 1/2 migrate: 2/2 accounts, 10/10 messages"), std::string::npos) << drawn;
    EXPECT_NE(drawn.find("stage ETA 00:00, run ETA 00:30"), std::string::npos) << drawn;
    EXPECT_EQ(drawn.find("progress:"), std::string::npos) << drawn;   // the stage drew nothing of its own
}

}  // namespace run_progress_test
