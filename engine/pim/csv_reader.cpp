#include "engine/pim/csv_reader.hpp"

#include <fmt/format.h>

#include "protocol/csv.hpp"

namespace arrival::pim {
namespace {

bool blank(const std::vector<std::string>& fields) { return fields.size() == 1 && fields[0].empty(); }

}  // namespace

csv_table parse_csv(std::string_view utf8, char delimiter) {
    csv_table t;
    t.delimiter = delimiter;
    csv::record_reader reader(utf8, {delimiter});
    csv_record rec;
    bool have_header = false;
    for (;;) {
        std::size_t open_line = 0;
        const auto r = reader.next(rec.fields, rec.line, open_line);
        if (r == csv::record_reader::result::end) break;
        if (r == csv::record_reader::result::unterminated) {
            t.issues.push_back({rec.line, fmt::format("quoted field opened on line {} is never closed; record "
                                                      "skipped, reading resumes on the next line",
                                                      open_line)});
            continue;
        }
        if (blank(rec.fields)) continue;
        if (!have_header) {
            t.header = std::move(rec.fields);
            have_header = true;
            continue;
        }
        t.rows.push_back(std::move(rec));
        rec = {};
    }
    return t;
}

csv_table read_csv(std::string_view bytes) {
    text_encoding enc{};
    const std::string text = decode_to_utf8(bytes, enc);
    auto t = parse_csv(text, csv::detect_delimiter(text));
    t.encoding = enc;
    return t;
}

}  // namespace arrival::pim
