// `arrival files`: every user's private files from a source tree into a destination, users concurrently
// (--jobs), each user isolated (one user's failure never stops the others), transient failures retried.
//
// Sources (source_tree.hpp): DIR/<user>/ (any depth), DIR/<user>.tgz (a Zimbra export's Briefcase), or a
// WebDAV tree https://host/.../{user}/ walked with PROPFIND Depth: 1.
// Destinations: Carbonio Files (FACTS.md §3, carbonio_files.hpp; the admin's DelegateAuthRequest per user, the
// token as the ZM_AUTH_TOKEN cookie) or any WebDAV server (MKCOL, PUT; https://host/.../{user}/).
//
// Idempotent although Carbonio is not (a clashing upload becomes "name (1).ext"): every destination folder is
// listed before anything is written into it. A file whose name is there with the same size and a modification
// time not after the destination's is skipped_existing (neither destination gives a content checksum: Files'
// schema has none and mod_dav's ETag is not one); any other file of that name gets a new version (Carbonio
// upload-version; WebDAV: an overwriting PUT). So a rerun uploads nothing, and a changed file makes one new
// version. File bytes go from disk to the socket (client::async_upload); a tgz member or a WebDAV source file is
// first spooled to a private temporary file, one at a time.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/files/name_map.hpp"
#include "engine/files/source_tree.hpp"
#include "engine/pim/import_job.hpp"
#include "protocol/http/url.hpp"

namespace arrival::files {

enum class source_kind { directory, zimbra_tgz, webdav };

struct files_options {
    source_kind source = source_kind::directory;
    std::string source_dir;        // directory and zimbra-tgz sources
    http::url source_url;          // webdav source; its target holds {user}
    std::string source_admin;      // webdav source: basic auth as this admin for every user; "" = each user
    std::string source_password;   // the source admin's password, or every user's (never logged)
    dest_kind dest = dest_kind::carbonio;
    // The destination's connection: dest (its url; a WebDAV one holds {user}), admin and admin_password (the
    // Carbonio admin, or the WebDAV admin), default_password (WebDAV users without an admin), admin_url, tls,
    // timeouts, retries and backoff. The source shares tls, timeouts, retries and backoff.
    pim::import_options conn;
    bool dry_run = false;
    unsigned jobs = 4;
    std::string spool_dir;         // "" = $TMPDIR or /tmp; a private directory is made inside and removed
};

struct files_user {
    std::string source_user;
    std::string dest_user;
    std::string dest_password;    // from the accounts file; "" = conn.default_password
    std::string source_password;  // from the accounts file; "" = files_options::source_password
};

struct file_failure {
    std::string path;    // the source path ("Plans/q3.pdf")
    std::string reason;
};

struct renamed_file {
    std::string path;    // the source path
    std::string as;      // the name written
    std::string why;
};

struct files_result {
    std::string user;          // destination user
    std::string source_user;
    std::string source;        // what was read: directory, archive or URL
    pim::user_status status = pim::user_status::ok;
    std::optional<pim::failure_kind> kind;
    std::string error;
    std::size_t files = 0;              // source files (a versioned document counts once)
    std::uint64_t bytes = 0;            // their bytes (the last revision's)
    std::size_t uploaded = 0;           // files created at the destination
    std::size_t skipped_existing = 0;   // already there, same name and size, not newer at the source
    std::size_t versions = 0;           // new versions of files already there (or earlier revisions' followers)
    std::uint64_t bytes_sent = 0;
    std::vector<file_failure> failed;
    std::vector<renamed_file> renamed;
    std::map<std::string, std::uint64_t> left_out;  // zimbra-tgz: items of other kinds, by kind
    std::vector<std::string> planned;               // --dry-run: "upload Plans/q3.pdf", "version a.txt", ...
    double seconds = 0;
};

// Progress hooks (the CLI feeds engine/progress from them), called on the run's thread.
class files_observer {
public:
    virtual ~files_observer() = default;
    virtual void user_started(const files_user&) {}
    virtual void files_found(std::size_t /*files*/, std::uint64_t /*bytes*/) {}
    virtual void file_done(std::uint64_t /*bytes*/) {}
    virtual void user_finished(const files_result&, std::size_t /*done*/, std::size_t /*total*/) {}
};

// Runs every user; never throws for a user's failure (only for programming errors / bad_alloc, or when the
// spool directory cannot be made).
[[nodiscard]] std::vector<files_result> run_files(const files_options& o, const std::vector<files_user>& users,
                                                  files_observer& observer);

// "[2/3] user@example.test ok: 12 files, 10 uploaded, 2 already there, 0 versions, 0 failed (1.2 s)"
[[nodiscard]] std::string files_progress_line(const files_result& r, std::size_t done, std::size_t total);

// {"stage": "files", "source": ..., "destination": ..., "dry_run": bool, "totals": {...}, "users": [{user,
//  source_user, source, status, error, error_kind, files, bytes, uploaded, skipped_existing, versions,
//  bytes_sent, failed: [{path, reason}], renamed: [{path, as, why}], left_out: {kind: n}, planned, seconds}]}
[[nodiscard]] std::string files_report_json(std::string_view source, std::string_view destination, bool dry_run,
                                            const std::vector<files_result>& results);

}  // namespace arrival::files
