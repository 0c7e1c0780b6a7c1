#include "provision/rewrite_rules.hpp"

#include <fmt/format.h>

#include "protocol/take_line.hpp"
#include "provision/dn.hpp"

namespace arrival::provision {
namespace {

bool valid_domain(std::string_view d) {
    if (d.empty() || d.front() == '.' || d.back() == '.') return false;
    for (char c : d) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!ok) return false;
    }
    return d.find("..") == std::string_view::npos;
}

bool is_domain_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

// Replaces "@from" (case-insensitive, not followed by more domain characters) with "@to".
bool rename_addresses(std::string& v, const domain_rename& r) {
    bool changed = false;
    const std::string needle = "@" + r.from;
    std::size_t pos = 0;
    for (;;) {
        const std::string lower = to_lower(v);
        pos = lower.find(needle, pos);
        if (pos == std::string::npos) return changed;
        const std::size_t end = pos + needle.size();
        if (end < v.size() && is_domain_char(v[end])) {
            pos = end;
            continue;
        }
        v.replace(pos + 1, r.from.size(), r.to);
        pos += 1 + r.to.size();
        changed = true;
    }
}

// The DN with a suffix equal to `from` replaced by `to`; false when the DN is not at or under `from`.
bool rename_dn(const dn& d, const dn& from, const dn& to, dn& out) {
    const std::string nfrom = from.normalized();
    if (d.depth() < from.depth()) return false;
    dn suffix;
    suffix.rdns().assign(d.rdns().end() - static_cast<std::ptrdiff_t>(from.depth()), d.rdns().end());
    if (suffix.normalized() != nfrom) return false;
    out.rdns().assign(d.rdns().begin(), d.rdns().end() - static_cast<std::ptrdiff_t>(from.depth()));
    out.rdns().insert(out.rdns().end(), to.rdns().begin(), to.rdns().end());
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::string_view next_word(std::string_view& s) {
    s = trim(s);
    const auto sp = s.find_first_of(" \t");
    const auto w = s.substr(0, sp);
    s = sp == std::string_view::npos ? std::string_view{} : trim(s.substr(sp));
    return w;
}

}  // namespace

bool parse_domain_rename(std::string_view arg, domain_rename& out, std::string& error) {
    const auto eq = arg.find('=');
    if (eq == std::string_view::npos) {
        error = "--rename-domain expects OLD=NEW";
        return false;
    }
    out.from = to_lower(trim(arg.substr(0, eq)));
    out.to = to_lower(trim(arg.substr(eq + 1)));
    if (!valid_domain(out.from) || !valid_domain(out.to)) {
        error = fmt::format("--rename-domain {}: both sides must be domain names", arg);
        return false;
    }
    return true;
}

std::size_t rename_domains(directory_model& model, const std::vector<domain_rename>& renames) {
    struct prepared {
        domain_rename r;
        dn from, to;
    };
    std::vector<prepared> ps;
    for (const auto& r : renames) {
        prepared p{r, {}, {}};
        if (parse_dn(domain_dn(r.from), p.from) || parse_dn(domain_dn(r.to), p.to)) continue;
        ps.push_back(std::move(p));
    }
    return model.update_each([&](std::size_t, entry& e) {
        bool changed = false;
        dn name;
        if (parse_dn(e.dn(), name)) return false;
        rdn old_rdn = name.empty() ? rdn{} : name.rdns()[0];
        for (const auto& p : ps) {
            dn renamed;
            if (rename_dn(name, p.from, p.to, renamed)) {
                name = std::move(renamed);
                changed = true;
            }
        }
        if (changed) e.set_dn(name.str(), name.normalized());
        // The naming attribute's value follows a changed RDN (dc: old -> dc: acme).
        const rdn& new_rdn = name.empty() ? rdn{} : name.rdns()[0];
        std::vector<std::pair<std::string, std::pair<std::string, std::string>>> rdn_changes;
        if (changed && old_rdn.avas.size() == new_rdn.avas.size()) {
            for (std::size_t k = 0; k < old_rdn.avas.size(); ++k) {
                if (old_rdn.avas[k].value != new_rdn.avas[k].value) {
                    rdn_changes.push_back({old_rdn.avas[k].type, {old_rdn.avas[k].value, new_rdn.avas[k].value}});
                }
            }
        }
        bool values_changed = false;
        e.rewrite([&](std::string_view type, std::string_view value, std::string&, std::string& out) {
            for (const auto& [t, ov] : rdn_changes) {
                if (iequals(type, t) && iequals(value, ov.first)) {
                    out = ov.second;
                    values_changed = true;
                    return true;
                }
            }
            if (iequals(type, "userPassword")) return true;  // hashes are kept verbatim, never rewritten
            for (const auto& p : ps) {
                if (iequals(out, p.r.from)) {
                    out = p.r.to;
                    values_changed = true;
                    continue;
                }
                if (out.find('@') != std::string::npos && rename_addresses(out, p.r)) values_changed = true;
                if (to_lower(out).find("dc=") != std::string::npos) {
                    dn v, renamed;
                    if (!parse_dn(out, v) && rename_dn(v, p.from, p.to, renamed)) {
                        out = renamed.str();
                        values_changed = true;
                    }
                }
            }
            return true;
        });
        return changed || values_changed;
    });
}

std::string_view default_rules_text() noexcept {
    return "# Built-in rules: attributes that name the old servers. Carbonio's own tools set them when an\n"
           "# account is created through its API; when loading LDAP directly, set them for the new\n"
           "# servers in a rules file (e.g. `set zimbraMailHost mbox.acme.corp` and\n"
           "# `set zimbraMailTransport lmtp:mbox.acme.corp:7025`) or let Carbonio's admin tools fix them.\n"
           "drop zimbraMailHost\n"
           "drop zimbraMailTransport\n"
           "drop zimbraMailHostPool\n"
           "drop zimbraPublicServiceHostname\n"
           "drop zimbraLastLogonTimestamp\n";
}

rewrite_rules::rewrite_rules(bool use_defaults) {
    if (!use_defaults) return;
    std::string error;
    std::string_view text = default_rules_text();
    while (!text.empty()) {
        (void)add_line(take_line(text), "built-in", false, error);
    }
}

bool rewrite_rules::add_line(std::string_view line, std::string origin, bool user, std::string& error) {
    line = trim(line);
    if (line.empty() || line[0] == '#') return true;
    std::string_view rest = line;
    const auto verb = next_word(rest);
    attribute_rule r;
    r.origin = std::move(origin);
    if (verb == "drop") {
        r.act = attribute_rule::action::drop;
        r.attr = std::string(next_word(rest));
        if (r.attr.empty() || !rest.empty()) { error = r.origin + ": usage: drop ATTR"; return false; }
    } else if (verb == "set") {
        r.act = attribute_rule::action::set;
        r.attr = std::string(next_word(rest));
        r.to = std::string(rest);
        if (r.attr.empty() || r.to.empty()) { error = r.origin + ": usage: set ATTR VALUE"; return false; }
    } else if (verb == "replace") {
        r.act = attribute_rule::action::replace;
        r.attr = std::string(next_word(rest));
        r.from = std::string(next_word(rest));
        r.to = std::string(next_word(rest));
        if (r.attr.empty() || r.from.empty() || !rest.empty()) {
            error = r.origin + ": usage: replace ATTR OLD NEW";
            return false;
        }
    } else if (verb == "default") {
        r.act = attribute_rule::action::default_value;
        r.object_class = std::string(next_word(rest));
        r.attr = std::string(next_word(rest));
        r.to = std::string(rest);
        if (r.object_class.empty() || r.attr.empty() || r.to.empty()) {
            error = r.origin + ": usage: default CLASS ATTR VALUE";
            return false;
        }
    } else {
        error = r.origin + ": unknown rule '" + std::string(verb) + "' (drop, set, replace, default)";
        return false;
    }
    if (user) {
        std::erase_if(rules_, [&](const attribute_rule& x) { return x.origin == "built-in" && iequals(x.attr, r.attr); });
    }
    rules_.push_back(std::move(r));
    return true;
}

bool rewrite_rules::parse(std::string_view text, std::string_view file, std::string& error) {
    std::size_t n = 0;
    while (!text.empty()) {
        ++n;
        if (!add_line(take_line(text), fmt::format("{}:{}", file, n), true, error)) return false;
    }
    return true;
}

std::size_t rewrite_rules::apply(directory_model& model) const {
    if (rules_.empty()) return 0;
    return model.update_each([&](std::size_t, entry& e) {
        bool changed = false;
        std::vector<const attribute_rule*> defaults;
        for (const auto& r : rules_) {
            if (r.act == attribute_rule::action::default_value && e.has_class(r.object_class) && !e.has(r.attr)) {
                defaults.push_back(&r);
            }
        }
        std::vector<std::string> set_done;
        e.rewrite([&](std::string_view type, std::string_view value, std::string&, std::string& out) {
            for (const auto& r : rules_) {
                if (!iequals(base_type(type), r.attr)) continue;
                switch (r.act) {
                case attribute_rule::action::drop:
                    changed = true;
                    return false;
                case attribute_rule::action::set: {
                    // Keep one value (the first), replaced; drop the others.
                    for (const auto& s : set_done) {
                        if (iequals(s, type)) { changed = true; return false; }
                    }
                    set_done.emplace_back(type);
                    if (value != r.to) changed = true;
                    out = r.to;
                    break;
                }
                case attribute_rule::action::replace:
                    for (auto pos = out.find(r.from); pos != std::string::npos; pos = out.find(r.from, pos + r.to.size())) {
                        out.replace(pos, r.from.size(), r.to);
                        changed = true;
                    }
                    break;
                case attribute_rule::action::default_value:
                    break;
                }
            }
            return true;
        });
        for (const auto* r : defaults) {
            e.add(r->attr, r->to);
            changed = true;
        }
        return changed;
    });
}

rewrite_rules rewrite_rules::with_primary_names(const schema& s) const {
    rewrite_rules out(false);
    out.rules_ = rules_;
    for (auto& r : out.rules_) {
        if (const auto* a = s.attribute(r.attr); a != nullptr && !a->names.empty()) r.attr = a->names[0];
    }
    return out;
}

std::size_t skip_server_entries(directory_model& model, std::vector<problem>& out) {
    bool any = false;
    for (std::size_t i = 0; i < model.size() && !any; ++i) any = model.kind(i) == entry_kind::server;
    if (!any) return 0;  // the usual case, decided without reading an entry
    std::vector<std::string> skipped_roots;
    std::vector<bool> skip(model.size(), false);
    std::size_t n = 0;
    model.for_each([&](std::size_t i, const entry& e) {
        bool under = model.kind(i) == entry_kind::server;
        for (const auto& r : skipped_roots) {
            if (e.ndn().size() > r.size() && e.ndn().compare(e.ndn().size() - r.size(), r.size(), r) == 0 &&
                e.ndn()[e.ndn().size() - r.size() - 1] == ',') {
                under = true;
            }
        }
        if (!under) return;
        skip[i] = true;
        if (model.kind(i) == entry_kind::server) skipped_roots.push_back(e.ndn());
        problem p;
        p.level = problem::severity::warning;
        p.code = "skipped_server_entry";
        p.file = model.file(e.loc.file);
        p.line = e.loc.line;
        p.dn = e.dn();
        p.message = "skipped: belongs to the old servers (the destination has its own)";
        out.push_back(std::move(p));
        ++n;
    });
    model.erase(skip);
    return n;
}

}  // namespace arrival::provision
