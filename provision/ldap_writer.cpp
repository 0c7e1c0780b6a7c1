#include "provision/ldap_writer.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <ldap.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "provision/dn.hpp"
#include "provision/tls_diagnosis.hpp"

namespace arrival::provision {
namespace {

std::string diagnostic(LDAP* ld) {
    char* msg = nullptr;
    std::string out;
    if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS && msg != nullptr) {
        out = msg;
        ldap_memfree(msg);
    }
    return out;
}

std::string server_says(LDAP* ld, int rc) {
    auto d = diagnostic(ld);
    return d.empty() ? std::string(ldap_err2string(rc)) : fmt::format("{} ({})", ldap_err2string(rc), d);
}

// A read the writer needs before it can write (the schema, the directory, one entry) that failed: classified as
// any request, except that a refusal is no longer one entry's problem, the destination cannot be used.
failure read_failure(int rc) {
    const failure f = classify_ldap(rc, ldap_step::request);
    return f == failure::refused ? failure::protocol : f;
}

// Whether a plain TCP connection to the URL's host:port succeeds: tells "TLS failed" from "unreachable"
// when libldap reports both as "can't contact LDAP server".
bool tcp_reachable(const std::string& url) {
    LDAPURLDesc* u = nullptr;
    if (ldap_url_parse(url.c_str(), &u) != LDAP_URL_SUCCESS) return false;
    const std::string host = u->lud_host ? u->lud_host : "localhost";
    const std::string port = std::to_string(u->lud_port ? u->lud_port : 389);
    ldap_free_urldesc(u);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return false;
    bool ok = false;
    for (auto* a = res; a && !ok; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        ok = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0;
        ::close(fd);
    }
    freeaddrinfo(res);
    return ok;
}

// The entry's values grouped by attribute description (case-insensitive), in first-seen order.
struct grouped {
    std::vector<std::string> types;
    std::vector<std::vector<std::string_view>> values;
};
grouped group(const entry& e) {
    grouped g;
    for (std::size_t i = 0; i < e.size(); ++i) {
        const auto av = e[i];
        std::size_t k = 0;
        while (k < g.types.size() && !iequals(g.types[k], av.type)) ++k;
        if (k == g.types.size()) {
            g.types.emplace_back(av.type);
            g.values.emplace_back();
        }
        g.values[k].push_back(av.value);
    }
    return g;
}

// LDAPMod arrays built from views; libldap encodes the request during the call, so they only need to
// outlive it.
class mod_list {
public:
    void add(int op, const std::string& type, const std::vector<std::string_view>& values) {
        auto& bv = bvals_.emplace_back();
        for (auto v : values) bv.push_back(berval{static_cast<ber_len_t>(v.size()), const_cast<char*>(v.data())});
        types_.push_back(type);
        ops_.push_back(op);
    }
    LDAPMod** get() {
        mods_.resize(types_.size());
        ptrs_.clear();
        bvptrs_.assign(types_.size(), {});
        for (std::size_t i = 0; i < types_.size(); ++i) {
            for (auto& b : bvals_[i]) bvptrs_[i].push_back(&b);
            bvptrs_[i].push_back(nullptr);
            mods_[i].mod_op = ops_[i] | LDAP_MOD_BVALUES;
            mods_[i].mod_type = types_[i].data();
            mods_[i].mod_bvalues = bvptrs_[i].data();
            ptrs_.push_back(&mods_[i]);
        }
        ptrs_.push_back(nullptr);
        return ptrs_.data();
    }
    bool empty() const { return types_.empty(); }

private:
    std::vector<std::string> types_;
    std::vector<int> ops_;
    std::vector<std::vector<berval>> bvals_;
    std::vector<std::vector<berval*>> bvptrs_;
    std::vector<LDAPMod> mods_;
    std::vector<LDAPMod*> ptrs_;
};

using server_values = std::unordered_map<std::string, std::vector<std::string>>;  // lower type -> values

void read_values(LDAP* ld, LDAPMessage* msg, server_values& out) {
    BerElement* ber = nullptr;
    for (char* a = ldap_first_attribute(ld, msg, &ber); a != nullptr; a = ldap_next_attribute(ld, msg, ber)) {
        auto& vs = out[to_lower(a)];
        if (berval** vals = ldap_get_values_len(ld, msg, a)) {
            for (int i = 0; vals[i] != nullptr; ++i) vs.emplace_back(vals[i]->bv_val, vals[i]->bv_len);
            ldap_value_free_len(vals);
        }
        ldap_memfree(a);
    }
    if (ber != nullptr) ber_free(ber, 0);
}

bool same_values(std::string_view type, std::vector<std::string_view> mine, std::vector<std::string> theirs) {
    if (mine.size() != theirs.size()) return false;
    std::vector<std::string> a(mine.begin(), mine.end());
    // objectClass names compare without case; every other value byte for byte (what we wrote comes back).
    if (iequals(type, "objectClass")) {
        for (auto& s : a) s = to_lower(s);
        for (auto& s : theirs) s = to_lower(s);
    }
    std::sort(a.begin(), a.end());
    std::sort(theirs.begin(), theirs.end());
    return a == theirs;
}

}  // namespace

ldap_writer::ldap_writer(const ldap_options& opts) : opts_(opts) {
    using k = failure;
    if (opts.url.rfind("ldap://", 0) != 0 && opts.url.rfind("ldaps://", 0) != 0) {
        throw ldap_failure(k::input, fmt::format("--ldap {}: only ldap:// and ldaps:// URLs", opts.url));
    }
    const bool ldaps = opts.url.rfind("ldaps://", 0) == 0;
    if (ldap_initialize(&ld_, opts.url.c_str()) != LDAP_SUCCESS || ld_ == nullptr) {
        throw ldap_failure(k::input, fmt::format("--ldap {}: not a valid LDAP URL", opts.url));
    }
    int version = LDAP_VERSION3;
    ldap_set_option(ld_, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld_, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    timeval tv{opts.timeout_seconds, 0};
    ldap_set_option(ld_, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld_, LDAP_OPT_TIMEOUT, &tv);
    // arrival's TLS policy (protocol/tls_policy.hpp) in libldap's words: TLS 1.2 or later; --ca-file is the
    // whole CA list (a CA directory from ldap.conf's TLS_CACERTDIR is dropped, so the file replaces the
    // system store as it does for IMAP and HTTP); certificate and host name demanded unless --insecure.
    int min_version = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
    ldap_set_option(ld_, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min_version);
    if (!opts.ca_file.empty()) {
        ldap_set_option(ld_, LDAP_OPT_X_TLS_CACERTFILE, opts.ca_file.c_str());
        ldap_set_option(ld_, LDAP_OPT_X_TLS_CACERTDIR, "");
    }
    int require = opts.insecure ? LDAP_OPT_X_TLS_NEVER : LDAP_OPT_X_TLS_DEMAND;
    ldap_set_option(ld_, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
    int zero = 0;
    ldap_set_option(ld_, LDAP_OPT_X_TLS_NEWCTX, &zero);  // apply the TLS options to this handle

    // The destructor does not run when the constructor throws: release the handle (and its TLS context)
    // before every throw below.
    auto fail_connect = [&](int rc, bool tls_phase) {
        std::string why = server_says(ld_, rc);
        // libldap (GnuTLS in Debian) loses the handshake's reason ("(unknown error code)"): ask OpenSSL.
        if (tls_phase && (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)) {
            if (const auto tls = diagnose_tls(opts.url, opts.ca_file, !ldaps); !tls.empty()) {
                why = fmt::format("{}: {}", ldap_err2string(rc), tls);
            }
        }
        ldap_unbind_ext_s(ld_, nullptr, nullptr);
        ld_ = nullptr;
        // A TLS step that failed on a server that accepts TCP failed in the handshake, not in reaching it.
        const bool gone = rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT;
        const ldap_step step = !gone ? ldap_step::bind
                             : tls_phase && tcp_reachable(opts.url) ? ldap_step::tls : ldap_step::connect;
        switch (const failure f = classify_ldap(rc, step)) {
        case failure::tls: throw ldap_failure(f, fmt::format("TLS with {} failed: {}", opts.url, why));
        case failure::unreachable: throw ldap_failure(f, fmt::format("cannot reach {}: {}", opts.url, why));
        case failure::auth: throw ldap_failure(f, fmt::format("bind as {} refused by {}: {}", opts.bind_dn, opts.url, why));
        default: throw ldap_failure(f, fmt::format("{}: {}", opts.url, why));
        }
    };
    if (opts.starttls) {
        if (ldaps) {
            ldap_unbind_ext_s(ld_, nullptr, nullptr);
            ld_ = nullptr;
            throw ldap_failure(k::input, "--starttls goes with ldap://, not ldaps://");
        }
    }
    // ldap:// does StartTLS unless --allow-cleartext: the bind password never crosses the network in the clear.
    const bool starttls = !ldaps && (opts.starttls || !opts.allow_cleartext);
    if (starttls) {
        const int rc = ldap_start_tls_s(ld_, nullptr, nullptr);
        if (rc != LDAP_SUCCESS && rc != LDAP_SERVER_DOWN && rc != LDAP_CONNECT_ERROR && rc != LDAP_TIMEOUT) {
            // The server answered the StartTLS request with an error: it does not do StartTLS.
            const std::string why = server_says(ld_, rc);
            ldap_unbind_ext_s(ld_, nullptr, nullptr);
            ld_ = nullptr;
            throw ldap_failure(k::tls, fmt::format("{} refused StartTLS ({}): refusing to send the bind password in "
                                                   "cleartext (--allow-cleartext allows it)", opts.url, why));
        }
        if (rc != LDAP_SUCCESS) fail_connect(rc, true);
    }
    berval cred{static_cast<ber_len_t>(opts.password.size()), const_cast<char*>(opts.password.data())};
    const int rc = ldap_sasl_bind_s(ld_, opts.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) fail_connect(rc, ldaps || starttls);
}

ldap_writer::~ldap_writer() {
    if (ld_ != nullptr) ldap_unbind_ext_s(ld_, nullptr, nullptr);
}

void ldap_writer::read_schema(schema& out) {
    const char* root_attrs[] = {"subschemaSubentry", nullptr};
    LDAPMessage* res = nullptr;
    std::string sub = "cn=Subschema";
    int rc = ldap_search_ext_s(ld_, "", LDAP_SCOPE_BASE, "(objectClass=*)", const_cast<char**>(root_attrs), 0,
                               nullptr, nullptr, nullptr, 0, &res);
    if (rc == LDAP_SUCCESS) {
        if (LDAPMessage* e = ldap_first_entry(ld_, res)) {
            if (berval** v = ldap_get_values_len(ld_, e, "subschemaSubentry")) {
                if (v[0] != nullptr) sub.assign(v[0]->bv_val, v[0]->bv_len);
                ldap_value_free_len(v);
            }
        }
    }
    ldap_msgfree(res);
    res = nullptr;
    const char* attrs[] = {"attributeTypes", "objectClasses", nullptr};
    rc = ldap_search_ext_s(ld_, sub.c_str(), LDAP_SCOPE_BASE, "(objectClass=subschema)", const_cast<char**>(attrs),
                           0, nullptr, nullptr, nullptr, 0, &res);
    if (rc != LDAP_SUCCESS) {
        ldap_msgfree(res);
        throw ldap_failure(read_failure(rc),
                           fmt::format("reading the schema ({}) from {}: {}", sub, opts_.url, server_says(ld_, rc)));
    }
    if (LDAPMessage* e = ldap_first_entry(ld_, res)) {
        server_values vals;
        read_values(ld_, e, vals);
        for (const auto& v : vals["attributetypes"]) (void)out.add_attribute_type(v);
        for (const auto& v : vals["objectclasses"]) (void)out.add_object_class(v);
    }
    ldap_msgfree(res);
    if (out.empty()) {
        throw ldap_failure(failure::protocol, fmt::format("{} published no schema at {}", opts_.url, sub));
    }
}

void ldap_writer::read_index(destination_index& out) {
    const char* attrs[] = {"objectClass", "zimbraId", "mail", "zimbraMailAlias", "zimbraMailDeliveryAddress",
                           "zimbraDomainName", nullptr};
    // Carbonio keeps everything under the empty suffix, so a subtree search of "" sees the whole directory.
    // Entries are taken one at a time as they arrive (LDAP_MSG_ONE): a synchronous search would hold every
    // entry of the directory in libldap's memory before the first is looked at.
    int id = 0;
    int rc = ldap_search_ext(ld_, "", LDAP_SCOPE_SUBTREE, "(objectClass=*)", const_cast<char**>(attrs), 0, nullptr,
                             nullptr, nullptr, 0, &id);
    auto failed = [&](int code) {
        return ldap_failure(read_failure(code),
                            fmt::format("reading the directory of {}: {}", opts_.url, server_says(ld_, code)));
    };
    if (rc != LDAP_SUCCESS) throw failed(rc);
    timeval tv{opts_.timeout_seconds, 0};
    for (;;) {
        LDAPMessage* msg = nullptr;
        const int t = ldap_result(ld_, id, LDAP_MSG_ONE, &tv, &msg);
        if (t <= 0) {
            if (msg) ldap_msgfree(msg);
            throw t == 0 ? ldap_failure(read_failure(LDAP_TIMEOUT),
                                        fmt::format("reading the directory of {}: timed out", opts_.url))
                         : failed(LDAP_SERVER_DOWN);
        }
        if (t == LDAP_RES_SEARCH_RESULT) {
            int err = LDAP_OTHER;
            (void)ldap_parse_result(ld_, msg, &err, nullptr, nullptr, nullptr, nullptr, 1);
            if (err != LDAP_SUCCESS && err != LDAP_NO_SUCH_OBJECT) throw failed(err);
            return;
        }
        if (t != LDAP_RES_SEARCH_ENTRY) {
            ldap_msgfree(msg);  // references: Carbonio has none
            continue;
        }
        char* d = ldap_get_dn(ld_, msg);
        std::string ndn;
        if (d == nullptr || normalize_dn(d, ndn)) {
            if (d) ldap_memfree(d);
            ldap_msgfree(msg);
            continue;
        }
        ldap_memfree(d);
        server_values vals;
        read_values(ld_, msg, vals);
        ldap_msgfree(msg);
        const auto holder = out.add_entry(ndn);
        bool is_cos = false, is_domain = false;
        for (const auto& oc : vals["objectclass"]) {
            is_cos = is_cos || iequals(oc, "zimbraCOS");
            is_domain = is_domain || iequals(oc, "zimbraDomain");
        }
        for (const auto& zid : vals["zimbraid"]) {
            out.add_zimbra_id(to_lower(zid), holder);
            if (is_cos) out.add_cos_id(to_lower(zid));
        }
        if (is_domain) {
            for (const auto& n : vals["zimbradomainname"]) out.add_domain(to_lower(n));
        }
        for (const char* type : {"mail", "zimbramailalias", "zimbramaildeliveryaddress"}) {
            for (const auto& a : vals[type]) out.add_address(to_lower(a), holder);
        }
    }
}

bool ldap_writer::read_entry(const std::string& dn_text, entry& out) {
    const char* all[] = {"*", nullptr};
    LDAPMessage* res = nullptr;
    const int rc = ldap_search_ext_s(ld_, dn_text.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)", const_cast<char**>(all),
                                     0, nullptr, nullptr, nullptr, 0, &res);
    if (rc == LDAP_NO_SUCH_OBJECT) {
        ldap_msgfree(res);
        return false;
    }
    if (rc != LDAP_SUCCESS) {
        ldap_msgfree(res);
        throw ldap_failure(read_failure(rc),
                           fmt::format("reading {} from {}: {}", dn_text, opts_.url, server_says(ld_, rc)));
    }
    bool found = false;
    if (LDAPMessage* e = ldap_first_entry(ld_, res)) {
        found = true;
        char* d = ldap_get_dn(ld_, e);
        const std::string text = d ? d : dn_text;
        if (d) ldap_memfree(d);
        std::string ndn;
        if (normalize_dn(text, ndn)) (void)normalize_dn(dn_text, ndn);
        out.set_dn(text, ndn);
        BerElement* ber = nullptr;
        for (char* a = ldap_first_attribute(ld_, e, &ber); a != nullptr; a = ldap_next_attribute(ld_, e, ber)) {
            if (berval** vals = ldap_get_values_len(ld_, e, a)) {
                for (int i = 0; vals[i] != nullptr; ++i) out.add(a, std::string_view(vals[i]->bv_val, vals[i]->bv_len));
                ldap_value_free_len(vals);
            }
            ldap_memfree(a);
        }
        if (ber != nullptr) ber_free(ber, 0);
    }
    ldap_msgfree(res);
    return found;
}

write_result ldap_writer::write(const directory_model& model, bool dry_run) {
    write_result r;
    timeval tv{opts_.timeout_seconds, 0};
    // The plan is spooled (entry_store.hpp): one window of entries (one depth, at most opts_.window) is
    // read back at a time; `at(k)` is entry k of the plan, which must be in the current window.
    std::size_t i = 0;
    std::vector<entry> win;
    auto at = [&](std::size_t k) -> const entry& { return win[k - i]; };

    auto fail_at = [&](const source_location& loc, const std::string& dn_text, const std::string& why) {
        problem p;
        p.code = "write_failed";
        p.file = model.file(loc.file);
        p.line = loc.line;
        p.dn = dn_text;
        p.message = why;
        r.failures.push_back(std::move(p));
        ++r.failed;
    };
    auto fail = [&](const entry& e, const std::string& why) { fail_at(e.loc, e.dn(), why); };
    std::vector<bool> renamed(model.size(), false);
    // Waits for every request of `pending` (msgid -> index) to answer in full (a search: its entries and its
    // result); done(index, message chain) gets each. When the server goes silent or away, lost(index, why)
    // gets every one still outstanding.
    auto drain = [&](std::map<int, std::size_t>& pending, auto&& done, auto&& lost) {
        while (!pending.empty()) {
            LDAPMessage* msg = nullptr;
            const int t = ldap_result(ld_, LDAP_RES_ANY, LDAP_MSG_ALL, &tv, &msg);
            if (t <= 0) {
                const std::string why = t == 0 ? "timed out waiting for the server" : server_says(ld_, LDAP_SERVER_DOWN);
                for (auto& [id, idx] : pending) lost(idx, why);
                pending.clear();
                if (msg) ldap_msgfree(msg);
                return;
            }
            const int id = ldap_msgid(msg);
            const auto it = pending.find(id);
            if (it == pending.end()) {
                ldap_msgfree(msg);
                continue;
            }
            const std::size_t idx = it->second;
            pending.erase(it);
            done(idx, msg);
            ldap_msgfree(msg);
        }
    };
    auto collect = [&](std::map<int, std::size_t>& pending, auto&& done) {
        drain(pending, done, [&](std::size_t k, const std::string& why) { fail(at(k), why); });
    };
    auto result_of = [&](LDAPMessage* msg, std::string& text) {
        int err = LDAP_OTHER;
        char* errmsg = nullptr;
        char* matched = nullptr;
        if (ldap_parse_result(ld_, msg, &err, &matched, &errmsg, nullptr, nullptr, 0) != LDAP_SUCCESS) err = LDAP_OTHER;
        text = ldap_err2string(err);
        if (errmsg != nullptr && *errmsg) text += fmt::format(" ({})", errmsg);
        if (errmsg) ldap_memfree(errmsg);
        if (matched) ldap_memfree(matched);
        return err;
    };

    // A modrdn moved this entry: when the destination still has it under the old DN (and not yet under the
    // new one), rename it there rather than add a copy; the comparison below then fixes its values.
    auto rename_if_still_there = [&](std::size_t k) {
        const entry& e = at(k);
        dn old_dn, new_dn;
        if (parse_dn(e.renamed_from, old_dn) || parse_dn(e.dn(), new_dn) || new_dn.empty()) return;
        dn leaf;
        leaf.rdns().push_back(new_dn.rdns()[0]);
        const dn parent = new_dn.parent();
        const bool moves = parent.normalized() != old_dn.parent().normalized();
        const std::string sup = parent.str();
        const int rc = ldap_rename_s(ld_, e.renamed_from.c_str(), leaf.str().c_str(), moves ? sup.c_str() : nullptr,
                                     1, nullptr, nullptr);
        if (rc == LDAP_SUCCESS) renamed[k] = true;
        else if (rc != LDAP_NO_SUCH_OBJECT && rc != LDAP_ALREADY_EXISTS) {
            fail(e, fmt::format("rename from {} refused: {}", e.renamed_from, server_says(ld_, rc)));
        }
    };

    while (i < model.size()) {
        const std::size_t end = std::min(model.size(), i + opts_.window);
        // Stop a window at a depth change, so every parent is written before a child is sent.
        std::size_t j = i + 1;
        const auto depth = model.depth(i);
        while (j < end && model.depth(j) == depth) ++j;
        win.resize(j - i);
        for (std::size_t k = i; k < j; ++k) model.at(k, win[k - i]);

        // 1. add (or, dry run, just look): entries that already exist go on to the comparison.
        std::vector<std::size_t> existing;
        if (dry_run) {
            for (std::size_t k = i; k < j; ++k) existing.push_back(k);
        } else {
            for (std::size_t k = i; k < j; ++k) {
                if (!at(k).renamed_from.empty()) rename_if_still_there(k);
            }
            std::map<int, std::size_t> pending;
            for (std::size_t k = i; k < j; ++k) {
                if (at(k).from_server) {
                    existing.push_back(k);  // read from the destination moments ago: compare, do not add
                    continue;
                }
                const auto g = group(at(k));
                mod_list mods;
                for (std::size_t t = 0; t < g.types.size(); ++t) mods.add(LDAP_MOD_ADD, g.types[t], g.values[t]);
                int id = 0;
                const int rc = ldap_add_ext(ld_, at(k).dn().c_str(), mods.get(), nullptr, nullptr, &id);
                if (rc != LDAP_SUCCESS) fail(at(k), server_says(ld_, rc));
                else pending[id] = k;
            }
            collect(pending, [&](std::size_t k, LDAPMessage* msg) {
                std::string text;
                const int rc = result_of(msg, text);
                if (rc == LDAP_SUCCESS) ++r.created;
                else if (rc == LDAP_ALREADY_EXISTS) existing.push_back(k);
                else fail(at(k), "add refused: " + text);
            });
        }

        // 2. read what exists, only the attributes we provision.
        std::map<int, std::size_t> pending;
        std::vector<std::vector<std::string>> type_lists(j - i);
        std::unordered_map<std::size_t, server_values> current;
        std::vector<std::size_t> absent;
        for (auto k : existing) {
            const auto g = group(at(k));
            auto& tl = type_lists[k - i];
            tl = g.types;
            if (at(k).from_server || at(k).replaces) tl = {"*"};  // the whole entry: what it lost must go
            std::vector<char*> attrs;
            for (auto& t : tl) attrs.push_back(t.data());
            attrs.push_back(nullptr);
            int id = 0;
            const int rc = ldap_search_ext(ld_, at(k).dn().c_str(), LDAP_SCOPE_BASE, "(objectClass=*)", attrs.data(),
                                           0, nullptr, nullptr, nullptr, 0, &id);
            if (rc != LDAP_SUCCESS) fail(at(k), server_says(ld_, rc));
            else pending[id] = k;
        }
        std::map<std::size_t, int> search_rc;
        collect(pending, [&](std::size_t k, LDAPMessage* msg) {
            // A base search answers with an entry then a result.
            for (LDAPMessage* m = ldap_first_message(ld_, msg); m != nullptr; m = ldap_next_message(ld_, m)) {
                if (ldap_msgtype(m) == LDAP_RES_SEARCH_ENTRY) read_values(ld_, m, current[k]);
                if (ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT) {
                    std::string text;
                    const int rc = result_of(m, text);
                    if (rc == LDAP_NO_SUCH_OBJECT) absent.push_back(k);
                    else if (rc != LDAP_SUCCESS) fail(at(k), "read refused: " + text);
                    search_rc[k] = rc;
                }
            }
        });
        // Dry run: entries that are absent would be created, unless a modrdn moves them here from a DN the
        // destination still has: then the run would rename it (counted as modified, as the run counts it).
        // A real run only searches what the add found (or what was read from the destination), so absent
        // there means it vanished meanwhile.
        if (dry_run) {
            for (auto k : absent) {
                entry old;
                if (!at(k).renamed_from.empty() && read_entry(at(k).renamed_from, old)) {
                    ++r.modified;
                    r.modified_dns.push_back(at(k).dn());
                } else {
                    ++r.created;
                }
            }
        } else {
            for (auto k : absent) fail(at(k), "the entry vanished from the destination during the run");
        }

        // 3. modify what differs.
        std::map<int, std::size_t> mods_pending;
        for (auto k : existing) {
            const auto rc_it = search_rc.find(k);
            if (rc_it == search_rc.end() || rc_it->second != LDAP_SUCCESS) continue;
            const entry& e = at(k);
            if (e.create_only) {
                ++r.unchanged;
                continue;
            }
            const auto g = group(e);
            auto& cur = current[k];
            mod_list mods;
            for (std::size_t t = 0; t < g.types.size(); ++t) {
                const auto it = cur.find(to_lower(g.types[t]));
                const std::vector<std::string> none;
                if (!same_values(g.types[t], g.values[t], it == cur.end() ? none : it->second)) {
                    mods.add(LDAP_MOD_REPLACE, g.types[t], g.values[t]);
                }
            }
            if (e.from_server || e.replaces) {
                for (const auto& [type, vals] : cur) {
                    bool planned = false;
                    for (const auto& t : g.types) planned = planned || iequals(t, type);
                    if (!planned) mods.add(LDAP_MOD_DELETE, type, {});
                }
            }
            if (mods.empty()) {
                if (renamed[k]) {
                    ++r.modified;
                    r.modified_dns.push_back(e.dn());
                } else {
                    ++r.unchanged;
                }
                continue;
            }
            if (dry_run) {
                ++r.modified;
                r.modified_dns.push_back(e.dn());
                continue;
            }
            if (e.replaces) {
                // Delete and add again, as the input says (one at a time: rare). A leaf only, as with
                // ldapmodify; the add's failure after the delete is reported in the server's words.
                int rc = ldap_delete_ext_s(ld_, e.dn().c_str(), nullptr, nullptr);
                if (rc == LDAP_SUCCESS) {
                    mod_list add;
                    for (std::size_t t = 0; t < g.types.size(); ++t) add.add(LDAP_MOD_ADD, g.types[t], g.values[t]);
                    rc = ldap_add_ext_s(ld_, e.dn().c_str(), add.get(), nullptr, nullptr);
                    if (rc == LDAP_SUCCESS) {
                        ++r.modified;
                        r.modified_dns.push_back(e.dn());
                    } else {
                        fail(e, "deleted to be replaced, then the add was refused: " + server_says(ld_, rc));
                    }
                } else {
                    fail(e, "delete (to replace the entry) refused: " + server_says(ld_, rc));
                }
                continue;
            }
            int id = 0;
            const int rc = ldap_modify_ext(ld_, e.dn().c_str(), mods.get(), nullptr, nullptr, &id);
            if (rc != LDAP_SUCCESS) fail(e, server_says(ld_, rc));
            else mods_pending[id] = k;
        }
        collect(mods_pending, [&](std::size_t k, LDAPMessage* msg) {
            std::string text;
            const int rc = result_of(msg, text);
            if (rc == LDAP_SUCCESS) {
                ++r.modified;
                r.modified_dns.push_back(at(k).dn());
            } else {
                fail(at(k), "modify refused: " + text);
            }
        });
        i = j;
    }

    // Deletes, deepest first so that a deleted subtree goes children before parents; each depth is a window.
    std::vector<const planned_delete*> dels;
    for (const auto& d : model.deletes()) dels.push_back(&d);
    std::stable_sort(dels.begin(), dels.end(),
                     [](const auto* a, const auto* b) { return ndn_depth(a->ndn) > ndn_depth(b->ndn); });
    for (std::size_t a = 0; a < dels.size();) {
        std::size_t b = a + 1;
        while (b < dels.size() && b - a < opts_.window && ndn_depth(dels[b]->ndn) == ndn_depth(dels[a]->ndn)) ++b;
        std::map<int, std::size_t> pending;
        for (std::size_t k = a; k < b; ++k) {
            int id = 0;
            const char* none[] = {"1.1", nullptr};
            const int rc = dry_run ? ldap_search_ext(ld_, dels[k]->dn.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)",
                                                     const_cast<char**>(none), 0, nullptr, nullptr, nullptr, 0, &id)
                                   : ldap_delete_ext(ld_, dels[k]->dn.c_str(), nullptr, nullptr, &id);
            if (rc != LDAP_SUCCESS) fail_at(dels[k]->loc, dels[k]->dn, server_says(ld_, rc));
            else pending[id] = k;
        }
        drain(
            pending,
            [&](std::size_t k, LDAPMessage* msg) {
                int rc = LDAP_OTHER;
                std::string text;
                for (LDAPMessage* m = ldap_first_message(ld_, msg); m != nullptr; m = ldap_next_message(ld_, m)) {
                    const int type = ldap_msgtype(m);
                    if (type == LDAP_RES_DELETE || type == LDAP_RES_SEARCH_RESULT) rc = result_of(m, text);
                }
                if (rc == LDAP_SUCCESS) ++r.deleted;  // dry run: it exists, so it would be deleted
                else if (rc == LDAP_NO_SUCH_OBJECT) ++r.unchanged;
                else fail_at(dels[k]->loc, dels[k]->dn, "delete refused: " + text);
            },
            [&](std::size_t k, const std::string& why) { fail_at(dels[k]->loc, dels[k]->dn, why); });
        a = b;
    }
    return r;
}

}  // namespace arrival::provision
