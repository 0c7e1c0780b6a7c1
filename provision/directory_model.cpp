#include "provision/directory_model.hpp"

#include <algorithm>
#include <numeric>

#include "provision/dn.hpp"
#include "provision/problem.hpp"

namespace arrival::provision {

std::string format_problem(const problem& p) {
    std::string out;
    if (!p.file.empty()) {
        out += p.file;
        if (p.line != 0) {
            out.push_back(':');  // not `":" + to_string()`: g++ 12 -O3 warns (-Wrestrict) on that, wrongly
            out += std::to_string(p.line);
        }
        out += ": ";
    }
    if (!p.dn.empty()) out += p.dn + ": ";
    out += p.message;
    return out;
}

std::string_view to_string(entry_kind k) noexcept {
    switch (k) {
    case entry_kind::base: return "base";
    case entry_kind::domain: return "domain";
    case entry_kind::cos: return "cos";
    case entry_kind::account: return "account";
    case entry_kind::alias: return "alias";
    case entry_kind::distribution_list: return "distribution_list";
    case entry_kind::dynamic_group: return "dynamic_group";
    case entry_kind::signature: return "signature";
    case entry_kind::account_child: return "account_child";
    case entry_kind::server: return "server";
    case entry_kind::person: return "person";
    case entry_kind::group: return "group";
    case entry_kind::other: return "other";
    }
    return "other";
}

entry_kind classify(const entry& e) noexcept {
    bool person = false, group = false, container = false;
    for (std::size_t i = 0; i < e.size(); ++i) {
        const auto av = e[i];
        if (!iequals(av.type, "objectClass")) continue;
        const auto oc = av.value;
        if (iequals(oc, "zimbraDomain")) return entry_kind::domain;
        if (iequals(oc, "zimbraCOS")) return entry_kind::cos;
        if (iequals(oc, "zimbraAccount") || iequals(oc, "zimbraCalendarResource")) return entry_kind::account;
        if (iequals(oc, "zimbraAlias")) return entry_kind::alias;
        if (iequals(oc, "zimbraDistributionList")) return entry_kind::distribution_list;
        if (iequals(oc, "zimbraGroup")) return entry_kind::dynamic_group;
        if (iequals(oc, "zimbraSignature")) return entry_kind::signature;
        if (iequals(oc, "zimbraIdentity") || iequals(oc, "zimbraDataSource") ||
            iequals(oc, "zimbraPop3DataSource") || iequals(oc, "zimbraImapDataSource")) {
            return entry_kind::account_child;
        }
        if (iequals(oc, "zimbraServer") || iequals(oc, "zimbraGlobalConfig") || iequals(oc, "zimbraMimeEntry") ||
            iequals(oc, "zimbraZimletEntry") || iequals(oc, "zimbraXMPPComponent") ||
            iequals(oc, "zimbraAlwaysOnCluster") || iequals(oc, "zimbraUCService") ||
            iequals(oc, "zimbraShareLocator")) {
            return entry_kind::server;
        }
        if (iequals(oc, "inetOrgPerson") || iequals(oc, "posixAccount")) person = true;
        if (iequals(oc, "groupOfNames") || iequals(oc, "groupOfUniqueNames")) group = true;
        if (iequals(oc, "organizationalUnit") || iequals(oc, "organization") || iequals(oc, "dcObject") ||
            iequals(oc, "organizationalRole") || iequals(oc, "domain")) {
            container = true;
        }
    }
    if (person) return entry_kind::person;
    if (group) return entry_kind::group;
    if (container) return entry_kind::base;
    return entry_kind::other;
}

std::uint32_t directory_model::add_file(std::string name) {
    files_.push_back(std::move(name));
    return static_cast<std::uint32_t>(files_.size() - 1);
}

directory_model::meta directory_model::describe(const entry& e) {
    const auto d = ndn_depth(e.ndn());
    return {text_hash(e.ndn()), static_cast<std::uint16_t>(std::min<std::size_t>(d, 0xffff)), classify(e)};
}

void directory_model::add(const entry& e) {
    store_.push_back(e);
    meta_.push_back(describe(e));
    index_one(meta_.size() - 1);
}

entry directory_model::at(std::size_t i) const {
    entry e;
    store_.get(i, e);
    return e;
}

void directory_model::replace(std::size_t i, const entry& e) {
    const auto m = describe(e);
    const bool moved = m.ndn_hash != meta_.at(i).ndn_hash;
    if (moved) unindex_one(i);
    meta_[i] = m;
    store_.set(i, e);
    if (moved) index_one(i);
}

void directory_model::index_one(std::size_t i) { by_ndn_.emplace(meta_[i].ndn_hash, static_cast<std::uint32_t>(i)); }

void directory_model::unindex_one(std::size_t i) {
    auto [it, end] = by_ndn_.equal_range(meta_[i].ndn_hash);
    for (; it != end; ++it) {
        if (it->second == i) {
            by_ndn_.erase(it);
            return;
        }
    }
}

std::optional<std::size_t> directory_model::find(std::string_view ndn) const {
    // Candidates share the hash; the DN itself is read back to rule out a collision.
    std::optional<std::size_t> best;
    auto [it, end] = by_ndn_.equal_range(text_hash(ndn));
    for (; it != end; ++it) {
        if (best && *best < it->second) continue;
        if (store_.ndn(it->second) == ndn) best = it->second;
    }
    return best;
}

void directory_model::reindex() {
    by_ndn_.clear();
    for (std::size_t i = 0; i < meta_.size(); ++i) index_one(i);
}

void directory_model::erase(const std::vector<bool>& drop) {
    std::size_t to = 0;
    for (std::size_t i = 0; i < meta_.size(); ++i) {
        if (!drop.at(i)) meta_[to++] = meta_[i];
    }
    meta_.resize(to);
    store_.erase(drop);
    reindex();
}

std::string domain_of(std::string_view address) {
    const auto at = address.rfind('@');
    if (at == std::string_view::npos) return {};
    return to_lower(address.substr(at + 1));
}

std::string domain_dn(std::string_view domain) {
    std::string out;
    while (!domain.empty()) {
        const auto dot = domain.find('.');
        if (!out.empty()) out.push_back(',');
        out += "dc=" + escape_dn_value(domain.substr(0, dot));
        domain = dot == std::string_view::npos ? std::string_view{} : domain.substr(dot + 1);
    }
    return out;
}

void directory_model::add_base_entries() {
    std::vector<entry> extra;
    std::unordered_map<std::string, bool> planned;
    auto want = [&](const std::string& text, auto&& fill) {
        std::string ndn;
        if (normalize_dn(text, ndn)) return;
        if (contains(ndn) || planned.count(ndn)) return;
        planned[ndn] = true;
        entry e;
        e.set_dn(text, ndn);
        e.create_only = true;
        fill(e);
        extra.push_back(std::move(e));
    };
    auto role = [](std::string cn, std::string description) {
        return [cn = std::move(cn), description = std::move(description)](entry& e) {
            e.add("objectClass", "organizationalRole");
            e.add("cn", cn);
            if (!description.empty()) e.add("description", description);
        };
    };
    // What Carbonio's installer creates (zimbra.ldif bootstrap) and provisioning needs as parents.
    want("cn=zimbra", role("zimbra", "Zimbra Systems Application Data"));
    want("cn=admins,cn=zimbra", role("admins", "admin accounts"));
    want("cn=appaccts,cn=zimbra", role("appaccts", "application accounts"));
    want("cn=cos,cn=zimbra", role("cos", "Class of Service"));
    want("cn=servers,cn=zimbra", role("servers", "servers"));
    want("cn=groups,cn=zimbra", role("groups", "dynamic groups base"));

    const std::size_t input = size();
    for (std::size_t i = 0; i < input; ++i) {
        if (kind(i) != entry_kind::domain) continue;
        const entry d = at(i);
        // Ancestors: dc=com for dc=acme,dc=com (dcObject + organization, as Carbonio creates them).
        dn parsed;
        if (parse_dn(d.dn(), parsed)) continue;
        for (dn p = parsed.parent(); !p.empty(); p = p.parent()) {
            const auto& a = p.rdns()[0].avas;
            if (a.size() != 1 || !iequals(a[0].type, "dc")) break;
            const std::string value = a[0].value;
            want(p.str(), [&](entry& e) {
                e.add("objectClass", "dcObject");
                e.add("objectClass", "organization");
                e.add("dc", value);
                e.add("o", value);
            });
        }
        want("ou=people," + d.dn(), [](entry& e) {
            e.add("objectClass", "organizationalRole");
            e.add("ou", "people");
            e.add("cn", "people");
        });
        want("cn=groups," + d.dn(), role("groups", ""));
    }
    for (const auto& e : extra) add(e);
}

void directory_model::order() {
    std::vector<std::size_t> idx(meta_.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return meta_[a].depth < meta_[b].depth; });
    std::vector<meta> next;
    next.reserve(meta_.size());
    for (const auto k : idx) next.push_back(meta_[k]);
    meta_ = std::move(next);
    store_.permute(idx);
    reindex();
}

}  // namespace arrival::provision
