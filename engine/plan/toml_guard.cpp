#include "engine/plan/toml_guard.hpp"

#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "protocol/unicode.hpp"

namespace arrival::plan {
namespace {

bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }
bool is_bare_key_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Walks the bytes once. UTF-8 continuation bytes are never ASCII, so the TOML structure (quotes, brackets,
// '#', backslashes, line ends) reads byte by byte; only "is this ASCII" is asked of the rest.
class scanner {
public:
    explicit scanner(std::string_view text) : s_(text) {}

    std::optional<toml_hazard> run() {
        if (auto bad = invalid_utf8()) return bad;
        while (i_ < s_.size()) {
            if (auto h = step()) return h;
        }
        return std::nullopt;
    }

private:
    std::string_view s_;
    std::size_t i_ = 0;
    std::size_t line_ = 1;
    std::size_t line_start_ = 0;
    // An open '[' (an array: values) or '{' (an inline table: keys, then a value after each '=').
    struct frame {
        char opener;
        bool in_value;
    };
    std::vector<frame> open_;
    bool statement_in_value_ = false;   // outside any '[' or '{': after the statement's '='
    bool statement_start_ = true;       // only whitespace since the last line end outside any value
    bool in_header_ = false;            // on a [table] header's line
    // Where a key or a value may begin: after a line end, '=', '[', '{', ',', or a '.' between keys (blanks
    // and comments between do not matter). toml++ starts a string only there; elsewhere a quote belongs to a
    // bare token (`9-05-x"y`, `5=5='''x`), which it reads up to a terminator, testing each character for
    // whitespace.
    bool token_start_ = true;
    bool in_bare_value_ = false;   // in a value that is not a string, array or table, up to ends_a_value

    // toml++'s is_value_terminator, for ASCII.
    static bool ends_a_value(char c) {
        return c == ' ' || c == '\t' || (c >= '\n' && c <= '\r') || c == ']' || c == '}' || c == ',' || c == '#';
    }

    bool in_value() const { return open_.empty() ? statement_in_value_ : open_.back().in_value; }

    char at(std::size_t k) const { return k < s_.size() ? s_[k] : '\0'; }
    bool starts(std::string_view w) const { return s_.substr(i_, w.size()) == w; }

    toml_hazard hazard(std::size_t where, std::string message) const {
        std::size_t column = 1;
        for (std::size_t k = line_start_; k < where && k < s_.size(); ++k) {
            if ((static_cast<unsigned char>(s_[k]) & 0xC0) != 0x80) ++column;
        }
        return {line_, column, std::move(message)};
    }

    void newline() {
        ++line_;
        line_start_ = i_ + 1;
    }

    std::optional<toml_hazard> invalid_utf8() {
        for (std::size_t k = 0; k < s_.size();) {
            std::uint32_t cp = 0;
            const char* why = nullptr;
            const std::size_t n = unicode::next_utf8(s_, k, cp, why);
            if (n == 0) {
                return hazard(k, fmt::format("the plan is not UTF-8 ({} at byte {})", why, k));
            }
            if (cp == '\n') {
                ++line_;
                line_start_ = k + 1;
            }
            k += n;
        }
        line_ = 1;
        line_start_ = 0;
        return std::nullopt;
    }

    std::optional<toml_hazard> step() {
        const char c = s_[i_];
        if (!is_ascii(c)) {
            return hazard(i_, "a non-ASCII character outside a quoted string or a comment (TOML allows it only "
                              "there; quote the value)");
        }
        if (in_bare_value_) {
            if (!ends_a_value(c)) {
                ++i_;
                return std::nullopt;
            }
            in_bare_value_ = false;
        }
        if (c == '\n') {
            newline();
            ++i_;
            in_header_ = false;
            if (open_.empty()) {
                statement_start_ = true;
                statement_in_value_ = false;
                token_start_ = true;
            }
            return std::nullopt;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            ++i_;
            return std::nullopt;
        }
        if (c == '#') return comment();
        if ((c == '"' || c == '\'') && token_start_) {
            token_start_ = false;
            if (c == '"') return starts(R"(""")") ? multi_line('"') : basic();
            return starts("'''") ? multi_line('\'') : literal();
        }
        if (statement_start_ && open_.empty() && c == '[') return header();
        statement_start_ = false;
        if (token_start_ && !in_header_ && in_value() && c != '[' && c != '{' && !ends_a_value(c)) {
            in_bare_value_ = true;   // a number, a date, true/false, or a mistake: toml++ reads it to a terminator
            token_start_ = false;
            ++i_;
            return std::nullopt;
        }
        token_start_ = structure(c);
        ++i_;
        return std::nullopt;
    }

    // Follows the brackets and the key/value position through one structural character; true when a key
    // or a value may begin after it.
    bool structure(char c) {
        if (in_header_) return c == '.';
        switch (c) {
        case '[': open_.push_back({'[', true}); return true;
        case '{': open_.push_back({'{', false}); return true;
        case ']':
        case '}':
            if (!open_.empty()) open_.pop_back();
            return false;
        case '=':
            (open_.empty() ? statement_in_value_ : open_.back().in_value) = true;
            return true;
        case ',':
            if (!open_.empty() && open_.back().opener == '{') open_.back().in_value = false;
            return true;
        case '.': return !in_value();   // `a."b"` is a dotted key; `1."b"` a bare token toml++ reads on
        default: return false;
        }
    }

    // "[" or "[[", spaces, then toml++ asserts a key character or a quote (or reports a ']' itself).
    std::optional<toml_hazard> header() {
        statement_start_ = false;
        in_header_ = true;
        ++i_;
        bool spaced = false;
        while (at(i_) == ' ' || at(i_) == '\t') ++i_, spaced = true;
        if (!spaced && at(i_) == '[') {
            ++i_;
            while (at(i_) == ' ' || at(i_) == '\t') ++i_;
        }
        token_start_ = true;
        if (i_ >= s_.size()) return std::nullopt;
        const char c = s_[i_];
        if (is_bare_key_char(c) || c == '"' || c == '\'' || c == ']') return std::nullopt;
        return hazard(i_, "a table header needs a name: a letter, digit, '_', '-' or a quoted string after '['");
    }

    std::optional<toml_hazard> comment() {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
        return std::nullopt;
    }

    // A string left open at the line end is toml++'s error to report; the scan goes on from there.
    std::optional<toml_hazard> literal() {
        statement_start_ = false;
        ++i_;
        while (i_ < s_.size() && s_[i_] != '\'' && s_[i_] != '\n') ++i_;
        if (at(i_) == '\'') ++i_;
        return std::nullopt;
    }

    std::optional<toml_hazard> basic() {
        statement_start_ = false;
        ++i_;
        while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\n') {
            if (s_[i_] == '\\') {
                if (i_ + 1 < s_.size() && !is_ascii(s_[i_ + 1])) return bad_escape(i_);
                i_ += at(i_ + 1) == '\n' ? 1 : 2;   // the line end closes the string (toml++'s error)
                continue;
            }
            ++i_;
        }
        if (at(i_) == '"') ++i_;
        return std::nullopt;
    }

    // A '''literal''' or a """basic""" string; only the basic one has escapes.
    std::optional<toml_hazard> multi_line(char quote) {
        statement_start_ = false;
        const std::string_view delimiter = quote == '"' ? R"(""")" : "'''";
        i_ += 3;
        while (i_ < s_.size()) {
            if (starts(delimiter)) {
                i_ += 3;   // and one or two more quotes, which belong to the string
                for (int k = 0; k < 2 && at(i_) == quote; ++k) ++i_;
                return std::nullopt;
            }
            if (quote == '"' && s_[i_] == '\\') {
                if (auto h = escape_in_multi_line_basic()) return h;
                continue;
            }
            if (s_[i_] == '\n') newline();
            ++i_;
        }
        return std::nullopt;
    }

    std::optional<toml_hazard> escape_in_multi_line_basic() {
        const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
        if (i_ + 1 < s_.size() && !is_ascii(s_[i_ + 1])) return bad_escape(i_);
        if (!blank(at(i_ + 1))) {
            i_ += 2;
            return std::nullopt;
        }
        // A line-ending backslash: toml++ tests each following character for whitespace.
        ++i_;
        for (; i_ < s_.size() && blank(s_[i_]); ++i_) {
            if (s_[i_] == '\n') newline();
        }
        if (i_ < s_.size() && !is_ascii(s_[i_])) {
            return hazard(i_, R"(a non-ASCII character first after a line-ending backslash in a """string""" )"
                              R"((the TOML library cannot read it there; write it as \uXXXX))");
        }
        return std::nullopt;
    }

    toml_hazard bad_escape(std::size_t backslash) const {
        return hazard(backslash, "a backslash before a non-ASCII character in a string (not a TOML escape; "
                                 "write \\\\ for a backslash)");
    }
};

}  // namespace

std::optional<toml_hazard> find_toml_hazard(std::string_view text) { return scanner(text).run(); }

}  // namespace arrival::plan
