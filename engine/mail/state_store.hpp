// Progress of a migration run, kept in SQLite under --state-dir so a rerun continues where the last one
// stopped (after a crash or kill -9) and a rerun after completion only looks at folders that changed.
//
// One row per (account, source folder): the source UIDVALIDITY, the highest source UID accounted for
// (copied, skipped as duplicate, or failed permanently), the counts, and the source UIDNEXT seen when the
// folder was last completed. What the store is trusted for, and what not:
//  - A folder whose UIDVALIDITY and UIDNEXT are unchanged since it completed is skipped without fetching
//    anything; when every folder of an account is, the destination is not even contacted (a STATUS per
//    source folder is the whole rerun): that is what makes a rerun with nothing new cheap.
//  - Anything else is re-planned against the destination's dedupe index (engine/mail/dedupe_key.hpp), so a
//    message APPENDed just before a kill -9 and not yet recorded here is found on the destination and not
//    copied twice; and a changed UIDVALIDITY (the UIDs mean other messages now) resets the row.
// Crash safety: WAL journal, synchronous=NORMAL (a committed transaction survives the process dying; only a
// power cut may lose the last ones, which the dedupe index covers); progress is recorded only after the
// destination acknowledged the APPEND, in source UID order, one transaction per batch.
// Thread-safe: one connection behind a mutex; transactions are short.
//
// For reruns that carry changes (engine/mail/delta_plan.hpp) each folder also keeps a map source UID -> destination
// UID with the source's flags as last seen (APPENDUID, or a dedupe-key match), and the source's HIGHESTMODSEQ
// as of the last run (CONDSTORE). A state directory written before the map existed opens unchanged (columns and
// table are added); its folders have has_map false and get their map once, by dedupe-key match.
#pragma once
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/mail/delta_plan.hpp"

struct sqlite3;

namespace arrival::engine {

struct folder_state {
    std::uint32_t uidvalidity = 0;
    std::uint32_t highest_uid = 0;       // every source UID <= this is accounted for
    std::uint32_t completed_uidnext = 0; // source UIDNEXT when the folder last completed; 0 = not completed
    std::string dest_folder;             // where it went, as of the last completion
    std::uint64_t copied = 0;
    std::uint64_t skipped_duplicate = 0;
    std::uint64_t failed = 0;
    std::uint64_t bytes = 0;
    std::uint64_t highestmodseq = 0;     // the source's, as of the last run; 0 = unknown (no CONDSTORE)
    bool has_map = false;                // the UID map of this folder is complete (see above)
    std::uint64_t vanished = 0;          // copied messages the source expunged that are still on the destination
};

struct folder_progress {
    std::uint32_t highest_uid = 0;
    std::uint64_t copied = 0;
    std::uint64_t skipped_duplicate = 0;
    std::uint64_t failed = 0;
    std::uint64_t bytes = 0;
    std::vector<mapped_message> mapped;   // the batch's messages, source UID -> destination UID
};

class state_store {
public:
    // Opens (creating if needed) DIR/arrival-state.sqlite; creates DIR. Throws std::runtime_error naming the
    // file and SQLite's message.
    explicit state_store(const std::filesystem::path& dir);
    ~state_store();
    state_store(const state_store&) = delete;
    state_store& operator=(const state_store&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    [[nodiscard]] std::optional<folder_state> load(std::string_view account, std::string_view folder);

    // Starts (or restarts) a folder with the source's current UIDVALIDITY. When the stored UIDVALIDITY
    // differs the row is reset (returns true: the stored UIDs no longer mean anything).
    bool begin_folder(std::string_view account, std::string_view folder, std::uint32_t uidvalidity);

    // Adds one acknowledged batch: counts are increments, highest_uid only grows. One transaction.
    void record(std::string_view account, std::string_view folder, const folder_progress& delta);

    // Marks the folder complete as of the source's UIDNEXT; remembers its destination name.
    void complete_folder(std::string_view account, std::string_view folder, std::uint32_t uidnext, std::string_view dest_folder);

    // The folders of one account with their state (renames and deletions on the source are found with it).
    [[nodiscard]] std::vector<std::pair<std::string, folder_state>> load_account(std::string_view account);
    [[nodiscard]] std::vector<mapped_message> load_map(std::string_view account, std::string_view folder);
    // Adds (or replaces) map entries and, with `complete`, marks the folder's map complete. One transaction.
    void add_map(std::string_view account, std::string_view folder, const std::vector<mapped_message>& m, bool complete);
    // After a delta was applied: the new source flags, the source UIDs to forget, the source's HIGHESTMODSEQ and
    // how many expunged messages are still waiting for a --sync-deletes run (a later run looks for them even
    // when HIGHESTMODSEQ has not moved).
    void apply_delta(std::string_view account, std::string_view folder, const std::vector<source_flags>& snapshot,
                     const std::vector<std::uint32_t>& forget, std::optional<std::uint64_t> highestmodseq,
                     std::optional<std::uint64_t> vanished = std::nullopt);
    // The source folder `from` is now called `to` (same UIDVALIDITY), and went to `dest_folder`.
    void rename_folder(std::string_view account, std::string_view from, std::string_view to, std::string_view dest_folder);
    // The source folder is gone: its row and map are dropped.
    void forget_folder(std::string_view account, std::string_view folder);

private:
    int open_and_set_up();   // an SQLite result code; db_ may be open either way
    [[noreturn]] void fail(std::string_view what);

    std::filesystem::path path_;
    sqlite3* db_ = nullptr;
    std::mutex mu_;
};

}  // namespace arrival::engine
