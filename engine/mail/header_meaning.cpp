#include "engine/mail/header_meaning.hpp"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <mimetic/codec/base64.h>
#include <mimetic/codec/code.h>
#include <mimetic/rfc822/datetime.h>
#include <mimetic/rfc822/mailbox.h>
#include <mimetic/rfc822/mailboxlist.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

#include <unicode/utf8.h>

#include "protocol/ascii.hpp"
#include "protocol/imap/internal_date.hpp"
#include "protocol/unicode.hpp"

namespace arrival::engine {

namespace {

bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// NFC of valid UTF-8; anything else (or an ICU failure) is returned unchanged, never replaced by U+FFFD:
// two different undecodable subjects must keep different keys.
std::string nfc(std::string s) {
    if (!unicode::valid_utf8(s)) return s;
    UErrorCode ec = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(ec);
    if (U_FAILURE(ec) || n == nullptr) return s;
    if (n->isNormalizedUTF8(icu::StringPiece(s.data(), static_cast<std::int32_t>(s.size())), ec) && U_SUCCESS(ec)) return s;
    ec = U_ZERO_ERROR;
    std::string out;
    icu::StringByteSink<std::string> sink(&out);
    n->normalizeUTF8(0, icu::StringPiece(s.data(), static_cast<std::int32_t>(s.size())), sink, nullptr, ec);
    return U_SUCCESS(ec) ? out : s;
}

// iconv_open costs more than decoding a whole Subject (glibc looks the charset up in its gconv tables each
// time), and a mailbox uses a handful of charsets: each thread keeps its handles, a few, by lower-cased name.
// (iconv_t)-1 when iconv does not know the charset (remembered too).
iconv_t converter_to_utf8(const std::string& lower_charset) {
    struct cache {
        std::vector<std::pair<std::string, iconv_t>> handles;
        ~cache() {
            for (auto& [name, cd] : handles) {
                if (cd != reinterpret_cast<iconv_t>(-1)) iconv_close(cd);
            }
        }
    };
    thread_local cache c;
    for (const auto& [name, cd] : c.handles) {
        if (name == lower_charset) return cd;
    }
    constexpr std::size_t keep = 16;   // past that (a hostile mailbox), the oldest handle goes
    if (c.handles.size() >= keep) {
        if (c.handles.front().second != reinterpret_cast<iconv_t>(-1)) iconv_close(c.handles.front().second);
        c.handles.erase(c.handles.begin());
    }
    c.handles.emplace_back(lower_charset, iconv_open("UTF-8", lower_charset.c_str()));
    return c.handles.back().second;
}

// Bytes in `charset` to UTF-8 through iconv; nullopt when iconv does not know the charset or the bytes are
// not valid in it.
std::optional<std::string> to_utf8(const std::string& charset, const std::string& bytes) {
    const std::string cs = ascii::to_lower(charset);
    if (cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") {
        if (unicode::valid_utf8(bytes)) return bytes;
        return std::nullopt;
    }
    iconv_t cd = converter_to_utf8(cs);
    if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);   // a cached handle starts from its initial shift state
    std::string out(bytes.size() * 4 + 16, '\0');
    char* in = const_cast<char*>(bytes.data());
    std::size_t in_left = bytes.size();
    char* o = out.data();
    std::size_t out_left = out.size();
    const std::size_t r = iconv(cd, &in, &in_left, &o, &out_left);
    if (r == static_cast<std::size_t>(-1) || in_left != 0) return std::nullopt;
    out.resize(out.size() - out_left);
    return out;
}

struct encoded_word {
    std::string charset;   // without an RFC 2231 "*language" suffix
    std::string bytes;     // decoded, still in `charset`
    std::size_t end = 0;   // one past the closing "?="
};

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// The value without RFC 5322 comments ("(...)", nested, with quoted-pairs), quoted strings kept as they are;
// an unclosed comment runs to the end.
std::string without_comments(std::string_view v) {
    std::string out;
    int depth = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if ((quoted || depth > 0) && c == '\\' && i + 1 < v.size()) {
            if (depth == 0) {
                out.push_back(c);
                out.push_back(v[i + 1]);
            }
            ++i;
        } else if (depth == 0 && c == '"') {
            quoted = !quoted;
            out.push_back(c);
        } else if (!quoted && c == '(') {
            ++depth;
            out.push_back(' ');
        } else if (!quoted && depth > 0 && c == ')') {
            --depth;
        } else if (depth == 0) {
            out.push_back(c);
        }
    }
    return out;
}

bool base64_text(std::string_view t) noexcept {
    for (char c : t) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
            return false;
    }
    return true;
}

// An encoded word starting at s[pos] ("=?charset?B|Q?text?="), decoded to bytes. The text is checked
// against its encoding's alphabet first: mimetic's Base64 decoder indexes its table with any byte.
std::optional<encoded_word> read_encoded_word(std::string_view s, std::size_t pos) {
    if (s.compare(pos, 2, "=?") != 0) return std::nullopt;
    const auto q1 = s.find('?', pos + 2);
    if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
    const char enc = ascii::lower(s[q1 + 1]);
    if (enc != 'b' && enc != 'q') return std::nullopt;
    const auto text_begin = q1 + 3;
    const auto close = s.find("?=", text_begin);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view text = s.substr(text_begin, close - text_begin);
    std::string_view charset = s.substr(pos + 2, q1 - pos - 2);
    if (const auto star = charset.find('*'); star != std::string_view::npos) charset = charset.substr(0, star);
    if (charset.empty()) return std::nullopt;
    for (char c : text) {
        if (is_ws(c) || static_cast<unsigned char>(c) >= 0x7f || static_cast<unsigned char>(c) < 0x20) return std::nullopt;
    }
    encoded_word w;
    w.charset.assign(charset);
    w.end = close + 2;
    if (enc == 'b') {
        if (!base64_text(text)) return std::nullopt;
        mimetic::Base64::Decoder dec;
        mimetic::decode(text.begin(), text.end(), dec, std::back_inserter(w.bytes));
    } else {
        // RFC 2047 §4.2: "_" is a space, "=XX" a byte. Not mimetic's QP decoder: that one applies body
        // rules (trailing whitespace, soft line breaks) and turns "a_" into "a=".
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '_') {
                w.bytes.push_back(' ');
            } else if (text[i] == '=') {
                const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
                const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
                if (hi < 0 || lo < 0) return std::nullopt;
                w.bytes.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
            } else {
                w.bytes.push_back(text[i]);
            }
        }
    }
    return w;
}

}  // namespace

namespace {

// The value without comments, whitespace collapsed: what mimetic is given. Without a '(' there is no
// comment, and without_comments would copy the value unchanged.
std::string comment_free(std::string_view value) {
    return collapse_whitespace(value.find('(') == std::string_view::npos ? value : without_comments(value));
}

}  // namespace

std::string collapse_whitespace(std::string_view v) {
    std::string out;
    bool pending = false;
    for (char c : v) {
        if (is_ws(c)) {
            pending = !out.empty();
            continue;
        }
        if (pending) out.push_back(' ');
        pending = false;
        out.push_back(c);
    }
    return out;
}

std::string unstructured_meaning(std::string_view value) {
    // The common case, plain ASCII without an encoded word: nothing to decode, and NFC leaves ASCII as it is.
    if (value.find("=?") == std::string_view::npos &&
        std::none_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
        return collapse_whitespace(value);
    std::string out;
    std::string run_charset;   // the charset of the pending run of adjacent encoded words
    std::string run_bytes;
    std::string run_raw;       // the run as written, for when the charset is unknown
    auto flush = [&] {
        if (run_raw.empty()) return;
        if (auto u = to_utf8(run_charset, run_bytes)) out += *u;
        else out += run_raw;
        run_charset.clear();
        run_bytes.clear();
        run_raw.clear();
    };
    std::size_t i = 0;
    while (i < value.size()) {
        if (value[i] == '=' && i + 1 < value.size() && value[i + 1] == '?') {
            if (auto w = read_encoded_word(value, i)) {
                if (!run_raw.empty() && ascii::to_lower(w->charset) != ascii::to_lower(run_charset)) flush();
                run_charset = w->charset;
                run_bytes += w->bytes;
                run_raw.append(value.substr(i, w->end - i));
                i = w->end;
                // Whitespace between two encoded words is not part of the text (§6.2).
                std::size_t j = i;
                while (j < value.size() && is_ws(value[j])) ++j;
                if (j < value.size() && read_encoded_word(value, j)) i = j;
                continue;
            }
        }
        flush();
        out.push_back(value[i]);
        ++i;
    }
    flush();
    return collapse_whitespace(nfc(std::move(out)));
}

namespace {

// The spellings nearly every client writes are read here, not through mimetic, which costs ~6,000 (From) and
// ~5,500 (Date) instructions a field, most of the fallback key's cost (callgrind on bench/header_key_bench).
// Each reader answers only inside its narrow grammar and declines the rest to mimetic; fuzz_header_meaning
// checks that the public functions always answer what mimetic alone would.

bool digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool alnum(char c) noexcept { return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool dot_atom_char(char c) noexcept { return alnum(c) || c == '-' || c == '_' || c == '+' || c == '='; }

// "local@domain" of a dot-atom address (letters, digits, "-_+=" and single inner dots), or nullopt.
std::optional<std::string> plain_address(std::string_view a) {
    const auto at = a.find('@');
    if (at == std::string_view::npos || a.find('@', at + 1) != std::string_view::npos) return std::nullopt;
    for (const std::string_view part : {a.substr(0, at), a.substr(at + 1)}) {
        if (part.empty() || part.front() == '.' || part.back() == '.' || part.find("..") != std::string_view::npos)
            return std::nullopt;
        for (char c : part) {
            if (c != '.' && !dot_atom_char(c)) return std::nullopt;
        }
    }
    return std::string(a.substr(0, at + 1)) + ascii::to_lower(a.substr(at + 1));
}

// "addr" or "Display Name <addr>" with a display name of letters, digits, spaces and apostrophes only (v
// collapsed).
std::optional<std::string> common_mailbox(std::string_view v) {
    if (v.empty() || v.back() != '>') return plain_address(v);
    const auto open = v.find('<');
    if (open == std::string_view::npos || open == 0 || v[open - 1] != ' ') return std::nullopt;
    for (char c : v.substr(0, open - 1)) {
        if (!alnum(c) && c != ' ' && c != '\'') return std::nullopt;
    }
    return plain_address(v.substr(open + 1, v.size() - open - 2));
}

std::string address_list_by_mimetic(const std::string& collapsed) {
    std::string out;
    try {
        const mimetic::MailboxList list{collapsed};
        for (const auto& m : list) {
            const std::string local = m.mailbox();
            const std::string domain = m.domain();
            if (local.empty()) continue;
            if (!out.empty()) out += ',';
            out += local;
            if (!domain.empty()) {
                out += '@';
                out += ascii::to_lower(domain);
            }
        }
    } catch (...) {
        return {};
    }
    return out;
}

}  // namespace

std::string address_list_meaning(std::string_view value) {
    // mimetic reads neither folding nor every comment placement; both are gone before it sees the value.
    const std::string v = comment_free(value);
    if (auto a = common_mailbox(v)) return std::move(*a);
    return address_list_by_mimetic(v);
}

namespace detail {
std::string address_list_meaning_by_mimetic(std::string_view value) {
    return address_list_by_mimetic(comment_free(value));
}
}  // namespace detail

namespace {

// The zone of a date-time: the token after the time ("hh:mm[:ss]"). Numeric "+hhmm"/"-hhmm", or one of RFC
// 5322 §4.3's obsolete names; any other name (military letters, "CEST") is "-0000", i.e. UTC. Read here and
// not through mimetic::DateTime::Zone, whose name table gives PST as +0100. nullopt for a malformed number.
std::optional<int> zone_offset_seconds(std::string_view v) {
    std::size_t pos = 0;
    bool after_time = false;
    while (pos < v.size()) {
        while (pos < v.size() && v[pos] == ' ') ++pos;
        auto end = v.find(' ', pos);
        if (end == std::string_view::npos) end = v.size();
        const std::string_view tok = v.substr(pos, end - pos);
        pos = end;
        if (tok.empty()) continue;
        if (!after_time) {
            after_time = tok.find(':') != std::string_view::npos;
            continue;
        }
        if (tok[0] == '+' || tok[0] == '-') {
            if (tok.size() != 5) return std::nullopt;
            int n[4];
            for (int i = 0; i < 4; ++i) {
                const char c = tok[static_cast<std::size_t>(i) + 1];
                if (c < '0' || c > '9') return std::nullopt;
                n[i] = c - '0';
            }
            const int hours = n[0] * 10 + n[1];
            const int minutes = n[2] * 10 + n[3];
            if (hours > 23 || minutes > 59) return std::nullopt;
            return (tok[0] == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
        }
        static constexpr std::pair<std::string_view, int> names[] = {
            {"ut", 0}, {"gmt", 0}, {"utc", 0}, {"est", -5}, {"edt", -4}, {"cst", -6}, {"cdt", -5},
            {"mst", -7}, {"mdt", -6}, {"pst", -8}, {"pdt", -7},
        };
        const std::string name = ascii::to_lower(std::string(tok));
        for (const auto& [n, h] : names) {
            if (name == n) return h * 3600;
        }
        return 0;
    }
    return after_time ? std::optional<int>(0) : std::nullopt;
}

unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
    static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

// No mail predates 1971; mimetic answers 1970-01-01 for what it cannot read.
constexpr std::int64_t first_date = 365 * 86400;

// "[Www, ]D Mmm YYYY hh:mm[:ss] +hhmm" (v collapsed), the form RFC 5322 §3.3 writes, with a weekday of its
// list, a month of its list in its case and a four-digit year from 1900; nullopt for anything else.
std::optional<std::int64_t> common_date(std::string_view v) {
    static constexpr std::string_view days[] = {"Mon, ", "Tue, ", "Wed, ", "Thu, ", "Fri, ", "Sat, ", "Sun, "};
    static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (const auto d : days) {
        if (v.substr(0, d.size()) == d) {
            v.remove_prefix(d.size());
            break;
        }
    }
    std::size_t pos = 0;
    const auto number = [&](std::size_t min_digits, std::size_t max_digits) -> std::optional<int> {
        int n = 0;
        std::size_t k = 0;
        for (; k < max_digits && pos < v.size() && digit(v[pos]); ++k) n = n * 10 + (v[pos++] - '0');
        if (k < min_digits) return std::nullopt;
        return n;
    };
    const auto skip = [&](char c) { return pos < v.size() && v[pos++] == c; };
    const auto day = number(1, 2);
    if (!day || !skip(' ') || pos + 4 > v.size()) return std::nullopt;
    int month = 0;
    for (int m = 0; m < 12; ++m) {
        if (v.substr(pos, 3) == months[m]) month = m + 1;
    }
    pos += 3;
    if (!month || !skip(' ')) return std::nullopt;
    const auto year = number(4, 4);
    if (!year || !skip(' ')) return std::nullopt;
    const auto hour = number(2, 2);
    if (!hour || !skip(':')) return std::nullopt;
    const auto minute = number(2, 2);
    if (!minute) return std::nullopt;
    std::optional<int> second = 0;
    if (pos < v.size() && v[pos] == ':') {
        ++pos;
        second = number(2, 2);
    }
    if (!second || !skip(' ') || pos + 5 != v.size() || (v[pos] != '+' && v[pos] != '-')) return std::nullopt;
    const int sign = v[pos++] == '-' ? -1 : 1;
    const auto zone = number(4, 4);
    if (!zone || *zone / 100 > 23 || *zone % 100 > 59) return std::nullopt;
    if (*year < 1900 || *day < 1 || static_cast<unsigned>(*day) > days_in_month(*year, static_cast<unsigned>(month)) ||
        *hour > 23 || *minute > 59 || *second > 60)
        return std::nullopt;
    const imap::internal_date utc{*year, month, *day, *hour, *minute, *second, 0};
    const std::int64_t t = utc.to_unix() - sign * (*zone / 100 * 3600 + *zone % 100 * 60);
    if (t < first_date) return std::nullopt;
    return t;
}

std::optional<std::int64_t> date_by_mimetic(const std::string& v) {
    const auto offset = zone_offset_seconds(v);   // also: no time of day, no date (mimetic would say 1970)
    if (!offset) return std::nullopt;
    try {
        const mimetic::DateTime d{v};
        std::int64_t year = d.year();
        if (year >= 0 && year < 50) year += 2000;
        else if (year >= 50 && year < 1000) year += 1900;
        const int month = d.month().ordinal();
        const int day = d.day();
        if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1 ||
            static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month)))
            return std::nullopt;
        if (d.hour() < 0 || d.hour() > 23 || d.minute() < 0 || d.minute() > 59 || d.second() < 0 || d.second() > 60)
            return std::nullopt;
        const imap::internal_date utc{static_cast<int>(year), month, day, d.hour(), d.minute(), d.second(), 0};
        const std::int64_t t = utc.to_unix() - *offset;
        if (t < first_date) return std::nullopt;
        return t;
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace

std::optional<std::int64_t> date_meaning(std::string_view value) {
    const std::string v = comment_free(value);
    if (const auto t = common_date(v)) return t;
    return date_by_mimetic(v);
}

namespace detail {
std::optional<std::int64_t> date_meaning_by_mimetic(std::string_view value) {
    return date_by_mimetic(comment_free(value));
}
}  // namespace detail

std::string message_id_meaning(std::string_view value) {
    try {
        const mimetic::Mailbox m{comment_free(value)};
        const std::string local = m.mailbox();
        const std::string domain = m.domain();
        if (local.empty() || domain.empty()) return {};
        return local + '@' + ascii::to_lower(domain);
    } catch (...) {
        return {};
    }
}

}  // namespace arrival::engine
