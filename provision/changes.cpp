#include "provision/changes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <unordered_map>

#include "provision/dn.hpp"

namespace arrival::provision {
namespace {

bool before(const source_location& a, const source_location& b) {
    return a.file != b.file ? a.file < b.file : a.line < b.line;
}

std::string_view change_word(change_type t) {
    switch (t) {
    case change_type::modify: return "modify";
    case change_type::del: return "delete";
    case change_type::modrdn: return "modrdn";
    default: return "add";
    }
}

bool same_value(std::string_view a, std::string_view b) { return a == b; }

}  // namespace

bool apply_mods(entry& e, const std::vector<ldif_mod>& mods, std::string& error) {
    for (const auto& m : mods) {
        switch (m.op) {
        case mod_op::add:
            for (const auto& v : m.values) {
                bool present = false;
                for (std::size_t i = 0; i < e.size() && !present; ++i) {
                    present = iequals(e[i].type, m.type) && same_value(e[i].value, v.value);
                }
                if (!present) e.add(m.type, v.value);
            }
            break;
        case mod_op::del:
            if (m.values.empty()) {
                e.remove(m.type);
                break;
            }
            e.rewrite([&](std::string_view t, std::string_view value, std::string&, std::string&) {
                if (!iequals(t, m.type)) return true;
                for (const auto& v : m.values) {
                    if (same_value(value, v.value)) return false;
                }
                return true;
            });
            break;
        case mod_op::replace:
            e.remove(m.type);
            for (const auto& v : m.values) e.add(m.type, v.value);
            break;
        case mod_op::increment: {
            long long delta = 0, current = 0;
            const auto dv = m.values.empty() ? std::string_view{} : std::string_view(m.values[0].value);
            const auto cv = e.first(m.type);
            if (m.values.size() != 1 || std::from_chars(dv.data(), dv.data() + dv.size(), delta).ec != std::errc{}) {
                error = fmt::format("increment: {} needs one integer value", m.type);
                return false;
            }
            if (cv.empty() || std::from_chars(cv.data(), cv.data() + cv.size(), current).ec != std::errc{}) {
                error = fmt::format("increment: the entry has no integer {}", m.type);
                return false;
            }
            e.set(m.type, std::to_string(current + delta));
            break;
        }
        }
    }
    return true;
}

bool modrdn_target(const change_record& c, std::string& dn_text, std::string& ndn, std::string& error) {
    dn old, nr, parent;
    if (parse_dn(c.dn, old) || old.empty()) {
        error = "the DN does not parse";
        return false;
    }
    if (parse_dn(c.new_rdn, nr) || nr.depth() != 1) {
        error = fmt::format("newrdn {} is not one RDN", c.new_rdn);
        return false;
    }
    if (c.new_superior) {
        if (parse_dn(*c.new_superior, parent)) {
            error = fmt::format("newsuperior {} does not parse", *c.new_superior);
            return false;
        }
    } else {
        parent = old.parent();
    }
    const dn target = parent.child(nr.rdns()[0]);
    dn_text = target.str();
    ndn = target.normalized();
    return true;
}

change_stats apply_changes(directory_model& model, std::vector<problem>& out) {
    change_stats st;
    // Entries deleted so far are only marked (dead) and leave the model at the end, so indexes stay put.
    std::vector<bool> dead(model.size(), false);
    auto live = [&](std::string_view ndn) -> std::optional<std::size_t> {
        const auto i = model.find(ndn);
        return i && !dead[*i] ? i : std::nullopt;
    };
    std::unordered_map<std::string, source_location> deleted;
    for (const auto& d : model.deletes()) deleted.emplace(d.ndn, d.loc);
    auto where = [&](const source_location& l) { return fmt::format("{}:{}", model.file(l.file), l.line); };
    auto report = [&](const change_record& c, std::string code, std::string message) {
        problem p;
        p.code = std::move(code);
        p.file = model.file(c.loc.file);
        p.line = c.loc.line;
        p.dn = c.dn;
        p.message = std::move(message);
        out.push_back(std::move(p));
    };

    bool any = false;
    entry e;
    for (auto& c : model.changes()) {
        if (c.resolved) continue;
        const auto found = live(c.ndn);
        if (!found) {
            if (const auto d = deleted.find(c.ndn); d != deleted.end() && c.type != change_type::del) {
                report(c, "change_of_deleted", fmt::format("changetype: {} of an entry deleted at {}",
                                                           change_word(c.type), where(d->second)));
                c.resolved = true;
                continue;
            }
            if (c.type == change_type::del) {
                // Not in the input: online it is deleted from the destination (absent: unchanged).
                model.deletes().push_back({c.dn, c.ndn, c.loc});
                deleted.emplace(c.ndn, c.loc);
                c.resolved = true;
                ++st.applied;
                any = true;
                continue;
            }
            if (c.type == change_type::modrdn) {
                // Already renamed in the input (an export taken after the rename): nothing to apply here,
                // but the destination may still have the old DN, which the writer renames.
                std::string text, target, error;
                if (modrdn_target(c, text, target, error)) {
                    if (const auto t = live(target)) {
                        model.at(*t, e);
                        if (e.renamed_from.empty()) {
                            e.renamed_from = c.dn;
                            model.replace(*t, e);
                        }
                        c.resolved = true;
                        ++st.applied;
                    }
                }
            }
            continue;
        }
        const std::size_t idx = *found;
        model.at(idx, e);
        if (c.type == change_type::del && before(c.loc, e.loc) && !deleted.count(c.ndn)) {
            // Delete, then the entry's record again: the record replaces whatever the destination has.
            e.replaces = true;
            model.replace(idx, e);
            deleted.emplace(c.ndn, c.loc);
            c.resolved = true;
            ++st.applied;
            continue;
        }
        if (before(c.loc, e.loc)) {
            report(c, "change_order", fmt::format("changetype: {} comes before the entry's own record at {}",
                                                  change_word(c.type), where(e.loc)));
            c.resolved = true;
            continue;
        }
        c.resolved = true;
        ++st.applied;
        any = true;
        switch (c.type) {
        case change_type::modify: {
            std::string error;
            // An increment of the destination's own value would add the delta again on every rerun (the
            // value read back is already incremented): refused, so a rerun stays a no-op. Of an entry the
            // input carries it is fine: it applies to the input's value, the same each run.
            const bool increments = std::any_of(c.mods.begin(), c.mods.end(),
                                                [](const ldif_mod& m) { return m.op == mod_op::increment; });
            if (e.from_server && increments) {
                report(c, "increment_not_idempotent",
                       "changetype: modify: increment of an entry that is only on the destination would add again on "
                       "every rerun; use replace: with the value wanted");
                break;
            }
            if (!apply_mods(e, c.mods, error)) report(c, "bad_change", error);
            // Problems the validator finds in the end state (a required attribute removed) point here.
            e.loc = c.loc;
            model.replace(idx, e);
            break;
        }
        case change_type::del:
            dead[idx] = true;
            model.deletes().push_back({c.dn, c.ndn, c.loc});
            deleted.emplace(c.ndn, c.loc);
            break;
        case change_type::modrdn: {
            std::string text, target, error;
            if (!modrdn_target(c, text, target, error)) {
                report(c, "bad_change", "modrdn: " + error);
                break;
            }
            if (target != c.ndn) {
                if (const auto t = live(target)) {
                    report(c, "modrdn_target_exists", fmt::format("modrdn onto {}, which the input already has at {}",
                                                                  text, where(model.at(*t).loc)));
                    break;
                }
            }
            dn old, moved;
            (void)parse_dn(c.dn, old);
            (void)parse_dn(text, moved);
            const auto& old_avas = old.rdns()[0].avas;
            const auto& new_avas = moved.rdns()[0].avas;
            auto in_new = [&](std::string_view t, std::string_view v) {
                for (const auto& a : new_avas) {
                    if (iequals(a.type, t) && normalize_value(a.value) == normalize_value(v)) return true;
                }
                return false;
            };
            if (c.delete_old_rdn) {
                e.rewrite([&](std::string_view t, std::string_view v, std::string&, std::string&) {
                    for (const auto& a : old_avas) {
                        if (iequals(a.type, t) && normalize_value(a.value) == normalize_value(v) && !in_new(t, v)) {
                            return false;
                        }
                    }
                    return true;
                });
            }
            for (const auto& a : new_avas) {
                bool has = false;
                for (auto v : e.values(a.type)) has = has || normalize_value(v) == normalize_value(a.value);
                if (!has) e.add(a.type, a.value);
            }
            if (e.renamed_from.empty()) e.renamed_from = e.dn();
            e.set_dn(text, target);
            e.loc = c.loc;
            model.replace(idx, e);
            // Everything under the entry moves with it (the server does the same for its subtree). A pass
            // over the model: modrdns are rare, and the subtree can be anywhere in the input.
            const std::string suffix = "," + c.ndn;
            for (std::size_t j = 0; j < model.size(); ++j) {
                if (dead[j] || j == idx || model.depth(j) <= old.depth()) continue;
                const std::string n = model.ndn(j);
                if (n.size() <= suffix.size() || n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0) {
                    continue;
                }
                entry child_entry = model.at(j);
                dn child;
                if (parse_dn(child_entry.dn(), child)) continue;
                dn renamed;
                renamed.rdns().assign(child.rdns().begin(),
                                      child.rdns().end() - static_cast<std::ptrdiff_t>(old.depth()));
                renamed.rdns().insert(renamed.rdns().end(), moved.rdns().begin(), moved.rdns().end());
                child_entry.set_dn(renamed.str(), renamed.normalized());
                model.replace(j, child_entry);
            }
            break;
        }
        default:
            break;
        }
    }
    for (const auto& c : model.changes()) st.unresolved += !c.resolved;
    if (!any) return st;

    if (!deleted.empty()) {
        model.for_each([&](std::size_t i, const entry& x) {
            if (dead[i]) return;
            for (auto p = parent_ndn(x.ndn()); !p.empty(); p = parent_ndn(p)) {
                const auto d = deleted.find(std::string(p));
                if (d == deleted.end()) continue;
                problem pr;
                pr.code = "deleted_parent";
                pr.file = model.file(x.loc.file);
                pr.line = x.loc.line;
                pr.dn = x.dn();
                pr.message = fmt::format("its ancestor {} is deleted at {}", p, where(d->second));
                out.push_back(std::move(pr));
                break;
            }
        });
    }
    model.erase(dead);
    return st;
}

}  // namespace arrival::provision
