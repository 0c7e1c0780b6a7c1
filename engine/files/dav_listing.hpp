// WebDAV collections as `arrival files` walks them (RFC 4918): the PROPFIND Depth: 1 it sends, and its 207
// turned into the collection's children. Sans-I/O; the multistatus parser is protocol/http's.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/files/remote_entry.hpp"
#include "protocol/http/multistatus.hpp"

namespace arrival::files {

// The properties asked for: resourcetype, getcontentlength, getlastmodified.
[[nodiscard]] const std::vector<std::string>& listing_props();

// The children of the collection at `collection_target` (its own response is recognised by its path, with or
// without a trailing '/', and dropped). Names are the last href segment, percent-decoded. Returns "" or why
// a response could not be read.
[[nodiscard]] std::string dav_children(const std::vector<http::dav_response>& responses,
                                       std::string_view collection_target, std::vector<remote_entry>& out);

// RFC 7231 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") -> seconds since the epoch.
[[nodiscard]] std::optional<std::int64_t> parse_http_date(std::string_view text);

}  // namespace arrival::files
