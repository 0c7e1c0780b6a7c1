// Copies the planned messages of one folder: a oneTBB parallel_pipeline of three stages,
//
//   fetch   (serial_in_order)  cuts the next batch (<= batch_messages, <= batch_bytes), takes its in-memory
//                              bytes from the run's byte_budget, and streams the bodies with UID FETCH
//                              BODY.PEEK[] from the source into body_buffers (big ones spill to disk);
//   dedupe  (parallel)         recomputes each key from the fetched bytes (a message that changed since it
//                              was indexed is still copied, but no longer counts against another copy) and
//                              maps flags by the destination profile's rule (engine/dest_profile.hpp:
//                              adapt_flags over engine/flag_map.hpp);
//   append  (serial_in_order)  MULTIAPPENDs the batch to the destination, then records it in the state
//                              store — after the server acknowledged it, in UID order — and releases the bytes.
//
// At most `tokens` batches are in flight, so the source is read ahead of the destination by a bounded
// amount. The pipeline runs on the calling (job) thread inside this_task_arena::isolate, never on an
// io_context thread. A session_error in any stage stops the pipeline and is rethrown to the caller (the
// account job reconnects and re-plans; the dedupe index makes that safe). Per-message refusals are not
// errors: they are returned with the server's words.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/byte_budget.hpp"
#include "engine/copy_planner.hpp"
#include "engine/delta_plan.hpp"
#include "engine/flag_map.hpp"
#include "engine/imap_session.hpp"
#include "engine/report.hpp"

namespace arrival::engine {

struct pipeline_config {
    std::size_t batch_messages = 50;           // MULTIAPPEND batch size (Dovecot commits once per command)
    std::uint64_t batch_bytes = 4 << 20;       // in-memory bytes per batch
    std::size_t spill_threshold = 1 << 20;     // bodies above this go to a temporary file
    std::string spill_dir = "/tmp";
    std::size_t tokens = 3;                    // batches in flight
    byte_budget* budget = nullptr;             // shared by every job of the run; may be null
};

// Called after each acknowledged batch (from the append stage, in UID order).
struct batch_outcome {
    std::uint32_t highest_uid = 0;
    std::uint64_t copied = 0;
    std::uint64_t failed = 0;
    std::uint64_t bytes = 0;
    // Each copied message: source UID -> destination UID (0 without UIDPLUS) and the source flags it was copied
    // with (engine/delta_plan.hpp; the state keeps them for the next run's flag changes).
    std::vector<mapped_message> mapped;
};

// Copies `messages` (UID order) into `dest_mailbox`. Fills report.copied/bytes/failed/flags_changed.
void run_message_pipeline(imap_session& source, imap_session& dest, const std::string& dest_mailbox,
                          const std::vector<source_message>& messages, const permanent_flags& dest_flags,
                          const pipeline_config& config, folder_report& report,
                          const std::function<void(const batch_outcome&)>& on_batch);

}  // namespace arrival::engine
