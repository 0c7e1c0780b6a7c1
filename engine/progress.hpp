// What the admin sees while a run goes: counters every job updates (atomics, no locks on the hot path) and a
// reporter thread that renders them — on a terminal one status line redrawn in place (bar, messages, bytes,
// msgs/s, MB/s, ETA, accounts, the adaptive window, active accounts), otherwise one log line every `log_interval`.
//
// It also keeps the throughput series for the report (run_report::throughput): a sample every second, thinned
// to every 2, 4, 8... seconds as the run grows, so a night's run keeps at most throughput_series::max_samples.
//
// Calling order: construct, set the expected totals as planning learns them (add_expected), start(), jobs call
// account_started/add_done/account_finished from any thread, stop() before printing the summary.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/mail/report.hpp"
#include "engine/ticker.hpp"

namespace arrival::engine {

// The words for what is counted. The defaults are the mail stage's; `arrival calendars`/`contacts` count
// events or contacts and users (their bytes are bytes of the export files).
struct progress_units {
    std::string item_short = "msgs";     // in the bar
    std::string item_long = "messages";  // in the log line
    std::string rate = "msg/s";
    std::string account_short = "accts";
    std::string account_long = "accounts";
};

struct progress_snapshot {
    std::uint64_t messages_done = 0;
    std::uint64_t messages_expected = 0;
    std::uint64_t bytes_done = 0;
    std::uint64_t bytes_expected = 0;
    std::uint64_t accounts_done = 0;
    std::uint64_t accounts_total = 0;
    double seconds = 0;
    std::size_t window = 0;       // connection pairs the adaptive window allows now (engine/mail/adaptive_concurrency.hpp)
    std::size_t window_cap = 0;   // its cap; 0: no window (not shown)
    std::string active;   // active account names, truncated
    progress_units units;
};

// Seconds left at the rate so far (by bytes when they are known, else by items); nullopt when it cannot be
// estimated yet (nothing done, or nothing expected beyond what is done).
[[nodiscard]] std::optional<double> eta_seconds(const progress_snapshot& s);
// "MM:SS" or "H:MM:SS"; "--:--" for nullopt.
[[nodiscard]] std::string format_eta(std::optional<double> seconds);

class progress;

// `arrival run` draws one display for the whole run (engine/run_progress.hpp) and calls the stage commands in
// this process, each with its own `progress`. While a listener is set, a `progress` that starts reports to it
// and draws nothing itself (its counters and throughput series go on as before).
class progress_listener {
public:
    virtual ~progress_listener() = default;
    virtual void attach(const progress& p) = 0;   // from progress::start()
    virtual void detach(const progress& p) = 0;   // from progress::stop(), once its counters are final
};
// Process-wide; nullptr (the default): every progress draws its own display.
void set_progress_listener(progress_listener* listener);

// Renders one snapshot; exposed for tests. `width` is the terminal width for the bar line.
[[nodiscard]] std::string render_bar(const progress_snapshot& s, std::size_t width);
[[nodiscard]] std::string render_log_line(const progress_snapshot& s);

// Samples at a growing interval: when it holds max_samples, every other sample goes and the interval doubles,
// so its points stay evenly spaced and their number bounded whatever the run's length. Not thread-safe.
class throughput_series {
public:
    static constexpr std::size_t max_samples = 240;
    explicit throughput_series(double every_seconds = 1.0) : every_(every_seconds) {}
    // Keeps the sample when `seconds` reached the next point of the series; `last` always keeps it (the end).
    void offer(const throughput_sample& s, bool last = false);
    [[nodiscard]] double due() const { return next_; }   // when the next sample is wanted
    [[nodiscard]] double every_seconds() const { return every_; }
    [[nodiscard]] const std::vector<throughput_sample>& samples() const { return samples_; }

private:
    double every_;
    double next_ = 0;
    std::vector<throughput_sample> samples_;
};

class progress {
public:
    // `out` null: nothing is printed, only the throughput series is kept.
    progress(std::FILE* out, bool is_terminal, std::chrono::milliseconds log_interval = std::chrono::seconds(5));
    ~progress();
    progress(const progress&) = delete;
    progress& operator=(const progress&) = delete;

    void set_accounts(std::uint64_t n) { accounts_total_ = n; }
    void set_units(progress_units u) {
        std::lock_guard lock(mu_);
        units_ = std::move(u);
    }
    void add_expected(std::uint64_t messages, std::uint64_t bytes) {
        messages_expected_ += messages;
        bytes_expected_ += bytes;
    }
    void add_done(std::uint64_t messages, std::uint64_t bytes) {
        messages_done_ += messages;
        bytes_done_ += bytes;
    }
    void set_window(std::size_t now, std::size_t cap) {
        window_ = now;
        window_cap_ = cap;
    }
    void account_started(const std::string& name);
    void account_finished(const std::string& name);

    void start();
    void stop();   // final redraw, newline on a terminal; idempotent
    [[nodiscard]] progress_snapshot snapshot() const;
    // The series so far (complete after stop()): seconds since start(), messages and bytes done.
    [[nodiscard]] std::vector<throughput_sample> throughput() const;
    [[nodiscard]] double throughput_every() const;

private:
    std::chrono::steady_clock::time_point tick();            // the ticker's: sample when due, redraw
    std::chrono::steady_clock::time_point next_wake() const; // mu_ held (or the ticker not yet started)
    std::chrono::steady_clock::time_point sample_due() const; // mu_ held: the series' next sample
    void print_line(bool last);   // the status line (out_ set); mu_ not held
    void sample(bool last);   // mu_ held

    std::FILE* out_;
    progress_listener* listener_ = nullptr;   // set by start() when `arrival run` listens
    bool tty_;
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
    std::atomic<std::uint64_t> messages_done_{0}, messages_expected_{0}, bytes_done_{0}, bytes_expected_{0};
    std::atomic<std::uint64_t> accounts_done_{0}, accounts_total_{0};
    std::atomic<std::size_t> window_{0}, window_cap_{0};
    mutable std::mutex mu_;
    std::set<std::string> active_;
    progress_units units_;
    throughput_series series_;
    std::chrono::steady_clock::time_point next_line_;   // the next status line's time (out_ set)
    ticker ticker_;   // last: stopped (joined) before the members its tick() reads are destroyed
};

}  // namespace arrival::engine
