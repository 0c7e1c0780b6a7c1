#include "engine/run_metrics.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace arrival::engine {

void latency_histogram::observe(double seconds) {
    const auto at = std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin();
    std::lock_guard lock(mu_);
    if (static_cast<std::size_t>(at) < bounds.size()) ++counts_[static_cast<std::size_t>(at)];
    ++count_;
    sum_ += seconds;
}

latency_histogram::snapshot latency_histogram::read() const {
    snapshot s;
    std::lock_guard lock(mu_);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) s.buckets[i] = running += counts_[i];
    s.count = count_;
    s.sum = sum_;
    return s;
}

void run_metrics::observe(server_side side, imap_operation op, double seconds) {
    latency_[static_cast<int>(side)][static_cast<int>(op)].observe(seconds);
}

const std::array<std::string_view, 12>& run_metrics::names() {
    static const std::array<std::string_view, 12> n = {
        "arrival_messages_copied_total",  "arrival_bytes_copied_total",      "arrival_errors_total",
        "arrival_retries_total",          "arrival_messages_in_flight",      "arrival_accounts_active",
        "arrival_accounts_done_total",    "arrival_imap_latency_seconds",    "arrival_up",
        "arrival_concurrency_window",     "arrival_messages_checked_total", "arrival_verify_differences_total"};
    return n;
}

namespace {

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// Prometheus floats: Go's strconv formatting is not required, any float the parser reads is fine.
std::string number(double v) { return fmt::format("{}", v); }

}  // namespace

std::string run_metrics::render() const {
    std::string out;
    header(out, "arrival_up", "gauge", "1 while the arrival process serves metrics.");
    out += "arrival_up 1\n";
    header(out, "arrival_messages_copied_total", "counter", "Messages appended to the destination and acknowledged.");
    out += fmt::format("arrival_messages_copied_total {}\n", messages_copied_.load());
    header(out, "arrival_bytes_copied_total", "counter", "Bytes of the messages counted in arrival_messages_copied_total.");
    out += fmt::format("arrival_bytes_copied_total {}\n", bytes_copied_.load());
    header(out, "arrival_errors_total", "counter",
           "Errors: kind=\"message\" a message not copied (refused or not sent), kind=\"account\" an account that failed.");
    out += fmt::format("arrival_errors_total{{kind=\"account\"}} {}\n", account_errors_.load());
    out += fmt::format("arrival_errors_total{{kind=\"message\"}} {}\n", message_errors_.load());
    header(out, "arrival_retries_total", "counter", "Connection-level errors an account job retried on a fresh connection.");
    out += fmt::format("arrival_retries_total {}\n", retries_.load());
    header(out, "arrival_messages_in_flight", "gauge", "Messages fetched from the source and not yet acknowledged by the destination.");
    out += fmt::format("arrival_messages_in_flight {}\n", std::max<std::int64_t>(0, in_flight_.load()));
    header(out, "arrival_accounts_active", "gauge", "Account jobs running now.");
    out += fmt::format("arrival_accounts_active {}\n", std::max<std::int64_t>(0, accounts_active_.load()));
    header(out, "arrival_accounts_done_total", "counter", "Account jobs finished (ok or failed).");
    out += fmt::format("arrival_accounts_done_total {}\n", accounts_done_.load());
    header(out, "arrival_concurrency_window", "gauge", "Connection pairs the adaptive window allows now (0: no window).");
    out += fmt::format("arrival_concurrency_window {}\n", window_.load());

    header(out, "arrival_messages_checked_total", "counter",
           "Source messages read without copying: command=\"verify\" compared with the destination, command=\"preflight\" "
           "scanned.");
    out += fmt::format("arrival_messages_checked_total{{command=\"preflight\"}} {}\n", checked_[1].load());
    out += fmt::format("arrival_messages_checked_total{{command=\"verify\"}} {}\n", checked_[0].load());
    header(out, "arrival_verify_differences_total", "counter",
           "Differences verify found: kind=\"missing\" source messages not on the destination, kind=\"flags\" messages "
           "whose flags differ, kind=\"bytes\" messages whose bodies differ.");
    out += fmt::format("arrival_verify_differences_total{{kind=\"bytes\"}} {}\n", differences_[2].load());
    out += fmt::format("arrival_verify_differences_total{{kind=\"flags\"}} {}\n", differences_[1].load());
    out += fmt::format("arrival_verify_differences_total{{kind=\"missing\"}} {}\n", differences_[0].load());

    header(out, "arrival_imap_latency_seconds", "histogram",
           "Duration of IMAP exchanges per server (source, destination) and operation (index: header FETCH of a folder, "
           "fetch: a batch's body FETCH, append: a batch's APPEND/MULTIAPPEND).");
    static constexpr std::string_view sides[] = {"source", "destination"};
    static constexpr std::string_view ops[] = {"index", "fetch", "append"};
    for (int s = 0; s < 2; ++s) {
        for (int o = 0; o < 3; ++o) {
            const auto h = latency_[s][o].read();
            const auto labels = fmt::format("server=\"{}\",operation=\"{}\"", sides[s], ops[o]);
            for (std::size_t i = 0; i < latency_histogram::bounds.size(); ++i) {
                out += fmt::format("arrival_imap_latency_seconds_bucket{{{},le=\"{}\"}} {}\n", labels, number(latency_histogram::bounds[i]),
                                   h.buckets[i]);
            }
            out += fmt::format("arrival_imap_latency_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels, h.count);
            out += fmt::format("arrival_imap_latency_seconds_sum{{{}}} {}\n", labels, number(h.sum));
            out += fmt::format("arrival_imap_latency_seconds_count{{{}}} {}\n", labels, h.count);
        }
    }
    return out;
}

namespace {
std::atomic<run_metrics*> lent{nullptr};
}  // namespace

void lend_run_metrics(run_metrics* registry) noexcept { lent = registry; }
run_metrics* lent_run_metrics() noexcept { return lent.load(); }

}  // namespace arrival::engine
