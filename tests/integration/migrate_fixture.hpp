// Shared helpers of the migrate_* integration tests: the loopback Dovecots started by tools/testbed
// (variables from DIR/env; a missing one FAILS the test, never skips it), account reset, seeding through
// IMAP APPEND, and reading a folder back for byte-level comparison.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/mail/account_job.hpp"
#include "engine/mail/scheduler.hpp"
#include "engine/mail/state_store.hpp"
#include "tests/integration/blocking_session.hpp"

namespace migrate_test {

using namespace arrival::engine;
using arrival::test::blocking_session;

inline std::string env(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) {
        throw std::runtime_error(fmt::format("{} is not set: start the testbed (tools/testbed/testbed start) and export DIR/env", name));
    }
    return v;
}

// imap:// on the cleartext port: STARTTLS is used when offered, verified against the testbed's CA.
inline server_endpoint endpoint(const char* port_var) {
    auto e = server_endpoint::parse("imap://127.0.0.1:" + env(port_var));
    if (const char* ca = std::getenv("ARRIVAL_TESTBED_CA"); ca && *ca) e.ca_file = ca;
    return e;
}

inline std::string user(int n) { return fmt::format("user{:03}@example.test", n); }

// Removes `tree` from a maildir root that a running Dovecot serves. Another test's session may write into it
// meanwhile (index files of the shared namespace, which every user's LIST and STATUS can open), and a plain
// remove_all then fails with "Directory not empty". So the tree is first renamed, atomically, to a name
// under `trash_dir` (outside what Dovecot looks up by name), and removed from there; what a late writer
// still adds to the renamed tree is removed at the next try, or with the testbed.
inline void remove_beside_dovecot(const std::filesystem::path& tree, const std::filesystem::path& trash_dir) {
    namespace fs = std::filesystem;
    if (!fs::exists(tree)) return;
    static int removed = 0;
    const auto trash = trash_dir / fmt::format(".removed-{}-{}", ::getpid(), ++removed);
    fs::rename(tree, trash);
    std::error_code ec;
    for (int attempt = 0; attempt < 20; ++attempt) {
        fs::remove_all(trash, ec);
        if (!ec) return;
        ::usleep(50'000);
    }
}

// The directory above a maildir root (env values may end in '/'): where remove_beside_dovecot puts its trash.
inline std::filesystem::path above(const std::string& root) {
    return std::filesystem::path(root).lexically_normal().parent_path().parent_path();
}

// Deletes the user's mailbox tree on one instance (no session of that user is open on it).
inline void reset_user(const char* mail_var, const std::string& u) {
    const auto at = u.find('@');
    const auto root = env(mail_var);
    remove_beside_dovecot(std::filesystem::path(root) / u.substr(at + 1) / u.substr(0, at), above(root + "/"));
}

// Empties a shared-namespace maildir root (e.g. ARRIVAL_DOVECOT_DST_PUBLIC).
inline void reset_public_root(const char* public_var) {
    const auto root = env(public_var);
    for (const auto& e : std::filesystem::directory_iterator(root)) remove_beside_dovecot(e.path(), above(root + "/"));
}

inline std::unique_ptr<blocking_session> login(const char* port_var, const std::string& u) {
    login_identity c;
    c.user = u;
    c.password = secret_string(env("ARRIVAL_DOVECOT_USER_PASSWORD"));
    return blocking_session::open(endpoint(port_var), c);
}

struct seed_message {
    std::string bytes;
    std::vector<std::string> flags;
    std::string internaldate;   // "" = now
};

inline std::string make_message(const std::string& id, const std::string& subject, std::size_t body_size = 200,
                                const std::string& date = "Mon, 1 Jan 2024 10:00:00 +0000") {
    std::string m;
    if (!id.empty()) m += "Message-ID: <" + id + ">\r\n";
    m += "Date: " + date + "\r\nFrom: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: " + subject +
         "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
    std::string line = "The quick brown fox jumps over the lazy dog " + subject + ".";
    while (m.size() < body_size) m += line.substr(0, std::min(line.size(), body_size - m.size())) + "\r\n";
    return m;
}

// Creates `folder` (unless INBOX) and APPENDs the messages, one command each.
inline void seed(blocking_session& s, const std::string& folder, const std::vector<seed_message>& msgs) {
    if (folder != "INBOX") s.create(folder);
    std::vector<body_buffer> bodies;
    bodies.reserve(msgs.size());
    std::vector<append_item> items;
    for (const auto& m : msgs) {
        body_buffer b(1 << 20);
        b.begin(m.bytes.size());
        b.append(m.bytes);
        bodies.push_back(std::move(b));
    }
    for (std::size_t i = 0; i < msgs.size(); ++i) items.push_back({&bodies[i], msgs[i].flags, msgs[i].internaldate});
    for (const auto& r : s.append(folder, items)) {
        if (!r.ok) throw std::runtime_error("seed APPEND failed: " + r.server_text);
    }
}

// Dovecot takes no INTERNALDATE from the future on APPEND (it stores "now"), so a date past 2038 is put on
// the source's maildir file itself (Dovecot reads INTERNALDATE from its mtime), and the cache that remembers
// the old one is removed. No session may be open on the user.
inline void date_on_disk(const std::string& u, const std::string& message_id, std::int64_t epoch) {
    const auto at = u.find('@');
    const auto home = std::filesystem::path(env("ARRIVAL_DOVECOT_SRC_MAIL")) / u.substr(at + 1) / u.substr(0, at);
    bool found = false;
    for (const char* sub : {"new", "cur"}) {
        for (const auto& f : std::filesystem::directory_iterator(home / sub)) {
            std::ifstream in(f.path());
            std::stringstream ss;
            ss << in.rdbuf();
            if (ss.str().find("Message-ID: <" + message_id + ">") == std::string::npos) continue;
            const timespec times[2] = {{epoch, 0}, {epoch, 0}};
            ASSERT_EQ(::utimensat(AT_FDCWD, f.path().c_str(), times, 0), 0) << f.path();
            found = true;
        }
    }
    ASSERT_TRUE(found) << message_id;
    std::filesystem::remove(home / "dovecot.index.cache");
}

struct stored_message {
    std::uint32_t uid;
    std::string bytes;
    std::vector<std::string> flags;
    std::string internaldate;
};

// Reads a folder back: bytes, flags (sorted, \Recent removed), INTERNALDATE, in UID order.
inline std::vector<stored_message> read_folder(blocking_session& s, const std::string& folder) {
    std::vector<stored_message> out;
    const auto st = s.examine(folder);
    if (!st.messages) return out;
    const auto idx = s.fetch_index(1, true);
    std::map<std::uint32_t, body_buffer> bodies;
    std::vector<std::uint32_t> uids;
    for (const auto& m : idx) uids.push_back(m.uid);
    s.fetch_bodies(uids, [&](std::uint32_t uid, std::uint64_t size) -> body_buffer& {
        auto& b = bodies[uid];
        b = body_buffer(64 << 20);
        b.begin(size);
        return b;
    });
    for (const auto& m : idx) {
        stored_message x{m.uid, {}, m.flags, m.internaldate};
        std::erase(x.flags, std::string("\\Recent"));
        std::sort(x.flags.begin(), x.flags.end());
        bodies[m.uid].for_each_chunk([&](std::string_view c) { x.bytes.append(c); });
        out.push_back(std::move(x));
    }
    return out;
}

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        char tmpl[] = "/tmp/arrival-migrate-test.XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

// `arrival ARGS` as a subprocess, the way scripts call it (ARRIVAL_EXE from meson): exit status and what it
// printed on stdout + stderr.
struct cli_result {
    int status = -1;
    std::string output;
};

inline cli_result run_cli(const std::string& args, const temp_dir& dir) {
    const auto out = dir.path / "out.txt";
    const std::string cmd = env("ARRIVAL_EXE") + " " + args + " > " + out.string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    cli_result r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    r.output = ss.str();
    return r;
}

// Options for a run from SRC (or another instance) to DST, users logging in with the testbed password.
inline job_options options(const char* src_port_var = "ARRIVAL_DOVECOT_SRC_PORT", const char* dst_port_var = "ARRIVAL_DOVECOT_DST_PORT") {
    job_options o;
    o.source = endpoint(src_port_var);
    o.dest = endpoint(dst_port_var);
    o.source_password = secret_string(env("ARRIVAL_DOVECOT_USER_PASSWORD"));
    o.dest_password = secret_string(env("ARRIVAL_DOVECOT_USER_PASSWORD"));
    o.backoff = std::chrono::milliseconds(50);
    return o;
}

inline account_pair pair_of(const std::string& src, const std::string& dst) {
    account_pair p;
    p.source_user = src;
    p.dest_user = dst;
    return p;
}

inline const folder_report* folder_in(const account_report& a, const std::string& source_folder) {
    for (const auto& f : a.folders) {
        if (f.source_folder == source_folder) return &f;
    }
    return nullptr;
}

}  // namespace migrate_test
