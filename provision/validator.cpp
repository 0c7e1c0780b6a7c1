#include "provision/validator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <optional>

#include "provision/dn.hpp"

namespace arrival::provision {
namespace {

// Required attributes of the classes provisioning creates, as carbonio.schema declares them; used when no
// schema was given (--check without --ldap or --schema).
struct builtin_must {
    std::string_view object_class;
    std::vector<std::string_view> must;
};
const std::vector<builtin_must>& builtin_table() {
    static const std::vector<builtin_must> t = {
        {"zimbraDomain", {"zimbraDomainName", "zimbraDomainType", "zimbraId"}},
        {"zimbraAccount", {"uid", "zimbraAccountStatus", "zimbraId"}},
        {"zimbraCOS", {"cn", "zimbraId"}},
        {"zimbraAlias", {"zimbraAliasTargetId", "zimbraId"}},
        {"zimbraDistributionList", {"uid", "zimbraId"}},
        {"zimbraGroup", {"memberURL", "zimbraId", "zimbraIsACLGroup"}},
        {"zimbraSignature", {"zimbraSignatureId", "zimbraSignatureName"}},
        {"inetOrgPerson", {"cn", "sn"}},
        {"organizationalRole", {"cn"}},
        {"organization", {"o"}},
        {"organizationalUnit", {"ou"}},
    };
    return t;
}

class checker {
public:
    checker(const directory_model& m, const validation_options& o, std::vector<problem>& out)
        : m_(m), o_(o), out_(out) {}

    void run() {
        for (const auto& d : m_.deletes()) deleted_.insert(d.ndn);
        m_.for_each([&](std::size_t i, const entry& e) { collect(i, e); });
        m_.for_each([&](std::size_t i, const entry& e) { check_entry(i, e); });
    }

private:
    void report(const entry& e, std::string code, std::string message) {
        problem p;
        p.level = problem::severity::error;
        p.code = std::move(code);
        p.file = m_.file(e.loc.file);
        p.line = e.loc.line;
        p.dn = e.dn();
        p.message = std::move(message);
        out_.push_back(std::move(p));
    }
    std::string where(const entry& e) const {
        return fmt::format("{}:{}", m_.file(e.loc.file), e.loc.line);
    }

    // Values that must be unique (zimbraId, addresses) are indexed by a 64-bit hash of their lower-case
    // form, not kept as strings: the plan is spooled (entry_store.hpp) and these indexes are most of what
    // validation holds in memory. A hit is confirmed on the other entry, read back, before it is reported:
    // this gives that entry when one of its `types` has the value.
    std::optional<entry> holder(std::size_t j, std::initializer_list<const char*> types, std::string_view lower) const {
        entry other = m_.at(j);
        for (const char* t : types) {
            for (auto v : other.values(t)) {
                if (iequals(v, lower)) return other;
            }
        }
        return std::nullopt;
    }

    // First pass: duplicate DNs, zimbraIds and addresses; the sets later checks look things up in.
    void collect(std::size_t i, const entry& e) {
        // find() gives the first entry of each DN: any other one is a duplicate.
        if (const auto first = m_.find(e.ndn()); first && *first != i) {
            report(e, "duplicate_dn", "duplicate DN (first at " + where(m_.at(*first)) + ")");
        }
        const auto kind = m_.kind(i);
        for (auto id : e.values("zimbraId")) {
            const auto key = to_lower(id);
            const auto [jt, new_id] = zimbra_ids_.emplace(text_hash(key), static_cast<std::uint32_t>(i));
            std::optional<entry> other;
            if (!new_id && jt->second != i) other = holder(jt->second, {"zimbraId"}, key);
            if (other) {
                report(e, "duplicate_zimbra_id",
                       fmt::format("zimbraId {} already used by {} ({})", id, other->dn(), where(*other)));
            } else if (o_.existing) {
                const auto d = o_.existing->zimbra_id_holder(key);
                if (d && !same_holder(*d, e)) {
                    report(e, "duplicate_zimbra_id", fmt::format("zimbraId {} already used on the destination by {}", id, *d));
                }
            }
            if (kind == entry_kind::cos) cos_ids_.insert(key);
        }
        if (kind == entry_kind::domain) {
            for (auto n : e.values("zimbraDomainName")) domains_.insert(to_lower(n));
        }
        // Every address an entry answers to: unique across entries (Carbonio enforces it on mail and
        // zimbraMailAlias; slapadd would not).
        std::vector<std::string> mine;
        for (const char* t : {"mail", "zimbraMailAlias", "zimbraMailDeliveryAddress"}) {
            for (auto a : e.values(t)) mine.push_back(to_lower(a));
        }
        std::sort(mine.begin(), mine.end());
        mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
        for (const auto& a : mine) {
            const auto [jt, new_addr] = addresses_.emplace(text_hash(a), static_cast<std::uint32_t>(i));
            std::optional<entry> other;
            if (!new_addr) other = holder(jt->second, {"mail", "zimbraMailAlias", "zimbraMailDeliveryAddress"}, a);
            if (other) {
                report(e, "duplicate_mail", fmt::format("address {} already belongs to {} ({})", a, other->dn(), where(*other)));
            } else if (new_addr && o_.existing) {
                const auto d = o_.existing->address_holder(a);
                if (d && !same_holder(*d, e)) {
                    report(e, "duplicate_mail", fmt::format("address {} already belongs to {} on the destination", a, *d));
                }
            }
        }
    }

    // The destination's entry holding a value is this one (also under the DN a modrdn moves it from), or
    // one the plan deletes: no conflict.
    bool same_holder(std::string_view holder, const entry& e) const {
        if (holder == e.ndn() || deleted_.count(std::string(holder))) return true;
        std::string old;
        return !e.renamed_from.empty() && !normalize_dn(e.renamed_from, old) && old == holder;
    }

    bool domain_known(const std::string& d) const {
        return domains_.count(d) || (o_.existing && o_.existing->has_domain(d));
    }
    bool cos_known(const std::string& id) const {
        return cos_ids_.count(id) || (o_.existing && o_.existing->has_cos_id(id));
    }
    // By hash alone: a false "known" needs two distinct values with one 64-bit hash (odds ~1e-9 at a
    // million values), and would only hide a dangling reference, never refuse good input.
    bool id_known(const std::string& id) const {
        return zimbra_ids_.count(text_hash(id)) || (o_.existing && o_.existing->zimbra_id_holder(id));
    }
    bool address_known(const std::string& a) const {
        return addresses_.count(text_hash(a)) || (o_.existing && o_.existing->address_holder(a));
    }
    bool dn_known(std::string_view ndn) {
        // Siblings share a parent (every account under ou=people): remember the last one found.
        if (ndn == last_known_dn_) return true;
        if (m_.contains(ndn) || (o_.existing && o_.existing->has_entry(ndn))) {
            last_known_dn_.assign(ndn);
            return true;
        }
        return false;
    }

    void check_entry(std::size_t i, const entry& e) {
        const auto kind = m_.kind(i);
        // Parents: the empty suffix is the root, so a top-level entry (cn=zimbra, dc=com) has none to check.
        const auto parent = parent_ndn(e.ndn());
        if (!parent.empty() && !dn_known(parent)) {
            report(e, "missing_parent", fmt::format("parent {} is neither in the input nor on the destination",
                                                    parent));
        }
        check_required(e);
        check_naming(e);

        if (kind == entry_kind::account || kind == entry_kind::distribution_list ||
            kind == entry_kind::dynamic_group) {
            std::string primary(e.first("zimbraMailDeliveryAddress"));
            if (primary.empty()) primary = std::string(e.first("mail"));
            if (primary.empty() && kind == entry_kind::account) {
                report(e, "missing_address", "account has neither zimbraMailDeliveryAddress nor mail");
            }
            if (!primary.empty()) {
                const auto d = domain_of(primary);
                if (!domain_known(d)) {
                    report(e, "undeclared_domain",
                           fmt::format("address {} is in domain '{}', which is not declared (no zimbraDomain)",
                                       primary, d));
                }
            }
            for (auto a : e.values("zimbraMailAlias")) {
                const auto d = domain_of(a);
                if (!domain_known(d)) {
                    report(e, "dangling_alias", fmt::format("alias {} is in undeclared domain '{}'", a, d));
                }
            }
        }
        if (kind == entry_kind::account) {
            for (auto id : e.values("zimbraCOSId")) {
                if (!cos_known(to_lower(id))) {
                    report(e, "dangling_cos", fmt::format("zimbraCOSId {} matches no COS", id));
                }
            }
        }
        if (kind == entry_kind::domain) {
            for (const char* t : {"zimbraDomainDefaultCOSId", "zimbraDomainDefaultExternalUserCOSId"}) {
                for (auto id : e.values(t)) {
                    if (!cos_known(to_lower(id))) {
                        report(e, "dangling_cos", fmt::format("{} {} matches no COS", t, id));
                    }
                }
            }
        }
        if (kind == entry_kind::alias) {
            for (auto id : e.values("zimbraAliasTargetId")) {
                if (!id_known(to_lower(id))) {
                    report(e, "dangling_alias", fmt::format("alias target zimbraId {} matches no entry", id));
                }
            }
        }
        if (kind == entry_kind::distribution_list || kind == entry_kind::dynamic_group) {
            // Members in a domain we provision must exist; addresses elsewhere are external recipients.
            for (auto member : e.values("zimbraMailForwardingAddress")) {
                const auto a = to_lower(member);
                if (domain_known(domain_of(a)) && !address_known(a)) {
                    report(e, "dangling_member",
                           fmt::format("member {} is in a local domain but no account, list or alias has it",
                                       member));
                }
            }
        }
        for (const char* t : {"member", "uniqueMember"}) {
            for (auto v : e.values(t)) {
                std::string ndn;
                if (normalize_dn(v, ndn)) {
                    report(e, "bad_member", fmt::format("{} value is not a DN", t));
                } else if (!dn_known(ndn)) {
                    report(e, "dangling_member", fmt::format("{} {} is not in the input or on the destination", t, v));
                }
            }
        }
    }

    // The RDN's values must be in the entry (slapd refuses the add with namingViolation otherwise; this
    // happens when a rule or the schema filter dropped the naming attribute).
    void check_naming(const entry& e) {
        dn d;
        if (parse_dn(e.dn(), d) || d.empty()) return;
        for (const auto& a : d.rdns()[0].avas) {
            bool found = false;
            for (auto v : e.values(a.type)) found = found || normalize_value(v) == normalize_value(a.value);
            if (!found) {
                report(e, "missing_naming_value",
                       fmt::format("the RDN value {}={} is not among the entry's attributes", a.type, a.value));
            }
        }
    }

    void check_required(const entry& e) {
        const auto classes = e.values("objectClass");
        if (classes.empty()) {
            report(e, "missing_attribute", "entry has no objectClass");
            return;
        }
        if (o_.destination_schema != nullptr && !o_.destination_schema->empty()) {
            for (const auto& r : o_.destination_schema->rules_for(classes).required) {
                if (iequals(r, "objectClass")) continue;
                bool found = false;
                for (std::size_t k = 0; k < e.size() && !found; ++k) found = iequals(base_type(e[k].type), r);
                // Only then by alias (commonName for cn): the lookup allocates, and is rarely needed.
                for (std::size_t k = 0; k < e.size() && !found; ++k) {
                    found = iequals(o_.destination_schema->canonical_attribute(base_type(e[k].type)), r);
                }
                if (!found) {
                    report(e, "missing_attribute", fmt::format("required attribute {} is missing", r));
                }
            }
            return;
        }
        for (const auto& row : builtin_table()) {
            if (!e.has_class(row.object_class)) continue;
            for (auto r : row.must) {
                if (!e.has(r)) {
                    report(e, "missing_attribute", fmt::format("required attribute {} ({}) is missing", r,
                                                               row.object_class));
                }
            }
        }
    }

    const directory_model& m_;
    const validation_options& o_;
    std::vector<problem>& out_;
    std::unordered_set<std::string> domains_, cos_ids_, deleted_;
    std::unordered_map<std::uint64_t, std::uint32_t> zimbra_ids_, addresses_;  // text_hash of the value -> first holder
    std::string last_known_dn_;
};

}  // namespace

void validate(const directory_model& model, const validation_options& opts, std::vector<problem>& out) {
    checker(model, opts, out).run();
}

}  // namespace arrival::provision
