// `arrival calendars` / `arrival contacts` into the testbed's Carbonio stand-in (tools/testbed/carbonio.sh:
// test infrastructure modelled on Carbonio's source through FACTS.md, not Carbonio), run as a subprocess.
// What the stand-in holds afterwards is read back by this test on its own: REST GETs with the admin's basic
// auth, raw SOAP envelopes written here (not the product's request builders), the stand-in's SQLite
// (ARRIVAL_CARBONIO_DB: folders, calendar_items, contacts) and its events file, where every Carbonio rule that
// fired is a line (a "moved", "sequence_ignored" or "todo_as_appointment" line would be a silent change).
#include <sqlite3.h>
#include <sys/wait.h>

#include <chrono>
#include <regex>

#include <nlohmann/json.hpp>

#include "protocol/tls_policy.hpp"
#include "tests/integration/pim_support.hpp"

namespace arrival::pim::test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace pim_carbonio_test {

struct carbonio_testbed {
    std::string rest_url, admin_url, admin, admin_password, ca, events, db;
    bool ok = false;
};

carbonio_testbed carbonio_env() {
    carbonio_testbed c{env("ARRIVAL_CARBONIO_REST_URL"), env("ARRIVAL_CARBONIO_ADMIN_URL"),
                       env("ARRIVAL_CARBONIO_ADMIN"),    env("ARRIVAL_CARBONIO_ADMIN_PASSWORD"),
                       env("ARRIVAL_TESTBED_CA"),        env("ARRIVAL_CARBONIO_EVENTS"),
                       env("ARRIVAL_CARBONIO_DB")};
    c.ok = !c.rest_url.empty() && !c.admin_url.empty() && !c.admin.empty() && !c.admin_password.empty() &&
           !c.ca.empty() && !c.events.empty() && !c.db.empty();
    return c;
}

// The first column of every row `sql` gives with `?1` = account and `?2` = arg, as text.
std::vector<std::string> db_column(const std::string& db, const std::string& sql, const std::string& account,
                                   const std::string& arg = {}) {
    sqlite3* h = nullptr;
    if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(h);
        throw std::runtime_error("cannot open " + db);
    }
    sqlite3_busy_timeout(h, 5000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
        std::string e = sqlite3_errmsg(h);
        sqlite3_close(h);
        throw std::runtime_error(sql + ": " + e);
    }
    sqlite3_bind_text(st, 1, account.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_bind_parameter_count(st) > 1) sqlite3_bind_text(st, 2, arg.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<std::string> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const auto* t = sqlite3_column_text(st, 0);
        out.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

// Users user131..user139 are this file's alone (the stand-in's selftest uses 179-196, migrate_faults 150-157).

// A value unique to this run, so the test can run twice against one stand-in (it has no reset).
std::string run_tag() {
    static const std::string tag = std::to_string(::getpid()) + "-" +
                                   std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
    return tag;
}

std::string soap_envelope(const std::string& token, const std::string& body) {
    return "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Header><context "
           "xmlns=\"urn:zimbra\">" +
           (token.empty() ? std::string() : "<authToken>" + token + "</authToken>") +
           "</context></soap:Header><soap:Body>" + body + "</soap:Body></soap:Envelope>";
}

std::string auth_token_of(const std::string& reply) {
    std::smatch m;
    if (!std::regex_search(reply, m, std::regex("<authToken>([^<]+)</authToken>"))) {
        throw std::runtime_error("no authToken in " + reply.substr(0, 300));
    }
    return m[1];
}

struct carbonio_test : ::testing::Test {
    void SetUp() override {
        cb = carbonio_env();
        ASSERT_TRUE(cb.ok) << "Carbonio stand-in variables missing (tools/testbed/testbed start ... carbonio)";
        exe = env("ARRIVAL_EXE");
        ASSERT_FALSE(exe.empty());
    }

    // One HTTP exchange with the stand-in; `auth` is the Authorization header ("" for none).
    http::response call(const std::string& base, const std::string& method, const std::string& target,
                        const std::string& body, const std::string& type, const std::string& auth) {
        auto origin = parse(base);
        origin.target = "/";
        auto op = [](http::url o, std::string ca, std::string authorization, http::request req) -> net::awaitable<http::response> {
            tls::client_options t;
            t.ca_file = ca;
            http::client c(co_await net::this_coro::executor, o, tls::make_client_context(t), std::move(authorization));
            boost::system::error_code ec;
            auto resp = co_await c.async_send(req, ec);
            co_await c.async_close();
            if (ec) throw std::runtime_error(req.method + " " + req.target + ": " + ec.message());
            co_return resp;
        };
        http::request req{method, target, {}, body};
        if (!type.empty()) req.headers.emplace_back("Content-Type", type);
        return run_sync(op(origin, cb.ca, auth, std::move(req)));
    }

    http::response rest(const std::string& method, const std::string& target, const std::string& body = {},
                        const std::string& type = {}) {
        return call(cb.rest_url, method, target, body, type, http::basic_authorization(cb.admin, cb.admin_password));
    }

    // Everything in one of the user's folders as Carbonio exports it.
    std::string folder_ics(const std::string& user, const std::string& folder) {
        const auto r = rest("GET", "/service/home/" + user + "/" + folder + "?fmt=ics");
        EXPECT_EQ(r.status, 200) << folder << ": " << r.body;
        return r.body;
    }

    // A token acting as `user`, obtained as zmmailbox does (written out here, independently of the product).
    std::string user_token(const std::string& user) {
        const auto auth = call(cb.admin_url, "POST", "/service/admin/soap",
                               soap_envelope({}, "<AuthRequest xmlns=\"urn:zimbraAdmin\"><name>" + cb.admin +
                                                     "</name><password>" + cb.admin_password +
                                                     "</password></AuthRequest>"),
                               "application/soap+xml", {});
        const auto delegated = call(cb.admin_url, "POST", "/service/admin/soap",
                                    soap_envelope(auth_token_of(auth.body),
                                                  "<DelegateAuthRequest xmlns=\"urn:zimbraAdmin\"><account by=\"name\">" +
                                                      user + "</account></DelegateAuthRequest>"),
                                    "application/soap+xml", {});
        return auth_token_of(delegated.body);
    }

    void create_calendar(const std::string& user, const std::string& name) {
        const auto r = call(cb.rest_url, "POST", "/service/soap",
                            soap_envelope(user_token(user), "<CreateFolderRequest xmlns=\"urn:zimbraMail\"><folder "
                                                            "name=\"" + name + "\" l=\"1\" view=\"appointment\"/>"
                                                            "</CreateFolderRequest>"),
                            "application/soap+xml", {});
        ASSERT_EQ(r.status, 200) << r.body;
    }

    void post_ics(const std::string& user, const std::string& folder, const std::string& events) {
        const auto r = rest("POST", "/service/home/" + user + "/" + folder + "?fmt=ics", calendar(events),
                            "text/calendar");
        ASSERT_EQ(r.status, 200) << r.body;
    }

    static std::string calendar(const std::string& components) {
        return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//arrival test//EN\r\n" + components + "END:VCALENDAR\r\n";
    }

    static std::string vevent(const std::string& uid, int sequence = 0) {
        return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nSEQUENCE:" + std::to_string(sequence) +
               "\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260310T090000\r\n"
               "DTEND;TZID=Europe/Berlin:20260310T100000\r\nSUMMARY:" + uid + "\r\nEND:VEVENT\r\n";
    }

    static std::string berlin() {
        return "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
               "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
               "DTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n"
               "END:VTIMEZONE\r\n";
    }

    // Runs `arrival STAGE` for `user` with the admin's password in ARRIVAL_PASSWORD (or `password`).
    // `connection` replaces the default "--admin-url ADMIN_URL --ca-file CA".
    int run(const std::string& stage, const std::string& user, const std::string& extra, std::string& err,
            const std::string* password = nullptr, const std::string* connection = nullptr) {
        dir.write("accounts.txt", user + "\n");
        const auto err_file = dir.str() + "/stderr.txt";
        const auto cmd = exe + " " + stage + " --dir " + dir.str() + " --accounts " + dir.str() +
                         "/accounts.txt --dest carbonio+" + cb.rest_url + " --admin " + cb.admin + " " +
                         (connection ? *connection : "--admin-url " + cb.admin_url + " --ca-file " + cb.ca) +
                         " --retries 0 --report " + dir.str() + "/report.json " + extra + " 2>" + err_file;
        ::setenv("ARRIVAL_PASSWORD", (password ? *password : cb.admin_password).c_str(), 1);
        const int rc = std::system(cmd.c_str());
        ::unsetenv("ARRIVAL_PASSWORD");
        std::ifstream in(err_file);
        std::ostringstream ss;
        ss << in.rdbuf();
        err = ss.str();
        EXPECT_EQ(err.find(cb.admin_password), std::string::npos);
        EXPECT_EQ(err.find("ZM_AUTH_TOKEN"), std::string::npos);
        return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    }

    nlohmann::json user_report() {
        std::ifstream in(dir.str() + "/report.json");
        const auto r = nlohmann::json::parse(in);
        EXPECT_EQ(r.dump().find(cb.admin_password), std::string::npos);
        EXPECT_EQ(r["users"].size(), 1u);
        return r["users"][0];
    }

    // The folder (its path) where the stand-in keeps `uid`, one entry per item holding it.
    std::vector<std::string> folders_holding(const std::string& user, const std::string& uid) {
        return db_column(cb.db,
                         "SELECT f.name FROM calendar_items c JOIN folders f ON f.account = c.account AND f.id = "
                         "c.folder WHERE c.account = ?1 AND c.uid = ?2",
                         user, uid);
    }

    // The rules the stand-in recorded (its events file) for `user` and item `uid` (UIDs are unique per run).
    std::vector<std::string> rules_fired(const std::string& user, const std::string& uid) {
        std::ifstream in(cb.events);
        std::vector<std::string> rules;
        for (std::string line; std::getline(in, line);) {
            const auto j = nlohmann::json::parse(line, nullptr, false);
            if (!j.is_discarded() && j.value("user", "") == user && j.value("uid", "") == uid) {
                rules.push_back(j.value("rule", ""));
            }
        }
        return rules;
    }

    static bool has(const std::vector<std::string>& v, const std::string& x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    }

    // How many times `needle` occurs in `hay`.
    static std::size_t count(const std::string& hay, const std::string& needle) {
        std::size_t n = 0;
        for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
        return n;
    }

    carbonio_testbed cb;
    std::string exe;
    export_dir dir;
};

TEST_F(carbonio_test, calendars_with_delegated_auth_then_a_rerun_posts_nothing) {
    const std::string user = "user131@example.test", a = "a-" + run_tag() + "@t", b = "b-" + run_tag() + "@t";
    dir.write(user + ".ics", calendar(vevent(a) + berlin() + vevent(b)));  // VTIMEZONE after its first use
    std::string err;
    ASSERT_EQ(run("calendars", user, "", err), 0) << err;
    auto u = user_report();
    EXPECT_EQ(u["status"], "ok") << u.dump();
    EXPECT_EQ(u["imported"], 2);
    EXPECT_EQ(u["todo_skipped"], 0);
    const auto held = folder_ics(user, "Calendar");
    EXPECT_EQ(count(held, "UID:" + a + "\r\n"), 1u) << held;
    EXPECT_EQ(count(held, "UID:" + b + "\r\n"), 1u) << held;
    // Rerun: both found in /Calendar, nothing posted, nothing itemised (a plain rerun).
    ASSERT_EQ(run("calendars", user, "", err), 0) << err;
    u = user_report();
    EXPECT_EQ(u["imported"], 0);
    EXPECT_EQ(u["skipped_existing"], 2);
    EXPECT_TRUE(u["skipped"].empty()) << u.dump();
    EXPECT_EQ(folders_holding(user, a), std::vector<std::string>{"Calendar"});
    EXPECT_FALSE(has(rules_fired(user, a), "updated_in_place"));  // the rerun posted nothing
    // The folder named in another case is the same folder, not "another calendar".
    ASSERT_EQ(run("calendars", user, "--folder calendar", err), 0) << err;
    u = user_report();
    EXPECT_EQ(u["skipped_existing"], 2);
    EXPECT_TRUE(u["skipped"].empty()) << u.dump();
}

// FACTS.md §2: Carbonio looks a UID up in the whole mailbox and would move the event into the target.
TEST_F(carbonio_test, a_uid_in_another_calendar_is_skipped_naming_it_and_not_moved) {
    const std::string user = "user132@example.test", work = "Work-" + run_tag();
    const std::string there = "there-" + run_tag() + "@t", fresh = "fresh-" + run_tag() + "@t";
    create_calendar(user, work);
    ASSERT_FALSE(HasFatalFailure());
    post_ics(user, work, berlin() + vevent(there));
    ASSERT_FALSE(HasFatalFailure());
    dir.write(user + ".ics", calendar(berlin() + vevent(there) + vevent(fresh)));
    std::string err;
    ASSERT_EQ(run("calendars", user, "", err), 0) << err;
    const auto u = user_report();
    EXPECT_EQ(u["imported"], 1);
    EXPECT_EQ(u["skipped_existing"], 1);
    ASSERT_EQ(u["skipped"].size(), 1u) << u.dump();
    EXPECT_EQ(u["skipped"][0]["uid"], there);
    EXPECT_EQ(u["skipped"][0]["folder"], "/" + work);
    EXPECT_NE(u["skipped"][0]["reason"].get<std::string>().find("would move"), std::string::npos);
    // Still in its calendar, not in /Calendar.
    EXPECT_EQ(count(folder_ics(user, work), "UID:" + there + "\r\n"), 1u);
    const auto cal = folder_ics(user, "Calendar");
    EXPECT_EQ(count(cal, "UID:" + there + "\r\n"), 0u) << cal;
    EXPECT_EQ(count(cal, "UID:" + fresh + "\r\n"), 1u) << cal;
    EXPECT_EQ(folders_holding(user, there), std::vector<std::string>{work});
    EXPECT_EQ(folders_holding(user, fresh), std::vector<std::string>{"Calendar"});
    EXPECT_FALSE(has(rules_fired(user, there), "moved"));
}

// FACTS.md §2: a VTODO posted to a calendar becomes an appointment.
TEST_F(carbonio_test, a_vtodo_is_not_posted) {
    const std::string user = "user133@example.test", task = "task-" + run_tag() + "@t",
                      event = "event-" + run_tag() + "@t";
    dir.write(user + ".ics", calendar(berlin() + "BEGIN:VTODO\r\nUID:" + task +
                                      "\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:buy milk\r\nEND:VTODO\r\n" +
                                      vevent(event)));
    std::string err;
    ASSERT_EQ(run("calendars", user, "", err), 0) << err;
    const auto u = user_report();
    EXPECT_EQ(u["imported"], 1);
    EXPECT_EQ(u["todo_skipped"], 1);
    ASSERT_EQ(u["skipped"].size(), 1u);
    EXPECT_EQ(u["skipped"][0]["uid"], task);
    const auto cal = folder_ics(user, "Calendar");
    EXPECT_EQ(count(cal, task), 0u) << cal;
    EXPECT_EQ(count(cal, "UID:" + event + "\r\n"), 1u);
    EXPECT_NE(err.find("1 VTODO not posted"), std::string::npos) << err;
    EXPECT_TRUE(folders_holding(user, task).empty());
    EXPECT_TRUE(db_column(cb.db, "SELECT uid FROM calendar_items WHERE account = ?1 AND kind = 'VTODO'", user).empty());
    EXPECT_FALSE(has(rules_fired(user, task), "todo_as_appointment"));
}

// FACTS.md §2: a lower SEQUENCE is ignored silently by Carbonio; arrival says so.
TEST_F(carbonio_test, a_lower_sequence_is_reported) {
    const std::string user = "user134@example.test", uid = "seq-" + run_tag() + "@t";
    post_ics(user, "Calendar", berlin() + vevent(uid, 5));
    ASSERT_FALSE(HasFatalFailure());
    dir.write(user + ".ics", calendar(berlin() + vevent(uid, 2)));
    std::string err;
    ASSERT_EQ(run("calendars", user, "", err), 0) << err;
    const auto u = user_report();
    EXPECT_EQ(u["imported"], 0);
    EXPECT_EQ(u["skipped_existing"], 1);
    ASSERT_EQ(u["skipped"].size(), 1u) << u.dump();
    EXPECT_EQ(u["skipped"][0]["folder"], "/Calendar");
    EXPECT_NE(u["skipped"][0]["reason"].get<std::string>().find("SEQUENCE 2 lower than the server's 5"),
              std::string::npos)
        << u.dump();
    EXPECT_NE(folder_ics(user, "Calendar").find("SEQUENCE:5"), std::string::npos);
    EXPECT_FALSE(has(rules_fired(user, uid), "sequence_ignored"));
}

// FACTS.md §1: the first export of an empty folder is "\r\n"; posted once, every contact exists once, and
// a rerun posts nothing (Carbonio's CSV import never deduplicates).
TEST_F(carbonio_test, contacts_into_an_empty_folder_then_a_rerun_duplicates_nothing) {
    const std::string user = "user135@example.test", tag = run_tag();
    const auto before = rest("GET", "/service/home/" + user + "/Contacts?fmt=csv");
    ASSERT_EQ(before.status, 200);
    // On a fresh stand-in this user's folder is empty, exported as just "\r\n" (the form the first run reads).
    if (before.body != "\r\n") std::fprintf(stderr, "note: Contacts of %s not empty (stand-in reused)\n", user.c_str());
    std::string csv = "First Name,Last Name,E-mail Address,Mobile Phone\r\n";
    for (int i = 0; i < 3; ++i) {
        csv += "Ann" + std::to_string(i) + ",Zoë,ann" + std::to_string(i) + "-" + tag + "@example.test,+49 30 " +
               std::to_string(1000 + i) + "\r\n";
    }
    dir.write(user + ".csv", csv);
    std::string err;
    ASSERT_EQ(run("contacts", user, "", err), 0) << err;
    auto u = user_report();
    EXPECT_EQ(u["imported"], 3) << u.dump();
    ASSERT_EQ(run("contacts", user, "", err), 0) << err;
    u = user_report();
    EXPECT_EQ(u["imported"], 0);
    EXPECT_EQ(u["skipped_existing"], 3);
    const auto after = rest("GET", "/service/home/" + user + "/Contacts?fmt=csv");
    ASSERT_EQ(after.status, 200);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(count(after.body, "ann" + std::to_string(i) + "-" + tag + "@example.test"), 1u) << after.body;
    }
    EXPECT_NE(after.body.find("Zoë"), std::string::npos);  // UTF-8 arrived as UTF-8
    // In the stand-in's store: each address once (Carbonio's CSV import never deduplicates, FACTS.md §1).
    for (int i = 0; i < 3; ++i) {
        const auto rows = db_column(cb.db, "SELECT id FROM contacts WHERE account = ?1 AND instr(fields, ?2) > 0",
                                    user, "ann" + std::to_string(i) + "-" + tag + "@example.test");
        EXPECT_EQ(rows.size(), 1u) << i;
    }
}

TEST_F(carbonio_test, a_missing_folder_is_explained) {
    const std::string user = "user136@example.test";
    dir.write(user + ".csv", "First Name,E-mail Address\r\nMia,mia@example.test\r\n");
    std::string err;
    EXPECT_NE(run("contacts", user, "--folder NoSuchFolder", err), 0) << err;
    const auto u = user_report();
    EXPECT_EQ(u["status"], "failed");
    EXPECT_NE(u["error"].get<std::string>().find("folder /NoSuchFolder does not exist"), std::string::npos)
        << u.dump();
    dir.write(user + ".ics", calendar(berlin() + vevent("x-" + run_tag() + "@t")));
    EXPECT_NE(run("calendars", user, "--folder NoSuchFolder", err), 0) << err;
    EXPECT_NE(user_report()["error"].get<std::string>().find("has no calendar /NoSuchFolder"), std::string::npos);
}

TEST_F(carbonio_test, basic_auth_mode_imports_too) {
    const std::string user = "user137@example.test", uid = "basic-" + run_tag() + "@t";
    dir.write(user + ".ics", calendar(berlin() + vevent(uid)));
    std::string err;
    ASSERT_EQ(run("calendars", user, "--carbonio-auth basic", err), 0) << err;
    auto u = user_report();
    EXPECT_EQ(u["imported"], 1);
    EXPECT_NE(u["detail"].get<std::string>().find("only /Calendar checked"), std::string::npos);
    EXPECT_EQ(count(folder_ics(user, "Calendar"), "UID:" + uid + "\r\n"), 1u);
    ASSERT_EQ(run("calendars", user, "--carbonio-auth basic", err), 0) << err;
    EXPECT_EQ(user_report()["skipped_existing"], 1);
}

TEST_F(carbonio_test, a_wrong_admin_password_is_exit_6_with_the_servers_words) {
    const std::string user = "user138@example.test";
    dir.write(user + ".ics", calendar(berlin() + vevent("pw-" + run_tag() + "@t")));
    std::string err;
    const std::string wrong = "not-the-admin-password";
    EXPECT_EQ(run("calendars", user, "", err, &wrong), 6) << err;
    EXPECT_EQ(err.find(wrong), std::string::npos);
    const auto u = user_report();
    EXPECT_EQ(u["error_kind"], "auth");
    const auto e = u["error"].get<std::string>();
    EXPECT_NE(e.find("admin AuthRequest as " + cb.admin), std::string::npos) << e;
    EXPECT_NE(e.find("account.AUTH_FAILED"), std::string::npos) << e;
}

// The admin SOAP URL is a server of its own (port 7071 on Carbonio): unreachable is 4, untrusted is 5.
TEST_F(carbonio_test, the_admin_url_unreachable_or_untrusted) {
    const std::string user = "user139@example.test";
    dir.write(user + ".csv", "First Name,E-mail Address\r\nMia,mia@example.test\r\n");
    std::string err;
    const std::string closed = "--admin-url https://127.0.0.1:1 --ca-file " + cb.ca;
    EXPECT_EQ(run("contacts", user, "", err, nullptr, &closed), 4) << err;
    EXPECT_NE(user_report()["error"].get<std::string>().find("admin AuthRequest at https://127.0.0.1:1/service/admin/soap"),
              std::string::npos);
    const std::string no_ca = "--admin-url " + cb.admin_url;
    EXPECT_EQ(run("contacts", user, "", err, nullptr, &no_ca), 5) << err;
    EXPECT_EQ(user_report()["error_kind"], "tls");
}

}  // namespace
}  // namespace arrival::pim::test
