// What a rerun changes on the destination for messages an earlier run already copied (issue 13, cutover):
// flag changes, and expunges with --sync-deletes. Pure: values in, values out; the I/O is engine/mail/delta_sync.
//
// Inputs: the state's map of this folder (source UID -> destination UID, the source flags as of the last run,
// and whether arrival APPENDed the message itself), the source's messages whose flags changed since then
// (CONDSTORE CHANGEDSINCE, or every message's flags when the source has no CONDSTORE: unchanged ones give no
// change), and optionally what the source says about expunges: either the source UIDs that still exist
// (UID SEARCH, or the full flag read) or the UIDs expunged since the last run (QRESYNC VANISHED (EARLIER)).
//
// Rules:
//  - A flag change is the difference between the old and the new source flags, each mapped through the same
//    rule as the copy (adapt_flags: the keyword mapping and the destination profile). Only that difference is
//    sent, as +FLAGS.SILENT / -FLAGS.SILENT: a flag the destination's user set or cleared on a message the
//    source did not touch, or on a flag the source did not touch, is kept.
//  - Messages getting the same change share one UID STORE (a sequence set), up to store_batch_uids UIDs each.
//  - An expunge on the source removes the destination copy only with sync_deletes, and only when arrival put
//    it there (`ours`); a message found on the destination by its dedupe key is never deleted. Either way the
//    map forgets it once the deletion was decided; without sync_deletes it stays, so a later --sync-deletes
//    run still finds it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/copy_planner.hpp"
#include "engine/mail/dedupe_key.hpp"
#include "engine/mail/dest_profile_kind.hpp"
#include "engine/mail/flag_map.hpp"

namespace arrival::engine {

struct mapped_message {
    std::uint32_t src_uid = 0;
    std::uint32_t dst_uid = 0;
    std::vector<std::string> flags;   // the source's flags as of the last run (\Recent dropped)
    bool ours = false;                // arrival APPENDed it (APPENDUID); false: matched by dedupe key
};

struct source_flags {
    std::uint32_t uid = 0;
    std::vector<std::string> flags;
};

struct flag_store {
    bool add = true;                       // +FLAGS.SILENT, else -FLAGS.SILENT
    std::vector<std::string> flags;        // sorted
    std::vector<std::uint32_t> dst_uids;   // ascending
    [[nodiscard]] std::string uid_set() const;
};

struct delta_options {
    bool sync_flags = true;
    bool sync_deletes = false;
    dest_profile_kind profile = dest_profile_kind::generic;
    std::string dest_mailbox;             // adapt_flags needs it under carbonio
    std::size_t store_batch_uids = 1000;
};

struct delta_plan {
    std::vector<flag_store> stores;
    std::vector<source_flags> snapshot;          // new source flags to remember, per source UID
    std::uint64_t flags_updated = 0;             // messages whose destination flags change
    std::vector<flag_change> flag_changes;       // keyword rewrites/drops met on the way
    std::vector<std::uint32_t> expunge_dst;      // destination UIDs to \Deleted + UID EXPUNGE (ascending)
    std::vector<std::uint32_t> forget_src;       // source UIDs to drop from the map (after the expunge)
    std::vector<std::uint32_t> vanished_src;     // every mapped source UID the source no longer has
    std::uint64_t vanished_not_ours = 0;         // of those, destination copies arrival did not put there (kept)
    [[nodiscard]] bool empty() const noexcept { return stores.empty() && expunge_dst.empty() && forget_src.empty() && snapshot.empty(); }
};

// Which mapped messages the source no longer has. Neither set: not asked (no expunge is found). `present`: every
// source UID that exists now, at least up to the highest mapped one (a mapped UID not in it is gone).
// `vanished`: UIDs the source expunged since the last run (a mapped UID in it is gone; a server may also name
// UIDs expunged earlier, which is harmless: they are gone too). Either may be unsorted.
struct source_expunges {
    std::optional<std::vector<std::uint32_t>> present;
    std::optional<std::vector<std::uint32_t>> vanished;
};

// `map` in any order; `changed` may name UIDs that are not in the map (new mail: ignored here, the copy takes
// them).
[[nodiscard]] delta_plan plan_delta(const std::vector<mapped_message>& map, const std::vector<source_flags>& changed,
                                    const source_expunges& expunges, const permanent_flags& dest_flags, const delta_options& o);

// Pairs source and destination messages by dedupe key, in UID order on both sides (the k-th source message of a
// key gets the k-th destination message of that key), for destinations without UIDPLUS and for state written
// before the map existed. Result: (source UID, destination UID), ascending by source UID.
struct keyed_uid {
    std::uint32_t uid = 0;
    dedupe_key key;
};
[[nodiscard]] std::vector<std::pair<std::uint32_t, std::uint32_t>> match_by_key(std::vector<keyed_uid> source,
                                                                               std::vector<keyed_uid> dest);

// Map entries for the source messages of `source` (an index with flags) that the map lacks (or holds without a
// destination UID), paired by dedupe key with destination messages of `dest` that no map entry names: a state
// written before the map existed, a destination without UIDPLUS, a message APPENDed just before a kill -9.
// Entries are not `ours`, except those the map held without a destination UID (arrival copied them).
[[nodiscard]] std::vector<mapped_message> fill_map_gaps(const std::vector<mapped_message>& map, const std::vector<source_message>& source,
                                                        const std::vector<source_message>& dest);

// verify --flags: source and destination messages paired by dedupe key (match_by_key), and those whose
// destination flags are not the source's as the copy maps them (adapt_flags). \Recent is ignored on both sides.
struct flag_difference {
    std::uint32_t source_uid = 0;
    std::uint32_t dest_uid = 0;
    std::vector<std::string> expected;   // the source's flags, mapped for the destination (sorted)
    std::vector<std::string> actual;     // the destination's (sorted)
};
[[nodiscard]] std::vector<flag_difference> flag_differences(const std::vector<source_message>& source,
                                                          const std::vector<source_message>& dest, const permanent_flags& dest_flags,
                                                          dest_profile_kind profile, std::string_view dest_mailbox);

// Folders: a folder of the state that the source no longer lists was renamed when exactly one source folder
// that the state does not know has its UIDVALIDITY (and no other missing folder has it); otherwise it is gone.
struct known_folder {
    std::string name;          // source name
    std::uint32_t uidvalidity = 0;
    std::string dest_folder;   // where it went (state) / where it would go (plan)
};
struct folder_rename {
    known_folder from;         // as the state has it
    known_folder to;           // the source's new name and its planned destination name
};
struct folder_changes {
    std::vector<folder_rename> renames;   // parents before children (shorter names first)
    std::vector<known_folder> gone;
};
[[nodiscard]] folder_changes plan_folder_changes(const std::vector<known_folder>& missing, const std::vector<known_folder>& unknown);

}  // namespace arrival::engine
