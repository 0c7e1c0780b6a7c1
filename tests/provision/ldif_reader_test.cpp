// LDIF reader on bytes: every case runs whole, split at every byte position, and one byte at a time; the
// records and errors (with their lines) must not change with the split.
#include "provision/ldif_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace ldif_reader_test {

using namespace arrival::provision;

// A flat, comparable transcript of what the reader produced.
std::vector<std::string> run(std::string_view input, std::vector<std::size_t> splits) {
    ldif_reader r;
    std::vector<std::string> out;
    ldif_record rec;
    ldif_error err;
    std::size_t pos = 0;
    splits.push_back(input.size());
    std::size_t next_split = 0;
    for (;;) {
        const auto st = r.next(rec, err);
        if (st == read_status::end) break;
        if (st == read_status::need_more) {
            if (next_split >= splits.size()) {
                r.finish();
                continue;
            }
            const auto to = std::min(splits[next_split++], input.size());
            if (to > pos) r.feed(input.substr(pos, to - pos));
            pos = std::max(pos, to);
            if (next_split >= splits.size()) r.finish();
            continue;
        }
        if (st == read_status::error) {
            out.push_back("error " + std::to_string(err.line) + " " + err.ec.message());
            continue;
        }
        std::string s = "record " + std::to_string(rec.line) + " dn=" + rec.dn_text + " change=" +
                        std::to_string(static_cast<int>(rec.change));
        for (const auto& a : rec.attrs) {
            s += " | " + a.type + "=" + a.value + "@" + std::to_string(a.line) + "k" +
                 std::to_string(static_cast<int>(a.kind));
        }
        for (const auto& m : rec.mods) {
            s += " | mod" + std::to_string(static_cast<int>(m.op)) + " " + m.type + ":";
            for (const auto& v : m.values) s += v.value + ",";
        }
        if (!rec.new_rdn.empty()) s += " | newrdn=" + rec.new_rdn + " del=" + (rec.delete_old_rdn ? "1" : "0");
        if (rec.new_superior) s += " | sup=" + *rec.new_superior;
        out.push_back(s);
    }
    return out;
}

std::vector<std::string> run_whole(std::string_view input) { return run(input, {}); }

void expect_split_invariant(std::string_view input) {
    const auto whole = run_whole(input);
    for (std::size_t i = 0; i <= input.size(); ++i) {
        ASSERT_EQ(run(input, {i}), whole) << "split at " << i;
    }
    std::vector<std::size_t> bytes;
    for (std::size_t i = 1; i <= input.size(); ++i) bytes.push_back(i);
    ASSERT_EQ(run(input, bytes), whole) << "one byte at a time";
}

struct reader_case {
    const char* name;
    const char* input;
    std::vector<std::string> expected;
};

class ldif_reader_table : public ::testing::TestWithParam<reader_case> {};

TEST_P(ldif_reader_table, produces_expected_records_for_every_split) {
    const auto& c = GetParam();
    EXPECT_EQ(run_whole(c.input), c.expected);
    expect_split_invariant(c.input);
}

const reader_case cases[] = {
    {"plain_record",
     "dn: cn=a,dc=x\ncn: a\nobjectClass: top\n",
     {"record 1 dn=cn=a,dc=x change=0 | cn=a@2k0 | objectClass=top@3k0"}},
    {"version_comments_and_two_records",
     "version: 1\n# a comment\n#  continued comment\n\ndn: cn=a,dc=x\ncn: a\n\n\ndn: cn=b,dc=x\n# inside\ncn: b\n",
     {"record 5 dn=cn=a,dc=x change=0 | cn=a@6k0", "record 9 dn=cn=b,dc=x change=0 | cn=b@11k0"}},
    {"continuation_lines_and_crlf",
     "dn: cn=long\r\n ,dc=x\r\ndescription: one\r\n  two\r\n three\r\n\r\n",
     {"record 1 dn=cn=long,dc=x change=0 | description=one twothree@3k0"}},
    {"base64_values_and_dn",
     "dn:: Y249SsO8cmdlbixkYz14\ncn:: SsO8cmdlbg==\nuserPassword:: e1NTSEF9YWJj\n",
     {"record 1 dn=cn=J\xC3\xBCrgen,dc=x change=0 | cn=J\xC3\xBCrgen@2k1 | userPassword={SSHA}abc@3k1"}},
    {"attribute_options_and_file_url",
     "dn: cn=a\ncn;lang-de: A\njpegPhoto:< file:photo%20one.jpg\nx;binary:< file:///abs/p.bin\n",
     {"record 1 dn=cn=a change=0 | cn;lang-de=A@2k0 | jpegPhoto=photo one.jpg@3k2 | x;binary=/abs/p.bin@4k2"}},
    {"changetype_add_modify_delete_modrdn",
     "dn: cn=a\nchangetype: add\ncn: a\n\n"
     "dn: cn=a\nchangetype: modify\nreplace: sn\nsn: b\n-\nadd: mail\nmail: m1\nmail: m2\n-\ndelete: cn\n-\n\n"
     "dn: cn=a\nchangetype: delete\n\n"
     "dn: cn=a,dc=x\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 1\nnewsuperior: dc=y\n",
     {"record 1 dn=cn=a change=1 | cn=a@3k0",
      "record 5 dn=cn=a change=3 | mod2 sn:b, | mod0 mail:m1,m2, | mod1 cn:",
      "record 17 dn=cn=a change=2",
      "record 20 dn=cn=a,dc=x change=4 | newrdn=cn=b del=1 | sup=dc=y"}},
    {"no_trailing_newline",
     "dn: cn=a\ncn: a",
     {"record 1 dn=cn=a change=0 | cn=a@2k0"}},
    {"errors_name_their_line_and_reading_goes_on",
     "dn: cn=a\ncn a\nsn: x\n\ndn: cn=b\ncn:: !!!\n\ncn: nodn\n\ndn: cn=c\ncn: c\n",
     {"error 2 malformed line (expected 'type: value', 'type:: base64' or 'type:< url')",
      "error 6 invalid base64 value", "error 8 record does not start with dn:",
      "record 10 dn=cn=c change=0 | cn=c@11k0"}},
    {"bad_dn_and_bad_description",
     "dn: cn=a,,dc=x\ncn: a\n\ndn: cn=b\nc_n: b\n\ndn: cn=ok\nc: x\n",
     {"error 1 malformed DN (RFC 4514)", "error 5 malformed attribute description",
      "record 7 dn=cn=ok change=0 | c=x@8k0"}},
    {"unsupported_url_and_leading_continuation",
     " stray\ndn: cn=a\nphoto:< http://example.org/p.jpg\n\ndn: cn=b\nx:< file://host/p\n",
     {"error 1 continuation line with nothing to continue",
      "error 3 unsupported URL (only file: URLs are read)", "error 6 malformed file: URL"}},
    {"version_not_first_and_empty_entry",
     "dn: cn=a\n\nversion: 1\n",
     {"error 1 entry has no attributes", "error 3 record does not start with dn:"}},
    {"bad_changetype_and_modify",
     "dn: cn=a\nchangetype: rename\n\ndn: cn=b\nchangetype: modify\nreplace: sn\ncn: x\n\n"
     "dn: cn=c\nchangetype: delete\ncn: x\n\ndn: cn=d\ncn: d\nchangetype: add\n",
     {"error 2 unknown or misplaced changetype/control", "error 7 malformed modify record",
      "error 11 a delete record cannot carry attributes", "error 15 unknown or misplaced changetype/control"}},
    {"modrdn_missing_newrdn",
     "dn: cn=a\nchangetype: modrdn\ndeleteoldrdn: 0\n",
     {"error 1 malformed modrdn record"}},
};

INSTANTIATE_TEST_SUITE_P(cases, ldif_reader_table, ::testing::ValuesIn(cases),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(ldif_reader, over_long_line_is_an_error_not_unbounded_memory) {
    ldif_limits lim;
    lim.max_line = 64;
    ldif_reader r(lim);
    r.feed("dn: cn=a\ndescription: ");
    r.feed(std::string(200, 'x'));
    ldif_record rec;
    ldif_error err;
    EXPECT_EQ(r.next(rec, err), read_status::error);
    EXPECT_EQ(err.ec, ldif_errc::line_too_long);
    r.feed(std::string(100, 'y') + "\n\ndn: cn=b\ncn: b\n");
    r.finish();
    EXPECT_EQ(r.next(rec, err), read_status::record);
    EXPECT_EQ(rec.dn_text, "cn=b");
    EXPECT_EQ(r.next(rec, err), read_status::end);
}

TEST(ldif_reader, version_is_reported) {
    ldif_reader r;
    r.feed("version: 1\ndn: cn=a\ncn: a\n");
    r.finish();
    ldif_record rec;
    ldif_error err;
    ASSERT_EQ(r.next(rec, err), read_status::record);
    EXPECT_EQ(r.version(), 1);
}

TEST(parse_file_url, forms) {
    std::string p;
    EXPECT_FALSE(parse_file_url("file:///etc/x", p));
    EXPECT_EQ(p, "/etc/x");
    EXPECT_FALSE(parse_file_url("FILE://localhost/etc/x", p));
    EXPECT_EQ(p, "/etc/x");
    EXPECT_FALSE(parse_file_url("file:rel/a%2Cb", p));
    EXPECT_EQ(p, "rel/a,b");
    EXPECT_EQ(parse_file_url("file://other/x", p), ldif_errc::bad_url);
    EXPECT_EQ(parse_file_url("file:a%2", p), ldif_errc::bad_url);
    EXPECT_EQ(parse_file_url("https://x/y", p), ldif_errc::unsupported_url);
}

}  // namespace
