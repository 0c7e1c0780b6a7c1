// A Zimbra export's .meta entries (`?fmt=tgz`), read on bytes. Zimbra's ArchiveFormatter writes, for every item,
// an entry "<folder>/<name>.meta" holding ItemData as JSON, then the item's bytes as "<folder>/<name>"
// (Zimbra/zm-mailbox store/.../service/formatter/ArchiveFormatter.java saveItem; service/util/ItemData.java).
// A versioned document is written once per revision, older revisions first, each with its own .meta.
// Fields used: type (MailItem.Type byte, 8 = DOCUMENT), name, Path (the item's mailbox path, e.g.
// "/Briefcase/Plans/q3.pdf"), date (seconds), size, and the revision from "metadata" (Zimbra's Metadata
// encoding, key "ver").
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace arrival::files {

inline constexpr int zimbra_type_document = 8;

struct zimbra_item {
    int type = 0;
    std::string name;
    std::string path;         // mailbox path, '/'-separated, starting with '/'
    std::int64_t date = 0;    // seconds since the epoch
    std::uint64_t size = 0;
    int version = 1;          // the "ver" of its metadata; 1 when absent
};

// Parses one .meta entry. Returns "" on success, else what is wrong (never the entry's bytes).
[[nodiscard]] std::string parse_zimbra_meta(std::string_view json, zimbra_item& out);

// The destination folders and file name of a document: "/Briefcase/a/b.pdf" -> {"a"}, "b.pdf" (the Briefcase
// is the root of the user's files); a document in another folder keeps that folder: "/Docs/x" -> {"Docs"}, "x".
// Empty segments are dropped. False when the path has no name.
[[nodiscard]] bool split_document_path(std::string_view path, std::vector<std::string>& dirs, std::string& name);

}  // namespace arrival::files
