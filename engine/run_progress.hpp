// The one progress display of `arrival run`: a line per interval on stderr (redrawn in place on a terminal)
// saying where the whole run is: stage i of n and its name, the stage's accounts done of all, its messages (or
// events, contacts, files) and bytes, the stage's ETA and the run's when they can be estimated.
//
// The stage commands run in this process and keep their own `progress` counters (engine/progress.hpp); this
// listens to them (progress_listener) and draws instead of them. A stage that keeps no counters (provision,
// verify, shares) shows its name and how long it has run.
//
// The run's ETA is the stage's plus what the stages after it will take, which is known only when each of them
// either will be skipped (completed earlier) or took a known time in an earlier run; otherwise it is "--:--".
#pragma once
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

#include "engine/progress.hpp"
#include "engine/ticker.hpp"

namespace arrival::engine {

// What one line shows; render_run_progress() is pure, for tests.
struct run_progress_view {
    std::size_t index = 0;   // 1-based
    std::size_t count = 0;
    std::string stage;
    double run_seconds = 0;
    double stage_seconds = 0;
    std::optional<progress_snapshot> counters;   // the stage's, when it keeps them
    std::optional<double> later_seconds;         // the stages after this one; nullopt: unknown
};
[[nodiscard]] std::string render_run_progress(const run_progress_view& v);

class run_progress final : public progress_listener {
public:
    // `out` null: draws nothing (and listens to nothing: the stages keep their own counters, unseen).
    run_progress(std::FILE* out, bool is_terminal, std::chrono::milliseconds log_interval = std::chrono::seconds(5));
    ~run_progress() override;
    run_progress(const run_progress&) = delete;
    run_progress& operator=(const run_progress&) = delete;

    void start();   // from here on, every `progress` that starts reports here
    void stop();    // idempotent

    // Stage `index` of `count` begins (index 1-based); `later_seconds` as in run_progress_view.
    void stage_started(std::size_t index, std::size_t count, std::string name, std::optional<double> later_seconds);
    // Draws the stage's final line (with its final counters).
    void stage_finished();

    void attach(const progress& p) override;
    void detach(const progress& p) override;

private:
    using clock = std::chrono::steady_clock;
    clock::time_point tick();   // the ticker's: redraws the stage's line
    [[nodiscard]] run_progress_view view_locked() const;   // mu_ held
    void draw(const run_progress_view& v, bool final_line);

    std::FILE* out_;
    bool tty_;
    std::chrono::milliseconds interval_;
    clock::time_point run_t0_ = clock::now();
    clock::time_point stage_t0_ = clock::now();
    mutable std::mutex mu_;
    bool in_stage_ = false;
    run_progress_view stage_;                     // counters empty here: they come from attached_ or last_
    const progress* attached_ = nullptr;
    std::optional<progress_snapshot> last_;       // the detached stage progress's final counters
    std::mutex draw_mu_;                          // one line at a time
    ticker ticker_;   // last: stopped (joined) before the members its tick() reads are destroyed
};

}  // namespace arrival::engine
