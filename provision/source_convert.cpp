#include "provision/source_convert.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "provision/dn.hpp"
#include "provision/uuid.hpp"

namespace arrival::provision {
namespace {

// inetOrgPerson attributes worth keeping on a Carbonio account (the rest is left to the schema filter).
bool keep_person_attribute(std::string_view t) {
    static const char* const keep[] = {
        "cn", "sn", "givenName", "displayName", "initials", "description", "title", "telephoneNumber",
        "mobile", "homePhone", "pager", "facsimileTelephoneNumber", "street", "l", "st", "postalCode", "co",
        "c", "company", "o", "ou", "physicalDeliveryOfficeName", "employeeNumber", "userPassword", "jpegPhoto",
        "preferredLanguage", "labeledURI",
    };
    for (const char* k : keep) {
        if (iequals(base_type(t), k)) return true;
    }
    return false;
}

std::string dotted_domain(const dn& d) {
    std::string out;
    for (const auto& r : d.rdns()) {
        if (r.avas.size() != 1 || !iequals(r.avas[0].type, "dc")) return {};
        if (!out.empty()) out.push_back('.');
        out += to_lower(r.avas[0].value);
    }
    return out;
}

}  // namespace

convert_result convert_generic_sources(directory_model& model, std::vector<problem>& out) {
    convert_result res;
    std::unordered_set<std::string> zimbra_domains;
    const std::size_t input = model.size();
    entry e;
    for (std::size_t i = 0; i < input; ++i) {
        if (model.kind(i) != entry_kind::domain) continue;
        model.at(i, e);
        for (auto n : e.values("zimbraDomainName")) zimbra_domains.insert(to_lower(n));
    }
    auto report = [&](const entry& x, std::string code, std::string msg) {
        problem p;
        p.code = std::move(code);
        p.file = model.file(x.loc.file);
        p.line = x.loc.line;
        p.dn = x.dn();
        p.message = std::move(msg);
        out.push_back(std::move(p));
    };

    // ndn of each converted member -> its mail, for groupOfNames members. Converted entries are added at
    // the end of the model as they are made; the sources are erased at the end.
    std::unordered_map<std::string, std::string> mail_of;
    std::vector<bool> drop(input, false);

    for (std::size_t i = 0; i < input; ++i) {
        if (model.kind(i) != entry_kind::base) continue;
        model.at(i, e);
        if (e.has_class("dcObject")) {
            dn d;
            if (parse_dn(e.dn(), d)) continue;
            const std::string name = dotted_domain(d);
            // Only a dc-only DN of at least two labels is a mail domain (dc=com alone is a container).
            if (name.empty() || name.find('.') == std::string::npos || zimbra_domains.count(name)) continue;
            e.add("objectClass", "zimbraDomain");
            e.add("zimbraDomainName", name);
            e.add("zimbraDomainType", "local");
            e.add("zimbraDomainStatus", "active");
            e.add("zimbraId", name_uuid("domain:" + e.ndn()));
            zimbra_domains.insert(name);
            model.replace(i, e);
            ++res.domains;
        }
    }

    for (std::size_t i = 0; i < input; ++i) {
        if (model.kind(i) != entry_kind::person) continue;
        model.at(i, e);
        const std::string mail(e.first("mail"));
        if (mail.empty()) {
            report(e, "person_without_mail", "person has no mail attribute; cannot place it in a domain");
            drop[i] = true;
            continue;
        }
        const std::string domain = domain_of(mail);
        const std::string local = mail.substr(0, mail.rfind('@'));
        std::string uid(e.first("uid"));
        if (uid.empty()) uid = local;
        const std::string text = "uid=" + escape_dn_value(to_lower(local)) + ",ou=people," + domain_dn(domain);
        std::string ndn;
        if (normalize_dn(text, ndn)) {
            report(e, "bad_address", fmt::format("mail {} cannot form a DN", mail));
            drop[i] = true;
            continue;
        }
        entry a;
        a.set_dn(text, ndn);
        a.loc = e.loc;
        a.source_address = to_lower(mail);
        a.add("objectClass", "inetOrgPerson");
        a.add("objectClass", "zimbraAccount");
        a.add("objectClass", "amavisAccount");
        a.add("uid", to_lower(local));
        a.add("mail", mail);
        a.add("zimbraMailDeliveryAddress", mail);
        a.add("zimbraAccountStatus", "active");
        a.add("zimbraMailStatus", "enabled");
        a.add("zimbraId", name_uuid("account:" + e.ndn()));
        if (!e.has("sn")) a.add("sn", e.has("cn") ? e.first("cn") : std::string_view(local));
        if (!e.has("cn")) a.add("cn", local);
        for (std::size_t k = 0; k < e.size(); ++k) {
            const auto av = e[k];
            if (iequals(av.type, "objectClass") || iequals(av.type, "uid") || iequals(av.type, "mail")) continue;
            if (keep_person_attribute(av.type)) {
                a.add(av.type, av.value);
            } else {
                ++res.dropped_values;  // uidNumber, homeDirectory, loginShell, shadow*: not Carbonio's
            }
        }
        for (auto extra : e.values("mail")) {
            if (!iequals(extra, mail)) {
                a.add("mail", extra);
                a.add("zimbraMailAlias", extra);
            }
        }
        mail_of[e.ndn()] = mail;
        model.add(a);
        drop[i] = true;
        ++res.accounts;
    }

    for (std::size_t i = 0; i < input; ++i) {
        if (model.kind(i) != entry_kind::group) continue;
        model.at(i, e);
        drop[i] = true;
        const std::string mail(e.first("mail"));
        if (mail.empty()) {
            problem p;
            p.level = problem::severity::warning;
            p.code = "group_without_mail";
            p.file = model.file(e.loc.file);
            p.line = e.loc.line;
            p.dn = e.dn();
            p.message = "group has no mail attribute; not provisioned as a distribution list";
            out.push_back(std::move(p));
            continue;
        }
        const std::string domain = domain_of(mail);
        const std::string local = to_lower(mail.substr(0, mail.rfind('@')));
        const std::string text = "uid=" + escape_dn_value(local) + ",ou=people," + domain_dn(domain);
        std::string ndn;
        if (normalize_dn(text, ndn)) continue;
        entry l;
        l.set_dn(text, ndn);
        l.loc = e.loc;
        l.add("objectClass", "zimbraDistributionList");
        l.add("objectClass", "zimbraMailRecipient");
        l.add("uid", local);
        l.add("mail", mail);
        l.add("zimbraMailDeliveryAddress", mail);
        l.add("zimbraMailStatus", "enabled");
        l.add("zimbraId", name_uuid("list:" + e.ndn()));
        if (e.has("cn")) l.add("displayName", e.first("cn"));
        if (e.has("description")) l.add("description", e.first("description"));
        for (const char* t : {"member", "uniqueMember"}) {
            for (auto m : e.values(t)) {
                std::string mn;
                if (normalize_dn(m, mn)) continue;
                const auto it = mail_of.find(mn);
                if (it == mail_of.end()) {
                    report(e, "dangling_member", fmt::format("{} {} is not a converted person with mail", t, m));
                    continue;
                }
                l.add("zimbraMailForwardingAddress", it->second);
            }
        }
        model.add(l);
        ++res.lists;
    }

    // A generic ou=people is not Carbonio's container: it stays only if its name matches (it does for
    // the common ou=people,dc=...), which add_base_entries() then leaves alone.
    if (std::find(drop.begin(), drop.end(), true) != drop.end()) {
        drop.resize(model.size(), false);
        model.erase(drop);
    }
    return res;
}

}  // namespace arrival::provision
