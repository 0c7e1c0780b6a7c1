// The plan's spool (provision/entry_store.hpp): what goes in comes back byte for byte, across the 1 MiB
// write buffer and the read windows, after rewrites, reorders and removals.
#include "provision/entry_store.hpp"

#include <cstdlib>
#include <numeric>
#include <string>

#include <gtest/gtest.h>

namespace arrival::provision {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace entry_store_test {

entry make(std::size_t i) {
    entry e;
    const std::string dn = "uid=user" + std::to_string(i) + ",ou=people,dc=x";
    e.set_dn(dn, dn);
    e.loc = {static_cast<std::uint32_t>(i % 3), static_cast<std::uint32_t>(i + 1)};
    e.create_only = i % 5 == 0;
    e.from_server = i % 7 == 0;
    e.source_address = "user" + std::to_string(i) + "@old.example";
    if (i % 11 == 0) e.renamed_from = "uid=before" + std::to_string(i) + ",dc=x";
    e.add("objectClass", "zimbraAccount");
    e.add("cn;lang-de", "Name " + std::to_string(i));
    // Values of varied length (some larger than a read window) and with NUL and non-UTF-8 bytes.
    e.add("description", std::string(i % 97 == 0 ? 200000 : i % 300, static_cast<char>('a' + i % 26)));
    e.add("jpegPhoto;binary", std::string("\0\xff\x01", 3));
    return e;
}

void expect_same(const entry& a, const entry& b) {
    EXPECT_EQ(a.dn(), b.dn());
    EXPECT_EQ(a.ndn(), b.ndn());
    EXPECT_EQ(a.loc.file, b.loc.file);
    EXPECT_EQ(a.loc.line, b.loc.line);
    EXPECT_EQ(a.create_only, b.create_only);
    EXPECT_EQ(a.from_server, b.from_server);
    EXPECT_EQ(a.source_address, b.source_address);
    EXPECT_EQ(a.renamed_from, b.renamed_from);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
        EXPECT_EQ(a[k].type, b[k].type);
        EXPECT_EQ(a[k].value, b[k].value);
    }
}

TEST(entry_store, round_trip_across_buffers_rewrites_and_reorders) {
    entry_store s;
    constexpr std::size_t n = 3000;  // several MiB: many flushes, many windows
    for (std::size_t i = 0; i < n; ++i) s.push_back(make(i));
    ASSERT_EQ(s.size(), n);
    entry got;
    for (std::size_t i = 0; i < n; ++i) {
        s.get(i, got);
        expect_same(got, make(i));
        if (HasFailure()) FAIL() << "entry " << i;
    }
    // Rewrite every third entry: a pass then alternates between old and new parts of the file.
    for (std::size_t i = 0; i < n; i += 3) {
        entry e = make(i);
        e.set("description", "rewritten " + std::to_string(i));
        s.set(i, e);
    }
    for (std::size_t i = 0; i < n; ++i) {
        s.get(i, got);
        EXPECT_EQ(got.first("description"), i % 3 == 0 ? "rewritten " + std::to_string(i) : make(i).first("description"));
        EXPECT_EQ(s.ndn(i), make(i).ndn());
    }
    // Reverse, then keep the even positions.
    std::vector<std::size_t> order(n);
    std::iota(order.rbegin(), order.rend(), std::size_t{0});
    s.permute(order);
    std::vector<bool> drop(n);
    for (std::size_t k = 0; k < n; ++k) drop[k] = k % 2 == 1;
    s.erase(drop);
    ASSERT_EQ(s.size(), n / 2);
    for (std::size_t k = 0; k < s.size(); ++k) EXPECT_EQ(s.ndn(k), make(n - 1 - 2 * k).ndn());
}

TEST(entry_store, unusable_spool_directory_is_named) {
    const char* old = std::getenv("TMPDIR");
    const std::string saved = old ? old : "";
    setenv("TMPDIR", "/proc/arrival-no-such-dir", 1);
    entry_store s;
    try {
        s.push_back(make(1));
        ADD_FAILURE() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/proc/arrival-no-such-dir"), std::string::npos) << e.what();
    }
    if (old) setenv("TMPDIR", saved.c_str(), 1);
    else unsetenv("TMPDIR");
}

}  // namespace
}  // namespace arrival::provision
