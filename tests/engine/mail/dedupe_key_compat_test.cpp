// Upgrading the dedupe key: a state dir and a destination filled by the first release's keys (kept as
// compute_dedupe_key_v1), then a rerun with today's keys copies only what is new.
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "engine/mail/copy_planner.hpp"
#include "engine/mail/dedupe_key.hpp"
#include "engine/mail/state_store.hpp"

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace dedupe_key_compat_test {

using namespace arrival::engine;

namespace {

struct state_dir {
    std::filesystem::path path;
    state_dir() {
        char tmpl[] = "/tmp/arrival-key-compat.XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~state_dir() { std::filesystem::remove_all(path); }
};

// A folder like the corpus generator's: mostly Message-IDs, some without, one byte-identical duplicate pair
// and two messages without Message-ID whose headers differ only in spelling (the same meaning).
std::vector<std::string> folder_messages() {
    return {
        "Message-ID: <a1@example.test>\r\nSubject: one\r\n\r\nbody 1\r\n",
        "Message-ID: (from the list) <a2@Example.TEST>\r\nSubject: two\r\n\r\nbody 2\r\n",
        "Date: Sun, 10 Mar 2024 13:00:00 +0100\r\nFrom: A <a@x.test>\r\nSubject: =?UTF-8?Q?Caf=C3=A9?=\r\n\r\nno id\r\n",
        "Date: Sun, 10 Mar 2024 13:00:00 +0100\r\nFrom: A <a@x.test>\r\nSubject: =?UTF-8?Q?Caf=C3=A9?=\r\n\r\nno id\r\n",
        "Date: Mon, 11 Mar 2024 09:00:00 +0000\r\nFrom: b@y.test\r\nSubject: plain\r\n\r\nno id either\r\n",
        "Date: Sun, 10 Mar 2024 12:00:00 +0000\r\nFrom: \"A\" <a@X.test>\r\nSubject: =?ISO-8859-1?Q?Caf=E9?=\r\n\r\nno id\r\n",
    };
}

std::vector<source_message> index_of(const std::vector<std::string>& msgs, dedupe_key (*key)(std::string_view, std::uint64_t)) {
    std::vector<source_message> out;
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        source_message m;
        m.uid = static_cast<std::uint32_t>(i + 1);
        m.size = msgs[i].size();
        m.key = key(msgs[i], m.size);
        out.push_back(m);
    }
    return out;
}

key_multiset dest_index(const std::vector<std::string>& dest, dedupe_key (*key)(std::string_view, std::uint64_t)) {
    key_multiset k;
    for (const auto& m : index_of(dest, key)) k.add(m.key);
    return k;
}

// Printed by the first release's compute_dedupe_key (main at 83ca9d1) for the inputs below.
constexpr const char* V1_MESSAGE_ID_KEY = "M9b31ef170d09f9ade5fa54a64b7e4ef8";
constexpr const char* V1_FALLBACK_KEY = "Fdb62fec4a01f64c234641e063272094b";

}  // namespace

TEST(dedupe_key_compat, first_release_keys_are_unchanged) {
    // Key strings the first release computed (recorded from its compute_dedupe_key before the change):
    // anything older runs printed in verify output or reports keeps meaning the same message.
    EXPECT_EQ(compute_dedupe_key_v1("Message-ID: <a1@example.test>\r\n\r\n", 10).to_string(), V1_MESSAGE_ID_KEY);
    EXPECT_EQ(compute_dedupe_key_v1("Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: A <a@x>\r\nSubject: hello\r\n\r\n", 1234).to_string(),
              V1_FALLBACK_KEY);
    // Plain Message-IDs keep their 'M' key across the change.
    EXPECT_EQ(compute_dedupe_key("Message-ID: <a1@example.test>\r\n\r\n", 10).to_string(), V1_MESSAGE_ID_KEY);
}

TEST(dedupe_key_compat, rerun_after_upgrade_copies_nothing_again) {
    state_dir d;
    const auto source = folder_messages();
    std::vector<std::string> dest;
    // First run, first release: plan with v1 keys, "append" the bytes, record the progress.
    {
        state_store s(d.path);
        s.begin_folder("user001@example.test", "INBOX", 7);
        const auto plan = plan_copies(index_of(source, compute_dedupe_key_v1), dest_index(dest, compute_dedupe_key_v1), false);
        ASSERT_EQ(plan.to_copy.size(), source.size());   // empty destination: everything, duplicates included
        folder_progress p;
        for (const auto& m : plan.to_copy) {
            dest.push_back(source[m.uid - 1]);
            p.highest_uid = m.uid;
            ++p.copied;
            p.bytes += m.size;
        }
        s.record("user001@example.test", "INBOX", p);
        // Not completed: as after a kill -9 before the end, so the rerun re-plans against the destination.
    }
    // Rerun with today's keys on the same state dir and destination, one new message on the source.
    auto grown = source;
    grown.push_back("Message-ID: <new@example.test>\r\n\r\nnew\r\n");
    state_store s(d.path);
    const auto st = s.load("user001@example.test", "INBOX");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->copied, source.size());
    EXPECT_FALSE(s.begin_folder("user001@example.test", "INBOX", 7));
    const auto plan = plan_copies(index_of(grown, compute_dedupe_key), dest_index(dest, compute_dedupe_key), false);
    ASSERT_EQ(plan.to_copy.size(), 1u);
    EXPECT_EQ(plan.to_copy[0].uid, grown.size());
    EXPECT_EQ(plan.skipped_duplicate, source.size());
}

TEST(dedupe_key_compat, re_encoded_destination_copy_is_found_only_by_todays_key) {
    // The destination holds message 3 as a server re-encoded it (message 6's spelling): the first release
    // would copy it again, today's key finds it.
    const auto source = folder_messages();
    const std::vector<std::string> one{source[2]};
    const std::vector<std::string> dest{source[5]};
    EXPECT_EQ(plan_copies(index_of(one, compute_dedupe_key_v1), dest_index(dest, compute_dedupe_key_v1), false).to_copy.size(), 1u);
    // Sizes differ between spellings, so compare with the size the source reports for both (RFC822.SIZE of
    // the copy is the source's: bodies are copied byte for byte, only headers were re-encoded).
    EXPECT_EQ(compute_dedupe_key(source[5], 100), compute_dedupe_key(source[2], 100));
}

}  // namespace dedupe_key_compat_test
