#include "provision/schema.hpp"

#include <algorithm>
#include <set>

#include "protocol/take_line.hpp"
#include "provision/entry.hpp"

namespace arrival::provision {
namespace {

// Tokens of an RFC 4512 description: "(", ")", "$", quoted strings (without quotes) and bare words.
struct token {
    enum kind_t { open, close, dollar, quoted, word } kind;
    std::string_view text;
};

bool tokenize(std::string_view s, std::vector<token>& out) {
    out.clear();
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { ++i; continue; }
        if (c == '(') { out.push_back({token::open, s.substr(i, 1)}); ++i; continue; }
        if (c == ')') { out.push_back({token::close, s.substr(i, 1)}); ++i; continue; }
        if (c == '$') { out.push_back({token::dollar, s.substr(i, 1)}); ++i; continue; }
        if (c == '\'') {
            const auto end = s.find('\'', i + 1);
            if (end == std::string_view::npos) return false;
            out.push_back({token::quoted, s.substr(i + 1, end - i - 1)});
            i = end + 1;
            continue;
        }
        const std::size_t start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' && s[i] != '(' &&
               s[i] != ')' && s[i] != '$' && s[i] != '\'') {
            ++i;
        }
        out.push_back({token::word, s.substr(start, i - start)});
    }
    return true;
}

// A parsed description: the OID and each keyword with its values (lists flattened).
struct description {
    std::string oid;
    std::vector<std::pair<std::string, std::vector<std::string>>> fields;
    const std::vector<std::string>* get(std::string_view key) const {
        for (const auto& f : fields) {
            if (iequals(f.first, key)) return &f.second;
        }
        return nullptr;
    }
    bool flag(std::string_view key) const { return get(key) != nullptr; }
};

bool is_flag(std::string_view k) {
    return iequals(k, "OBSOLETE") || iequals(k, "SINGLE-VALUE") || iequals(k, "COLLECTIVE") ||
           iequals(k, "NO-USER-MODIFICATION") || iequals(k, "ABSTRACT") || iequals(k, "STRUCTURAL") ||
           iequals(k, "AUXILIARY");
}

bool parse_description(std::string_view text, description& d) {
    std::vector<token> t;
    if (!tokenize(text, t)) return false;
    if (t.size() < 3 || t.front().kind != token::open || t.back().kind != token::close) return false;
    if (t[1].kind != token::word) return false;
    d.oid.assign(t[1].text);
    std::size_t i = 2;
    const std::size_t end = t.size() - 1;
    while (i < end) {
        if (t[i].kind != token::word) return false;
        std::string key(t[i].text);
        ++i;
        std::vector<std::string> vals;
        if (!is_flag(key)) {
            if (i >= end) return false;
            if (t[i].kind == token::open) {
                ++i;
                while (i < end && t[i].kind != token::close) {
                    if (t[i].kind == token::word || t[i].kind == token::quoted) vals.emplace_back(t[i].text);
                    ++i;
                }
                if (i >= end) return false;
                ++i;  // ')'
            } else if (t[i].kind == token::word || t[i].kind == token::quoted) {
                vals.emplace_back(t[i].text);
                ++i;
            } else {
                return false;
            }
        }
        d.fields.emplace_back(std::move(key), std::move(vals));
    }
    return true;
}

}  // namespace

bool schema::add_attribute_type(std::string_view text) {
    description d;
    if (!parse_description(text, d)) return false;
    attribute_type_info a;
    a.oid = d.oid;
    if (const auto* n = d.get("NAME")) a.names = *n;
    if (const auto* s = d.get("SUP"); s && !s->empty()) a.sup = (*s)[0];
    a.single_value = d.flag("SINGLE-VALUE");
    const std::size_t idx = attr_list_.size();
    for (const auto& n : a.names) attrs_[to_lower(n)] = idx;
    attrs_[to_lower(a.oid)] = idx;
    attr_list_.push_back(std::move(a));
    return true;
}

bool schema::add_object_class(std::string_view text) {
    description d;
    if (!parse_description(text, d)) return false;
    object_class_info c;
    c.oid = d.oid;
    if (const auto* n = d.get("NAME")) c.names = *n;
    if (const auto* s = d.get("SUP")) c.sup = *s;
    if (const auto* m = d.get("MUST")) c.must = *m;
    if (const auto* m = d.get("MAY")) c.may = *m;
    if (d.flag("AUXILIARY")) c.kind = object_class_info::kind_t::auxiliary;
    else if (d.flag("ABSTRACT")) c.kind = object_class_info::kind_t::abstract;
    const std::size_t idx = class_list_.size();
    for (const auto& n : c.names) classes_[to_lower(n)] = idx;
    classes_[to_lower(c.oid)] = idx;
    class_list_.push_back(std::move(c));
    return true;
}

void schema::add_slapd_system_schema() {
    // As slapd 2.5 reports them in cn=Subschema (names and structure only; syntaxes are not checked here).
    static const char* const attrs[] = {
        "( 2.5.4.0 NAME 'objectClass' )",
        "( 2.5.4.1 NAME ( 'aliasedObjectName' 'aliasedEntryName' ) SINGLE-VALUE )",
        "( 2.5.4.41 NAME 'name' )",
        "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )",
        "( 2.5.4.6 NAME ( 'c' 'countryName' ) SUP name SINGLE-VALUE )",
        "( 2.5.4.13 NAME 'description' )",
        "( 2.5.4.34 NAME 'seeAlso' SUP distinguishedName )",
        "( 2.5.4.35 NAME 'userPassword' )",
        "( 2.5.4.49 NAME 'distinguishedName' )",
        "( 1.3.6.1.4.1.250.1.57 NAME 'labeledURI' )",
        "( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) )",
        "( 0.9.2342.19200300.100.1.37 NAME 'associatedDomain' )",
        "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' SINGLE-VALUE )",
        "( 1.3.6.1.1.1.1.1 NAME 'gidNumber' SINGLE-VALUE )",
        "( 2.5.18.1 NAME 'createTimestamp' SINGLE-VALUE NO-USER-MODIFICATION )",
        "( 2.5.18.2 NAME 'modifyTimestamp' SINGLE-VALUE NO-USER-MODIFICATION )",
        "( 2.5.18.3 NAME 'creatorsName' SINGLE-VALUE NO-USER-MODIFICATION )",
        "( 2.5.18.4 NAME 'modifiersName' SINGLE-VALUE NO-USER-MODIFICATION )",
        "( 2.5.21.9 NAME 'structuralObjectClass' SINGLE-VALUE NO-USER-MODIFICATION )",
        "( 1.3.6.1.1.16.4 NAME 'entryUUID' SINGLE-VALUE NO-USER-MODIFICATION )",
        "( 1.3.6.1.4.1.4203.666.1.7 NAME 'entryCSN' SINGLE-VALUE NO-USER-MODIFICATION )",
    };
    static const char* const classes[] = {
        "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
        "( 2.5.6.1 NAME 'alias' SUP top STRUCTURAL MUST aliasedObjectName )",
        "( 1.3.6.1.4.1.1466.101.120.111 NAME 'extensibleObject' SUP top AUXILIARY )",
    };
    for (const char* a : attrs) (void)add_attribute_type(a);
    for (const char* c : classes) (void)add_object_class(c);
}

bool schema::add_schema_file(std::string_view text, schema_error& err) {
    // A statement starts at a line beginning with a keyword; lines beginning with white space continue it
    // (slapd.conf rules). '#' lines are comments.
    std::string stmt;
    std::size_t stmt_line = 0, line_no = 0;
    auto flush = [&]() -> bool {
        if (stmt.empty()) return true;
        std::string_view s(stmt);
        const auto sp = s.find_first_of(" \t");
        const std::string_view kw = s.substr(0, sp);
        const std::string_view body = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
        bool ok = true;
        if (iequals(kw, "attributetype")) ok = add_attribute_type(body);
        else if (iequals(kw, "objectclass")) ok = add_object_class(body);
        // objectidentifier, ditcontentrule, ... carry nothing provisioning needs.
        if (!ok) {
            err.line = stmt_line;
            err.message = "malformed " + std::string(kw) + " definition";
        }
        stmt.clear();
        return ok;
    };
    while (!text.empty()) {
        ++line_no;
        const std::string_view line = take_line(text);
        if (!line.empty() && line[0] == '#') continue;
        if (line.empty()) {
            if (!flush()) return false;
            continue;
        }
        // slapd.conf: a line starting with white space continues the statement, even a blank-looking one
        // (carbonio.schema has those inside multi-line DESC texts).
        if (line[0] == ' ' || line[0] == '\t') {
            stmt.push_back(' ');
            stmt.append(line);
            continue;
        }
        if (!flush()) return false;
        stmt.assign(line);
        stmt_line = line_no;
    }
    return flush();
}

const attribute_type_info* schema::attribute(std::string_view name) const {
    const auto it = attrs_.find(to_lower(base_type(name)));
    return it == attrs_.end() ? nullptr : &attr_list_[it->second];
}

const object_class_info* schema::object_class(std::string_view name) const {
    const auto it = classes_.find(to_lower(name));
    return it == classes_.end() ? nullptr : &class_list_[it->second];
}

bool schema::knows_attribute(std::string_view name) const { return attribute(name) != nullptr; }
bool schema::knows_class(std::string_view name) const { return object_class(name) != nullptr; }

const schema::class_rules& schema::rules_for(const std::vector<std::string_view>& classes) const {
    std::vector<std::string> names;
    for (auto c : classes) names.push_back(to_lower(c));
    std::sort(names.begin(), names.end());
    std::string key;
    for (const auto& n : names) key += n + ",";
    const auto it = rules_cache_.find(key);
    if (it != rules_cache_.end()) return it->second;
    class_rules r;
    std::vector<std::string> allowed;
    allowed_and_required(classes, allowed, r.required);
    r.allowed.insert(allowed.begin(), allowed.end());
    return rules_cache_.emplace(std::move(key), std::move(r)).first->second;
}

std::string schema::canonical_attribute(std::string_view name) const {
    const auto* a = attribute(name);
    if (a == nullptr) return {};
    return to_lower(a->names.empty() ? a->oid : a->names[0]);
}

void schema::allowed_and_required(const std::vector<std::string_view>& classes, std::vector<std::string>& allowed,
                                  std::vector<std::string>& required) const {
    std::set<const object_class_info*> seen;
    std::vector<const object_class_info*> todo;
    for (auto c : classes) {
        if (const auto* oc = object_class(c)) todo.push_back(oc);
    }
    std::set<std::string> allow, req;
    while (!todo.empty()) {
        const auto* oc = todo.back();
        todo.pop_back();
        if (!seen.insert(oc).second) continue;
        for (const auto& m : oc->must) {
            auto n = canonical_attribute(m);
            if (n.empty()) n = to_lower(m);
            req.insert(n);
            allow.insert(n);
        }
        for (const auto& m : oc->may) {
            auto n = canonical_attribute(m);
            if (n.empty()) n = to_lower(m);
            allow.insert(n);
        }
        for (const auto& s : oc->sup) {
            if (const auto* p = object_class(s)) todo.push_back(p);
        }
    }
    allowed.assign(allow.begin(), allow.end());
    required.assign(req.begin(), req.end());
}

}  // namespace arrival::provision
