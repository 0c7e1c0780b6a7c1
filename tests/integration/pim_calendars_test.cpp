// `arrival calendars` against the testbed's real Radicale: several users at once (recurring events with
// overrides, time zones, todos, journals), read back through CalDAV and compared with the export; a rerun
// adds nothing; a malformed file is reported with file:line while the other users import; admin writes
// through a {user} URL over verified TLS; wrong certificate and wrong password fail the user, not the run.
#include <algorithm>
#include <map>
#include <set>

#include "engine/pim/calendar_object.hpp"
#include "engine/pim/ics_reader.hpp"
#include "tests/integration/pim_support.hpp"

namespace arrival::pim::test {
// Named, not anonymous: the integration tests build in shared unity chunks (meson.build).
namespace pim_calendars_test {

using calendar_fixture = radicale_test;

// UID -> (kinds of its components, RECURRENCE-IDs, TZIDs of its VTIMEZONEs) as stored on the server.
struct stored_object {
    std::multiset<std::string> kinds;
    std::set<std::string> recurrence_ids;
    std::set<std::string> timezones;
    std::string text;
};

std::map<std::string, stored_object> stored(const std::vector<std::string>& bodies) {
    std::map<std::string, stored_object> out;
    for (const auto& body : bodies) {
        const auto cal = read_ics(body);
        EXPECT_TRUE(cal.issues.empty()) << "server returned unreadable data: " << cal.issues.front().message;
        std::set<std::string> uids;
        for (const auto& c : cal.components) uids.insert(c.uid);
        EXPECT_EQ(uids.size(), 1u) << "a resource must hold exactly one UID";
        for (const auto& c : cal.components) {
            auto& o = out[c.uid];
            o.kinds.insert(c.kind);
            if (!c.recurrence_id.empty()) {
                // The server may re-serialise parameters; keep the value part for comparison.
                o.recurrence_ids.insert(c.recurrence_id.substr(c.recurrence_id.rfind(':') + 1));
            }
            o.text += c.text;
            for (const auto& tz : cal.timezones) o.timezones.insert(tz.tzid);
        }
    }
    return out;
}

TEST_F(calendar_fixture, several_users_import_read_back_and_rerun_adds_nothing) {
    const std::vector<std::string> names = {"user101@example.test", "user102@example.test", "user103@example.test",
                                            "user104@example.test"};
    for (const auto& n : names) reset_user(rb, n);
    ASSERT_FALSE(HasFatalFailure());
    export_dir dir;
    dir.add(names[0], ".ics", "ics/recurring.ics");
    dir.add(names[1], ".ics", "ics/broken.ics");
    // names[2] has no export: reported as no-file, not a failure.
    dir.add(names[3], ".ics", "ics/recurring.ics");
    std::vector<import_user> users;
    for (const auto& n : names) users.push_back(user(dir, n, ".ics"));
    const auto o = options(rb, pim_kind::calendars, rb.url);

    std::size_t progress_calls = 0;
    const auto results = run_import(o, users, [&](const user_result&, std::size_t done, std::size_t total) {
        ++progress_calls;
        EXPECT_LE(done, total);
    });
    EXPECT_EQ(progress_calls, names.size());

    const auto* a = find(results, names[0]);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->status, user_status::ok) << a->error;
    EXPECT_EQ(a->imported, 5u);
    EXPECT_EQ(a->existing, 0u);
    EXPECT_EQ(a->collection, rb.url + "user101%40example.test/calendar/");  // as the server spells it

    // The malformed file: its good objects import, the two broken ones are reported with file:line.
    const auto* b = find(results, names[1]);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->status, user_status::partial);
    EXPECT_EQ(b->imported, 4u);
    ASSERT_EQ(b->failures.size(), 2u);
    EXPECT_EQ(b->failures[0].item, dir.file(names[1], ".ics") + ":10");
    EXPECT_EQ(b->failures[0].reason,
              "VEVENT UID lost-end@example.test (BEGIN at line 10) skipped: no END:VEVENT before BEGIN:VEVENT at line 15");
    EXPECT_EQ(b->failures[1].item, dir.file(names[1], ".ics") + ":24");
    EXPECT_EQ(b->failures[1].reason,
              "VEVENT UID garbled@example.test (BEGIN at line 21) skipped: malformed content line 'this line has no "
              "colon and no property n': expected ':' before the value");

    EXPECT_EQ(find(results, names[2])->status, user_status::no_file);
    EXPECT_EQ(find(results, names[3])->status, user_status::ok);

    // Read back through CalDAV and compare with the export.
    const auto objects = stored(read_collection(rb, names[0], a->collection));
    const auto source = read_ics(std::string([&] {
        std::ifstream in(fixture_path("ics/recurring.ics"), std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }()));
    const auto groups = group_by_uid(source);
    ASSERT_EQ(objects.size(), groups.objects.size());
    for (const auto& g : groups.objects) {
        ASSERT_TRUE(objects.count(g.uid)) << g.uid;
        const auto& s = objects.at(g.uid);
        EXPECT_EQ(s.kinds.size(), g.components.size()) << g.uid;
        for (auto i : g.components) EXPECT_TRUE(s.kinds.count(source.components[i].kind)) << g.uid;
    }
    const auto& standup = objects.at("weekly-standup-0001@example.test");
    EXPECT_EQ(standup.recurrence_ids, (std::set<std::string>{"20240115T093000", "20240129T093000"}));
    EXPECT_EQ(standup.timezones, std::set<std::string>{"Europe/Berlin"});  // only the zone it uses
    EXPECT_NE(standup.text.find("X-EXAMPLE-CUSTOM;X-PARAM=kept:opaque value"), std::string::npos);
    EXPECT_NE(standup.text.find("Standup (late)"), std::string::npos);
    EXPECT_EQ(objects.at("call-ny-0002@example.test").timezones, std::set<std::string>{"America/New_York"});
    EXPECT_TRUE(objects.at("todo-0004@example.test").kinds.count("VTODO"));
    EXPECT_TRUE(objects.at("journal-0005@example.test").kinds.count("VJOURNAL"));
    EXPECT_EQ(stored(read_collection(rb, names[1], b->collection)).size(), 4u);

    // Rerun: everything is already present, nothing is added.
    const auto again = run_import(o, users, {});
    EXPECT_EQ(find(again, names[0])->imported, 0u);
    EXPECT_EQ(find(again, names[0])->existing, 5u);
    EXPECT_EQ(find(again, names[1])->existing, 4u);
    EXPECT_EQ(read_collection(rb, names[0], a->collection).size(), 5u);
}

TEST_F(calendar_fixture, admin_writes_through_user_placeholder_over_verified_tls) {
    const std::string name = "user105@example.test";
    reset_user(rb, name);
    ASSERT_FALSE(HasFatalFailure());
    export_dir dir;
    dir.add(name, ".ics", "ics/recurring.ics");
    auto o = options(rb, pim_kind::calendars, rb.tls_url + "{user}/migrated/");
    o.admin = rb.admin;
    o.admin_password = rb.admin_password;
    o.default_password.clear();
    o.tls.ca_file = rb.ca;
    const auto results = run_import(o, {user(dir, name, ".ics")}, {});
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].status, user_status::ok) << results[0].error;
    EXPECT_EQ(results[0].imported, 5u);
    // The user sees the calendar the admin created in their account.
    EXPECT_EQ(read_collection(rb, name, rb.url + "user105@example.test/migrated/").size(), 5u);
}

TEST_F(calendar_fixture, failures_stay_with_their_user) {
    const std::vector<std::string> names = {"user106@example.test", "user107@example.test"};
    for (const auto& n : names) reset_user(rb, n);
    ASSERT_FALSE(HasFatalFailure());
    export_dir dir;
    for (const auto& n : names) dir.add(n, ".ics", "ics/recurring.ics");
    auto o = options(rb, pim_kind::calendars, rb.url);
    std::vector<import_user> users{user(dir, names[0], ".ics"), user(dir, names[1], ".ics")};
    users[0].password = "wrong-password";
    const auto results = run_import(o, users, {});
    EXPECT_EQ(find(results, names[0])->status, user_status::failed);
    EXPECT_EQ(find(results, names[0])->kind, failure_kind::auth);
    EXPECT_NE(find(results, names[0])->error.find("401"), std::string::npos);
    EXPECT_EQ(find(results, names[0])->error.find("wrong-password"), std::string::npos);
    EXPECT_EQ(find(results, names[1])->status, user_status::ok);
    EXPECT_EQ(find(results, names[1])->imported, 5u);

    // TLS is verified by default: without the testbed CA the certificate is refused.
    auto tls = options(rb, pim_kind::calendars, rb.tls_url);
    const auto refused = run_import(tls, {user(dir, names[1], ".ics")}, {});
    EXPECT_EQ(refused[0].status, user_status::failed);
    EXPECT_EQ(refused[0].kind, failure_kind::tls) << refused[0].error;
    // With --insecure the same server is accepted (and the objects are already there).
    tls.tls.insecure = true;
    const auto insecure = run_import(tls, {user(dir, names[1], ".ics")}, {});
    EXPECT_EQ(insecure[0].status, user_status::ok) << insecure[0].error;
    EXPECT_EQ(insecure[0].existing, 5u);
}

TEST_F(calendar_fixture, unreachable_server_is_reported_per_user) {
    export_dir dir;
    dir.add("user108@example.test", ".ics", "ics/recurring.ics");
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    auto o = options(rb, pim_kind::calendars, "http://127.0.0.1:1/");
    o.retries = 0;
    const auto results = run_import(o, {user(dir, "user108@example.test", ".ics")}, {});
    EXPECT_EQ(results[0].status, user_status::failed);
    EXPECT_EQ(results[0].kind, failure_kind::unreachable);
    EXPECT_NE(results[0].error.find("127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace arrival::pim::test
