// The live counters of a run, for `--metrics ADDR:PORT` (protocol/http/metrics_server.hpp serves them), in the
// Prometheus text exposition format 0.0.4. Every metric's name, type and help line is here, so doc/metrics.md
// and the scrape test read one list.
//
// Jobs update them from any thread (atomics; the histograms take a small mutex per observation, a few per
// batch, never per byte); render() reads a consistent-enough snapshot for a scrape (each value is read once,
// counters never go down). Nothing here knows about sockets.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace arrival::engine {

// A cumulative histogram with fixed buckets (seconds): what a latency needs from 5 ms on a LAN to 60 s for a
// MULTIAPPEND of a large batch over a WAN.
class latency_histogram {
public:
    static constexpr std::array<double, 12> bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60};
    void observe(double seconds);
    struct snapshot {
        std::array<std::uint64_t, bounds.size()> buckets{};   // cumulative, as exposed (le=bound)
        std::uint64_t count = 0;
        double sum = 0;
    };
    [[nodiscard]] snapshot read() const;

private:
    mutable std::mutex mu_;
    std::array<std::uint64_t, bounds.size()> counts_{};   // per bucket, not cumulative
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

enum class server_side : std::uint8_t { source, destination };
// What a latency observation timed: an index FETCH (headers), a body FETCH batch, an APPEND/MULTIAPPEND.
enum class imap_operation : std::uint8_t { index, fetch, append };
// The commands that read mail without copying it: verify compares source and destination, preflight scans the
// source.
enum class check_command : std::uint8_t { verify, preflight };
// What verify found different: a source message missing on the destination, flags, bodies (--content).
enum class difference_kind : std::uint8_t { missing, flags, bytes };

class run_metrics {
public:
    // Messages and bytes APPENDed and acknowledged (what the summary's "copied" and "bytes" count).
    void copied(std::uint64_t messages, std::uint64_t bytes) {
        messages_copied_ += messages;
        bytes_copied_ += bytes;
    }
    // A message the destination refused (or that could not be sent).
    void message_failed(std::uint64_t n = 1) { message_errors_ += n; }
    // A connection-level error the job retried (reconnect).
    void retried() { ++retries_; }
    // Messages fetched and not yet acknowledged by the destination (the pipeline's batches in flight).
    void in_flight(std::int64_t delta) { in_flight_ += delta; }
    // The adaptive window of connection pairs now (engine/mail/adaptive_concurrency.hpp).
    void concurrency_window(std::size_t pairs) { window_ = static_cast<std::int64_t>(pairs); }
    void account_started() { ++accounts_active_; }
    // An account job ended (migrate, verify, preflight): done, and an error of kind "account" when not ok.
    void account_finished(bool ok) {
        --accounts_active_;
        ++accounts_done_;
        if (!ok) ++account_errors_;
    }
    void observe(server_side side, imap_operation op, double seconds);
    // Source messages verify compared with the destination, or preflight scanned.
    void checked(check_command command, std::uint64_t messages) { checked_[static_cast<int>(command)] += messages; }
    void differences(difference_kind kind, std::uint64_t n) { differences_[static_cast<int>(kind)] += n; }

    // The exposition: every metric with its # HELP and # TYPE lines, labels sorted, ending in a newline.
    [[nodiscard]] std::string render() const;

    // The names this file exposes, for the docs test: "arrival_messages_copied_total", ...
    static const std::array<std::string_view, 12>& names();

private:
    std::atomic<std::uint64_t> messages_copied_{0}, bytes_copied_{0}, message_errors_{0}, account_errors_{0}, retries_{0},
        accounts_done_{0};
    std::atomic<std::int64_t> in_flight_{0}, accounts_active_{0}, window_{0};
    latency_histogram latency_[2][3];   // [server_side][imap_operation]
    std::atomic<std::uint64_t> checked_[2] = {0, 0};           // [check_command]
    std::atomic<std::uint64_t> differences_[3] = {0, 0, 0};    // [difference_kind]
};

// `arrival run --metrics` serves one registry for the whole run, and the stage commands it calls in this
// process count into it (migrate, verify, when not given a --metrics of their own). Process-wide; nullptr (the
// default): nothing lent.
void lend_run_metrics(run_metrics* registry) noexcept;
[[nodiscard]] run_metrics* lent_run_metrics() noexcept;

// The content type of render()'s output.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace arrival::engine
