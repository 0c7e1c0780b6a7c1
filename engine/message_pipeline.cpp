#include "engine/message_pipeline.hpp"

#include <atomic>
#include <exception>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include "engine/dedupe_key.hpp"
#include "engine/dest_profile.hpp"

namespace arrival::engine {

namespace {

struct fetched_message {
    const source_message* meta = nullptr;
    body_buffer body;
    bool arrived = false;
    std::vector<std::string> flags;           // mapped for the destination
    std::vector<flag_change> flag_changes;
};

struct batch {
    std::vector<fetched_message> messages;
    std::uint64_t budget_taken = 0;
    std::exception_ptr error;   // a stage failed: later stages pass it on, the pipeline stops
};

}  // namespace

void run_message_pipeline(imap_session& source, imap_session& dest, const std::string& dest_mailbox,
                          const std::vector<source_message>& messages, const permanent_flags& dest_flags,
                          const pipeline_config& config, folder_report& report,
                          const std::function<void(const batch_outcome&)>& on_batch) {
    std::size_t next = 0;
    std::exception_ptr failure;        // touched only by the append stage (serial)
    std::atomic<bool> stop{false};     // read by the fetch stage: stop reading once anything failed
    std::atomic<std::uint64_t> changed{0};
    std::mutex report_mu;   // flags_changed is filled from the parallel stage
    const auto profile = dest.profile().kind;   // the keyword rule (engine/dest_profile.hpp)

    // Under carbonio a run of messages that look identical to its throttle (same size, flags and date:
    // engine/dest_profile.hpp append_guard) is not cut into batches of the same shape, which would be
    // identical APPENDs; it stays in one MULTIAPPEND (still within batch_bytes).
    auto continues_identical_run = [&](const std::vector<fetched_message>& in_batch, const source_message& m) {
        if (profile != dest_profile_kind::carbonio || in_batch.empty()) return false;
        const auto& last = *in_batch.back().meta;
        return last.size == m.size && last.flags == m.flags && last.internaldate == m.internaldate;
    };

    auto fetch = [&](tbb::flow_control& fc) -> batch* {
        if (next >= messages.size() || stop) {
            fc.stop();
            return nullptr;
        }
        auto b = std::make_unique<batch>();
        std::uint64_t mem = 0;
        while (next < messages.size() && (b->messages.size() < config.batch_messages || continues_identical_run(b->messages, messages[next]))) {
            const auto& m = messages[next];
            const std::uint64_t in_mem = m.size > config.spill_threshold ? 0 : m.size;
            if (!b->messages.empty() && mem + in_mem > config.batch_bytes) break;
            mem += in_mem;
            fetched_message f;
            f.meta = &m;
            f.body = body_buffer(config.spill_threshold, config.spill_dir);
            b->messages.push_back(std::move(f));
            ++next;
        }
        try {
            if (config.budget) b->budget_taken = config.budget->acquire(mem);
            std::map<std::uint32_t, fetched_message*> by_uid;
            std::vector<std::uint32_t> uids;
            for (auto& f : b->messages) {
                by_uid.emplace(f.meta->uid, &f);
                uids.push_back(f.meta->uid);
            }
            source.fetch_bodies(uids, [&](std::uint32_t uid, std::uint64_t size) -> body_buffer& {
                auto it = by_uid.find(uid);
                if (it == by_uid.end()) {
                    throw session_error(error_kind::protocol, fmt::format("the source sent UID {} which was not asked for", uid));
                }
                it->second->arrived = true;
                it->second->body.begin(size);
                return it->second->body;
            });
        } catch (...) {
            b->error = std::current_exception();
            stop = true;
        }
        return b.release();
    };

    auto dedupe = [&](batch* b) -> batch* {
        if (b->error) return b;
        try {
            for (auto& f : b->messages) {
                if (!f.arrived) continue;
                f.flags = adapt_flags(profile, dest_mailbox, f.meta->flags, dest_flags, f.flag_changes);
                // The bytes are what gets copied; their key should be the one we planned with. If not, the
                // message changed under us (a server rewriting headers): it is copied anyway, and counted
                // so the report says why verify may disagree.
                if (!(compute_dedupe_key(f.body.read_prefix(64 * 1024), f.body.size()) == f.meta->key)) ++changed;
            }
        } catch (...) {
            b->error = std::current_exception();
        }
        return b;
    };

    auto append = [&](batch* raw) {
        std::unique_ptr<batch> b(raw);
        struct release_guard {
            const pipeline_config& c;
            std::uint64_t n;
            ~release_guard() {
                if (c.budget && n) c.budget->release(n);
            }
        } guard{config, b->budget_taken};
        if (failure) return;
        if (b->error) {
            failure = b->error;
            stop = true;
            return;
        }
        std::vector<append_item> items;
        std::vector<fetched_message*> sent;
        batch_outcome out;
        for (auto& f : b->messages) {
            out.highest_uid = std::max(out.highest_uid, f.meta->uid);
            if (!f.arrived) continue;   // expunged on the source since it was indexed: nothing to copy
            items.push_back({&f.body, f.flags, f.meta->internaldate});
            sent.push_back(&f);
        }
        std::vector<append_result> results;
        try {
            if (!items.empty()) results = dest.append(dest_mailbox, items);
        } catch (...) {
            failure = std::current_exception();
            stop = true;
            return;
        }
        for (std::size_t i = 0; i < sent.size(); ++i) {
            const auto& f = *sent[i];
            if (i < results.size() && results[i].ok) {
                ++out.copied;
                out.bytes += f.body.size();
                auto flags = f.meta->flags;
                std::erase_if(flags, [](const std::string& x) { return x == "\\Recent"; });
                out.mapped.push_back({f.meta->uid, results[i].dest_uid, std::move(flags), true});
                std::lock_guard lock(report_mu);
                for (const auto& c : f.flag_changes) ++report.flags_changed[{c.from, c.to, c.reason}];
            } else {
                ++out.failed;
                report.failed.push_back({f.meta->uid, i < results.size() ? results[i].server_text : "no reply for this message"});
            }
        }
        report.copied += out.copied;
        report.bytes += out.bytes;
        if (on_batch) on_batch(out);
    };

    tbb::this_task_arena::isolate([&] {
        tbb::parallel_pipeline(std::max<std::size_t>(1, config.tokens),
                               tbb::make_filter<void, batch*>(tbb::filter_mode::serial_in_order, fetch) &
                                   tbb::make_filter<batch*, batch*>(tbb::filter_mode::parallel, dedupe) &
                                   tbb::make_filter<batch*, void>(tbb::filter_mode::serial_in_order, append));
    });
    if (changed) {
        report.note += fmt::format("{}{} message(s) differed from their indexed headers when fetched (copied anyway)",
                                   report.note.empty() ? "" : "; ", changed.load());
    }
    if (failure) std::rethrow_exception(failure);
}

}  // namespace arrival::engine
