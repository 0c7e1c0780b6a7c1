// Copies the planned messages of one folder: fetch -> CPU stage -> append, as three parts on one strand.
//
// Why this shape, and oneTBB only for the CPU stage: the two ends are network I/O over pipelined IMAP
// connections, which live on an io_context as coroutines; a TBB filter that fetched or appended would hold a
// worker for a whole round trip (and block again on the byte budget), so the work in flight could never
// cover a WAN's latency. oneTBB's flow graph could host the I/O ends as async_nodes completed by the
// coroutines, but its ordering (sequencer/serial nodes) and back-pressure would duplicate what the folder's
// strand already gives for free, and graph.wait_for_all() still parks a thread. So the CPU work alone — the
// dedupe-key recheck over the fetched bytes (hashing, header parsing) and the destination profile's flag
// mapping — is enqueued into a oneTBB task_arena (engine/mail/cpu_arena.hpp) and the coroutine resumes on its
// strand when it is done. No TBB worker waits on a socket or a semaphore; no io thread hashes.
//
//   fetcher   cuts the next batch (<= batch_messages, <= batch_bytes), takes its in-memory bytes from the
//             run's byte budget (an awaitable semaphore), streams the bodies with UID FETCH BODY.PEEK[] from
//             the source into body_buffers (big ones spill to disk; `fetches_in_flight` FETCHes pipelined),
//             runs the CPU stage on the arena in UID order, and puts the batch into a bounded queue (`tokens`
//             batches: the source is read ahead by a bounded amount);
//   CPU stage recomputes each key from the fetched bytes (a message that changed since it was indexed is
//             still copied, but counted) and maps flags by the destination profile's rule
//             (engine/mail/dest_profile.hpp: adapt_flags over engine/mail/flag_map.hpp);
//   appender  takes batches from the queue and keeps up to `appends_in_flight` MULTIAPPENDs outstanding on
//             the destination connection (pipelined; LITERAL+), and commits each acknowledged batch — state
//             store, report, progress — strictly in source UID order, then releases its bytes.
//
// The queue is a deque and a steady_timer used as a condition variable (the connection's writer trick): the
// three parts share one strand, so no lock. A session_error in any part stops the copy once the appends
// already sent have their replies (batches acknowledged before the failure are still committed), and is
// rethrown (the account job reconnects and re-plans; the dedupe index makes that safe). Per-message refusals
// are not errors: they are returned with the server's words.
#pragma once
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/mail/async_session.hpp"
#include "engine/mail/byte_budget.hpp"
#include "engine/mail/copy_planner.hpp"
#include "engine/mail/delta_plan.hpp"
#include "engine/mail/flag_map.hpp"
#include "engine/mail/report.hpp"
#include "engine/run_metrics.hpp"

namespace arrival::engine {

struct pipeline_config {
    std::size_t batch_messages = 50;           // MULTIAPPEND batch size (Dovecot commits once per command)
    std::uint64_t batch_bytes = 4 << 20;       // in-memory bytes per batch
    std::size_t spill_threshold = 1 << 20;     // bodies above this go to a temporary file
    std::string spill_dir = "/tmp";
    std::size_t tokens = 3;                    // batches fetched ahead of the destination
    std::size_t fetches_in_flight = 2;         // UID FETCH batches awaiting their reply (pipelined)
    std::size_t appends_in_flight = 3;         // MULTIAPPEND batches awaiting their reply (1 under carbonio)
    byte_budget* budget = nullptr;             // shared by every job of the run; may be null
    run_metrics* metrics = nullptr;            // --metrics (engine/run_metrics.hpp); may be null
};

// Every body of a folder, read with its index before the folder's turn (engine/mail/account_job.cpp: a chain of
// small folders opened in one round trip). The copy takes its bodies from here and says nothing on the source
// (a planned UID without a body is reported as failed: the server left it out of the answer that carried its
// index). Holds the bytes it took from the run's budget until destroyed.
struct prefetched_bodies {
    std::map<std::uint32_t, body_buffer> by_uid;
    budget_hold budget;   // their bytes, as the source's STATUS SIZE gave them
};

// Called after each acknowledged batch (by the appender, in UID order).
struct batch_outcome {
    std::uint32_t highest_uid = 0;
    std::uint64_t copied = 0;
    std::uint64_t failed = 0;
    std::uint64_t bytes = 0;
    // Each copied message: source UID -> destination UID (0 without UIDPLUS) and the source flags it was copied
    // with (engine/mail/delta_plan.hpp; the state keeps them for the next run's flag changes).
    std::vector<mapped_message> mapped;
};

// Copies `messages` (UID order) from the mailbox selected on `source` into `dest_mailbox`, selected on
// `dest`. Fills report.copied/bytes/failed/flags_changed. Both sessions must live on the calling coroutine's
// strand. `after_source_read`, when set, is started together with the last batch's FETCH (not after a failure
// or a stop request), so the commands it sends go behind that FETCH on the wire: from then on the copy says
// nothing more on `source` and only APPENDs on `dest`, so the caller may open its next folder there
// (engine/mail/account_job.cpp). It must not throw; copy_messages returns when it is done too. With `prefetched`,
// every body comes from there (its folder need not be selected on `source`), and after_source_read is started
// with the last batch.
[[nodiscard]] boost::asio::awaitable<void> copy_messages(async_session& source, async_session& dest, const std::string& dest_mailbox,
                                                         const std::vector<source_message>& messages, const permanent_flags& dest_flags,
                                                         const pipeline_config& config, folder_report& report,
                                                         const std::function<void(const batch_outcome&)>& on_batch,
                                                         const std::function<boost::asio::awaitable<void>()>& after_source_read = {},
                                                         prefetched_bodies* prefetched = nullptr);

}  // namespace arrival::engine
