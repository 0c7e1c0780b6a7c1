// Shared by the integration tests that run `arrival migrate` as a subprocess against the testbed Dovecots:
// seeding and reading mailboxes through protocol's own client (not the engine's), tools/testbed/tcp-proxy as
// a child process, and the migrate command line with the master user acting for every user.
#pragma once
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/integration/imap_test_support.hpp"
#include "tests/support/proxy_process.hpp"

namespace imap_test {

namespace fs = std::filesystem;

// ---- the servers' side, through protocol's client --------------------------------------------------

struct seed_message {
    std::string body;
    std::vector<std::string> flags;
};

struct seed_folder {
    std::string name;
    bool subscribe = false;
    std::vector<seed_message> messages;
};

// One folder as a server holds it: what "the source is never written" compares, and what copies are
// checked against (bodies and flags as a multiset, since a copy gets new UIDs).
struct folder_state {
    bool subscribed = false;
    std::uint32_t messages = 0, uidnext = 0, uidvalidity = 0;
    std::map<std::uint32_t, std::vector<std::string>> flags_by_uid;    // sorted, \Recent dropped
    std::map<std::uint32_t, std::int64_t> date_by_uid;
    std::multiset<std::pair<std::string, std::vector<std::string>>> content;  // (body, flags)
    friend bool operator==(const folder_state&, const folder_state&) = default;
};
using mailbox_state = std::map<std::string, folder_state>;

inline connect_options server(const char* instance) { return cleartext_only(instance); }

inline credentials login_as(const std::string& u) {
    credentials c;
    c.user = u;
    c.password = env("ARRIVAL_DOVECOT_USER_PASSWORD");
    return c;
}

// Empties the user's mail on one instance (src|dst), open sessions kicked: the testbed's own reset.
inline void reset(const char* instance, const std::string& u) {
    const std::string cmd = fmt::format("{}/dovecot.sh reset-user {} {} {}", env("ARRIVAL_TESTBED_SCRIPTS"),
                                        env("ARRIVAL_TESTBED_DIR"), instance, u);
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

inline void seed(const std::string& u, const std::vector<seed_folder>& folders) {
    run([&]() -> net::awaitable<void> {
        auto conn = co_await open(server("SRC"), login_as(u));
        error_code ec;
        for (const auto& f : folders) {
            if (f.name != "INBOX") {
                co_await conn->async_create(f.name, ec);
                if (ec) throw std::runtime_error("seed CREATE " + f.name + ": " + conn->diag().to_string());
            }
            if (f.subscribe) {
                co_await conn->async_subscribe(f.name, ec);
                if (ec) throw std::runtime_error("seed SUBSCRIBE " + f.name + ": " + conn->diag().to_string());
            }
            std::vector<append_message> batch;
            for (const auto& m : f.messages) {
                append_message a{.flags = {}, .date = std::nullopt, .body = m.body, .binary = false};
                for (const auto& fl : m.flags) a.flags.push_back(fl);
                batch.push_back(std::move(a));
            }
            if (batch.empty()) continue;
            const auto r = co_await conn->async_append(f.name, batch, ec);
            if (ec) throw std::runtime_error("seed APPEND " + f.name + ": " + conn->diag().to_string());
            (void)r;
        }
        co_await conn->async_logout(ec);
    });
}

// Every personal folder of the user on `instance` (EXAMINE + BODY.PEEK: reading changes nothing). The
// shared namespace (Public/, which other tests write to) is left out: it is nobody's personal mail.
inline mailbox_state snapshot(const char* instance, const std::string& u) {
    mailbox_state out;
    run([&]() -> net::awaitable<void> {
        auto conn = co_await open(server(instance), login_as(u));
        error_code ec;
        const auto ns = co_await conn->async_namespace(ec);
        if (ec) throw std::runtime_error("NAMESPACE: " + conn->diag().to_string());
        std::vector<std::string> not_personal;
        for (const auto* group : {&ns.shared, &ns.other_users}) {
            for (const auto& e : *group) not_personal.push_back(e.prefix);
        }
        auto boxes = co_await conn->async_list("", "*", ec);
        if (ec) throw std::runtime_error("LIST: " + conn->diag().to_string());
        for (const auto& b : boxes) {
            const auto under = [&](const std::string& prefix) {
                return !prefix.empty() && (b.name.starts_with(prefix) ||
                                           b.name + std::string(1, b.delimiter.value_or('/')) == prefix);
            };
            if (std::any_of(not_personal.begin(), not_personal.end(), under)) continue;
            auto& f = out[b.name];
            f.subscribed = b.subscribed;
            if (b.noselect) continue;
            const auto sel = co_await conn->async_select(b.name, true, ec);
            if (ec) throw std::runtime_error("EXAMINE " + b.name + ": " + conn->diag().to_string());
            f.messages = sel.exists;
            f.uidnext = sel.uidnext;
            f.uidvalidity = sel.uidvalidity;
            if (sel.exists == 0) continue;
            collecting_sink sink;
            co_await conn->async_uid_fetch("1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])", sink, ec);
            if (ec) throw std::runtime_error("UID FETCH " + b.name + ": " + conn->diag().to_string());
            for (auto& [uid, m] : sink.messages) {
                std::erase_if(m.flags, [](const std::string& x) { return iequals(x, "\\Recent"); });
                std::sort(m.flags.begin(), m.flags.end());
                f.flags_by_uid[uid] = m.flags;
                f.date_by_uid[uid] = m.date ? m.date->to_unix() : 0;
                f.content.insert({m.body, m.flags});
            }
        }
        co_await conn->async_logout(ec);
    });
    return out;
}

inline std::size_t total_messages(const mailbox_state& s) {
    std::size_t n = 0;
    for (const auto& [name, f] : s) n += f.messages;
    return n;
}

// Every source folder arrived with the same bodies and flags, each exactly as many times as on the source.
inline void expect_copied_exactly_once(const mailbox_state& src, const mailbox_state& dst) {
    for (const auto& [name, f] : src) {
        const auto d = dst.find(name);
        ASSERT_NE(d, dst.end()) << "folder '" << name << "' missing on the destination";
        EXPECT_EQ(d->second.messages, f.messages) << "folder '" << name << "'";
        EXPECT_TRUE(d->second.content == f.content) << "folder '" << name << "': bodies/flags differ as multisets";
    }
}

// ---- tcp-proxy as a child process -------------------------------------------------------------------

// Forwards 127.0.0.1:<port()> to the instance's cleartext port, with tcp-proxy's options `args`.
class tcp_proxy : public arrival::test::proxy_process {
public:
    tcp_proxy(const char* instance, std::vector<std::string> args, const fs::path& log)
        : proxy_process(argv(instance, std::move(args)), log) {}

private:
    static std::vector<std::string> argv(const char* instance, std::vector<std::string> args) {
        std::vector<std::string> a{env("ARRIVAL_TCP_PROXY"), "--print-port", "--target",
                                   "127.0.0.1:" + env(fmt::format("ARRIVAL_DOVECOT_{}_PORT", instance).c_str())};
        a.insert(a.end(), args.begin(), args.end());
        return a;
    }
};

// How many connections the proxy reset, and the bytes clients sent through it in all.
struct proxy_counts {
    int resets = 0;
    std::uint64_t bytes_up = 0;
};
inline proxy_counts count(const std::string& log) {
    proxy_counts c;
    static const std::regex reset_re(R"(conn \d+: reset after \d+ bytes)");
    static const std::regex closed_re(R"(conn \d+: closed, (\d+) bytes up)");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), reset_re); it != std::sregex_iterator(); ++it) ++c.resets;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), closed_re); it != std::sregex_iterator(); ++it) {
        c.bytes_up += std::stoull((*it)[1].str());
    }
    return c;
}

// ---- arrival migrate as a subprocess ------------------------------------------------------------------

struct temp_dir {
    fs::path path;
    temp_dir() {
        char tmpl[] = "/tmp/arrival-faults-test.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~temp_dir() { fs::remove_all(path); }
};

struct migrate_result {
    int status = -1;
    std::string output;
    nlohmann::json report;
};

// `arrival migrate CONNECTION --jobs 4 --progress none --state-dir DIR/state --report DIR/report.json EXTRA`,
// the two passwords in the environment only while it runs. `watch`, when given, is called with arrival's PID
// every millisecond or so while it runs (to look at it from outside: /proc/PID/fd).
inline migrate_result run_migrate(const temp_dir& dir, const std::string& connection, const std::string& source_password,
                                  const std::string& dest_password, const std::string& extra = "",
                                  const std::function<void(pid_t)>& watch = {}) {
    ::setenv("ARRIVAL_SOURCE_PASSWORD", source_password.c_str(), 1);
    ::setenv("ARRIVAL_DEST_PASSWORD", dest_password.c_str(), 1);
    const auto out = dir.path / "out.txt";
    const auto report = dir.path / "report.json";
    // exec: the shell becomes arrival, so the PID watched and waited for is arrival's own.
    const std::string cmd = fmt::format("exec {} migrate {} --jobs 4 --progress none --state-dir {} --report {} {} > {} 2>&1",
                                        env("ARRIVAL_EXE"), connection, (dir.path / "state").string(), report.string(), extra,
                                        out.string());
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int st = 0;
    while (true) {
        const pid_t done = ::waitpid(pid, &st, watch ? WNOHANG : 0);
        if (done == pid || done < 0) break;
        watch(pid);
        ::usleep(1000);
    }
    ::unsetenv("ARRIVAL_SOURCE_PASSWORD");
    ::unsetenv("ARRIVAL_DEST_PASSWORD");
    migrate_result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    r.output = ss.str();
    if (std::ifstream rin(report); rin) r.report = nlohmann::json::parse(rin, nullptr, false);
    return r;
}

// The admin (master user) acts for every user on both sides; its password comes from the environment.
inline migrate_result migrate(const temp_dir& dir, const std::vector<std::string>& users, int source_port, int dest_port,
                              const std::string& extra = "", const std::function<void(pid_t)>& watch = {}) {
    std::ofstream(dir.path / "accounts.txt") << fmt::format("{}\n", fmt::join(users, "\n"));
    const auto master = env("ARRIVAL_DOVECOT_MASTER_USER");
    const auto connection = fmt::format("--source imap://127.0.0.1:{} --dest imap://127.0.0.1:{} --ca-file {} --accounts {} "
                                        "--source-admin {} --dest-admin {}",
                                        source_port, dest_port, env("ARRIVAL_TESTBED_CA"), (dir.path / "accounts.txt").string(),
                                        master, master);
    const auto pw = env("ARRIVAL_DOVECOT_MASTER_PASSWORD");
    return run_migrate(dir, connection, pw, pw, extra, watch);
}

// ---- what the source received, from Dovecot's rawlog ----------------------------------------------

// Empties (and creates) the user's rawlog directory on SRC: from now on each session of the user leaves a
// *.in file there with every byte the client sent.
inline fs::path start_rawlog(const std::string& u) {
    const fs::path d = fs::path(env("ARRIVAL_DOVECOT_SRC_RAWLOG")) / u;
    fs::remove_all(d);
    fs::create_directories(d);
    ::chmod(d.c_str(), 0777);   // the mail processes run as "mail"
    return d;
}

// Matches of `re` in the client's side of every logged session.
inline int rawlog_matches(const fs::path& rawlog, const std::regex& re) {
    int n = 0;
    for (const auto& e : fs::directory_iterator(rawlog)) {
        if (e.path().extension() != ".in") continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        n += static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
    }
    return n;
}

// Commands named `verbs` (a regex alternative, e.g. "FETCH|EXAMINE|SELECT"; UID forms included) in the
// client's side of every logged session (each rawlog line starts with its time: "1796435507.16 A4 UID FETCH").
inline int commands(const fs::path& rawlog, const std::string& verbs) {
    return rawlog_matches(rawlog, std::regex("(^|\n)[0-9.]+ \\S+ (UID )?(" + verbs + ") ", std::regex::icase));
}

inline int logged_sessions(const fs::path& rawlog) {
    int n = 0;
    for (const auto& e : fs::directory_iterator(rawlog)) n += e.path().extension() == ".in";
    return n;
}

inline int port_of(const char* instance) { return std::stoi(env(fmt::format("ARRIVAL_DOVECOT_{}_PORT", instance).c_str())); }

inline const nlohmann::json* account_in(const nlohmann::json& report, const std::string& u) {
    if (!report.is_object() || !report.contains("accounts")) return nullptr;
    for (const auto& a : report["accounts"]) {
        if (a.value("source_user", "") == u) return &a;
    }
    return nullptr;
}

// A mailbox with something of everything a copy can get wrong: flags and keywords, a same-folder
// duplicate (counted as a multiset: both copies must arrive), a message without Message-ID, two folders.
inline std::vector<seed_folder> sample_mailbox(const std::string& tag, int inbox = 24, int work = 12, std::size_t size = 3000) {
    seed_folder in{"INBOX", false, {}}, wk{"Work", true, {}};
    for (int i = 0; i < inbox; ++i) {
        std::vector<std::string> flags;
        if (i % 2 == 0) flags.push_back("\\Seen");
        if (i % 5 == 0) flags.push_back("\\Flagged");
        if (i % 7 == 0) flags.push_back("$Forwarded");
        in.messages.push_back({make_message(fmt::format("{}-in-{}", tag, i), size + 37 * i), flags});
    }
    in.messages.push_back(in.messages[3]);   // same-folder duplicate
    std::string no_id = make_message(tag + "-noid", 900);
    no_id.erase(0, no_id.find("\r\n") + 2);
    in.messages.push_back({no_id, {"\\Answered"}});
    for (int i = 0; i < work; ++i) {
        wk.messages.push_back({make_message(fmt::format("{}-work-{}", tag, i), size * 2 + 11 * i), {"Project"}});
    }
    return {in, wk};
}

}  // namespace imap_test
