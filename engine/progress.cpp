#include "engine/progress.hpp"

#include <fmt/format.h>

#include <string_view>

#include "engine/mail/report.hpp"

namespace arrival::engine {

namespace {

std::atomic<progress_listener*> listener_now{nullptr};

double rate(std::uint64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0.0; }

std::string eta(const progress_snapshot& s) { return format_eta(eta_seconds(s)); }

}  // namespace

std::optional<double> eta_seconds(const progress_snapshot& s) {
    const bool by_bytes = s.bytes_expected > 0;
    const auto done = by_bytes ? s.bytes_done : s.messages_done;
    const auto expected = by_bytes ? s.bytes_expected : s.messages_expected;
    if (done == 0 || expected <= done || s.seconds <= 0) return std::nullopt;
    const double rate = static_cast<double>(done) / s.seconds;
    return static_cast<double>(expected - done) / rate;
}

std::string format_eta(std::optional<double> seconds) {
    if (!seconds) return "--:--";
    const auto left = static_cast<std::uint64_t>(*seconds);
    return left >= 3600 ? fmt::format("{}:{:02}:{:02}", left / 3600, left / 60 % 60, left % 60)
                        : fmt::format("{:02}:{:02}", left / 60, left % 60);
}

void set_progress_listener(progress_listener* listener) { listener_now = listener; }

namespace {
// The adaptive window of connection pairs (engine/mail/adaptive_concurrency.hpp), e.g. " | window 6/8"; empty
// when the run has none.
std::string window_text(const progress_snapshot& s, std::string_view lead) {
    return s.window_cap ? fmt::format("{}{}/{}", lead, s.window, s.window_cap) : std::string();
}
}  // namespace

std::string render_bar(const progress_snapshot& s, std::size_t width) {
    const double frac = s.bytes_expected ? std::min(1.0, static_cast<double>(s.bytes_done) / static_cast<double>(s.bytes_expected))
                        : s.messages_expected ? std::min(1.0, static_cast<double>(s.messages_done) / static_cast<double>(s.messages_expected))
                                              : 0.0;
    const auto& u = s.units;
    const std::string stats = fmt::format(" {:3.0f}% {}/{} {} {} {:.0f} {} {:.1f} MB/s ETA {} | {}/{} {}{}{}{}",
                                          frac * 100, s.messages_done, s.messages_expected, u.item_short,
                                          human_bytes(s.bytes_done), rate(s.messages_done, s.seconds), u.rate,
                                          rate(s.bytes_done, s.seconds) / 1e6, eta(s), s.accounts_done,
                                          s.accounts_total, u.account_short, window_text(s, " | window "),
                                          s.active.empty() ? "" : " active: ", s.active);
    const std::size_t bar = 24;
    const auto filled = static_cast<std::size_t>(frac * bar);
    // Built with append, not operator+: g++ 12 -O3 raises a false -Wrestrict on "[" + std::string.
    std::string line;
    line.reserve(bar + 2 + stats.size());
    line.push_back('[');
    line.append(filled, '#');
    line.append(bar - filled, '-');
    line.push_back(']');
    line.append(stats);
    if (width > 4 && line.size() > width - 1) line.resize(width - 1);
    return line;
}

std::string render_log_line(const progress_snapshot& s) {
    const auto& u = s.units;
    return fmt::format("progress: {}/{} {}, {} of {}, {:.0f} {}, {:.1f} MB/s, ETA {}, {} {}/{} done{}{}{}",
                       s.messages_done, s.messages_expected, u.item_long, human_bytes(s.bytes_done),
                       human_bytes(s.bytes_expected), rate(s.messages_done, s.seconds), u.rate,
                       rate(s.bytes_done, s.seconds) / 1e6, eta(s), u.account_long, s.accounts_done,
                       s.accounts_total, window_text(s, ", window "), s.active.empty() ? "" : ", active: ", s.active);
}

void throughput_series::offer(const throughput_sample& s, bool last) {
    if (!last && s.seconds < next_) return;
    if (last && !samples_.empty() && samples_.back().seconds >= s.seconds) samples_.back() = s;
    else samples_.push_back(s);
    while (next_ <= s.seconds) next_ += every_;
    if (samples_.size() < max_samples) return;
    // Keep samples 0, 2, 4, ... (the first stays at t=0); the interval doubles from here on.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < samples_.size(); i += 2) samples_[kept++] = samples_[i];
    samples_.resize(kept);
    every_ *= 2;
    next_ = samples_.back().seconds + every_;
}

progress::progress(std::FILE* out, bool is_terminal, std::chrono::milliseconds log_interval)
    : out_(out), tty_(is_terminal), interval_(is_terminal ? std::chrono::milliseconds(250) : log_interval) {}

progress::~progress() { stop(); }

void progress::account_started(const std::string& name) {
    std::lock_guard lock(mu_);
    active_.insert(name);
}

void progress::account_finished(const std::string& name) {
    ++accounts_done_;
    std::lock_guard lock(mu_);
    active_.erase(name);
}

progress_snapshot progress::snapshot() const {
    progress_snapshot s;
    s.messages_done = messages_done_;
    s.messages_expected = std::max<std::uint64_t>(messages_expected_, messages_done_);
    s.bytes_done = bytes_done_;
    s.bytes_expected = std::max<std::uint64_t>(bytes_expected_, bytes_done_);
    s.accounts_done = accounts_done_;
    s.accounts_total = accounts_total_;
    s.window = window_;
    s.window_cap = window_cap_;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    std::lock_guard lock(mu_);
    s.units = units_;
    std::size_t shown = 0;
    for (const auto& a : active_) {
        if (shown == 4) {
            s.active += fmt::format(" +{}", active_.size() - 4);
            break;
        }
        if (shown++) s.active += ' ';
        s.active += a;
    }
    return s;
}

std::vector<throughput_sample> progress::throughput() const {
    std::lock_guard lock(mu_);
    return series_.samples();
}

double progress::throughput_every() const {
    std::lock_guard lock(mu_);
    return series_.every_seconds();
}

void progress::sample(bool last) {
    const auto t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    series_.offer({t, messages_done_.load(), bytes_done_.load()}, last);
}

void progress::start() {
    t0_ = std::chrono::steady_clock::now();
    listener_ = listener_now.load();
    if (listener_) {
        out_ = nullptr;   // the listener draws
        listener_->attach(*this);
    }
    {
        std::lock_guard lock(mu_);
        sample(false);
    }
    next_line_ = std::chrono::steady_clock::now() + interval_;
    ticker_.start([this] { return tick(); }, next_wake());
}

std::chrono::steady_clock::time_point progress::sample_due() const {
    return t0_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(series_.due()));
}

std::chrono::steady_clock::time_point progress::next_wake() const {
    return out_ ? std::min(next_line_, sample_due()) : sample_due();
}

void progress::print_line(bool last) {
    const auto s = snapshot();
    if (tty_) std::fprintf(out_, "\r\x1b[K%s%s", render_bar(s, 120).c_str(), last ? "\n" : "");
    else std::fprintf(out_, "%s\n", render_log_line(s).c_str());
    std::fflush(out_);
}

std::chrono::steady_clock::time_point progress::tick() {
    std::unique_lock lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now >= sample_due()) sample(false);
    if (out_ && now >= next_line_) {
        next_line_ = now + interval_;
        lock.unlock();   // snapshot() takes mu_
        print_line(false);
        lock.lock();
    }
    return next_wake();
}

void progress::stop() {
    if (!ticker_.stop()) return;
    {
        std::lock_guard lock(mu_);
        sample(true);
    }
    if (listener_) listener_->detach(*this);
    if (out_) print_line(true);
}

}  // namespace arrival::engine
