// The I/O of a rerun's changes (issue 13): coroutines on imap::connection, in two phases of one connection
// each — read the source's changes, then apply them on the destination — and the drivers the account job
// awaits per folder and per account (on async_session, whose connection() they use). The decisions are
// engine/mail/delta_plan's.
//
// Source (phase 1), per folder:
//   STATUS folder (HIGHESTMODSEQ)                          always; with CONDSTORE it says whether anything moved
//   EXAMINE folder                                         only when something may have changed
//   ENABLE QRESYNC                                         QRESYNC offered: once per connection, when first needed
//   UID FETCH 1:<highest mapped> (UID FLAGS) (CHANGEDSINCE m VANISHED)
//                                                          QRESYNC: the changed messages and, in VANISHED (EARLIER),
//                                                          the UIDs expunged since m (RFC 7162 §3.2.6)
//   UID FETCH 1:<highest mapped> (UID FLAGS) (CHANGEDSINCE m)   CONDSTORE only: the changed messages
//   UID SEARCH UID 1:<highest mapped>                      CONDSTORE only: which mapped messages still exist
//   UID FETCH 1:<highest mapped> (UID FLAGS)               without CONDSTORE: every flag (the snapshot compare)
// The UID SEARCH also runs under QRESYNC when an earlier run saw expunges it did not apply and --sync-deletes
// now wants them: VANISHED since m no longer names them. A server that refuses ENABLE QRESYNC gets the
// CONDSTORE-only commands.
// Destination (phase 2): SELECT, UID STORE +/-FLAGS.SILENT per batch, and with --sync-deletes
//   UID STORE set +FLAGS.SILENT (\Deleted), UID EXPUNGE set (UIDPLUS; without it nothing is expunged: a plain
//   EXPUNGE would also remove messages the destination's user marked \Deleted).
// The new flags and HIGHESTMODSEQ are recorded only after the destination acknowledged them, so a kill -9
// between the phases repeats the changes (idempotent: +FLAGS of a flag that is there changes nothing).
#pragma once
#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/async_session.hpp"
#include "engine/mail/delta_plan.hpp"
#include "engine/mail/folder_map.hpp"
#include "engine/mail/report.hpp"
#include "engine/mail/state_store.hpp"

namespace arrival::imap {
class connection;
}

namespace arrival::engine {

// How a delta run learned the source's expunges.
enum class expunge_source : std::uint8_t {
    none,       // not asked (HIGHESTMODSEQ unchanged, or nothing mapped)
    vanished,   // QRESYNC: UID FETCH ... (CHANGEDSINCE m VANISHED)
    search,     // CONDSTORE: UID SEARCH of the mapped range
    full_read,  // no CONDSTORE: every UID and flag of the mapped range
};

// "" (none), "vanished", "search" or "full_read": the report's "changes_read_by".
[[nodiscard]] std::string_view to_string(expunge_source s) noexcept;

struct source_changes {
    std::uint64_t highestmodseq = 0;                      // 0: the source has no CONDSTORE
    bool unchanged = false;                               // HIGHESTMODSEQ says nothing moved since `since`
    std::vector<source_flags> changed;                    // UID and current flags of (possibly) changed messages
    source_expunges expunges;                             // present (search, full_read) or vanished (vanished)
    expunge_source via = expunge_source::none;
};

// Phase 1. `since`: the HIGHESTMODSEQ stored at the last run (0: unknown); `max_uid`: the highest mapped source
// UID (0: nothing mapped yet, only HIGHESTMODSEQ is read).
// With `want_present`, the UID SEARCH runs even when HIGHESTMODSEQ has not moved, and instead of VANISHED
// (expunges seen by an earlier run that did not delete them).
[[nodiscard]] boost::asio::awaitable<boost::system::error_code> read_source_changes(imap::connection& c, const std::string& folder,
                                                                                   std::uint64_t since, std::uint32_t max_uid,
                                                                                   bool want_present, source_changes& out);

struct delta_applied {
    std::uint64_t stores = 0;     // UID STORE commands sent
    std::uint64_t expunged = 0;   // destination messages removed
    bool expunge_refused = false; // the destination has no UIDPLUS
};

// Phase 2.
[[nodiscard]] boost::asio::awaitable<boost::system::error_code> apply_delta_plan(imap::connection& c, const std::string& dest_folder,
                                                                                const delta_plan& p, delta_applied& out);

struct delta_settings {
    bool sync_flags = true;      // --no-sync-flags turns it off
    bool sync_deletes = false;   // --sync-deletes
    bool dry_run = false;        // plan and report, change nothing
};

// One folder of a rerun: phase 1 on `source`, plan, phase 2 on `dest`, record in the state. Fills
// report.flags_updated, deleted, deletions and note. Throws session_error like any session call.
// The destination is SELECTed (for its PERMANENTFLAGS) only when there is something to change.
[[nodiscard]] boost::asio::awaitable<void> sync_folder_changes(async_session& source, async_session& dest, const std::string& source_folder,
                                                             const std::string& dest_folder, delta_settings s, state_store& state,
                                                             const std::string& account, folder_report& report);

// After a folder's index was read on both sides (the copy path): map entries for what the map lacks
// (engine/mail/delta_plan.hpp fill_map_gaps), recorded; marks the folder's map complete.
void record_map_gaps(state_store& state, const std::string& account, const std::string& source_folder,
                     const std::vector<source_message>& source, const std::vector<source_message>& dest);

// Before an account's folders are migrated: folders the state knows that the source no longer lists. A renamed
// one (engine/mail/delta_plan.hpp plan_folder_changes) is renamed on the destination (RENAME; a child already moved
// by its parent's RENAME is taken as done) and in the state, and its plan entry is no longer created, so it is
// not copied twice. A gone one is reported; with --sync-deletes its destination folder is deleted when it holds
// only messages arrival copied. Costs nothing (no command) when every known folder is still listed.
struct folder_sync_result {
    std::map<std::string, std::string> renamed_from;   // new source name -> old
    std::vector<folder_report> gone;
};
[[nodiscard]] boost::asio::awaitable<folder_sync_result> sync_folders(async_session& source, async_session& dest, folder_plan& plan,
                                                                     delta_settings s, state_store& state, const std::string& account);

// Whether the state knows a folder the plan's source no longer lists (the rerun check's question); `known` is
// the account's folders as state_store::load_account gives them.
[[nodiscard]] bool state_has_unlisted_folders(const std::vector<std::pair<std::string, folder_state>>& known, const folder_plan& plan);

}  // namespace arrival::engine
