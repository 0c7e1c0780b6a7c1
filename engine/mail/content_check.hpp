// The content scan (engine/mail/content_scan.hpp) run over a folder's bodies as `arrival preflight --content` and
// `arrival verify --content` read them, and its report: per folder, which messages carry which trait, by UID.
//
// Bodies are FETCHed (BODY.PEEK[]: \Seen is never set) in batches of at most `batch_bytes` RFC822.SIZE or
// `batch_messages` messages, into body_buffers that spill to a file past the pipeline's spill threshold; each
// body is scanned and hashed (SHA-256) chunk by chunk and dropped before the next batch. So memory stays
// bounded by one batch however large the folder or its messages are. The hash is what verify compares: the
// destination's bytes are identical to the source's exactly when the digests and the sizes match.
#pragma once
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/mail/content_scan.hpp"
#include "engine/mail/async_session.hpp"
#include "engine/mail/message_pipeline.hpp"

namespace arrival::engine {

using body_digest = std::array<unsigned char, 32>;   // SHA-256

struct scanned_body {
    std::uint32_t uid = 0;
    std::uint64_t size = 0;   // bytes received
    body_digest digest{};
    content_findings findings;
};

struct body_batch_limits {
    std::uint64_t batch_bytes = 8u << 20;
    std::size_t batch_messages = 64;
    std::size_t spill_threshold = 1 << 20;
    std::string spill_dir = "/tmp";
    static body_batch_limits from(const pipeline_config& p) { return {8u << 20, 64, p.spill_threshold, p.spill_dir}; }
};

// On the selected (EXAMINEd) mailbox: fetches, scans and hashes the bodies of `messages` (uid, RFC822.SIZE),
// calling `each` once per body the server delivered, in batches. Throws session_error as the session does.
// The arguments must outlive the await.
[[nodiscard]] boost::asio::awaitable<void> scan_bodies(async_session& session, const std::vector<std::pair<std::uint32_t, std::uint64_t>>& messages,
                                                       const body_batch_limits& limits, const std::function<void(scanned_body&&)>& each);

// One folder's traits: the UIDs of the messages carrying each, and the first few messages' full description.
struct folder_content {
    std::string account;
    std::string folder;
    std::uint64_t scanned = 0;
    std::uint64_t with_traits = 0;   // messages carrying any trait
    std::map<content_trait, std::vector<std::uint32_t>> uids;   // only traits found
    struct example {
        std::uint32_t uid = 0;
        std::string detail;   // content_findings::describe()
    };
    std::vector<example> examples;   // up to examples_per_folder
    static constexpr std::size_t examples_per_folder = 5;

    void add(std::uint32_t uid, const content_findings& f);
    [[nodiscard]] bool clean() const { return uids.empty(); }
};

// {"account", "folder", "scanned", "with_traits", "traits": {"bare_lf": {"count", "uids": [...]}, ...},
//  "examples": [{"uid", "detail"}]}
[[nodiscard]] nlohmann::json to_json(const folder_content& c);
// The totals over folders: {"scanned", "with_traits", "traits": {"bare_lf": N, ...}}
[[nodiscard]] nlohmann::json content_totals(const std::vector<const folder_content*>& folders);
// Lines for the human summary: one per folder with traits ("  ACCOUNT 'FOLDER': 2 bare_lf (UIDs 3, 7), ..."),
// each prefixed by `indent`. UID lists are cut after 10 ("... and N more": every UID is in the JSON).
[[nodiscard]] std::string describe(const folder_content& c, std::string_view indent);

}  // namespace arrival::engine
