// protocol/csv.hpp on bytes: records across line ends, the lenient and the strict cases, trim for hand-made
// lists (the account and distribution list readers), the delimiter guess, and the writer's round trip.
#include "protocol/csv.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace csv_test {

using fields = std::vector<std::string>;

std::vector<fields> all_records(std::string_view text, csv::dialect d, std::vector<std::size_t>* lines = nullptr) {
    csv::record_reader r(text, d);
    std::vector<fields> out;
    fields f;
    std::size_t line = 0, open = 0;
    for (;;) {
        const auto res = r.next(f, line, open);
        if (res == csv::record_reader::result::end) break;
        if (res == csv::record_reader::result::unterminated) {
            out.push_back({"<unterminated from " + std::to_string(open) + ">"});
            continue;
        }
        out.push_back(f);
        if (lines) lines->push_back(line);
    }
    return out;
}

TEST(csv, records_with_quotes_embedded_line_ends_and_every_line_end) {
    std::vector<std::size_t> lines;
    const auto r = all_records("a,\"x, y\",\"say \"\"hi\"\"\"\r\n\"two\r\nlines\",b\nc;d\re", {','}, &lines);
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0], (fields{"a", "x, y", "say \"hi\""}));
    EXPECT_EQ(r[1], (fields{"two\r\nlines", "b"}));
    EXPECT_EQ(r[2], (fields{"c;d"}));
    EXPECT_EQ(r[3], (fields{"e"}));
    EXPECT_EQ(lines, (std::vector<std::size_t>{1, 2, 4, 5}));
}

TEST(csv, lenient_quotes_and_untrimmed_spaces_by_default) {
    const auto r = all_records("5\" disk,\"ab\"cd, x ,\n", {','});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0], (fields{"5\" disk", "abcd", " x ", ""}));
}

TEST(csv, an_unterminated_quote_loses_only_its_line) {
    const auto r = all_records("A,ok\nB,\"never closed\nC,fine\n", {','});
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[1], (fields{"<unterminated from 2>"}));
    EXPECT_EQ(r[2], (fields{"C", "fine"}));
}

TEST(csv, split_line_trims_outside_quotes_only) {
    fields f;
    ASSERT_TRUE(csv::split_line(R"(a@x.org,"Desc, with comma","He said ""hi""", b@x.org ,)", f, {',', true}));
    EXPECT_EQ(f, (fields{"a@x.org", "Desc, with comma", "He said \"hi\"", "b@x.org", ""}));
    ASSERT_TRUE(csv::split_line("  \" spaced \" ,\t\"q\"\t", f, {',', true}));
    EXPECT_EQ(f, (fields{" spaced ", "q"}));
    ASSERT_TRUE(csv::split_line("", f, {',', true}));
    EXPECT_EQ(f, (fields{""}));
    ASSERT_TRUE(csv::split_line("a\rb,c", f, {',', true}));   // the caller split the lines: CR is data
    EXPECT_EQ(f, (fields{"a\rb", "c"}));
    EXPECT_FALSE(csv::split_line("\"open", f, {',', true}));
    EXPECT_FALSE(csv::split_line("a, \"open,b", f, {',', true}));
}

TEST(csv, detects_the_delimiter_outside_quotes) {
    EXPECT_EQ(csv::detect_delimiter("a,b,c\n"), ',');
    EXPECT_EQ(csv::detect_delimiter("a;b;c\n1,2\n"), ';');
    EXPECT_EQ(csv::detect_delimiter("\"x;y;z\",b,c\n"), ',');
    EXPECT_EQ(csv::detect_delimiter("a\tb\tc\n"), '\t');
}

TEST(csv, writer_quotes_what_needs_it_and_round_trips) {
    const fields f{"plain", "with,comma", "with \"quote\"", "two\nlines", "cr\r", "semi;colon", ""};
    const auto line = csv::record(f);
    EXPECT_EQ(line, "plain,\"with,comma\",\"with \"\"quote\"\"\",\"two\nlines\",\"cr\r\",semi;colon,\r\n");
    EXPECT_EQ(all_records(line, {','}), (std::vector<fields>{f}));
    EXPECT_EQ(csv::record({"a;b", "c"}, ';', "\n"), "\"a;b\";c\n");
    std::string out = "x";
    csv::append_field(out, "\"");
    EXPECT_EQ(out, "x\"\"\"\"");
}

}  // namespace csv_test
}  // namespace arrival::test
