// The streaming two-pass ICS path (ics_file) gives exactly what the whole-file path gives: the same issues,
// the same calendar objects, byte-identical CalDAV resources and Carbonio uploads; and a file read in 64 KiB
// chunks splits lines, folds and CRLFs at chunk boundaries without changing anything.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <unistd.h>

#include "engine/pim/calendar_object.hpp"
#include "engine/pim/carbonio_rest.hpp"
#include "engine/pim/ics_file.hpp"
#include "engine/pim/ics_reader.hpp"
#include "tests/engine/pim/ics_generate.hpp"
#include "tests/engine/pim/pim_test_support.hpp"

namespace arrival::pim {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace ics_file_test {

using test::slurp;

class temp_file {
public:
    explicit temp_file(const std::string& content) {
        path_ = (std::filesystem::temp_directory_path() /
                 fmt::format("arrival-ics-{}-{}.ics", ::getpid(), counter_++)).string();
        std::ofstream(path_, std::ios::binary) << content;
    }
    ~temp_file() { std::filesystem::remove(path_); }
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    static inline int counter_ = 0;
    std::string path_;
};

// Whole-file path vs streaming path on one file.
void expect_same(const std::string& path) {
    SCOPED_TRACE(path);
    const auto bytes = slurp(path);
    const auto cal = read_ics(bytes);
    const auto groups = group_by_uid(cal);
    auto whole_issues = cal.issues;
    whole_issues.insert(whole_issues.end(), groups.issues.begin(), groups.issues.end());

    ics_file file;
    std::error_code ec;
    std::string error;
    ASSERT_TRUE(file.open(path, ec, error)) << error;
    EXPECT_EQ(file.size(), bytes.size());
    const auto issues = file.issues();
    ASSERT_EQ(issues.size(), whole_issues.size());
    for (std::size_t i = 0; i < issues.size(); ++i) {
        EXPECT_EQ(issues[i].line, whole_issues[i].line);
        EXPECT_EQ(issues[i].message, whole_issues[i].message);
    }
    EXPECT_EQ(file.head().calendar_properties, cal.calendar_properties);
    ASSERT_EQ(file.head().timezones.size(), cal.timezones.size());
    ASSERT_EQ(file.groups().objects.size(), groups.objects.size());

    carbonio_calendar_batch batch("u@example.test", file.head(), SIZE_MAX);
    std::uint64_t object_bytes = 0;
    for (std::size_t i = 0; i < groups.objects.size(); ++i) {
        calendar_object obj;
        const auto* part = file.load(i, obj, error);
        ASSERT_NE(part, nullptr) << error;
        EXPECT_EQ(obj.uid, groups.objects[i].uid);
        EXPECT_EQ(obj.line, groups.objects[i].line);
        ASSERT_EQ(make_caldav_resource(*part, obj), make_caldav_resource(cal, groups.objects[i])) << obj.uid;
        batch.add(*part, obj);
        object_bytes += file.object_bytes(i);
    }
    EXPECT_LE(object_bytes, bytes.size());
    EXPECT_EQ(batch.take().body, carbonio_calendar_request("u@example.test", cal, groups).body);
}

TEST(ics_file, fixtures_match_the_whole_file_path) {
    expect_same(std::string(PIM_FIXTURE_DIR) + "/ics/recurring.ics");
    expect_same(std::string(PIM_FIXTURE_DIR) + "/ics/broken.ics");
}

TEST(ics_file, a_generated_file_larger_than_many_chunks_matches) {
    const auto text = test::generated_ics(1500);
    ASSERT_GT(text.size(), 8u * 64 * 1024);
    temp_file f(text);
    expect_same(f.path());
}

// Broken input across chunk boundaries: a component that never ends, a bad line, no final newline.
TEST(ics_file, broken_input_and_no_final_newline_match) {
    auto text = test::generated_ics(400);
    const auto mid = text.find("BEGIN:VEVENT", text.size() / 3);
    text.insert(mid, "BEGIN:VEVENT\r\nUID:lost-end\r\nSUMMARY:no end\r\n");
    const auto later = text.find("BEGIN:VEVENT", 2 * text.size() / 3);
    text.insert(text.find('\n', later) + 1, "this is not a content line\r\n");
    text.resize(text.size() - 2);  // drop the last CRLF
    temp_file f(text);
    expect_same(f.path());
}

TEST(ics_file, streamed_components_carry_their_byte_ranges) {
    const auto text = test::generated_ics(300);
    std::istringstream in(text);
    std::size_t n = 0;
    const auto head = read_ics(in, [&](ics_component&& c, std::uint64_t offset, std::uint64_t length) {
        ++n;
        const auto slice = text.substr(offset, length);
        EXPECT_EQ(slice.rfind("BEGIN:VEVENT", 0), 0u) << c.uid;
        EXPECT_NE(slice.find("END:VEVENT"), std::string::npos) << c.uid;
        EXPECT_NE(slice.find("UID:" + c.uid), std::string::npos);
    });
    EXPECT_EQ(n, read_ics(text).components.size());
    EXPECT_TRUE(head.components.empty());
    EXPECT_EQ(head.timezones.size(), 2u);
}

// Uploads cut by size: every request stands alone (header and every VTIMEZONE before its events) and
// together they hold every object once.
TEST(ics_file, carbonio_batches_are_complete_calendars) {
    temp_file f(test::generated_ics(600));
    ics_file file;
    std::error_code ec;
    std::string error;
    ASSERT_TRUE(file.open(f.path(), ec, error)) << error;
    carbonio_calendar_batch batch("u@example.test", file.head(), 64 * 1024);
    std::vector<rest_request> sent;
    for (std::size_t i = 0; i < file.groups().objects.size(); ++i) {
        calendar_object obj;
        const auto* part = file.load(i, obj, error);
        ASSERT_NE(part, nullptr) << error;
        batch.add(*part, obj);
        if (batch.full()) sent.push_back(batch.take());
    }
    if (batch.objects() > 0) sent.push_back(batch.take());
    ASSERT_GT(sent.size(), 4u);
    std::multiset<std::string> uids;
    for (const auto& r : sent) {
        EXPECT_EQ(r.target, "/service/home/u@example.test/Calendar?fmt=ics&ignore=1");
        EXPECT_LT(r.body.size(), 2u * 64 * 1024);
        const auto cal = read_ics(r.body);
        EXPECT_TRUE(cal.issues.empty());
        EXPECT_EQ(cal.timezones.size(), 2u);
        EXPECT_LT(r.body.rfind("END:VTIMEZONE"), r.body.find("BEGIN:VEVENT"));
        std::set<std::string> in_this;
        for (const auto& c : cal.components) in_this.insert(c.uid);
        uids.insert(in_this.begin(), in_this.end());
    }
    EXPECT_EQ(uids.size(), 600u);
    EXPECT_EQ(std::set<std::string>(uids.begin(), uids.end()).size(), 600u);  // no object split or repeated
}

// FACTS.md §2: an upload over 128 KB (by Content-Length) is stream-parsed by Carbonio, and a TZID used
// before its VTIMEZONE then fails. The generated file defines America/New_York after events that use it;
// in every upload, every TZID= must come after the VTIMEZONE defining it.
TEST(ics_file, carbonio_uploads_over_128k_define_each_tzid_before_its_use) {
    temp_file f(test::generated_ics(3000));
    ics_file file;
    std::error_code ec;
    std::string error;
    ASSERT_TRUE(file.open(f.path(), ec, error)) << error;
    carbonio_calendar_batch batch("u@example.test", file.head(), 512 * 1024);
    std::vector<rest_request> sent;
    for (std::size_t i = 0; i < file.groups().objects.size(); ++i) {
        calendar_object obj;
        const auto* part = file.load(i, obj, error);
        ASSERT_NE(part, nullptr) << error;
        batch.add(*part, obj);
        if (batch.full()) sent.push_back(batch.take());
    }
    if (batch.objects() > 0) sent.push_back(batch.take());
    ASSERT_GE(sent.size(), 2u);
    for (const auto& r : sent) {
        if (&r != &sent.back()) {
            EXPECT_GT(r.body.size(), 128u * 1024);
        }
        for (std::string_view tzid : {"Europe/Berlin", "America/New_York"}) {
            const auto defined = r.body.find(fmt::format("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", tzid));
            const auto used = r.body.find(fmt::format("TZID={}", tzid));
            ASSERT_NE(defined, std::string::npos) << tzid;
            ASSERT_NE(used, std::string::npos) << tzid;
            EXPECT_LT(defined, used) << tzid;
        }
    }
}

TEST(ics_file, a_missing_file_says_so) {
    ics_file file;
    std::error_code ec;
    std::string error;
    EXPECT_FALSE(file.open("/nonexistent/dir/user@example.test.ics", ec, error));
    EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
    EXPECT_NE(error.find("/nonexistent/dir/user@example.test.ics"), std::string::npos);
}

}  // namespace
}  // namespace arrival::pim
