// CSV (RFC 4180) for every file arrival reads or writes as CSV: contact exports, account lists, distribution
// lists, the accounts file `arrival provision` writes and the CSV Carbonio imports.
//
// Reading: fields split at the delimiter; a field that starts with '"' is quoted, "" inside it is one quote,
// and it may hold the delimiter and line ends. Lenient where exporters are sloppy: a quote inside an unquoted
// field is a character, and text after a closing quote up to the delimiter is kept. A quoted field that
// never closes is reported (the caller decides what is lost). `trim` (hand-made lists: "a@x.test, b@x.test")
// also drops spaces and tabs around a field, outside its quotes; quoted text is never trimmed.
// Writing: a field is quoted when it holds a quote, a line end or the delimiter; quotes are doubled.
// Header-only, std only: every library and the fuzz build use it.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace arrival::csv {

struct dialect {
    char delimiter = ',';
    bool trim = false;
};

// Reads records one after another. Line ends are CRLF, LF or CR; `line()` counts them (1-based).
class record_reader {
public:
    enum class result { record, end, unterminated };

    record_reader(std::string_view text, dialect d) : s_(text), d_(d) {}

    // The next record into `fields` (its first line in `record_line`). On `unterminated` (a quoted field
    // opened on `open_line` never closes) the record is dropped and reading resumes on the line after the
    // one it started on.
    result next(std::vector<std::string>& fields, std::size_t& record_line, std::size_t& open_line) {
        fields.clear();
        if (pos_ >= s_.size()) return result::end;
        record_line = line_;
        const std::size_t start = pos_, start_line = line_;
        std::size_t i = pos_;
        std::string field;
        for (;;) {
            field.clear();
            if (d_.trim) skip_blanks(i);
            std::size_t kept = 0;   // characters from inside quotes, which trim never drops
            if (i < s_.size() && s_[i] == '"') {
                open_line = line_;
                if (!quoted(i, field)) {
                    pos_ = start;
                    line_ = start_line;
                    while (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r') ++pos_;
                    pos_ = end_of_line(pos_);
                    return result::unterminated;
                }
                kept = field.size();
            }
            while (i < s_.size() && s_[i] != d_.delimiter && !is_line_end(s_[i])) field += s_[i++];
            if (d_.trim) {
                while (field.size() > kept && is_blank(field.back())) field.pop_back();
            }
            fields.push_back(std::move(field));
            field = {};
            if (i < s_.size() && s_[i] == d_.delimiter) {
                ++i;
                continue;
            }
            pos_ = end_of_line(i);
            return result::record;
        }
    }

    // Reads `text` as one record whatever its line ends (the caller has split the lines).
    static bool split_line(std::string_view text, std::vector<std::string>& fields, dialect d) {
        record_reader r(text, d);
        r.line_ends_end_records_ = false;
        std::size_t record_line = 0, open_line = 0;
        if (r.next(fields, record_line, open_line) == result::unterminated) return false;
        if (fields.empty()) fields.emplace_back();   // an empty line is one empty field
        return true;
    }

private:
    std::string_view s_;
    dialect d_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
    bool line_ends_end_records_ = true;

    static bool is_blank(char c) { return c == ' ' || c == '\t'; }
    bool is_line_end(char c) const { return line_ends_end_records_ && (c == '\n' || c == '\r'); }
    void skip_blanks(std::size_t& i) const {
        while (i < s_.size() && is_blank(s_[i])) ++i;
    }

    // The quoted part of a field at s_[i] == '"'; false when it never closes.
    bool quoted(std::size_t& i, std::string& field) {
        ++i;
        while (i < s_.size()) {
            const char c = s_[i];
            if (c == '"') {
                if (i + 1 < s_.size() && s_[i + 1] == '"') {
                    field += '"';
                    i += 2;
                    continue;
                }
                ++i;
                if (d_.trim) skip_blanks(i);
                return true;
            }
            if (c == '\n' || (c == '\r' && !(i + 1 < s_.size() && s_[i + 1] == '\n'))) ++line_;
            field += c;
            ++i;
        }
        return false;
    }

    // Consumes one line end (CRLF, LF or CR) at i, counting the line.
    std::size_t end_of_line(std::size_t i) {
        if (i >= s_.size()) return i;
        if (s_[i] == '\r') {
            ++line_;
            return (i + 1 < s_.size() && s_[i + 1] == '\n') ? i + 2 : i + 1;
        }
        if (s_[i] == '\n') {
            ++line_;
            return i + 1;
        }
        return i;
    }
};

// One line of a one-record-per-line file (account lists, distribution lists). False on an unterminated quote.
[[nodiscard]] inline bool split_line(std::string_view line, std::vector<std::string>& fields, dialect d = {}) {
    return record_reader::split_line(line, fields, d);
}

// Picks ',' ';' or '\t' by counting them (outside quotes) in the first record of `text`.
[[nodiscard]] inline char detect_delimiter(std::string_view text) noexcept {
    std::size_t comma = 0, semi = 0, tab = 0;
    bool quoted = false;
    for (const char c : text) {
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

// Appends one field, quoted when it holds a quote, a line end or the delimiter.
inline void append_field(std::string& out, std::string_view field, char delimiter = ',') {
    const char special[] = {'"', '\r', '\n', delimiter};
    if (field.find_first_of(std::string_view(special, sizeof special)) == std::string_view::npos) {
        out += field;
        return;
    }
    out += '"';
    for (const char c : field) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

// One record with its line end (RFC 4180 says CRLF; files meant for people and shells take "\n").
[[nodiscard]] inline std::string record(const std::vector<std::string>& fields, char delimiter = ',',
                                        std::string_view line_end = "\r\n") {
    std::string out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) out += delimiter;
        append_field(out, fields[i], delimiter);
    }
    out += line_end;
    return out;
}

}  // namespace arrival::csv
