#include "engine/run_progress.hpp"

#include <fmt/format.h>

#include "engine/mail/report.hpp"

namespace arrival::engine {

namespace {

std::string clock_text(double seconds) { return format_eta(seconds); }

}  // namespace

std::string render_run_progress(const run_progress_view& v) {
    std::string line = fmt::format("run {}, stage {}/{} {}: ", clock_text(v.run_seconds), v.index, v.count, v.stage);
    std::optional<double> stage_eta;
    if (v.counters) {
        const auto& s = *v.counters;
        line += fmt::format("{}/{} {}, {}/{} {}, {} of {}", s.accounts_done, s.accounts_total, s.units.account_long,
                            s.messages_done, s.messages_expected, s.units.item_long, human_bytes(s.bytes_done),
                            human_bytes(s.bytes_expected));
        stage_eta = eta_seconds(s);
        // Everything counted is done: nothing is left of this stage.
        if (!stage_eta && s.accounts_total > 0 && s.accounts_done >= s.accounts_total) stage_eta = 0.0;
    } else {
        line += fmt::format("running {}", clock_text(v.stage_seconds));
    }
    std::optional<double> run_eta;
    if (stage_eta && v.later_seconds) run_eta = *stage_eta + *v.later_seconds;
    line += fmt::format(", stage ETA {}, run ETA {}", format_eta(stage_eta), format_eta(run_eta));
    return line;
}

run_progress::run_progress(std::FILE* out, bool is_terminal, std::chrono::milliseconds log_interval)
    : out_(out), tty_(is_terminal), interval_(is_terminal ? std::chrono::milliseconds(500) : log_interval) {}

run_progress::~run_progress() { stop(); }

void run_progress::start() {
    if (!out_) return;
    run_t0_ = clock::now();
    set_progress_listener(this);
    ticker_.start([this] { return tick(); }, clock::now() + interval_);
}

void run_progress::stop() {
    if (ticker_.stop()) set_progress_listener(nullptr);
}

void run_progress::stage_started(std::size_t index, std::size_t count, std::string name, std::optional<double> later_seconds) {
    std::lock_guard lock(mu_);
    stage_ = run_progress_view{.index = index, .count = count, .stage = std::move(name), .later_seconds = later_seconds};
    stage_t0_ = clock::now();
    last_.reset();
    in_stage_ = true;
}

void run_progress::stage_finished() {
    run_progress_view v;
    {
        std::lock_guard lock(mu_);
        if (!in_stage_) return;
        v = view_locked();
        in_stage_ = false;
    }
    if (out_) draw(v, true);
}

void run_progress::attach(const progress& p) {
    std::lock_guard lock(mu_);
    attached_ = &p;
}

void run_progress::detach(const progress& p) {
    std::lock_guard lock(mu_);
    if (attached_ != &p) return;
    last_ = p.snapshot();
    attached_ = nullptr;
}

run_progress_view run_progress::view_locked() const {
    auto v = stage_;
    const auto now = clock::now();
    v.run_seconds = std::chrono::duration<double>(now - run_t0_).count();
    v.stage_seconds = std::chrono::duration<double>(now - stage_t0_).count();
    if (attached_) v.counters = attached_->snapshot();
    else v.counters = last_;
    return v;
}

void run_progress::draw(const run_progress_view& v, bool final_line) {
    std::lock_guard lock(draw_mu_);
    const auto line = render_run_progress(v);
    if (tty_) std::fprintf(out_, "\r\x1b[K%s%s", line.c_str(), final_line ? "\n" : "");
    else std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
}

run_progress::clock::time_point run_progress::tick() {
    std::unique_lock lock(mu_);
    if (in_stage_) {
        const auto v = view_locked();
        lock.unlock();
        draw(v, false);
    }
    return clock::now() + interval_;
}

}  // namespace arrival::engine
