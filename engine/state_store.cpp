#include "engine/state_store.hpp"

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
                            " PRIMARY KEY (account, folder))"}) {
        if (const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); rc != SQLITE_OK) return rc;
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
    statement st(db_, "SELECT uidvalidity, highest_uid, completed_uidnext, copied, skipped_duplicate, failed, bytes, dest_folder "
                      "FROM folder_state WHERE account=?1 AND folder=?2");
    st.bind(1, account).bind(2, folder);
    if (!st.step()) return std::nullopt;
    folder_state s;
    s.uidvalidity = static_cast<std::uint32_t>(st.column(0));
    s.highest_uid = static_cast<std::uint32_t>(st.column(1));
    s.completed_uidnext = static_cast<std::uint32_t>(st.column(2));
    s.copied = static_cast<std::uint64_t>(st.column(3));
    s.skipped_duplicate = static_cast<std::uint64_t>(st.column(4));
    s.failed = static_cast<std::uint64_t>(st.column(5));
    s.bytes = static_cast<std::uint64_t>(st.column(6));
    s.dest_folder = st.text(7);
    return s;
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
    statement st(db_, "INSERT OR REPLACE INTO folder_state (account, folder, uidvalidity) VALUES (?1, ?2, ?3)");
    st.bind(1, account).bind(2, folder).bind(3, static_cast<std::int64_t>(uidvalidity));
    st.step();
    return stored >= 0;
}

void state_store::record(std::string_view account, std::string_view folder, const folder_progress& d) {
    std::lock_guard lock(mu_);
    statement st(db_, "UPDATE folder_state SET highest_uid=max(highest_uid, ?3), copied=copied+?4,"
                      " skipped_duplicate=skipped_duplicate+?5, failed=failed+?6, bytes=bytes+?7,"
                      " updated=datetime('now') WHERE account=?1 AND folder=?2");
    st.bind(1, account).bind(2, folder).bind(3, static_cast<std::int64_t>(d.highest_uid));
    st.bind(4, static_cast<std::int64_t>(d.copied)).bind(5, static_cast<std::int64_t>(d.skipped_duplicate));
    st.bind(6, static_cast<std::int64_t>(d.failed)).bind(7, static_cast<std::int64_t>(d.bytes));
    st.step();
}

void state_store::complete_folder(std::string_view account, std::string_view folder, std::uint32_t uidnext,
                                  std::string_view dest_folder) {
    std::lock_guard lock(mu_);
    statement st(db_, "UPDATE folder_state SET completed_uidnext=?3, dest_folder=?4, updated=datetime('now') "
                      "WHERE account=?1 AND folder=?2");
    st.bind(1, account).bind(2, folder).bind(3, static_cast<std::int64_t>(uidnext)).bind(4, dest_folder);
    st.step();
}

}  // namespace arrival::engine
