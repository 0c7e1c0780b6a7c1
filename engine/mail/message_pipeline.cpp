#include "engine/mail/message_pipeline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <exception>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "engine/mail/cpu_arena.hpp"
#include "engine/mail/dedupe_key.hpp"
#include "engine/mail/dest_profile.hpp"
#include "engine/mail/when_all.hpp"
#include "engine/stop_request.hpp"

namespace arrival::engine {

namespace net = boost::asio;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct fetched_message {
    const source_message* meta = nullptr;
    body_buffer body;
    bool arrived = false;
    std::vector<std::string> flags;           // mapped for the destination
    std::vector<flag_change> flag_changes;
    bool changed = false;                     // its bytes no longer give the key it was planned with
};

struct batch {
    std::vector<fetched_message> messages;
    budget_hold budget;                       // its in-memory bytes
    std::vector<append_item> items;           // what went to the destination, pointing into messages
    std::vector<fetched_message*> sent;
    std::vector<append_outcome> results;       // one per item, once acknowledged
    bool fetched = false;                     // its FETCH was answered
    bool done = false;                        // the append finished (acknowledged, or failed)
    bool failed = false;                      // ... with a session_error: never committed
    run_metrics* metrics = nullptr;           // --metrics: the messages it holds count as in flight until it is gone
    std::int64_t in_flight = 0;

    batch() = default;
    batch(const batch&) = delete;
    batch& operator=(const batch&) = delete;
    ~batch() {
        if (metrics) metrics->in_flight(-in_flight);
    }
};

class folder_copy {
public:
    folder_copy(async_session& source, async_session& dest, const std::string& dest_mailbox, const std::vector<source_message>& messages,
                const permanent_flags& dest_flags, const pipeline_config& config, folder_report& report,
                const std::function<void(const batch_outcome&)>& on_batch, const std::function<net::awaitable<void>()>& after_source_read,
                prefetched_bodies* prefetched, net::any_io_executor ex)
        : source_(source), dest_(dest), mailbox_(dest_mailbox), messages_(messages), folder_flags_(dest_flags), config_(config),
          report_(report), on_batch_(on_batch), after_source_read_(after_source_read), prefetched_(prefetched), ex_(ex),
          cv_(ex, net::steady_timer::time_point::max()),
          profile_(dest.profile().kind),
          // The carbonio refusal policy plans each APPEND against the ones before it (identical-command
          // limit): one batch at a time there.
          window_(profile_ == dest_profile_kind::carbonio ? 1 : std::max<std::size_t>(1, config.appends_in_flight)) {}

    net::awaitable<void> run() {
        co_await for_each_concurrently(2, [this](std::size_t k) -> net::awaitable<void> {
            try {
                if (k == 0) co_await fetcher();
                else co_await appender();
            } catch (...) {
                if (!failure_) failure_ = std::current_exception();
                notify();
            }
        });
        if (changed_) {
            report_.note += fmt::format("{}{} message(s) differed from their indexed headers when fetched (copied anyway)",
                                        report_.note.empty() ? "" : "; ", changed_);
        }
        if (failure_) std::rethrow_exception(failure_);
    }

private:
    net::awaitable<void> wait() {
        boost::system::error_code ec;
        co_await cv_.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    void notify() { cv_.cancel(); }

    // Under carbonio a run of messages that look identical to its throttle (same size, flags and date:
    // engine/mail/dest_profile.hpp append_guard) is not cut into batches of the same shape, which would be
    // identical APPENDs; it stays in one MULTIAPPEND (still within batch_bytes).
    bool continues_identical_run(const std::vector<fetched_message>& in_batch, const source_message& m) const {
        if (profile_ != dest_profile_kind::carbonio || in_batch.empty()) return false;
        const auto& last = *in_batch.back().meta;
        return last.size == m.size && last.flags == m.flags && last.internaldate == m.internaldate;
    }

    // The next batch of planned messages and the in-memory bytes it will hold.
    std::unique_ptr<batch> cut(std::uint64_t& mem) {
        auto b = std::make_unique<batch>();
        mem = 0;
        while (next_ < messages_.size() &&
               (b->messages.size() < config_.batch_messages || continues_identical_run(b->messages, messages_[next_]))) {
            const auto& m = messages_[next_];
            // A prefetched body's bytes are already counted (prefetched_bodies holds them).
            const std::uint64_t in_mem = prefetched_ || m.size > config_.spill_threshold ? 0 : m.size;
            if (!b->messages.empty() && mem + in_mem > config_.batch_bytes) break;
            mem += in_mem;
            fetched_message f;
            f.meta = &m;
            if (prefetched_) {
                if (const auto it = prefetched_->by_uid.find(m.uid); it != prefetched_->by_uid.end()) {
                    f.body = std::move(it->second);
                    f.arrived = true;
                } else {   // the index and the body came in one response: a server that left the body out
                    report_.failed.push_back({m.uid, "the source's answer to UID FETCH had no BODY[] for this message"});
                }
            } else {
                f.body = body_buffer(config_.spill_threshold, config_.spill_dir);
            }
            b->messages.push_back(std::move(f));
            ++next_;
        }
        return b;
    }

    // Up to `fetches_in_flight` UID FETCHes outstanding on the source (pipelined: over a WAN one at a time
    // spends a round trip per batch), each batch's CPU stage in UID order as they complete, then the appender's
    // queue. With the last batch's FETCH the caller's after_source_read is started: its commands are sent
    // behind that FETCH (started second), and the server answers them in order, so over a WAN the next folder
    // is open when the last bodies are in. A stop request (engine/stop_request.hpp) ends the fetching only:
    // batches already fetched or sent are still appended and committed, so the state matches the destination.
    net::awaitable<void> fetcher() {
        const std::size_t fetches = std::max<std::size_t>(1, config_.fetches_in_flight);
        const std::size_t ahead = std::max<std::size_t>(1, config_.tokens);
        bool hook_started = false;
        while (true) {
            while (!failure_ && !fetching_.empty() && fetching_.front()->fetched) {
                std::unique_ptr<batch> b = std::move(fetching_.front());
                fetching_.pop_front();
                batch* raw = b.get();
                co_await run_on_cpu_arena([this, raw] { cpu_stage(*raw); });
                fetched_.push_back(std::move(b));
                notify();
            }
            const bool more = !failure_ && next_ < messages_.size() && !stop_requested();
            if (more && fetches_running_ < fetches && fetched_.size() < ahead) {
                std::uint64_t mem = 0;
                auto b = cut(mem);
                if (config_.budget) {
                    // Named first: g++ 12 destroys temporaries in a co_await expression twice (a double release).
                    const auto taken = co_await config_.budget->acquire(mem);
                    b->budget = budget_hold(config_.budget, taken);
                }
                batch* raw = b.get();
                fetching_.push_back(std::move(b));
                if (prefetched_) {
                    raw->fetched = true;   // its bodies are here: nothing is asked of the source
                } else {
                    for (auto& f : raw->messages) routes_.emplace(f.meta->uid, &f);
                    ++fetches_running_;
                    net::co_spawn(ex_, fetch(*raw), [this, raw](std::exception_ptr e) {
                        --fetches_running_;
                        for (const auto& f : raw->messages) routes_.erase(f.meta->uid);
                        raw->fetched = !e;
                        if (e && !failure_) failure_ = e;
                        notify();
                    });
                }
                if (after_source_read_ && next_ == messages_.size() && !hook_started && !failure_) {
                    hook_started = true;
                    ++fetches_running_;
                    net::co_spawn(ex_, open_next(), [this](std::exception_ptr) {
                        --fetches_running_;
                        notify();
                    });
                }
                continue;
            }
            if (fetches_running_ == 0 && (failure_ || (fetching_.empty() && !more))) break;
            co_await wait();
        }
        fetch_done_ = true;
        notify();
    }

    net::awaitable<void> open_next() {
        if (!stop_requested()) co_await after_source_read_();
    }

    net::awaitable<void> fetch(batch& b) {
        std::vector<std::uint32_t> uids;
        for (const auto& f : b.messages) uids.push_back(f.meta->uid);
        // Routed by UID over every batch in flight: a server may answer pipelined FETCHes interleaved.
        const async_session::body_target target = [this](std::uint32_t uid, std::uint64_t size) -> body_buffer& {
            const auto it = routes_.find(uid);
            if (it == routes_.end()) {
                throw session_error(error_kind::protocol, fmt::format("the source sent UID {} which was not asked for", uid));
            }
            it->second->arrived = true;
            it->second->body.begin(size);
            return it->second->body;
        };
        const auto t0 = std::chrono::steady_clock::now();
        co_await source_.fetch_bodies(uids, target);
        if (auto* m = config_.metrics) {
            m->observe(server_side::source, imap_operation::fetch, seconds_since(t0));
            b.metrics = m;
            b.in_flight = static_cast<std::int64_t>(b.messages.size());
            m->in_flight(b.in_flight);
        }
    }

    // Runs on a oneTBB worker: reads the batch and the (const) folder inputs, and keeps folder_flags_ (the
    // fetcher awaits each batch's stage before the next, so batches pass here one at a time, in UID order).
    void cpu_stage(batch& b) {
        for (auto& f : b.messages) {
            if (!f.arrived) continue;
            f.flags = adapt_flags(profile_, mailbox_, f.meta->flags, folder_flags_, f.flag_changes);
            // The keywords it takes count against the folder's keyword limit (Cyrus) for the messages after it.
            folder_flags_.note_sent(f.flags);
            // The bytes are what gets copied; their key should be the one we planned with. If not, the
            // message changed under us (a server rewriting headers): it is copied anyway, and counted so the
            // report says why verify may disagree.
            f.changed = !(compute_dedupe_key(f.body.read_prefix(64 * 1024), f.body.size()) == f.meta->key);
        }
    }

    net::awaitable<void> send(batch& b) {
        for (auto& f : b.messages) {
            if (!f.arrived) continue;   // expunged on the source since it was indexed: nothing to copy
            b.items.push_back({&f.body, f.flags, f.meta->internaldate});
            b.sent.push_back(&f);
        }
        if (b.items.empty()) co_return;
        const auto t0 = std::chrono::steady_clock::now();
        b.results = co_await dest_.append(mailbox_, b.items);
        if (config_.metrics) config_.metrics->observe(server_side::destination, imap_operation::append, seconds_since(t0));
    }

    net::awaitable<void> appender() {
        while (true) {
            while (!failure_ && !fetched_.empty() && in_flight_.size() < window_) {
                in_flight_.push_back(std::move(fetched_.front()));
                fetched_.pop_front();
                notify();   // room for the fetcher
                batch* b = in_flight_.back().get();
                ++running_;
                net::co_spawn(ex_, send(*b), [this, b](std::exception_ptr e) {
                    --running_;
                    b->done = true;
                    if (e) {
                        b->failed = true;
                        if (!failure_) failure_ = e;
                    }
                    notify();
                });
            }
            // Acknowledged batches are committed in source UID order, also those answered before a failure.
            bool committed = false;
            while (!in_flight_.empty() && in_flight_.front()->done && !in_flight_.front()->failed) {
                commit(*in_flight_.front());
                in_flight_.pop_front();
                committed = true;
            }
            if (failure_ && running_ == 0) break;
            if (fetch_done_ && fetched_.empty() && in_flight_.empty()) break;
            // A commit made room in the window: launch what is already fetched before waiting for news.
            if (committed) continue;
            co_await wait();
        }
    }

    void commit(batch& b) {
        batch_outcome out;
        for (const auto& f : b.messages) out.highest_uid = std::max(out.highest_uid, f.meta->uid);
        for (std::size_t i = 0; i < b.sent.size(); ++i) {
            const auto& f = *b.sent[i];
            if (f.changed) ++changed_;
            if (i < b.results.size() && b.results[i].ok) {
                ++out.copied;
                out.bytes += f.body.size();
                auto flags = f.meta->flags;
                std::erase_if(flags, [](const std::string& x) { return x == "\\Recent"; });
                out.mapped.push_back({f.meta->uid, b.results[i].dest_uid, std::move(flags), true});
                for (const auto& c : f.flag_changes) ++report_.flags_changed[{c.from, c.to, c.reason}];
                note_dropped_keywords(f);
            } else {
                ++out.failed;
                report_.failed.push_back({f.meta->uid, i < b.results.size() ? b.results[i].server_text : "no reply for this message"});
            }
        }
        report_.copied += out.copied;
        report_.bytes += out.bytes;
        if (auto* m = config_.metrics) {
            m->copied(out.copied, out.bytes);
            m->message_failed(out.failed);
        }
        if (on_batch_) on_batch_(out);
    }

    // A message that lost keywords to the folder's keyword limit is listed with them (account, folder, UID).
    void note_dropped_keywords(const fetched_message& f) {
        folder_report::dropped_keywords d{f.meta->uid, {}, std::string(cyrus_keyword_limit_reason)};
        for (const auto& c : f.flag_changes) {
            if (c.to.empty() && c.reason == cyrus_keyword_limit_reason) d.keywords.push_back(c.from);
        }
        if (!d.keywords.empty()) report_.keywords_dropped.push_back(std::move(d));
    }

    async_session& source_;
    async_session& dest_;
    const std::string& mailbox_;
    const std::vector<source_message>& messages_;
    permanent_flags folder_flags_;   // the destination folder's keywords, with those the copy gives it
    const pipeline_config& config_;
    folder_report& report_;
    const std::function<void(const batch_outcome&)>& on_batch_;
    const std::function<net::awaitable<void>()>& after_source_read_;
    prefetched_bodies* prefetched_;   // every body, read before the copy; null: fetched batch by batch
    net::any_io_executor ex_;
    net::steady_timer cv_;   // a condition variable: never expires, cancelled on every change of the state below
    dest_profile_kind profile_;
    std::size_t window_;

    std::size_t next_ = 0;                          // the next planned message to cut into a batch
    std::deque<std::unique_ptr<batch>> fetching_;   // FETCH sent, in UID order (<= fetches_in_flight)
    std::size_t fetches_running_ = 0;               // fetch (and open_next) coroutines not finished
    std::map<std::uint32_t, fetched_message*> routes_;   // UID -> its place, over the batches in fetching_
    std::deque<std::unique_ptr<batch>> fetched_;    // fetched, waiting for the appender (<= tokens)
    std::deque<std::unique_ptr<batch>> in_flight_;  // sent or acknowledged, not yet committed (<= window_)
    std::size_t running_ = 0;                       // append coroutines not finished
    bool fetch_done_ = false;
    std::exception_ptr failure_;
    std::uint64_t changed_ = 0;
};

}  // namespace

net::awaitable<void> copy_messages(async_session& source, async_session& dest, const std::string& dest_mailbox,
                                   const std::vector<source_message>& messages, const permanent_flags& dest_flags,
                                   const pipeline_config& config, folder_report& report,
                                   const std::function<void(const batch_outcome&)>& on_batch, const std::function<net::awaitable<void>()>& after_source_read,
                                   prefetched_bodies* prefetched) {
    const auto ex = co_await net::this_coro::executor;   // named: g++ 12 destroys temporaries in co_await expressions twice
    folder_copy c(source, dest, dest_mailbox, messages, dest_flags, config, report, on_batch, after_source_read, prefetched, ex);
    co_await c.run();
}

}  // namespace arrival::engine
