#include "engine/mail/content_scan.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <mimetic/contenttype.h>

#include "engine/mail/dedupe_key.hpp"
#include "engine/mail/header_meaning.hpp"
#include "protocol/unicode.hpp"

namespace arrival::engine {
namespace {

constexpr std::size_t header_limit = 64 * 1024;
constexpr std::uint64_t max_line = 998;   // RFC 5322 §2.1.1, without CRLF
// A delimiter line may carry transport padding (RFC 2046 §5.1.1: LWSP after the boundary); keep room for it.
constexpr std::size_t padding_room = 64;

bool has_8bit(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

std::string_view trim_padding(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string_view to_string(content_trait t) noexcept {
    switch (t) {
        case content_trait::bare_lf: return "bare_lf";
        case content_trait::bare_cr: return "bare_cr";
        case content_trait::nul: return "nul";
        case content_trait::header_8bit: return "header_8bit";
        case content_trait::long_line: return "long_line";
        case content_trait::mime_malformed: return "mime_malformed";
    }
    return "unknown";
}

std::string content_findings::describe() const {
    std::string out;
    for (const content_trait t : all_content_traits) {
        if (!has(t)) continue;
        if (!out.empty()) out += ", ";
        out += to_string(t);
        if (t == content_trait::long_line) out += fmt::format(" ({} octets)", longest_line);
        if (t == content_trait::header_8bit) out += header_utf8 ? " (UTF-8)" : " (not UTF-8)";
        if (t == content_trait::mime_malformed) out += ": " + mime_problem;
    }
    return out;
}

content_scanner::content_scanner() { line_keep_ = header_limit; }

void content_scanner::feed(std::string_view chunk) {
    for (const char c : chunk) {
        if (pending_cr_) {
            pending_cr_ = false;
            if (c == '\n') {
                on_line(line_, line_length_ > line_.size(), line_length_);
                continue;
            }
            // The CR was not a line end: it belongs to the line's content.
            set(content_trait::bare_cr);
            if (line_.size() < line_keep_) line_ += '\r';
            ++line_length_;
        }
        if (c == '\r') {
            pending_cr_ = true;
            continue;
        }
        if (c == '\n') {
            set(content_trait::bare_lf);
            on_line(line_, line_length_ > line_.size(), line_length_);
            continue;
        }
        if (c == '\0') set(content_trait::nul);
        if (line_.size() < line_keep_) line_ += c;
        ++line_length_;
    }
}

void content_scanner::malformed(std::string problem) {
    if (!found_.has(content_trait::mime_malformed)) found_.mime_problem = std::move(problem);
    set(content_trait::mime_malformed);
}

void content_scanner::note_header_bytes(std::string_view line) {
    if (!has_8bit(line)) return;
    set(content_trait::header_8bit);
    if (!unicode::valid_utf8(line)) found_.header_utf8 = false;
}

void content_scanner::on_line(std::string_view line, bool overflow, std::uint64_t length) {
    found_.longest_line = std::max(found_.longest_line, length);
    if (length > max_line) set(content_trait::long_line);

    if (section_ == section::header) {
        if (length == 0) {
            end_header();
        } else {
            note_header_bytes(line);
            if (overflow || header_.size() + line.size() + 2 > header_limit) {
                header_overflow_ = true;
            } else {
                header_.append(line);
                header_ += "\r\n";
            }
        }
    } else if (!open_.empty() && !overflow && line.size() >= 2 && line[0] == '-' && line[1] == '-') {
        const std::string_view rest = trim_padding(line.substr(2));
        // Innermost first: a delimiter of an outer multipart also ends every inner one (unclosed, which is
        // malformed but common enough that the outer structure should still be followed).
        for (std::size_t i = open_.size(); i-- > 0;) {
            const std::string& b = open_[i].boundary;
            const bool is_delimiter = rest == b;
            const bool is_close = !is_delimiter && rest.size() == b.size() + 2 && rest.substr(0, b.size()) == b &&
                                  rest.substr(b.size()) == "--";
            if (!is_delimiter && !is_close) continue;
            for (std::size_t inner = open_.size() - 1; inner > i; --inner)
                malformed(fmt::format("{} boundary \"{}\" never closed", open_[inner].type, open_[inner].boundary));
            open_.resize(i + 1);
            if (is_delimiter) {
                open_[i].delimiter_seen = true;
                section_ = section::header;
                header_.clear();
                header_overflow_ = false;
            } else {
                if (!open_[i].delimiter_seen)
                    malformed(fmt::format("{} boundary \"{}\" closed without any part", open_[i].type, b));
                open_.pop_back();
            }
            break;
        }
    }

    line_.clear();
    line_length_ = 0;
    if (section_ == section::header) {
        line_keep_ = header_limit;
    } else {
        std::size_t longest = 0;
        for (const multipart& m : open_) longest = std::max(longest, m.boundary.size());
        line_keep_ = longest + 4 + padding_room;
    }
}

void content_scanner::end_header() {
    section_ = section::body;
    if (header_overflow_) malformed(fmt::format("header section over {} KiB", header_limit / 1024));
    std::string value;
    if (!find_header_field(header_, "Content-Type", value)) return;
    // mimetic reads the type from the first byte: the blank after the colon would make it " multipart".
    const mimetic::ContentType ct(collapse_whitespace(value));
    if (!ct.isMultipart()) return;
    const std::string type = fmt::format("multipart/{}", std::string(ct.subtype().c_str()));
    std::string boundary = ct.param("boundary");
    if (boundary.empty()) {
        malformed(type + " without a boundary parameter");
        return;
    }
    open_.push_back(multipart{std::move(boundary), type, false});
}

content_findings content_scanner::finish() {
    if (pending_cr_) {
        set(content_trait::bare_cr);
        ++line_length_;
        pending_cr_ = false;
    }
    if (line_length_ > 0) on_line(line_, line_length_ > line_.size(), line_length_);
    for (std::size_t i = open_.size(); i-- > 0;) {
        if (!open_[i].delimiter_seen)
            malformed(fmt::format("{} boundary \"{}\" never appears", open_[i].type, open_[i].boundary));
        else
            malformed(fmt::format("{} boundary \"{}\" never closed", open_[i].type, open_[i].boundary));
    }
    content_findings out = std::move(found_);
    *this = content_scanner();
    return out;
}

content_findings scan_content(std::string_view message) {
    content_scanner s;
    s.feed(message);
    return s.finish();
}

}  // namespace arrival::engine
