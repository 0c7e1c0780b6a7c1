// engine/mail/content_scan: each trait on real-world shapes, clean messages staying clean, and the same findings
// whatever the chunking (the scanner sees FETCH literals in arbitrary pieces).
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "engine/mail/content_check.hpp"
#include "engine/mail/content_scan.hpp"

namespace arrival::engine {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace content_scan_test {

// Feeds `m` split at every position (two chunks) and byte by byte; every result must equal the whole-buffer one.
content_findings scan_every_split(const std::string& m) {
    const content_findings whole = scan_content(m);
    content_scanner s;
    for (std::size_t cut = 0; cut <= m.size(); ++cut) {
        s.feed(std::string_view(m).substr(0, cut));
        s.feed(std::string_view(m).substr(cut));
        const content_findings split = s.finish();
        EXPECT_EQ(split.traits, whole.traits) << "cut at " << cut;
        EXPECT_EQ(split.longest_line, whole.longest_line) << "cut at " << cut;
        EXPECT_EQ(split.mime_problem, whole.mime_problem) << "cut at " << cut;
        EXPECT_EQ(split.header_utf8, whole.header_utf8) << "cut at " << cut;
    }
    for (const char c : m) s.feed(std::string_view(&c, 1));
    const content_findings bytes = s.finish();
    EXPECT_EQ(bytes.traits, whole.traits);
    EXPECT_EQ(bytes.mime_problem, whole.mime_problem);
    return whole;
}

const std::string multipart_ok =
    "From: a@example.test\r\n"
    "Content-Type: multipart/mixed;\r\n boundary=\"outer b\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--outer b\r\n"
    "Content-Type: multipart/alternative; boundary=inner\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "text\r\n"
    "--inner  \r\n"   // transport padding after the boundary (RFC 2046 §5.1.1)
    "Content-Type: text/html\r\n"
    "\r\n"
    "<p>html</p>\r\n"
    "--inner--\r\n"
    "--outer b\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Content-Type: multipart/mixed; boundary=nested\r\n"
    "\r\n"
    "--nested\r\n"   // inside message/rfc822: not ours, and never closed there; not a finding
    "\r\n"
    "x\r\n"
    "--outer b--\r\n"
    "epilogue\r\n";

TEST(content_scan, clean_messages_stay_clean) {
    EXPECT_TRUE(scan_every_split("Subject: hi\r\n\r\nbody\r\n").clean());
    EXPECT_TRUE(scan_every_split("Subject: header only\r\n").clean());
    EXPECT_TRUE(scan_every_split("Subject: =?UTF-8?B?w7w=?=\r\n\r\n8-bit body \xc3\xbc is fine\r\n").clean());
    const content_findings f = scan_every_split(multipart_ok);
    EXPECT_TRUE(f.clean()) << f.describe();
}

TEST(content_scan, line_ends) {
    const content_findings lf = scan_every_split("Subject: unix\n\nbody\n");
    EXPECT_TRUE(lf.has(content_trait::bare_lf));
    EXPECT_FALSE(lf.has(content_trait::bare_cr));
    const content_findings cr = scan_every_split("Subject: mac\r\n\r\nline\rline\r\n");
    EXPECT_TRUE(cr.has(content_trait::bare_cr));
    EXPECT_FALSE(cr.has(content_trait::bare_lf));
    EXPECT_TRUE(scan_every_split("Subject: x\r\n\r\nends in CR\r").has(content_trait::bare_cr));
    EXPECT_TRUE(scan_every_split("Subject: x\r\n\r\nCR CR LF\r\r\n").has(content_trait::bare_cr));
    EXPECT_EQ(scan_every_split("Subject: x\r\n\r\nCR CR LF\r\r\n").traits,
              static_cast<std::uint8_t>(content_trait::bare_cr));
}

TEST(content_scan, nul_and_long_lines) {
    EXPECT_EQ(scan_every_split(std::string("Subject: x\r\n\r\na\0b\r\n", 19)).traits,
              static_cast<std::uint8_t>(content_trait::nul));
    const std::string at_limit = "Subject: x\r\n\r\n" + std::string(998, 'a') + "\r\n";
    EXPECT_TRUE(scan_content(at_limit).clean());
    EXPECT_EQ(scan_content(at_limit).longest_line, 998u);
    const content_findings over = scan_content("Subject: x\r\n\r\n" + std::string(999, 'a') + "\r\n");
    EXPECT_TRUE(over.has(content_trait::long_line));
    EXPECT_EQ(over.longest_line, 999u);
    EXPECT_EQ(over.describe(), "long_line (999 octets)");
    // A whole megabyte on one line costs no memory beyond the small line buffer, and is still measured.
    const content_findings huge = scan_content("Subject: x\r\n\r\n" + std::string(1 << 20, 'a'));
    EXPECT_EQ(huge.longest_line, 1u << 20);
}

TEST(content_scan, eight_bit_headers) {
    const content_findings utf8 = scan_every_split("Subject: Gr\xc3\xbc\xc3\x9f" "e\r\n\r\nx\r\n");
    EXPECT_TRUE(utf8.has(content_trait::header_8bit));
    EXPECT_TRUE(utf8.header_utf8);
    EXPECT_EQ(utf8.describe(), "header_8bit (UTF-8)");
    const content_findings latin1 = scan_every_split("From: J\xf6rg <j@example.test>\r\n\r\nx\r\n");
    EXPECT_TRUE(latin1.has(content_trait::header_8bit));
    EXPECT_FALSE(latin1.header_utf8);
    // A MIME part's header counts too; the body's 8-bit bytes do not.
    const std::string part = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                             "Content-Disposition: attachment; filename=\"\xe9t\xe9.pdf\"\r\n\r\n\xff\xfe\r\n--b--\r\n";
    const content_findings p = scan_every_split(part);
    EXPECT_EQ(p.traits, static_cast<std::uint8_t>(content_trait::header_8bit));
    EXPECT_FALSE(p.header_utf8);
}

TEST(content_scan, malformed_mime) {
    const content_findings no_boundary = scan_every_split("Content-Type: multipart/mixed\r\n\r\nx\r\n");
    EXPECT_TRUE(no_boundary.has(content_trait::mime_malformed));
    EXPECT_EQ(no_boundary.mime_problem, "multipart/mixed without a boundary parameter");

    const content_findings never = scan_every_split("Content-Type: multipart/mixed; boundary=zz\r\n\r\nno parts\r\n");
    EXPECT_EQ(never.mime_problem, "multipart/mixed boundary \"zz\" never appears");

    const content_findings unclosed =
        scan_every_split("Content-Type: multipart/related; boundary=\"a b\"\r\n\r\n--a b\r\n\r\npart\r\n");
    EXPECT_EQ(unclosed.mime_problem, "multipart/related boundary \"a b\" never closed");

    // The inner multipart is cut off by the outer one's close: the inner is reported, the outer is fine.
    const content_findings inner = scan_every_split(
        "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n"
        "\r\n--i\r\n\r\ntext\r\n--o--\r\n");
    EXPECT_EQ(inner.mime_problem, "multipart/alternative boundary \"i\" never closed");

    const content_findings empty = scan_every_split("Content-Type: multipart/mixed; boundary=e\r\n\r\n--e--\r\n");
    EXPECT_EQ(empty.mime_problem, "multipart/mixed boundary \"e\" closed without any part");
    // A boundary that only starts a longer line is not a delimiter.
    EXPECT_TRUE(scan_every_split("Content-Type: multipart/mixed; boundary=e\r\n\r\n--e\r\n\r\n--eX\r\n--e--\r\n").clean());
}

TEST(content_scan, oversized_header_is_reported) {
    std::string m;
    for (int i = 0; i < 2000; ++i) m += "X-Filler: " + std::string(40, 'f') + "\r\n";
    m += "\r\nbody\r\n";
    const content_findings f = scan_content(m);
    EXPECT_EQ(f.mime_problem, "header section over 64 KiB");
}

TEST(content_scan, scanner_resets_between_messages) {
    content_scanner s;
    s.feed("Subject: x\n\n");
    EXPECT_TRUE(s.finish().has(content_trait::bare_lf));
    s.feed("Subject: y\r\n\r\nz\r\n");
    EXPECT_TRUE(s.finish().clean());
}

}  // namespace
// folder_content (engine/mail/content_check.hpp): UIDs per trait, examples capped, totals, the summary line.
TEST(content_check, folder_content_lists_uids_per_trait) {
    folder_content c;
    c.account = "user@example.test";
    c.folder = "INBOX";
    c.add(1, scan_content("Subject: ok\r\n\r\nbody\r\n"));
    c.add(2, scan_content("Subject: ok\r\n\r\nbody\nmore\r\n"));
    c.add(3, scan_content("Subject: caf\xe9\r\n\r\n" + std::string(1200, 'x') + "\r\n"));
    for (std::uint32_t uid = 10; uid < 22; ++uid) c.add(uid, scan_content("Subject: a\r\n\r\nb\nc\r\n"));
    EXPECT_EQ(c.scanned, 15u);
    EXPECT_EQ(c.with_traits, 14u);
    ASSERT_EQ(c.uids[content_trait::bare_lf].size(), 13u);
    EXPECT_EQ(c.uids[content_trait::bare_lf].front(), 2u);
    EXPECT_EQ(c.uids[content_trait::header_8bit], (std::vector<std::uint32_t>{3}));
    EXPECT_EQ(c.examples.size(), folder_content::examples_per_folder);
    EXPECT_EQ(c.examples[1].detail, "header_8bit (not UTF-8), long_line (1200 octets)");
    const auto j = to_json(c);
    EXPECT_EQ(j["traits"]["bare_lf"]["count"], 13);
    EXPECT_EQ(j["traits"]["long_line"]["uids"], nlohmann::json::array({3}));
    EXPECT_FALSE(j["traits"].contains("nul"));
    const auto totals = content_totals({&c, &c});
    EXPECT_EQ(totals["scanned"], 30);
    EXPECT_EQ(totals["traits"]["bare_lf"], 26);
    EXPECT_EQ(totals["traits"]["nul"], 0);
    const auto text = describe(c, "  ");
    EXPECT_EQ(text.substr(0, text.find('\n')),
              "  user@example.test 'INBOX': 14 of 15 message(s): 13 bare_lf (UIDs 2, 10, 11, 12, 13, 14, 15, 16, 17, 18 and 3 more), "
              "1 header_8bit (UID 3), 1 long_line (UID 3)");
    folder_content clean;
    clean.add(1, scan_content("Subject: ok\r\n\r\nbody\r\n"));
    EXPECT_TRUE(clean.clean());
    EXPECT_EQ(describe(clean, ""), "");
}

}  // namespace arrival::engine
