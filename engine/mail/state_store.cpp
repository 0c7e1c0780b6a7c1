#include "engine/mail/state_store.hpp"

#include "engine/owner_only.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <sqlite3.h>

namespace arrival::engine {

namespace {

// RAII for one prepared statement.
class statement {
public:
    statement(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) {
            throw std::runtime_error(fmt::format("state store: cannot prepare statement: {}", sqlite3_errmsg(db)));
        }
    }
    ~statement() { sqlite3_finalize(st_); }
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;

    statement& bind(int i, std::string_view s) {
        check(sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT));
        return *this;
    }
    statement& bind(int i, std::int64_t v) {
        check(sqlite3_bind_int64(st_, i, v));
        return *this;
    }
    // Returns true while rows come.
    bool step() {
        const int rc = sqlite3_step(st_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw std::runtime_error(fmt::format("state store: {}", sqlite3_errmsg(db_)));
    }
    std::int64_t column(int i) { return sqlite3_column_int64(st_, i); }
    void reset() {
        sqlite3_reset(st_);
        sqlite3_clear_bindings(st_);
    }
    std::string text(int i) {
        const auto* p = sqlite3_column_text(st_, i);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st_, i))) : std::string();
    }

private:
    void check(int rc) {
        if (rc != SQLITE_OK) throw std::runtime_error(fmt::format("state store: bind failed: {}", sqlite3_errmsg(db_)));
    }
    sqlite3* db_;
    sqlite3_stmt* st_ = nullptr;
};

#define folder_columns \
    "uidvalidity, highest_uid, completed_uidnext, copied, skipped_duplicate, failed, bytes, dest_folder, highestmodseq, has_map, vanished"

folder_state read_folder(statement& st) {
    folder_state s;
    s.uidvalidity = static_cast<std::uint32_t>(st.column(0));
    s.highest_uid = static_cast<std::uint32_t>(st.column(1));
    s.completed_uidnext = static_cast<std::uint32_t>(st.column(2));
    s.copied = static_cast<std::uint64_t>(st.column(3));
    s.skipped_duplicate = static_cast<std::uint64_t>(st.column(4));
    s.failed = static_cast<std::uint64_t>(st.column(5));
    s.bytes = static_cast<std::uint64_t>(st.column(6));
    s.dest_folder = st.text(7);
    s.highestmodseq = static_cast<std::uint64_t>(st.column(8));
    s.has_map = st.column(9) != 0;
    s.vanished = static_cast<std::uint64_t>(st.column(10));
    return s;
}

std::string join_flags(const std::vector<std::string>& flags) {
    std::string out;
    for (const auto& f : flags) {
        if (!out.empty()) out += ' ';
        out += f;
    }
    return out;
}

std::vector<std::string> split_flags(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        const auto sp = s.find(' ');
        if (sp != 0) out.emplace_back(s.substr(0, sp));
        if (sp == std::string_view::npos) break;
        s.remove_prefix(sp + 1);
    }
    return out;
}

// BEGIN IMMEDIATE ... COMMIT, rolled back when an exception leaves the scope.
class transaction {
public:
    explicit transaction(sqlite3* db) : db_(db) { exec("BEGIN IMMEDIATE"); }
    ~transaction() {
        if (db_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    void commit() {
        exec("COMMIT");
        db_ = nullptr;
    }

private:
    void exec(const char* sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
            throw std::runtime_error(fmt::format("state store: {}: {}", sql, sqlite3_errmsg(db_)));
        }
    }
    sqlite3* db_;
};

void insert_map(sqlite3* db, std::string_view account, std::string_view folder, const std::vector<mapped_message>& m) {
    if (m.empty()) return;
    statement st(db, "INSERT OR REPLACE INTO message_map (account, folder, src_uid, dst_uid, flags, ours) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    for (const auto& e : m) {
        st.bind(1, account).bind(2, folder).bind(3, static_cast<std::int64_t>(e.src_uid)).bind(4, static_cast<std::int64_t>(e.dst_uid));
        st.bind(5, join_flags(e.flags)).bind(6, static_cast<std::int64_t>(e.ours ? 1 : 0));
        st.step();
        st.reset();
    }
}

}  // namespace

state_store::state_store(const std::filesystem::path& dir) {
    std::error_code ec;
    create_owner_only_dirs(dir, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot create state directory {}: {}", dir.string(), ec.message()));
    path_ = dir / "arrival-state.sqlite";
    // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database file's mode.
    make_owner_only_file(path_, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot create {}: {}", path_.string(), ec.message()));
    // Two processes opening a state dir that does not exist yet race on creating the file and switching it to
    // WAL; SQLite answers the loser SQLITE_BUSY (or an I/O error on the -shm file) without calling the busy
    // handler. The setup is idempotent, so the loser closes and tries again, for as long as the busy timeout.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (int attempt = 0;; ++attempt) {
        const int rc = open_and_set_up();
        if (rc == SQLITE_OK) return;
        const int primary = rc & 0xff;
        const bool transient = primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR;
        if (!transient || std::chrono::steady_clock::now() >= deadline) fail("cannot open");
        sqlite3_close(db_);
        db_ = nullptr;
        std::this_thread::sleep_for(std::chrono::milliseconds(5 + 5 * std::min(attempt, 10)));
    }
}

int state_store::open_and_set_up() {
    if (const int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
        rc != SQLITE_OK) {
        return rc;
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 10000);   // another arrival on the same state dir waits rather than fails
    for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                            "CREATE TABLE IF NOT EXISTS folder_state ("
                            " account TEXT NOT NULL, folder TEXT NOT NULL,"
                            " uidvalidity INTEGER NOT NULL, highest_uid INTEGER NOT NULL DEFAULT 0,"
                            " completed_uidnext INTEGER NOT NULL DEFAULT 0, dest_folder TEXT NOT NULL DEFAULT '',"
                            " copied INTEGER NOT NULL DEFAULT 0, skipped_duplicate INTEGER NOT NULL DEFAULT 0,"
                            " failed INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
                            " updated TEXT NOT NULL DEFAULT (datetime('now')),"
                            " PRIMARY KEY (account, folder))",
                            "CREATE TABLE IF NOT EXISTS message_map ("
                            " account TEXT NOT NULL, folder TEXT NOT NULL, src_uid INTEGER NOT NULL,"
                            " dst_uid INTEGER NOT NULL, flags TEXT NOT NULL DEFAULT '', ours INTEGER NOT NULL DEFAULT 0,"
                            " PRIMARY KEY (account, folder, src_uid)) WITHOUT ROWID"}) {
        if (const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); rc != SQLITE_OK) return rc;
    }
    // Columns added after the first release: an older state directory gets them with "unknown" values.
    for (const char* col : {"highestmodseq INTEGER NOT NULL DEFAULT 0", "has_map INTEGER NOT NULL DEFAULT 0",
                            "vanished INTEGER NOT NULL DEFAULT 0"}) {
        const std::string name(col, std::string_view(col).find(' '));
        bool present = false;
        sqlite3_stmt* st = nullptr;
        if (const int rc = sqlite3_prepare_v2(db_, "PRAGMA table_info(folder_state)", -1, &st, nullptr); rc != SQLITE_OK) return rc;
        while (sqlite3_step(st) == SQLITE_ROW) {
            const auto* n = sqlite3_column_text(st, 1);
            if (n && name == reinterpret_cast<const char*>(n)) present = true;
        }
        sqlite3_finalize(st);
        if (present) continue;
        const std::string sql = std::string("ALTER TABLE folder_state ADD COLUMN ") + col;
        if (const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr); rc != SQLITE_OK) {
            // Another process added it between our look and our ALTER: fine.
            if (std::string_view(sqlite3_errmsg(db_)).find("duplicate column") == std::string_view::npos) return rc;
        }
    }
    return SQLITE_OK;
}

state_store::~state_store() { sqlite3_close(db_); }

void state_store::fail(std::string_view what) {
    const std::string msg = fmt::format("state store {}: {}: {}", path_.string(), what, db_ ? sqlite3_errmsg(db_) : "out of memory");
    if (db_) {
        sqlite3_close(db_);
        db_ = nullptr;
    }
    throw std::runtime_error(msg);
}

std::optional<folder_state> state_store::load(std::string_view account, std::string_view folder) {
    std::lock_guard lock(mu_);
    statement st(db_, "SELECT " folder_columns " FROM folder_state WHERE account=?1 AND folder=?2");
    st.bind(1, account).bind(2, folder);
    if (!st.step()) return std::nullopt;
    return read_folder(st);
}

bool state_store::begin_folder(std::string_view account, std::string_view folder, std::uint32_t uidvalidity) {
    std::lock_guard lock(mu_);
    std::int64_t stored = -1;
    {
        statement st(db_, "SELECT uidvalidity FROM folder_state WHERE account=?1 AND folder=?2");
        st.bind(1, account).bind(2, folder);
        if (st.step()) stored = st.column(0);
    }
    if (stored == static_cast<std::int64_t>(uidvalidity)) {
        // Restarting a folder: it is not complete until this run says so.
        statement st(db_, "UPDATE folder_state SET completed_uidnext=0, updated=datetime('now') WHERE account=?1 AND folder=?2");
        st.bind(1, account).bind(2, folder);
        st.step();
        return false;
    }
    transaction tx(db_);
    {
        statement del(db_, "DELETE FROM message_map WHERE account=?1 AND folder=?2");
        del.bind(1, account).bind(2, folder);
        del.step();
    }
    // A folder started from nothing records its map as it goes, so its map is complete from the start.
    statement st(db_, "INSERT OR REPLACE INTO folder_state (account, folder, uidvalidity, has_map) VALUES (?1, ?2, ?3, 1)");
    st.bind(1, account).bind(2, folder).bind(3, static_cast<std::int64_t>(uidvalidity));
    st.step();
    tx.commit();
    return stored >= 0;
}

void state_store::record(std::string_view account, std::string_view folder, const folder_progress& d) {
    std::lock_guard lock(mu_);
    transaction tx(db_);
    insert_map(db_, account, folder, d.mapped);
    statement st(db_, "UPDATE folder_state SET highest_uid=max(highest_uid, ?3), copied=copied+?4,"
                      " skipped_duplicate=skipped_duplicate+?5, failed=failed+?6, bytes=bytes+?7,"
                      " updated=datetime('now') WHERE account=?1 AND folder=?2");
    st.bind(1, account).bind(2, folder).bind(3, static_cast<std::int64_t>(d.highest_uid));
    st.bind(4, static_cast<std::int64_t>(d.copied)).bind(5, static_cast<std::int64_t>(d.skipped_duplicate));
    st.bind(6, static_cast<std::int64_t>(d.failed)).bind(7, static_cast<std::int64_t>(d.bytes));
    st.step();
    tx.commit();
}

void state_store::complete_folder(std::string_view account, std::string_view folder, std::uint32_t uidnext,
                                  std::string_view dest_folder) {
    std::lock_guard lock(mu_);
    statement st(db_, "UPDATE folder_state SET completed_uidnext=?3, dest_folder=?4, updated=datetime('now') "
                      "WHERE account=?1 AND folder=?2");
    st.bind(1, account).bind(2, folder).bind(3, static_cast<std::int64_t>(uidnext)).bind(4, dest_folder);
    st.step();
}

std::vector<std::pair<std::string, folder_state>> state_store::load_account(std::string_view account) {
    std::lock_guard lock(mu_);
    statement st(db_, "SELECT " folder_columns ", folder FROM folder_state WHERE account=?1 ORDER BY folder");
    st.bind(1, account);
    std::vector<std::pair<std::string, folder_state>> out;
    while (st.step()) {
        auto s = read_folder(st);
        out.emplace_back(st.text(11), std::move(s));
    }
    return out;
}

std::vector<mapped_message> state_store::load_map(std::string_view account, std::string_view folder) {
    std::lock_guard lock(mu_);
    statement st(db_, "SELECT src_uid, dst_uid, flags, ours FROM message_map WHERE account=?1 AND folder=?2 ORDER BY src_uid");
    st.bind(1, account).bind(2, folder);
    std::vector<mapped_message> out;
    while (st.step()) {
        out.push_back({static_cast<std::uint32_t>(st.column(0)), static_cast<std::uint32_t>(st.column(1)), split_flags(st.text(2)),
                       st.column(3) != 0});
    }
    return out;
}

void state_store::add_map(std::string_view account, std::string_view folder, const std::vector<mapped_message>& m, bool complete) {
    std::lock_guard lock(mu_);
    transaction tx(db_);
    insert_map(db_, account, folder, m);
    if (complete) {
        statement st(db_, "UPDATE folder_state SET has_map=1 WHERE account=?1 AND folder=?2");
        st.bind(1, account).bind(2, folder);
        st.step();
    }
    tx.commit();
}

void state_store::apply_delta(std::string_view account, std::string_view folder, const std::vector<source_flags>& snapshot,
                              const std::vector<std::uint32_t>& forget, std::optional<std::uint64_t> highestmodseq,
                              std::optional<std::uint64_t> vanished) {
    std::lock_guard lock(mu_);
    transaction tx(db_);
    {
        statement st(db_, "UPDATE message_map SET flags=?4 WHERE account=?1 AND folder=?2 AND src_uid=?3");
        for (const auto& s : snapshot) {
            st.bind(1, account).bind(2, folder).bind(3, static_cast<std::int64_t>(s.uid)).bind(4, join_flags(s.flags));
            st.step();
            st.reset();
        }
    }
    {
        statement st(db_, "DELETE FROM message_map WHERE account=?1 AND folder=?2 AND src_uid=?3");
        for (auto u : forget) {
            st.bind(1, account).bind(2, folder).bind(3, static_cast<std::int64_t>(u));
            st.step();
            st.reset();
        }
    }
    if (highestmodseq) {
        statement st(db_, "UPDATE folder_state SET highestmodseq=?3, updated=datetime('now') WHERE account=?1 AND folder=?2");
        st.bind(1, account).bind(2, folder).bind(3, static_cast<std::int64_t>(*highestmodseq));
        st.step();
    }
    if (vanished) {
        statement st(db_, "UPDATE folder_state SET vanished=?3 WHERE account=?1 AND folder=?2");
        st.bind(1, account).bind(2, folder).bind(3, static_cast<std::int64_t>(*vanished));
        st.step();
    }
    tx.commit();
}

void state_store::rename_folder(std::string_view account, std::string_view from, std::string_view to, std::string_view dest_folder) {
    std::lock_guard lock(mu_);
    transaction tx(db_);
    // Every statement names ?1..?4 (an unused one as a no-op comparison), so they bind alike.
    for (const char* sql : {"DELETE FROM folder_state WHERE account=?1 AND folder=?3 AND ?2=?2 AND ?4=?4",
                            "DELETE FROM message_map WHERE account=?1 AND folder=?3 AND ?2=?2 AND ?4=?4",
                            "UPDATE folder_state SET folder=?3, dest_folder=?4 WHERE account=?1 AND folder=?2",
                            "UPDATE message_map SET folder=?3 WHERE account=?1 AND folder=?2 AND ?4=?4"}) {
        statement st(db_, sql);
        st.bind(1, account).bind(2, from).bind(3, to).bind(4, dest_folder);
        st.step();
    }
    tx.commit();
}

void state_store::forget_folder(std::string_view account, std::string_view folder) {
    std::lock_guard lock(mu_);
    transaction tx(db_);
    for (const char* sql : {"DELETE FROM folder_state WHERE account=?1 AND folder=?2", "DELETE FROM message_map WHERE account=?1 AND folder=?2"}) {
        statement st(db_, sql);
        st.bind(1, account).bind(2, folder);
        st.step();
    }
    tx.commit();
}

}  // namespace arrival::engine
