#include "engine/account_list.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>
#include "protocol/ascii.hpp"
#include "protocol/csv.hpp"
#include "protocol/take_line.hpp"

namespace arrival::engine {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool is_comment_or_blank(std::string_view line) {
    const auto t = trim(line);
    return t.empty() || t.front() == '#';
}

// A user name for IMAP: non-empty, no whitespace or control characters. We do not insist on '@': plain names
// ("jdoe") are common on old servers.
bool valid_user(std::string_view u) {
    if (u.empty()) return false;
    return std::none_of(u.begin(), u.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

struct line_view {
    std::size_t number;
    std::string_view text;
};

std::vector<line_view> split_lines(std::string_view text) {
    std::vector<line_view> lines;
    std::size_t n = 0;
    while (!text.empty()) {
        ++n;
        lines.push_back({n, take_line(text)});
    }
    // A UTF-8 byte order mark (spreadsheets write one) is not part of the first field.
    if (!lines.empty() && lines.front().text.substr(0, 3) == "\xEF\xBB\xBF") lines.front().text.remove_prefix(3);
    return lines;
}

account_format detect(const std::vector<line_view>& lines) {
    for (const auto& l : lines) {
        if (is_comment_or_blank(l.text)) continue;
        if (l.text.find(';') != std::string_view::npos) return account_format::imapsync;
        if (ascii::to_lower(l.text).find("source_user") != std::string::npos) return account_format::csv;
        return account_format::address_list;
    }
    return account_format::address_list;
}

void parse_imapsync(const std::vector<line_view>& lines, account_list& out) {
    for (const auto& l : lines) {
        if (is_comment_or_blank(l.text)) continue;
        std::vector<std::string_view> f;
        std::string_view rest = trim(l.text);
        while (true) {
            const auto sc = rest.find(';');
            f.push_back(rest.substr(0, sc));
            if (sc == std::string_view::npos) break;
            rest.remove_prefix(sc + 1);
        }
        // "a;b;c;d;e;f;" splits into 7 fields, the last empty.
        if (f.size() == 7 && trim(f[6]).empty()) f.pop_back();
        if (f.size() != 6) {
            out.errors.push_back({l.number, fmt::format("expected 6 fields host1;user1;password1;host2;user2;password2; "
                                                        "but found {} (extra imapsync options are not supported)",
                                                        f.size())});
            continue;
        }
        account_pair p;
        p.source_host = std::string(trim(f[0]));
        p.source_user = std::string(trim(f[1]));
        p.source_password = secret_string(std::string(f[2]));   // passwords are taken verbatim
        p.dest_host = std::string(trim(f[3]));
        p.dest_user = std::string(trim(f[4]));
        p.dest_password = secret_string(std::string(f[5]));
        p.line = l.number;
        if (!valid_user(p.source_user) || !valid_user(p.dest_user)) {
            out.errors.push_back({l.number, "user1 and user2 must be non-empty and contain no spaces"});
            continue;
        }
        out.accounts.push_back(std::move(p));
    }
}

void parse_csv(const std::vector<line_view>& lines, account_list& out) {
    std::vector<std::string> fields;
    int col_src = -1, col_dst = -1, col_spw = -1, col_dpw = -1;
    std::size_t ncols = 0;
    bool have_header = false;
    for (const auto& l : lines) {
        if (is_comment_or_blank(l.text)) continue;
        if (!csv::split_line(l.text, fields, {',', true})) {
            out.errors.push_back({l.number, "unterminated quoted field"});
            continue;
        }
        if (!have_header) {
            have_header = true;
            ncols = fields.size();
            std::vector<std::string> unknown;
            for (std::size_t i = 0; i < fields.size(); ++i) {
                const auto name = ascii::to_lower(trim(fields[i]));
                const int idx = static_cast<int>(i);
                if (name == "source_user") col_src = idx;
                else if (name == "dest_user") col_dst = idx;
                else if (name == "source_password") col_spw = idx;
                else if (name == "dest_password") col_dpw = idx;
                else unknown.push_back(name);
            }
            if (col_src < 0) {
                // Not a header: likely a data line, whose fields may be passwords, so none is quoted.
                out.errors.push_back({l.number, "header has no source_user column (the first line must be the "
                                                "header source_user,dest_user[,source_password,dest_password])"});
                return;
            }
            for (const auto& name : unknown) {
                out.errors.push_back({l.number, fmt::format("unknown column '{}' in header (known: source_user, "
                                                            "dest_user, source_password, dest_password)", name)});
            }
            continue;
        }
        if (fields.size() != ncols) {
            out.errors.push_back({l.number, fmt::format("expected {} fields as in the header, found {}", ncols, fields.size())});
            continue;
        }
        account_pair p;
        p.line = l.number;
        p.source_user = fields[static_cast<std::size_t>(col_src)];
        p.dest_user = col_dst >= 0 ? fields[static_cast<std::size_t>(col_dst)] : p.source_user;
        if (p.dest_user.empty()) p.dest_user = p.source_user;
        if (col_spw >= 0) p.source_password = secret_string(fields[static_cast<std::size_t>(col_spw)]);
        if (col_dpw >= 0) p.dest_password = secret_string(fields[static_cast<std::size_t>(col_dpw)]);
        // Wipe the copies left in the field vector now rather than at the next line.
        for (auto& f : fields) std::fill(f.begin(), f.end(), '\0');
        if (!valid_user(p.source_user) || !valid_user(p.dest_user)) {
            out.errors.push_back({l.number, "source_user and dest_user must be non-empty and contain no spaces"});
            continue;
        }
        out.accounts.push_back(std::move(p));
    }
}

void parse_addresses(const std::vector<line_view>& lines, account_list& out) {
    for (const auto& l : lines) {
        if (is_comment_or_blank(l.text)) continue;
        const auto a = trim(l.text);
        if (!valid_user(a) || a.find(',') != std::string_view::npos) {
            // Only the first word is quoted: what follows it may be a password.
            const auto first = a.substr(0, a.find_first_of(" \t,;"));
            out.errors.push_back({l.number, fmt::format("expected one address per line, found more after '{}'",
                                                        first)});
            continue;
        }
        account_pair p;
        p.source_user = p.dest_user = std::string(a);
        p.line = l.number;
        out.accounts.push_back(std::move(p));
    }
}

}  // namespace

std::string_view to_string(account_format f) noexcept {
    switch (f) {
    case account_format::detect: return "detect";
    case account_format::imapsync: return "imapsync";
    case account_format::csv: return "csv";
    case account_format::address_list: return "address-list";
    }
    return "?";
}

account_list parse_account_list(std::string_view text, account_format format) {
    account_list out;
    const auto lines = split_lines(text);
    out.format = format == account_format::detect ? detect(lines) : format;
    switch (out.format) {
    case account_format::imapsync: parse_imapsync(lines, out); break;
    case account_format::csv: parse_csv(lines, out); break;
    case account_format::address_list:
    case account_format::detect: parse_addresses(lines, out); break;
    }
    std::unordered_map<std::string, std::size_t> seen;
    for (const auto& p : out.accounts) {
        const auto [it, fresh] = seen.emplace(ascii::to_lower(p.source_user), p.line);
        if (!fresh) {
            out.errors.push_back({p.line, fmt::format("source user '{}' already listed on line {}", p.source_user, it->second)});
        }
    }
    std::sort(out.errors.begin(), out.errors.end(), [](const auto& a, const auto& b) { return a.line < b.line; });
    return out;
}

account_list load_account_list(const std::string& path, account_format format) {
    // stdio rather than istreambuf_iterator: g++ 12 -O3 flags the latter under -Wnull-dereference.
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error(fmt::format("cannot read accounts file {}: {}", path, std::strerror(errno)));
    std::string text;
    char buf[64 * 1024];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed) throw std::runtime_error(fmt::format("cannot read accounts file {}", path));
    auto list = parse_account_list(text, format);
    std::fill(text.begin(), text.end(), '\0');
    if (!list.ok()) {
        std::string msg = fmt::format("accounts file {} ({}) has {} error(s):", path, to_string(list.format), list.errors.size());
        std::size_t shown = 0;
        for (const auto& e : list.errors) {
            if (++shown > 20) {
                msg += "\n  ...";
                break;
            }
            msg += fmt::format("\n  {}:{}: {}", path, e.line, e.message);
        }
        throw std::runtime_error(msg);
    }
    if (list.accounts.empty()) throw std::runtime_error(fmt::format("accounts file {} lists no accounts", path));
    return list;
}

}  // namespace arrival::engine
