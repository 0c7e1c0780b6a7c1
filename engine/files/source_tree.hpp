// What one user's files are at the source, read before anything is written:
//   directory      DIR/<user>/...: every regular file at any depth (symbolic links are not followed and are
//                  reported; special files are reported)
//   Zimbra export  DIR/<user>.tgz (`?fmt=tgz`): the documents (.meta type 8), their folders from the .meta
//                  Path with /Briefcase as the root, every revision of a versioned document in order. What else
//                  the export holds (mail, contacts, calendars, tasks, notes, wiki pages, tags) is counted in
//                  `left_out` by kind: the other commands move those.
//   WebDAV         a tree read by PROPFIND Depth: 1, collection by collection (files_job.cpp; the same struct).
// Files come out with their folder segments and name as the source spells them; name mapping is the
// destination's business (name_map.hpp).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace arrival::files {

struct source_file {
    std::vector<std::string> dirs;  // folders under the user's root
    std::string name;
    std::uint64_t size = 0;
    std::int64_t mtime = 0;         // seconds since the epoch
    std::string origin;             // directory: the local path; tgz: the archive member; WebDAV: the href path
    int version = 1;                // tgz: the revision; revisions of one document follow each other, oldest first
};

struct source_problem {
    std::string path;
    std::string reason;
};

struct source_tree {
    std::vector<std::vector<std::string>> folders;  // every folder, parents before children (empty ones too)
    std::vector<source_file> files;
    std::vector<source_problem> problems;           // entries that cannot be moved, each with why
    std::map<std::string, std::uint64_t> left_out;  // tgz: items of other kinds, by kind ("message": 120)
};

// Walks DIR/<user>. Throws std::runtime_error when the directory cannot be read at all.
[[nodiscard]] source_tree scan_directory(const std::string& root);

// Reads every .meta of a Zimbra export (the bytes of other entries are skipped, not read into memory).
// Throws std::runtime_error naming the file when it is not a readable tar.gz.
[[nodiscard]] source_tree scan_zimbra_tgz(const std::string& path);

// Reads the archive again, front to back, and writes the members asked for to files (libarchive streams
// the gzip; nothing is held whole in memory).
class tgz_extractor {
public:
    explicit tgz_extractor(const std::string& path);  // throws std::runtime_error when it cannot be opened
    ~tgz_extractor();
    tgz_extractor(const tgz_extractor&) = delete;
    tgz_extractor& operator=(const tgz_extractor&) = delete;
    // Skips forward to `member` and writes its bytes to `dest` (created 0600). Members must be asked for in
    // archive order. Returns "" or why not.
    [[nodiscard]] std::string extract(const std::string& member, const std::string& dest);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace arrival::files
