// What a destination folder (or a WebDAV source collection) holds, as `arrival files` compares it: one entry per
// child, whatever the server.
#pragma once
#include <cstdint>
#include <string>

namespace arrival::files {

struct remote_entry {
    std::string name;          // decoded, as the user sees it
    bool folder = false;
    std::uint64_t size = 0;
    std::int64_t mtime = 0;    // seconds since the epoch; 0 when the server gave none
    std::string id;            // WebDAV: the href's path (percent-encoded); Carbonio Files: the node id
    int version = 0;           // Carbonio Files: the node's last version
};

}  // namespace arrival::files
