#include "provision/dn.hpp"

#include <algorithm>

#include "protocol/ascii.hpp"
#include "provision/ldif_errc.hpp"

namespace arrival::provision {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
// RFC 4512 descr (ALPHA *(ALPHA / DIGIT / "-")) or numericoid (number *("." number)).
bool valid_type(std::string_view t) {
    if (t.empty()) return false;
    if (is_alpha(t[0])) {
        return std::all_of(t.begin(), t.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '-'; });
    }
    bool need_digit = true;
    for (char c : t) {
        if (is_digit(c)) { need_digit = false; continue; }
        if (c == '.' && !need_digit) { need_digit = true; continue; }
        return false;
    }
    return !need_digit;
}

class dn_parser {
public:
    explicit dn_parser(std::string_view s) : s_(s) {}

    bool parse(dn& out) {
        out.rdns().clear();
        skip_spaces();
        if (at_end()) return true;  // the root DN
        for (;;) {
            rdn r;
            for (;;) {
                ava a;
                if (!parse_ava(a)) return false;
                r.avas.push_back(std::move(a));
                skip_spaces();
                if (!at_end() && peek() == '+') { ++pos_; skip_spaces(); continue; }
                break;
            }
            out.rdns().push_back(std::move(r));
            if (at_end()) return true;
            // RFC 2253 also allowed ';' as a separator; old exports still use it.
            if (peek() != ',' && peek() != ';') return false;
            ++pos_;
            skip_spaces();
            if (at_end()) return false;  // trailing comma
        }
    }

private:
    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return s_[pos_]; }
    void skip_spaces() { while (!at_end() && peek() == ' ') ++pos_; }

    bool parse_ava(ava& a) {
        const std::size_t start = pos_;
        while (!at_end() && peek() != '=' && peek() != ' ' && peek() != ',' && peek() != '+') ++pos_;
        a.type.assign(s_.substr(start, pos_ - start));
        // "oid.1.2.3" is an RFC 2253-era spelling of a numeric OID.
        if (a.type.size() > 4 && ascii::lower(a.type[0]) == 'o' && ascii::lower(a.type[1]) == 'i' && ascii::lower(a.type[2]) == 'd' &&
            a.type[3] == '.') {
            a.type.erase(0, 4);
        }
        if (!valid_type(a.type)) return false;
        skip_spaces();
        if (at_end() || peek() != '=') return false;
        ++pos_;
        skip_spaces();
        if (!at_end() && peek() == '#') return parse_hex(a.value);
        return parse_string(a.value);
    }

    bool parse_hex(std::string& v) {
        const std::size_t start = pos_;
        ++pos_;
        while (!at_end() && hex_value(peek()) >= 0) ++pos_;
        const std::size_t n = pos_ - start - 1;
        if (n == 0 || n % 2 != 0) return false;
        v.assign(s_.substr(start, pos_ - start));
        skip_spaces();
        return at_end() || peek() == ',' || peek() == '+' || peek() == ';';
    }

    bool parse_string(std::string& v) {
        v.clear();
        // Unescaped trailing spaces are insignificant; escaped ones ("\ ") are kept.
        std::size_t keep = 0;
        while (!at_end()) {
            const char c = peek();
            if (c == ',' || c == '+' || c == ';') break;
            if (c == '"' || c == '<' || c == '>' || c == '\0') return false;
            if (c == '\\') {
                ++pos_;
                if (at_end()) return false;
                const char e = peek();
                if (hex_value(e) >= 0) {
                    if (pos_ + 1 >= s_.size() || hex_value(s_[pos_ + 1]) < 0) return false;
                    v.push_back(static_cast<char>(hex_value(e) * 16 + hex_value(s_[pos_ + 1])));
                    pos_ += 2;
                } else if (e == ' ' || e == '"' || e == '#' || e == '+' || e == ',' || e == ';' || e == '<' ||
                           e == '=' || e == '>' || e == '\\') {
                    v.push_back(e);
                    ++pos_;
                } else {
                    return false;
                }
                keep = v.size();
                continue;
            }
            v.push_back(c);
            ++pos_;
            if (c != ' ') keep = v.size();
        }
        v.resize(keep);
        return true;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

std::string lower_str(std::string_view s) {
    std::string r(s);
    for (auto& c : r) c = ascii::lower(c);
    return r;
}

void append_rdn(std::string& out, const rdn& r, bool normalize) {
    if (!normalize) {
        for (std::size_t i = 0; i < r.avas.size(); ++i) {
            if (i) out.push_back('+');
            out += r.avas[i].type;
            out.push_back('=');
            const auto& v = r.avas[i].value;
            out += (!v.empty() && v[0] == '#') ? v : escape_dn_value(v);
        }
        return;
    }
    std::vector<std::string> parts;
    parts.reserve(r.avas.size());
    for (const auto& a : r.avas) {
        std::string p = lower_str(a.type);
        p.push_back('=');
        p += (!a.value.empty() && a.value[0] == '#') ? lower_str(a.value) : escape_dn_value(normalize_value(a.value));
        parts.push_back(std::move(p));
    }
    std::sort(parts.begin(), parts.end());
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i) out.push_back('+');
        out += parts[i];
    }
}

}  // namespace

std::error_code parse_dn(std::string_view text, dn& out) {
    dn_parser p(text);
    if (!p.parse(out)) {
        out.rdns().clear();
        return ldif_errc::bad_dn;
    }
    return {};
}

dn dn::parent() const {
    dn p;
    if (rdns_.size() > 1) {
        p.rdns_.reserve(rdns_.size() - 1);
        for (std::size_t i = 1; i < rdns_.size(); ++i) p.rdns_.push_back(rdns_[i]);
    }
    return p;
}

dn dn::child(rdn r) const {
    dn c;
    c.rdns_.reserve(rdns_.size() + 1);
    c.rdns_.push_back(std::move(r));
    c.rdns_.insert(c.rdns_.end(), rdns_.begin(), rdns_.end());
    return c;
}

bool dn::is_under(const dn& ancestor) const {
    if (ancestor.rdns_.size() >= rdns_.size()) return false;
    const std::size_t off = rdns_.size() - ancestor.rdns_.size();
    for (std::size_t i = 0; i < ancestor.rdns_.size(); ++i) {
        std::string a, b;
        append_rdn(a, rdns_[off + i], true);
        append_rdn(b, ancestor.rdns_[i], true);
        if (a != b) return false;
    }
    return true;
}

std::string dn::str() const {
    std::string out;
    for (std::size_t i = 0; i < rdns_.size(); ++i) {
        if (i) out.push_back(',');
        append_rdn(out, rdns_[i], false);
    }
    return out;
}

std::string dn::normalized() const {
    std::string out;
    for (std::size_t i = 0; i < rdns_.size(); ++i) {
        if (i) out.push_back(',');
        append_rdn(out, rdns_[i], true);
    }
    return out;
}

std::string escape_dn_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        const bool first = i == 0, last = i + 1 == v.size();
        if (c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\' || c == '=' ||
            (c == '#' && first) || (c == ' ' && (first || last))) {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\0') {
            out += "\\00";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string normalize_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    bool pending_space = false;
    for (char c : v) {
        if (c == ' ') {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        out.push_back(ascii::lower(c));
    }
    return out;
}

std::error_code normalize_dn(std::string_view text, std::string& out) {
    dn d;
    if (auto ec = parse_dn(text, d)) return ec;
    out = d.normalized();
    return {};
}

}  // namespace arrival::provision

namespace arrival::provision {
namespace {
std::size_t first_separator(std::string_view ndn) noexcept {
    for (std::size_t i = 0; i < ndn.size(); ++i) {
        if (ndn[i] == '\\') { ++i; continue; }
        if (ndn[i] == ',') return i;
    }
    return std::string_view::npos;
}
}  // namespace

std::string_view parent_ndn(std::string_view ndn) noexcept {
    const auto i = first_separator(ndn);
    return i == std::string_view::npos ? std::string_view{} : ndn.substr(i + 1);
}

std::size_t ndn_depth(std::string_view ndn) noexcept {
    std::size_t n = 0;
    while (!ndn.empty()) {
        ++n;
        ndn = parent_ndn(ndn);
    }
    return n;
}

std::string rdn_value(std::string_view ndn) {
    const auto first = ndn.substr(0, first_separator(ndn));
    dn d;
    if (parse_dn(first, d) || d.empty() || d.rdns()[0].avas.empty()) return {};
    return d.rdns()[0].avas[0].value;
}

}  // namespace arrival::provision
