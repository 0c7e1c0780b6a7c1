#include "engine/mail/adaptive_concurrency.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>

namespace arrival::engine {

std::size_t pairs_worth_opening(std::size_t most, std::size_t folders, double round_trip_seconds, double login_seconds) {
    most = std::max<std::size_t>(1, std::min(most, folders));
    std::size_t n = 1;
    while (n < most && round_trip_seconds * static_cast<double>(folders) / static_cast<double>(n + 1) > login_seconds) ++n;
    return n;
}

aimd_window::aimd_window(const aimd_settings& s) : s_(s) {
    s_.cap = std::max<std::size_t>(1, s_.cap);
    s_.floor = std::clamp<std::size_t>(s_.floor, 1, s_.cap);
    size_ = std::clamp(s_.initial, s_.floor, s_.cap);
    report_.cap = s_.cap;
    report_.initial = size_;
    report_.final_window = size_;
    report_.smallest = size_;
    report_.largest = size_;
}

void aimd_window::shrink(std::size_t to, std::string_view why) {
    slow_start_ = false;
    plateau_ = 0;
    to = std::max(to, s_.floor);
    if (to >= size_) return;   // already at the floor
    report_.last_decrease = std::string(why);
    size_ = to;
    ++report_.decreases;
    report_.final_window = size_;
    report_.smallest = std::min(report_.smallest, size_);
}

void aimd_window::grow(std::size_t to) {
    to = std::min(to, s_.cap);
    if (to <= size_) return;
    size_ = to;
    ++report_.increases;
    report_.final_window = size_;
    report_.largest = std::max(report_.largest, size_);
}

void aimd_window::congestion(std::string_view what) {
    if (cut_this_interval_) return;
    cut_this_interval_ = true;
    shrink(size_ / 2, what);
}

void aimd_window::open_latency(double seconds) {
    if (seconds > 0) opens_.push_back(seconds);
}

void aimd_window::interval(double work) {
    const double before = previous_work_;
    previous_work_ = work;
    ++since_latency_cut_;
    std::string slow;   // why logging in counts as slow in this interval; empty: it does not
    if (!opens_.empty()) {
        auto mid = opens_.begin() + static_cast<std::ptrdiff_t>((opens_.size() - 1) / 2);   // the lower median
        std::nth_element(opens_.begin(), mid, opens_.end());
        const double median = *mid;
        opens_.clear();
        if (fastest_open_ > 0 && median > fastest_open_ * s_.latency_factor && median - fastest_open_ > s_.latency_margin_seconds) {
            slow = fmt::format("logging in got slow: {:.2f} s (median of an interval), the fastest was {:.2f} s", median, fastest_open_);
        }
        fastest_open_ = fastest_open_ > 0 ? std::min(fastest_open_, median) : median;
    }
    if (cut_this_interval_) {   // cut already; let the smaller window show its effect first
        cut_this_interval_ = false;
        return;
    }
    if (!slow.empty()) {   // no growth while logging in is slow; a cut now and then, not below the start
        if (since_latency_cut_ >= s_.latency_cooldown && size_ > report_.initial) {
            since_latency_cut_ = 0;
            shrink(std::max(report_.initial, size_ - std::max<std::size_t>(1, size_ / 4)), slow);
        }
        return;
    }
    if (size_ >= s_.cap) return;
    if (slow_start_) {
        if (before > 0 && work < before / s_.rise) {
            slow_start_ = false;   // the work fell: stop doubling, and hold here
            return;
        }
        grow(size_ * 2);
        return;
    }
    if (before >= 0 && work > before * s_.rise && work > 0) {
        plateau_ = 0;
        grow(size_ + 1);
    } else if (++plateau_ >= s_.probe_after) {
        plateau_ = 0;
        grow(size_ + 1);
    }
}

adaptive_concurrency::adaptive_concurrency(const aimd_settings& s)
    : cap_(std::max<std::size_t>(1, s.cap)), window_(s), pairs_(window_.size()) {}

void adaptive_concurrency::note_congestion(std::string_view what) {
    std::lock_guard lock(mu_);
    window_.congestion(what);
    pairs_.set_capacity(window_.size());
}

void adaptive_concurrency::note_open(double seconds) {
    std::lock_guard lock(mu_);
    window_.open_latency(seconds);
}

void adaptive_concurrency::tick() {
    std::lock_guard lock(mu_);
    const auto now = work_.load();
    window_.interval(static_cast<double>(now - work_at_last_tick_));
    work_at_last_tick_ = now;
    pairs_.set_capacity(window_.size());
}

std::size_t adaptive_concurrency::window() const {
    std::lock_guard lock(mu_);
    return window_.size();
}

concurrency_report adaptive_concurrency::report() const {
    std::lock_guard lock(mu_);
    return window_.report();
}

}  // namespace arrival::engine
