#include "engine/mail/dest_profile.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include <fmt/format.h>

#include "protocol/ascii.hpp"
#include "protocol/imap/internal_date.hpp"

namespace arrival::engine {

namespace {

bool mentions_carbonio(std::string_view text) {
    const auto l = ascii::to_lower(text);
    return l.find("zimbra") != std::string::npos || l.find("carbonio") != std::string::npos;
}

bool mentions_cyrus(std::string_view text) { return ascii::to_lower(text).find("cyrus") != std::string::npos; }

// `ID NAME "Zimbra"` when the ID reply's name or vendor field is what `mentions` looks for; else empty.
std::string id_evidence(const server_identity& id, bool (*mentions)(std::string_view)) {
    for (const auto& [k, v] : id.id_fields) {
        const auto key = ascii::to_lower(k);
        if ((key == "name" || key == "vendor") && mentions(v)) return fmt::format("ID {} \"{}\"", k, v);
    }
    return {};
}

// UTF-16 code units of one UTF-8 sequence starting with byte `b` (Java counts names in these).
std::size_t utf16_units(unsigned char b) noexcept { return b >= 0xF0 ? 2 : 1; }
bool is_continuation(unsigned char b) noexcept { return (b & 0xC0) == 0x80; }

std::size_t utf16_length(std::string_view s) noexcept {
    std::size_t n = 0;
    for (unsigned char b : s) {
        if (!is_continuation(b)) n += utf16_units(b);
    }
    return n;
}

// The longest prefix of `s` of at most `units` UTF-16 units, cut between characters.
std::string_view utf16_prefix(std::string_view s, std::size_t units) noexcept {
    std::size_t n = 0, i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        const std::size_t w = utf16_units(b);
        if (n + w > units) break;
        n += w;
        ++i;
        while (i < s.size() && is_continuation(static_cast<unsigned char>(s[i]))) ++i;
    }
    return s.substr(0, i);
}

void trim_trailing(std::string& s) {
    // StringUtil.trimTrailingSpaces: everything <= ' '.
    while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.pop_back();
}

std::string_view trim_java_space(std::string_view s) {
    // ImapPath.isCreatable's \s: space, \t \n \x0B \f \r.
    auto sp = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    while (!s.empty() && sp(s.front())) s.remove_prefix(1);
    while (!s.empty() && sp(s.back())) s.remove_suffix(1);
    return s;
}

// Top-level names Carbonio keeps for its own non-mail folders: IMAP CREATE refuses them and what is below
// them (ImapPath.isCreatable); "Emailed Contacts" is its contacts folder 13 (FolderConstants), which IMAP
// hides (zimbraImapDisplayMailFoldersOnly), so a mail folder of that name could not be selected either.
constexpr std::array<std::string_view, 4> reserved_top = {"calendar", "contacts", "notebook", "emailed contacts"};
// Where the subfolders of a top-level Junk go (FACTS.md §6 SPECIAL-USE: Junk gets \NoInferiors).
constexpr std::string_view junk_children = "Junk folders";

struct level_result {
    std::string name;
    std::vector<std::string> reasons;
};

// One level under the carbonio rule (before the sibling-uniqueness step).
level_result carbonio_level(std::string_view level, bool top) {
    level_result r;
    if (top && ascii::to_lower(level) == "inbox") {
        r.name = "INBOX";
        return r;
    }
    std::string out;
    out.reserve(level.size());
    bool replaced = false;
    for (std::size_t i = 0; i < level.size(); ++i) {
        const auto b = static_cast<unsigned char>(level[i]);
        // U+FFFE and U+FFFF (EF BF BE/BF): StringUtil.stripControlCharacters refuses them too.
        if (b == 0xEF && i + 2 < level.size() && static_cast<unsigned char>(level[i + 1]) == 0xBF &&
            (static_cast<unsigned char>(level[i + 2]) & 0xFE) == 0xBE) {
            out += '_';
            i += 2;
            replaced = true;
        } else if (b < 0x20 || b == 0x7f || b == ':' || b == '"' || b == '/') {
            out += '_';
            replaced = true;
        } else {
            out += static_cast<char>(b);
        }
    }
    if (replaced) r.reasons.emplace_back("': \" / TAB CR LF' and control characters are not allowed in Carbonio folder names");
    const auto before_trim = out.size();
    trim_trailing(out);
    if (out.size() != before_trim) r.reasons.emplace_back("Carbonio trims trailing spaces");
    if (out.empty()) {
        out = "_";
        r.reasons.emplace_back("nothing was left of the name");
    }
    if (out == "." || out == "..") {
        out = out == "." ? "_" : "__";
        r.reasons.emplace_back("'.' and '..' are reserved names");
    }
    if (utf16_length(out) > carbonio_max_name_length) {
        out = std::string(utf16_prefix(out, carbonio_max_name_length));
        trim_trailing(out);
        r.reasons.emplace_back("a Carbonio folder name has at most 255 characters");
    }
    if (top) {
        const auto core = ascii::to_lower(trim_java_space(out));
        if (std::find(reserved_top.begin(), reserved_top.end(), core) != reserved_top.end()) {
            out = std::string(utf16_prefix(out, carbonio_max_name_length - 7)) + " (mail)";
            r.reasons.emplace_back("Carbonio keeps this top-level name for its own calendar, contacts or notebook folder");
        }
    }
    r.name = std::move(out);
    return r;
}

// `base` with " (n)" so it fits 255 UTF-16 units.
std::string numbered(std::string_view base, unsigned n) {
    const auto suffix = fmt::format(" ({})", n);
    std::string out(utf16_prefix(base, carbonio_max_name_length - suffix.size()));
    trim_trailing(out);
    return out + suffix;
}

}  // namespace

std::string_view to_string(dest_profile_kind k) noexcept {
    switch (k) {
    case dest_profile_kind::generic: return "generic";
    case dest_profile_kind::carbonio: return "carbonio";
    case dest_profile_kind::cyrus: return "cyrus";
    }
    return "generic";
}

std::optional<dest_profile_choice> parse_dest_profile_choice(std::string_view s) noexcept {
    if (s == "auto") return dest_profile_choice::automatic;
    if (s == "generic") return dest_profile_choice::generic;
    if (s == "carbonio") return dest_profile_choice::carbonio;
    if (s == "cyrus") return dest_profile_choice::cyrus;
    return std::nullopt;
}

profile_detection detect_dest_profile(const server_identity& id) {
    profile_detection d;
    d.kind = dest_profile_kind::carbonio;
    d.evidence = id_evidence(id, mentions_carbonio);
    if (!d.evidence.empty()) return d;
    if (mentions_carbonio(id.greeting)) {
        d.evidence = fmt::format("greeting \"{}\"", id.greeting);
        return d;
    }
    for (const auto& c : id.capabilities) {
        const auto l = ascii::to_lower(c);
        if (l.rfind("x-zimbra", 0) == 0 || l.rfind("x-carbonio", 0) == 0) {
            d.evidence = fmt::format("capability {}", c);
            return d;
        }
    }
    d.kind = dest_profile_kind::cyrus;
    d.evidence = id_evidence(id, mentions_cyrus);
    if (!d.evidence.empty()) return d;
    if (ascii::to_lower(id.greeting).find("cyrus imap") != std::string::npos) {
        d.evidence = fmt::format("greeting \"{}\"", id.greeting);
        return d;
    }
    return {};
}

profile_detection resolve_dest_profile(dest_profile_choice choice, const server_identity& id) {
    switch (choice) {
    case dest_profile_choice::generic: return {dest_profile_kind::generic, "--dest-profile generic"};
    case dest_profile_choice::carbonio: return {dest_profile_kind::carbonio, "--dest-profile carbonio"};
    case dest_profile_choice::cyrus: return {dest_profile_kind::cyrus, "--dest-profile cyrus"};
    case dest_profile_choice::automatic: break;
    }
    return detect_dest_profile(id);
}

dest_profile dest_profile::make(dest_profile_kind kind, std::optional<std::uint64_t> append_limit, std::optional<std::uint64_t> option) {
    dest_profile p;
    p.kind = kind;
    if (append_limit && *append_limit > 0) {
        p.max_message_size = append_limit;
        p.max_from_appendlimit = true;
    } else if (option) {
        p.max_message_size = option;
    } else if (kind == dest_profile_kind::carbonio) {
        p.max_message_size = carbonio_max_message_size;
    }
    return p;
}

std::optional<std::int64_t> internaldate_epoch(std::string_view s) {
    // As FETCHed or written in a command: the quotes and a leading space of a one-digit day are optional.
    while (!s.empty() && s.front() == '"') s.remove_prefix(1);
    if (!s.empty() && s.back() == '"') s.remove_suffix(1);
    imap::internal_date d;
    if (imap::parse_internal_date(s, d)) return std::nullopt;
    return d.to_unix();
}

message_decision decide_message(const dest_profile& p, std::uint64_t size, std::string_view internaldate) {
    message_decision d;
    const bool carbonio = p.kind == dest_profile_kind::carbonio, cyrus = p.kind == dest_profile_kind::cyrus;
    if ((carbonio || cyrus) && size == 0) {
        d.what = message_decision::action::empty;   // AppendMessage.checkContent; Cyrus: "Zero-length message literal"
        return d;
    }
    if (p.max_message_size && size > *p.max_message_size) {
        d.what = message_decision::action::too_large;
        return d;
    }
    if ((carbonio || cyrus) && !internaldate.empty()) {
        const auto t = internaldate_epoch(internaldate);
        d.drop_internaldate = t && (carbonio ? *t > carbonio_last_internaldate : *t < 0);
    }
    return d;
}

body_literal choose_body_literal(dest_profile_kind kind, bool contains_nul, bool server_has_binary) noexcept {
    if (!contains_nul) return body_literal::plain;
    if (server_has_binary) return body_literal::binary;
    return kind == dest_profile_kind::cyrus ? body_literal::refused : body_literal::plain;
}

namespace {
constexpr std::int64_t first_plausible_date = 365 * 86400;   // 1971-01-01: "01-Jan-1970" means "lost"
constexpr std::int64_t future_slack = 86400;                 // clocks and zones disagree by hours, not days

// Empty when `t` can be sent to this destination, else why not.
std::string date_problem(const dest_profile& p, std::int64_t t, std::int64_t now) {
    if (t < first_plausible_date) return "before 1971 (a lost date)";
    if (t > now + future_slack) return "in the future";
    if (p.kind == dest_profile_kind::carbonio && t > carbonio_last_internaldate)
        return "after 2038-01-19, which Carbonio refuses";
    return {};
}
}  // namespace

std::string_view to_string(append_date::source s) noexcept {
    switch (s) {
        case append_date::source::internaldate: return "internaldate";
        case append_date::source::date_header: return "date_header";
        case append_date::source::none: return "none";
    }
    return "none";
}

bool internaldate_usable_anywhere(std::string_view internaldate, std::int64_t now) {
    dest_profile strictest;
    strictest.kind = dest_profile_kind::carbonio;
    const auto t = internaldate_epoch(internaldate);
    return t && date_problem(strictest, *t, now).empty();
}

append_date choose_append_date(const dest_profile& p, std::string_view internaldate,
                               std::optional<std::int64_t> header_date, std::int64_t now) {
    append_date out;
    if (internaldate.empty()) {
        out.reason = "no INTERNALDATE";
    } else if (const auto t = internaldate_epoch(internaldate); !t) {
        out.reason = fmt::format("INTERNALDATE '{}' is not an IMAP date-time", internaldate);
    } else if (std::string why = date_problem(p, *t, now); !why.empty()) {
        out.reason = fmt::format("INTERNALDATE {} is {}", internaldate, why);
    } else {
        out.date = std::string(internaldate);
        return out;
    }
    if (header_date && date_problem(p, *header_date, now).empty()) {
        out.from = append_date::source::date_header;
        out.date = imap::format_internal_date(imap::internal_date::from_unix(*header_date));
        return out;
    }
    out.from = append_date::source::none;
    if (header_date) out.reason += fmt::format("; the Date field is {}", date_problem(p, *header_date, now));
    else out.reason += "; no usable Date field";
    return out;
}

std::vector<adapted_path> adapt_folder_paths(dest_profile_kind kind, const std::vector<std::vector<std::string>>& paths) {
    std::vector<adapted_path> out(paths.size());
    if (kind != dest_profile_kind::carbonio) {
        for (std::size_t i = 0; i < paths.size(); ++i) out[i].levels = paths[i];
        return out;
    }
    // Every folder and every parent on the way to one, by source levels; a map sorts parents first and
    // siblings in source-name order, which makes the numbering below independent of the input's order.
    using levels = std::vector<std::string>;
    struct node {
        level_result own;
        levels mapped;   // the node's mapped path
    };
    std::map<levels, node> nodes;
    std::size_t depth = 0;
    for (const auto& p : paths) {
        depth = std::max(depth, p.size());
        for (std::size_t n = 1; n <= p.size(); ++n) nodes.try_emplace(levels(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n)));
    }
    for (std::size_t d = 1; d <= depth; ++d) {
        // (mapped parent, lower-case name) -> taken. Names the rule leaves alone are placed first, so a source
        // folder never loses its own name to another one's rename.
        std::set<std::pair<levels, std::string>> taken;
        std::vector<std::pair<const levels*, node*>> renamed;
        for (auto& [src, n] : nodes) {
            if (src.size() != d) continue;
            n.own = carbonio_level(src.back(), d == 1);
            n.mapped = d == 1 ? levels{} : nodes.at(levels(src.begin(), src.end() - 1)).mapped;
            if (n.mapped.size() == 1 && ascii::to_lower(n.mapped.front()) == "junk") {
                // Carbonio's Junk has \NoInferiors (Folder.canContain refuses subfolders of Spam): what the
                // source keeps below its junk folder goes below a folder of its own beside it.
                n.mapped = {std::string(junk_children)};
                n.own.reasons.emplace_back("Carbonio's Junk holds no subfolders (\\NoInferiors)");
            }
            if (n.own.name != src.back() || !taken.emplace(n.mapped, ascii::to_lower(n.own.name)).second) {
                renamed.emplace_back(&src, &n);
                continue;
            }
            n.mapped.push_back(n.own.name);
        }
        for (auto [src, n] : renamed) {
            std::string name = n->own.name;
            for (unsigned k = 2; !taken.emplace(n->mapped, ascii::to_lower(name)).second; ++k) name = numbered(n->own.name, k);
            if (name != n->own.name) n->own.reasons.emplace_back("numbered to stay apart from a sibling of the same name");
            n->mapped.push_back(std::move(name));
        }
    }
    for (std::size_t i = 0; i < paths.size(); ++i) {
        if (paths[i].empty()) continue;
        const auto& n = nodes.at(paths[i]);
        out[i].levels = n.mapped;
        if (n.mapped == paths[i]) continue;
        // The reasons of the first level that changed: a child renamed only because its parent was says so.
        std::string why;
        for (std::size_t k = 1; k <= paths[i].size(); ++k) {
            const levels prefix(paths[i].begin(), paths[i].begin() + static_cast<std::ptrdiff_t>(k));
            const auto& a = nodes.at(prefix);
            if (a.mapped == prefix) continue;
            for (const auto& r : a.own.reasons) why += (why.empty() ? "" : "; ") + r;
            if (k < paths[i].size()) why = fmt::format("its parent '{}' was renamed: {}", paths[i][k - 1], why);
            break;
        }
        out[i].note = fmt::format("renamed for Carbonio: {}", why);
    }
    return out;
}

std::vector<std::string> adapt_flags(dest_profile_kind kind, std::string_view mailbox, const std::vector<std::string>& source_flags,
                                     const permanent_flags& dest, std::vector<flag_change>& changes) {
    auto flags = map_flags(source_flags, dest, changes, kind);
    if (kind != dest_profile_kind::carbonio) return flags;
    // The first line of an APPEND: tag, command, the mailbox (quoted or modified UTF-7: at most twice its
    // UTF-8 length), the flag list, the date and the literal's announcement.
    std::size_t line = 64 + 2 * mailbox.size() + 2;
    std::vector<std::string> kept;
    for (auto& f : flags) {
        if (line + f.size() + 1 >= carbonio_max_request_line) {
            changes.push_back({f, "", "the APPEND command line would reach Carbonio's 10,240-byte limit"});
            continue;
        }
        line += f.size() + 1;
        kept.push_back(std::move(f));
    }
    return kept;
}

// ---- append_guard ----

std::uint64_t signature_hash(const append_signature& sig) {
    // FNV-1a over the fields with separators; a collision only makes the guard more careful.
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&](std::string_view s) {
        for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    };
    mix(sig.mailbox);
    for (const auto& m : sig.messages) {
        mix(m.date);
        for (const auto& f : m.flags) mix(f);
        mix(std::to_string(m.size));
    }
    return h;
}

bool append_guard::needs_noop_before_command() const noexcept {
    return kind_ == dest_profile_kind::carbonio && errors_ >= carbonio_max_consecutive_errors - 1;
}

bool append_guard::used_up(std::uint64_t key, clock::time_point now) const {
    if (kind_ != dest_profile_kind::carbonio) return false;
    const auto it = sent_.find(key);
    if (it == sent_.end()) return false;
    const auto n = std::count_if(it->second.begin(), it->second.end(), [&](clock::time_point t) { return now - t < carbonio_throttle_window; });
    return n >= carbonio_identical_command_limit;
}

void append_guard::record(std::uint64_t key, clock::time_point now) {
    if (kind_ != dest_profile_kind::carbonio) return;
    // Forget what left the window, everywhere, so the history stays as small as five minutes of commands.
    for (auto it = sent_.begin(); it != sent_.end();) {
        auto& q = it->second;
        while (!q.empty() && now - q.front() >= carbonio_throttle_window) q.pop_front();
        it = q.empty() ? sent_.erase(it) : std::next(it);
    }
    sent_[key].push_back(now);
}

std::size_t append_guard::sent_recently(const append_signature& sig, clock::time_point now) const {
    const auto it = sent_.find(signature_hash(sig));
    if (it == sent_.end()) return 0;
    return static_cast<std::size_t>(
        std::count_if(it->second.begin(), it->second.end(), [&](clock::time_point t) { return now - t < carbonio_throttle_window; }));
}

append_guard::plan_result append_guard::plan(const std::string& mailbox, const std::vector<append_signature::message>& messages,
                                             bool whole, clock::time_point now) const {
    plan_result out;
    out.deferred_from = messages.size();
    append_guard sim = *this;
    auto signature = [&](std::size_t from, std::size_t to) {
        append_signature s;
        s.mailbox = mailbox;
        s.messages.assign(messages.begin() + static_cast<std::ptrdiff_t>(from), messages.begin() + static_cast<std::ptrdiff_t>(to));
        return s;
    };
    auto emit = [&](std::size_t from, std::size_t to) {
        if (sim.needs_noop_before_command()) {
            out.steps.push_back({true, 0, 0});
            sim.on_noop_ok();
        }
        out.steps.push_back({false, from, to});
        sim.on_append(signature(from, to), false, now);   // the worst case: every command refused
    };
    if (messages.empty()) return out;
    if (whole && !sim.used_up(signature_hash(signature(0, messages.size())), now)) {
        emit(0, messages.size());
        return out;
    }
    for (std::size_t i = 0; i < messages.size();) {
        std::size_t j = i + 1;
        while (j <= messages.size() && sim.used_up(signature_hash(signature(i, j)), now)) ++j;
        if (j > messages.size()) {
            // Nothing fresh ahead: the previous command may take the rest (a list no command had yet).
            const bool extend = !out.steps.empty() && !out.steps.back().noop && out.steps.back().to == i &&
                                !sim.used_up(signature_hash(signature(out.steps.back().from, messages.size())), now);
            if (extend) {
                out.steps.back().to = messages.size();
                sim.on_append(signature(out.steps.back().from, messages.size()), false, now);
            } else {
                out.deferred_from = i;
            }
            break;
        }
        emit(i, j);
        i = j;
    }
    return out;
}

void append_guard::on_append(const append_signature& sig, bool ok, clock::time_point now) {
    record(signature_hash(sig), now);
    errors_ = ok ? 0 : errors_ + 1;
}

void append_guard::on_noop_ok() { errors_ = 0; }

void append_guard::on_other(bool ok) { errors_ = ok ? 0 : errors_ + 1; }

}  // namespace arrival::engine
