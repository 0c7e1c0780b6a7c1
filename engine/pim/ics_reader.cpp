#include "engine/pim/ics_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <istream>

#include <fmt/format.h>

#include "engine/pim/sha256.hpp"

namespace arrival::pim {
namespace {

// name = iana-token / x-name; iana-token = 1*(ALPHA / DIGIT / "-")   (RFC 5545 §3.1)
constexpr bool is_name_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// QSAFE-CHAR excludes DQUOTE and controls; SAFE-CHAR additionally excludes ";", ":" and ",".
constexpr bool is_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
}

bool is_top_level_kind(std::string_view kind) {
    return kind == "VEVENT" || kind == "VTODO" || kind == "VJOURNAL" || kind == "VTIMEZONE" ||
           kind == "VFREEBUSY";
}

// A logical line: its unfolded form for parsing, its physical lines for output, where it starts.
struct logical_line {
    std::string unfolded;
    std::string raw;          // physical lines, each terminated by CRLF
    std::size_t line = 0;
    std::uint64_t offset = 0;  // byte offset of its first physical line in the input
    std::uint64_t end = 0;     // byte offset just after its last physical line (and its line end)
};

// Splits text into logical lines. Two sources: a string held by the caller (the whole file, or a slice of it
// read again in the second pass of ics_file), or a stream read in chunks, so memory stays at one chunk plus
// the longest logical line.
class line_splitter {
public:
    line_splitter(std::string_view text, std::size_t first_line) : text_(text), line_no_(first_line - 1) {
        // A UTF-8 byte order mark is not part of the first line.
        if (first_line == 1 && text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    }
    explicit line_splitter(std::istream& in) : in_(&in) {
        fill();
        if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    }

    bool next(logical_line& out) {
        out.unfolded.clear();
        out.raw.clear();
        std::string_view phys;
        // Blank lines are not allowed by the grammar but common in exports; they carry nothing.
        do {
            out.offset = base_ + pos_;
            if (!physical(phys)) return false;
        } while (phys.empty());
        out.line = line_no_;
        out.unfolded.assign(phys);
        out.raw.append(phys).append("\r\n");
        // Continuation lines start with one space or tab (§3.1): drop that one character when unfolding.
        while (available(1) && (text_[pos_] == ' ' || text_[pos_] == '\t')) {
            physical(phys);
            out.unfolded.append(phys.substr(1));
            out.raw.append(phys).append("\r\n");
        }
        out.end = base_ + pos_;
        return true;
    }

private:
    static constexpr std::size_t chunk = 64 * 1024;

    // Reads another chunk, keeping the unread rest; false at the end of the stream (or without one).
    bool fill() {
        if (in_ == nullptr || eof_) return false;
        buf_.erase(0, pos_);
        base_ += pos_;
        pos_ = 0;
        const auto old = buf_.size();
        buf_.resize(old + chunk);
        in_->read(buf_.data() + old, static_cast<std::streamsize>(chunk));
        const auto got = static_cast<std::size_t>(in_->gcount());
        buf_.resize(old + got);
        if (got < chunk) eof_ = true;
        text_ = buf_;
        return got > 0;
    }

    bool available(std::size_t n) {
        while (text_.size() - pos_ < n) {
            if (!fill()) return false;
        }
        return true;
    }

    // The returned view is valid until the next call.
    bool physical(std::string_view& out) {
        if (!available(1)) return false;
        auto end = text_.find('\n', pos_);
        while (end == std::string_view::npos) {
            const auto seen = text_.size() - pos_;
            if (!fill()) break;
            end = text_.find('\n', pos_ + seen);
        }
        if (end == std::string_view::npos) end = text_.size();
        out = text_.substr(pos_, end - pos_);
        if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
        pos_ = end < text_.size() ? end + 1 : end;
        ++line_no_;
        return true;
    }

    std::istream* in_ = nullptr;
    std::string buf_;
    bool eof_ = false;
    std::string_view text_;
    std::size_t pos_ = 0;
    std::uint64_t base_ = 0;  // input offset of text_[0]
    std::size_t line_no_ = 0;
};

struct open_component {
    std::string kind;
    std::size_t line = 0;
};

class reader {
public:
    explicit reader(const ics_component_fn* sink) : sink_(sink) {}

    ics_calendar run(line_splitter& lines) {
        logical_line l;
        while (lines.next(l)) on_line(l);
        if (!stack_.empty()) {
            fail(stack_.back().line, fmt::format("no END:{} before the end of the file", stack_.back().kind));
            drop_current();
        }
        return std::move(cal_);
    }

private:
    void on_line(const logical_line& l) {
        ics_content_line cl;
        if (auto err = parse_content_line(l.unfolded, cl); !err.empty()) {
            if (!stack_.empty()) {
                fail(l.line, err);
                broken_ = true;
            } else {
                cal_.issues.push_back({l.line, fmt::format("{} (line outside any component, ignored)", err)});
            }
            if (!stack_.empty()) cur_.text += l.raw;
            return;
        }
        if (cl.name == "BEGIN") return on_begin(l, upper(cl.value));
        if (cl.name == "END") return on_end(l, upper(cl.value));
        if (stack_.empty()) {
            if (in_calendar_) {
                cal_.calendar_properties.push_back(l.raw);
            } else {
                cal_.issues.push_back({l.line, fmt::format("{} outside BEGIN:VCALENDAR, ignored", cl.name)});
            }
            return;
        }
        if (stack_.size() == 1 && cl.name == "UID" && cl.value.empty()) {
            // An empty UID identifies nothing: drop the line, and the component gets a derived UID at its
            // END like one without UID. Kept, it would put a second UID line into the written resource.
            return;
        }
        cur_.text += l.raw;
        for (const auto& [name, value] : cl.params) {
            if (name == "TZID" &&
                std::find(cur_.tzid_refs.begin(), cur_.tzid_refs.end(), value) == cur_.tzid_refs.end()) {
                cur_.tzid_refs.push_back(value);
            }
        }
        if (stack_.size() != 1) return;  // properties of VALARM, STANDARD, DAYLIGHT belong to the parent
        if (cl.name == "UID") {
            if (!cur_.uid.empty()) {
                fail(l.line, "second UID property");
                broken_ = true;
            }
            cur_.uid = cl.value;
        } else if (cl.name == "RECURRENCE-ID") {
            // The parameters matter for identity (TZID, RANGE), so keep the whole unfolded line.
            cur_.recurrence_id = l.unfolded;
        } else if (cl.name == "TZID" && cur_.kind == "VTIMEZONE") {
            cur_.tzid = cl.value;
        }
    }

    void on_begin(const logical_line& l, std::string kind) {
        if (kind.empty()) {
            if (!stack_.empty()) {
                fail(l.line, "BEGIN without a component name");
                broken_ = true;
                cur_.text += l.raw;
            } else {
                cal_.issues.push_back({l.line, "BEGIN without a component name, ignored"});
            }
            return;
        }
        if (kind == "VCALENDAR") {
            if (!stack_.empty()) {
                fail(stack_.back().line, fmt::format("no END:{} before BEGIN:VCALENDAR at line {}",
                                                     stack_.back().kind, l.line));
                drop_current();
            } else if (in_calendar_) {
                cal_.issues.push_back({l.line, "BEGIN:VCALENDAR inside a VCALENDAR, ignored"});
            }
            in_calendar_ = true;
            return;
        }
        if (!stack_.empty() && is_top_level_kind(kind)) {
            // A VEVENT cannot nest: the previous component lost its END. Report it, keep going with this one.
            fail(stack_.front().line, fmt::format("no END:{} before BEGIN:{} at line {}", stack_.front().kind,
                                                  kind, l.line));
            drop_current();
        }
        if (stack_.empty()) {
            cur_ = ics_component{};
            cur_.kind = kind;
            cur_.line = l.line;
            broken_ = false;
            begin_offset_ = l.offset;
        }
        cur_.text += l.raw;
        if (stack_.empty()) begin_len_ = cur_.text.size();  // the BEGIN line may itself be folded
        stack_.push_back({std::move(kind), l.line});
    }

    void on_end(const logical_line& l, const std::string& kind) {
        if (stack_.empty()) {
            if (kind == "VCALENDAR" && in_calendar_) {
                in_calendar_ = false;
            } else {
                cal_.issues.push_back({l.line, fmt::format("END:{} without a matching BEGIN, ignored", kind)});
            }
            return;
        }
        auto match = std::find_if(stack_.rbegin(), stack_.rend(), [&](const auto& f) { return f.kind == kind; });
        if (match == stack_.rend()) {
            if (kind == "VCALENDAR") {
                fail(stack_.front().line, fmt::format("no END:{} before END:VCALENDAR at line {}",
                                                      stack_.front().kind, l.line));
                drop_current();
                in_calendar_ = false;
                return;
            }
            fail(l.line, fmt::format("END:{} without a matching BEGIN", kind));
            broken_ = true;
            cur_.text += l.raw;
            return;
        }
        // Frames above the match lost their END.
        for (auto it = stack_.rbegin(); it != match; ++it) {
            fail(it->line, fmt::format("no END:{} before END:{} at line {}", it->kind, kind, l.line));
            broken_ = true;
        }
        stack_.erase(std::prev(match.base()), stack_.end());
        cur_.text += l.raw;
        if (stack_.empty()) finish(l.end);
    }

    void finish(std::uint64_t end) {
        if (broken_) {
            drop_current();
            return;
        }
        if (cur_.kind == "VTIMEZONE") {
            if (cur_.tzid.empty()) {
                cal_.issues.push_back({cur_.line, "VTIMEZONE without TZID, skipped"});
                return;
            }
            cal_.timezones.push_back(std::move(cur_));
            return;
        }
        if (cur_.uid.empty()) {
            // RFC 5545 requires UID on VEVENT/VTODO/VJOURNAL; old exporters omit it. A UID derived from the
            // content stays the same on a rerun, so the resource is recognised as already imported.
            cur_.uid = "arrival-" + sha256_hex(cur_.text, 16);
            cur_.uid_generated = true;
            cur_.text.insert(begin_len_, "UID:" + cur_.uid + "\r\n");
        }
        if (sink_ != nullptr) (*sink_)(std::move(cur_), begin_offset_, end - begin_offset_);
        else cal_.components.push_back(std::move(cur_));
    }

    // Records a fault of the component being read; the component is reported once, at its first fault.
    void fail(std::size_t line, std::string what) {
        if (!pending_.empty()) return;
        pending_line_ = line;
        pending_ = std::move(what);
    }

    void drop_current() {
        std::string who = cur_.kind;
        if (!cur_.uid.empty()) who += fmt::format(" UID {}", cur_.uid);
        cal_.issues.push_back({pending_line_, fmt::format("{} (BEGIN at line {}) skipped: {}", who, cur_.line,
                                                          pending_.empty() ? "malformed" : pending_)});
        pending_.clear();
        stack_.clear();
        cur_ = ics_component{};
        broken_ = false;
    }

    const ics_component_fn* sink_;
    ics_calendar cal_;
    std::vector<open_component> stack_;
    std::uint64_t begin_offset_ = 0;
    ics_component cur_;
    std::size_t begin_len_ = 0;
    bool broken_ = false;
    bool in_calendar_ = false;
    std::string pending_;
    std::size_t pending_line_ = 0;
};

}  // namespace

std::string parse_content_line(std::string_view s, ics_content_line& out) {
    out.name.clear();
    out.params.clear();
    out.value.clear();
    std::size_t i = 0;
    while (i < s.size() && is_name_char(s[i])) ++i;
    if (i == 0) return "expected a property name";
    out.name = upper(s.substr(0, i));
    while (i < s.size() && s[i] == ';') {
        ++i;
        const auto name_begin = i;
        while (i < s.size() && is_name_char(s[i])) ++i;
        if (i == name_begin) return fmt::format("{}: expected a parameter name", out.name);
        auto pname = upper(s.substr(name_begin, i - name_begin));
        if (i >= s.size() || s[i] != '=') return fmt::format("{}: parameter {} has no '='", out.name, pname);
        ++i;
        std::string pvalue;
        // param-value *("," param-value); each value a quoted-string or paramtext.
        for (;;) {
            if (i < s.size() && s[i] == '"') {
                const auto close = s.find('"', i + 1);
                if (close == std::string_view::npos)
                    return fmt::format("{}: unterminated quoted value of parameter {}", out.name, pname);
                pvalue.append(s.substr(i + 1, close - i - 1));
                i = close + 1;
            } else {
                const auto begin = i;
                while (i < s.size() && s[i] != ';' && s[i] != ':' && s[i] != ',' && s[i] != '"' &&
                       !is_control(s[i]))
                    ++i;
                pvalue.append(s.substr(begin, i - begin));
            }
            if (i < s.size() && s[i] == ',') {
                pvalue += ',';
                ++i;
                continue;
            }
            break;
        }
        out.params.emplace_back(std::move(pname), std::move(pvalue));
    }
    if (i >= s.size() || s[i] != ':') {
        return fmt::format("malformed content line '{}': expected ':' before the value",
                           s.substr(0, std::min<std::size_t>(s.size(), 40)));
    }
    out.value.assign(s.substr(i + 1));
    return {};
}

ics_calendar read_ics(std::string_view text, std::size_t first_line) {
    line_splitter lines(text, first_line);
    return reader(nullptr).run(lines);
}

ics_calendar read_ics(std::istream& in, const ics_component_fn& on_component) {
    line_splitter lines(in);
    return reader(&on_component).run(lines);
}

}  // namespace arrival::pim
