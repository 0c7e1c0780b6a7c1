#include "engine/pim/csv_reader.hpp"

#include <fmt/format.h>

namespace arrival::pim {
namespace {

// Parses one record starting at `pos`. Returns false at end of input. On an unterminated quote sets `open`
// and leaves `pos` at the end of the record's first physical line, so the caller resumes right after it.
struct record_parser {
    std::string_view s;
    char delim;
    std::size_t pos = 0;
    std::size_t line = 1;

    enum class result { record, end, unterminated };

    result next(csv_record& rec, std::size_t& unterminated_line) {
        rec.fields.clear();
        if (pos >= s.size()) return result::end;
        rec.line = line;
        const std::size_t start = pos, start_line = line;
        std::string field;
        std::size_t i = pos;
        for (;;) {
            field.clear();
            if (i < s.size() && s[i] == '"') {
                const std::size_t quote_line = line;
                ++i;
                for (;;) {
                    if (i >= s.size()) {
                        // Resume after the line the record started on: only this record is lost.
                        unterminated_line = quote_line;
                        pos = start;
                        line = start_line;
                        while (pos < s.size() && s[pos] != '\n' && s[pos] != '\r') ++pos;
                        pos = eol(pos);
                        return result::unterminated;
                    }
                    const char c = s[i];
                    if (c == '"') {
                        if (i + 1 < s.size() && s[i + 1] == '"') {
                            field += '"';
                            i += 2;
                            continue;
                        }
                        ++i;
                        break;
                    }
                    if (c == '\n' || (c == '\r' && !(i + 1 < s.size() && s[i + 1] == '\n'))) ++line;
                    field += c;
                    ++i;
                }
                // After the closing quote, anything up to the delimiter is kept (lenient).
                while (i < s.size() && s[i] != delim && s[i] != '\n' && s[i] != '\r') field += s[i++];
            } else {
                while (i < s.size() && s[i] != delim && s[i] != '\n' && s[i] != '\r') field += s[i++];
            }
            rec.fields.push_back(std::move(field));
            if (i < s.size() && s[i] == delim) {
                ++i;
                continue;
            }
            pos = eol(i);
            return result::record;
        }
    }

    // Consumes one line end (CRLF, LF or CR) at i, counting the line.
    std::size_t eol(std::size_t i) {
        if (i >= s.size()) return i;
        if (s[i] == '\r') {
            ++line;
            return (i + 1 < s.size() && s[i + 1] == '\n') ? i + 2 : i + 1;
        }
        if (s[i] == '\n') {
            ++line;
            return i + 1;
        }
        return i;
    }
};

bool blank(const csv_record& r) { return r.fields.size() == 1 && r.fields[0].empty(); }

}  // namespace

char detect_delimiter(std::string_view s) noexcept {
    std::size_t comma = 0, semi = 0, tab = 0;
    bool quoted = false;
    for (char c : s) {
        if (c == '"') quoted = !quoted;
        if (quoted) continue;
        if (c == '\n' || c == '\r') break;
        comma += c == ',';
        semi += c == ';';
        tab += c == '\t';
    }
    if (tab > comma && tab > semi) return '\t';
    return semi > comma ? ';' : ',';
}

csv_table parse_csv(std::string_view utf8, char delimiter) {
    csv_table t;
    t.delimiter = delimiter;
    record_parser p{utf8, delimiter};
    csv_record rec;
    bool have_header = false;
    for (;;) {
        std::size_t open_line = 0;
        const auto r = p.next(rec, open_line);
        if (r == record_parser::result::end) break;
        if (r == record_parser::result::unterminated) {
            t.issues.push_back({rec.line, fmt::format("quoted field opened on line {} is never closed; record "
                                                      "skipped, reading resumes on the next line",
                                                      open_line)});
            continue;
        }
        if (blank(rec)) continue;
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
    auto t = parse_csv(text, detect_delimiter(text));
    t.encoding = enc;
    return t;
}

std::string write_csv_record(const std::vector<std::string>& fields, char delimiter) {
    std::string out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) out += delimiter;
        const auto& f = fields[i];
        if (f.find_first_of(std::string{'"', '\r', '\n', delimiter}) == std::string::npos) {
            out += f;
            continue;
        }
        out += '"';
        for (char c : f) {
            if (c == '"') out += '"';
            out += c;
        }
        out += '"';
    }
    out += "\r\n";
    return out;
}

}  // namespace arrival::pim
