// Carbonio Files requests and replies as bytes (FACTS.md §3; CF = zextras/carbonio-files-ce): what
// `arrival files` sends to https://HOST/services/files/..., with the user's delegated token as the
// ZM_AUTH_TOKEN cookie (the only auth Files accepts).
//   POST /services/files/graphql          {query, variables}: getNode(node_id) { ... on Folder { children(limit,
//                                         cursor, sort: NAME_ASC) } } (cursor = the last node id of the
//                                         previous page), createFolder(destination_id, name)
//   POST /services/files/upload           raw bytes; Filename = Base64 of the name, ParentId
//   POST /services/files/upload-version   raw bytes; NodeId, Filename, OverwriteVersion: false
// Files renames a clashing name to "name (1).ext" instead of refusing it (§3), so the job lists every folder
// before writing and never relies on the server to refuse a duplicate.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/files/remote_entry.hpp"

namespace arrival::files {

inline constexpr std::string_view files_root_id = "LOCAL_ROOT";  // every user's root folder (ParentId default)
inline constexpr int children_page = 200;

[[nodiscard]] std::string children_query(std::string_view folder_id, int limit, std::string_view cursor);
[[nodiscard]] std::string create_folder_query(std::string_view parent_id, std::string_view name);

// Reads a getNode reply: its children appended to `out`. `page_full` says whether a next page may exist
// (as many children as asked for). Returns "" or the GraphQL error / what is malformed.
[[nodiscard]] std::string read_children(std::string_view body, int limit, std::vector<remote_entry>& out,
                                        bool& page_full);
// Reads a createFolder reply: the new folder (its name may differ from the one asked for: "(1)" on a clash).
[[nodiscard]] std::string read_created_folder(std::string_view body, remote_entry& out);
// Reads an upload / upload-version reply {"nodeId": "...", "version": N}.
[[nodiscard]] std::string read_upload_reply(std::string_view body, std::string& node_id, int& version);

// Headers of an upload of `name` into `parent_id`, and of a new version of `node_id`.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> upload_headers(std::string_view name,
                                                                              std::string_view parent_id);
[[nodiscard]] std::vector<std::pair<std::string, std::string>> upload_version_headers(std::string_view name,
                                                                                      std::string_view node_id);

}  // namespace arrival::files
