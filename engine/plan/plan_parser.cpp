#include "engine/plan/plan_parser.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

// toml++ 3.3.0 checks its own assumptions about the input with TOML_ASSERT, and some fail on malformed input
// (a table header `[=]`, a date-time `1989-05-27Tu07:32:00Z`): assert() would abort `arrival plan check`, and
// with NDEBUG the check becomes an assumption the optimiser may build on. Here a failed check throws, in
// every build type, and the plan gets a syntax error at the line where it happens.
namespace arrival::plan::detail {
struct toml_check_failure {
    const char* check;
};
[[noreturn]] inline void toml_check_failed(const char* check) { throw toml_check_failure{check}; }
}  // namespace arrival::plan::detail
#ifdef NDEBUG
#define ARRIVAL_PLAN_HAD_NDEBUG
#undef NDEBUG
#endif
#define TOML_ASSERT(expr) ((expr) ? static_cast<void>(0) : ::arrival::plan::detail::toml_check_failed(#expr))
#include <toml++/toml.h>
#ifdef ARRIVAL_PLAN_HAD_NDEBUG
#define NDEBUG
#undef ARRIVAL_PLAN_HAD_NDEBUG
#endif

#include "engine/plan/stage_table.hpp"
#include "engine/plan/toml_guard.hpp"
#include "engine/shard.hpp"

namespace arrival::plan {
namespace {

position at(const toml::source_region& r) { return {r.begin.line, r.begin.column}; }

// The stages' names in run order ("provision, migrate, ..."), for the messages that list them.
std::string stage_names() {
    std::vector<std::string_view> names;
    for (const auto& s : stage_table()) names.push_back(s.name);
    return fmt::format("{}", fmt::join(names, ", "));
}

// A stage's place in the run order (the stage table's); past the end for an unknown name.
std::ptrdiff_t run_rank(std::string_view name) {
    const auto all = stage_table();
    return std::find_if(all.begin(), all.end(), [&](const stage_spec& x) { return x.name == name; }) - all.begin();
}

// The line on which toml++ fails a check of its own: the first line whose prefix of `text` fails it too
// (the parser reads forward, so a prefix ending after the failing place fails the same way). Found by
// bisection over the line ends; the last line when no prefix fails alone.
std::size_t line_of_check_failure(std::string_view text, std::string_view source_name) {
    std::vector<std::size_t> ends;   // the prefix that ends with line i+1
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n') ends.push_back(i + 1);
    }
    ends.push_back(text.size());
    const auto fails = [&](std::size_t end) {
        try {
            (void)toml::parse(text.substr(0, end), source_name);
        } catch (const detail::toml_check_failure&) {
            return true;
        } catch (const toml::parse_error&) {
        }
        return false;
    };
    std::size_t lo = 0, hi = ends.size() - 1;   // answer in [lo, hi]
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (fails(ends[mid])) hi = mid;
        else lo = mid + 1;
    }
    return lo + 1;
}

// Keys that would hold a secret's value. A plan is shared, committed and printed: the value belongs in a
// file or an environment variable, which the plan names.
bool is_secret_key(std::string_view k) {
    static constexpr std::string_view names[] = {"password", "passwd", "pass", "pw", "secret", "token", "value",
                                                 "bind_password", "admin_password", "source_password", "dest_password"};
    return std::find(std::begin(names), std::end(names), k) != std::end(names);
}

bool is_env_name(std::string_view v) {
    if (v.empty() || (v[0] >= '0' && v[0] <= '9')) return false;
    return std::all_of(v.begin(), v.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

class parser {
public:
    parser(std::string_view source_name, const std::string& directory) : source_name_(source_name) {
        out_.plan.directory = directory;
    }

    parse_result run(std::string_view text) {
        if (auto hazard = find_toml_hazard(text)) {
            error({hazard->line, hazard->column}, fmt::format("TOML syntax: {}", hazard->message));
            return std::move(out_);
        }
        toml::table root;
        try {
            root = toml::parse(text, source_name_);
        } catch (const toml::parse_error& e) {
            error(at(e.source()), fmt::format("TOML syntax: {}", e.description()));
            return std::move(out_);
        } catch (const detail::toml_check_failure& e) {
            error({line_of_check_failure(text, source_name_), 1},
                  fmt::format("TOML syntax: a malformed key, table header or value on this line (the TOML library "
                              "stopped at its own check `{}`)", e.check));
            return std::move(out_);
        }
        read_root(root);
        std::stable_sort(out_.errors.begin(), out_.errors.end(), [](const plan_error& a, const plan_error& b) {
            return a.where.line != b.where.line ? a.where.line < b.where.line : a.where.column < b.where.column;
        });
        return std::move(out_);
    }

private:
    void error(position p, std::string message) { out_.errors.push_back({p, std::move(message)}); }

    // Unknown and secret-looking keys get their own messages; returns false for both.
    bool key_allowed(const toml::key& k, std::string_view where, std::span<const std::string_view> known) {
        const std::string_view name = k.str();
        if (std::find(known.begin(), known.end(), name) != known.end()) return true;
        if (is_secret_key(name)) {
            error(at(k.source()),
                  fmt::format("'{}' in {}: a plan never holds a password; name a file (file = \"...\") or an environment "
                              "variable (env = \"NAME\") in a [credentials.NAME] table and refer to it by name",
                              name, where));
        } else {
            error(at(k.source()), fmt::format("unknown key '{}' in {} (expected one of: {})", name, where, fmt::join(known, ", ")));
        }
        return false;
    }

    std::string path_of(std::string_view p) const {
        std::filesystem::path path(p);
        if (path.is_relative()) path = std::filesystem::path(out_.plan.directory) / path;
        return path.lexically_normal().string();
    }

    std::string located(std::string path, std::string_view what, const toml::node& n) {
        out_.plan.paths.push_back({path, std::string(what), at(n.source())});
        return path;
    }

    // A string value, or an error naming `what`.
    std::optional<std::string> text(const toml::node& n, std::string_view what) {
        if (const auto* s = n.as_string()) return s->get();
        error(at(n.source()), fmt::format("{} must be a string", what));
        return std::nullopt;
    }
    std::optional<bool> boolean(const toml::node& n, std::string_view what) {
        if (const auto* b = n.as_boolean()) return b->get();
        error(at(n.source()), fmt::format("{} must be true or false", what));
        return std::nullopt;
    }
    const toml::table* table(const toml::node& n, std::string_view what) {
        if (const auto* t = n.as_table()) return t;
        error(at(n.source()), fmt::format("{} must be a table", what));
        return nullptr;
    }

    void read_root(const toml::table& root) {
        static constexpr std::string_view known[] = {"accounts", "allow_cleartext", "shard", "credentials", "servers", "stages"};
        position stages_at;
        for (const auto& [k, v] : root) {
            if (!key_allowed(k, "the plan's top level", known)) continue;
            const std::string_view name = k.str();
            if (name == "accounts") {
                if (auto s = text(v, "accounts")) {
                    out_.plan.accounts = path_of(*s);
                    out_.plan.paths.push_back({out_.plan.accounts, "accounts", at(v.source())});
                }
            } else if (name == "allow_cleartext") {
                if (auto b = boolean(v, "allow_cleartext")) out_.plan.allow_cleartext = *b;
            } else if (name == "shard") {
                read_shard(v);
            } else if (name == "credentials") {
                if (const auto* t = table(v, "credentials")) read_credentials(*t);
            } else if (name == "servers") {
                if (const auto* t = table(v, "servers")) read_servers(*t);
            } else if (name == "stages") {
                stages_at = at(k.source());
                if (const auto* t = table(v, "stages")) read_stages(*t);
            }
        }
        if (out_.plan.accounts.empty() && !root.contains("accounts")) {
            error({1, 1}, "no accounts file: add accounts = \"PATH\" at the top of the plan");
        }
        if (out_.plan.stages.empty() && !root.contains("stages")) {
            error({1, 1}, fmt::format("no stages: add at least one [stages.NAME] table ({})", stage_names()));
        }
        check_references();
    }

    void read_shard(const toml::node& v) {
        auto s = text(v, "shard");
        if (!s) return;
        try {
            (void)engine::parse_shard(*s);
            out_.plan.shard = *s;
            out_.plan.shard_where = at(v.source());
        } catch (const std::invalid_argument& e) {
            error(at(v.source()), fmt::format("shard: {}", e.what()));
        }
    }

    void read_credentials(const toml::table& t) {
        static constexpr std::string_view known[] = {"file", "env"};
        for (const auto& [k, v] : t) {
            const std::string name(k.str());
            const auto where = fmt::format("[credentials.{}]", name);
            if (is_secret_key(name) || v.is_string()) {
                error(at(k.source()), fmt::format("credentials.{}: a plan never holds a password; make it a table with file = "
                                                  "\"PATH\" or env = \"NAME\"", name));
                continue;
            }
            const auto* c = table(v, where);
            if (!c) continue;
            credential cred;
            cred.name = name;
            cred.where = at(k.source());
            for (const auto& [ck, cv] : *c) {
                if (!key_allowed(ck, where, known)) continue;
                auto s = text(cv, fmt::format("{} {}", where, ck.str()));
                if (!s) continue;
                if (ck.str() == "file") {
                    cred.file = path_of(*s);
                    out_.plan.paths.push_back({cred.file, where + " file", at(cv.source())});
                } else if (!is_env_name(*s)) {
                    error(at(cv.source()), fmt::format("{} env: '{}' is not an environment variable name; env takes the NAME of "
                                                       "the variable that holds the password, never the password",
                                                       where, *s));
                } else {
                    cred.env = *s;
                }
            }
            if (c->contains("file") == c->contains("env")) {
                error(cred.where, fmt::format("{} needs exactly one of file = \"PATH\" or env = \"NAME\"", where));
            }
            out_.plan.credentials[name] = std::move(cred);
        }
    }

    void read_servers(const toml::table& t) {
        for (const auto& [k, v] : t) {
            const std::string role(k.str());
            const auto* spec = find_server_spec(role);
            if (!spec) {
                std::vector<std::string_view> roles;
                for (const auto& s : server_table()) roles.push_back(s.role);
                error(at(k.source()), fmt::format("unknown server [servers.{}] (expected one of: {})", role, fmt::join(roles, ", ")));
                continue;
            }
            const auto where = fmt::format("[servers.{}]", role);
            const auto* s = table(v, where);
            if (!s) continue;
            server srv;
            srv.role = role;
            srv.where = at(k.source());
            for (const auto& [sk, sv] : *s) {
                if (!key_allowed(sk, where, spec->keys)) continue;
                const std::string_view key = sk.str();
                const auto what = fmt::format("{} {}", where, key);
                if (key == "insecure" || key == "starttls") {
                    if (auto b = boolean(sv, what)) (key == "insecure" ? srv.insecure : srv.starttls) = *b;
                    continue;
                }
                auto value = text(sv, what);
                if (!value) continue;
                if (key == "url") srv.url = *value;
                else if (key == "ca_file") {
                    srv.ca_file = path_of(*value);
                    out_.plan.paths.push_back({srv.ca_file, what, at(sv.source())});
                }
                else if (key == "login") srv.login = *value;
                else if (key == "bind_dn") srv.bind_dn = *value;
                else if (key == "admin_url") srv.admin_url = *value;
                else if (key == "credentials") srv.credentials = *value;
                else if (key == "profile") {
                    static constexpr std::string_view profiles[] = {"auto", "carbonio", "cyrus", "generic"};
                    if (choice(sv, what, *value, profiles)) srv.profile = *value;
                } else if (key == "carbonio_auth") {
                    static constexpr std::string_view modes[] = {"delegate", "basic"};
                    if (choice(sv, what, *value, modes)) srv.carbonio_auth = *value;
                }
            }
            check_server(srv, *s);
            out_.plan.servers[role] = std::move(srv);
        }
    }

    bool choice(const toml::node& n, std::string_view what, const std::string& value, std::span<const std::string_view> allowed) {
        if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return true;
        error(at(n.source()), fmt::format("{} = \"{}\": expected one of: {}", what, value, fmt::join(allowed, ", ")));
        return false;
    }

    void check_server(const server& s, const toml::table& t) {
        const auto where = fmt::format("[servers.{}]", s.role);
        if (!t.contains("url")) {
            error(s.where, fmt::format("{} needs url = \"...\"", where));
        } else if (!s.url.empty()) {
            const auto scheme = s.url.substr(0, s.url.find("://"));
            static constexpr std::string_view imap[] = {"imap", "imaps"};
            static constexpr std::string_view ldap[] = {"ldap", "ldaps"};
            static constexpr std::string_view web[] = {"http", "https", "carbonio+https"};
            const auto allowed = s.role == "source" || s.role == "dest" ? std::span<const std::string_view>(imap)
                                 : s.role == "ldap"                     ? std::span<const std::string_view>(ldap)
                                                                        : std::span<const std::string_view>(web);
            if (s.url.find("://") == std::string::npos ||
                std::find(allowed.begin(), allowed.end(), scheme) == allowed.end()) {
                error(at(t.get("url")->source()),
                      fmt::format("{} url = \"{}\": expected {}://...", where, s.url, fmt::join(allowed, "://... or ")));
            }
        }
        if (s.role == "ldap" && s.bind_dn.empty()) error(s.where, fmt::format("{} needs bind_dn = \"...\"", where));
        if (s.role == "carbonio" && s.login.empty()) {
            error(s.where, fmt::format("{} needs login = \"ADMIN\" (the Carbonio admin that acts for every owner)", where));
        }
        if ((!s.login.empty() || s.role == "ldap") && s.credentials.empty()) {
            error(s.where, fmt::format("{} {} needs credentials = \"NAME\" (a [credentials.NAME] table)", where,
                                       s.role == "ldap" ? "bind_dn" : "login"));
        }
    }

    void read_stages(const toml::table& t) {
        for (const auto& [k, v] : t) {
            const std::string name(k.str());
            const auto* spec = find_stage_spec(name);
            if (!spec) {
                error(at(k.source()), fmt::format("unknown stage [stages.{}] (the stages are, in run order: {})", name, stage_names()));
                continue;
            }
            const auto where = fmt::format("[stages.{}]", name);
            const auto* s = table(v, where);
            if (!s) continue;
            stage st;
            st.name = name;
            st.where = at(k.source());
            // Options in the schema's order, so the argv does not depend on the order of the plan's lines.
            std::vector<std::string_view> known{"after"};
            for (const auto* list : {&spec->options, &spec->common_options}) {
                for (const auto& o : *list) known.push_back(o.key);
            }
            for (const auto& [ok, ov] : *s) key_allowed(ok, where, known);
            if (const auto* after = s->get("after")) read_after(st, *after, where);
            for (const auto* list : {&spec->options, &spec->common_options}) {
                for (const auto& o : *list) {
                    const auto* node = s->get(o.key);
                    if (!node) {
                        if (o.required) error(st.where, fmt::format("{} needs {} = {}", where, o.key, to_string(o.type)));
                        continue;
                    }
                    add_option(st, o, *node, where);
                }
            }
            out_.plan.stages.push_back(std::move(st));
        }
        // Run order is the table's, whatever the plan's order.
        std::stable_sort(out_.plan.stages.begin(), out_.plan.stages.end(),
                         [](const stage& a, const stage& b) { return run_rank(a.name) < run_rank(b.name); });
    }

    // `after = "NAME"` or `after = ["NAME", ...]`: checked against the other stages in check_references().
    void read_after(stage& st, const toml::node& n, std::string_view where) {
        const auto what = fmt::format("{} after", where);
        if (const auto* s = n.as_string()) {
            st.after.push_back(s->get());
            st.after_where.push_back(at(n.source()));
            return;
        }
        const auto* arr = n.as_array();
        if (!arr) {
            error(at(n.source()), fmt::format("{} must be a stage name or an array of stage names", what));
            return;
        }
        for (const auto& item : *arr) {
            if (const auto* s = item.as_string()) {
                st.after.push_back(s->get());
                st.after_where.push_back(at(item.source()));
            } else {
                error(at(item.source()), fmt::format("{}: every item must be a stage name (a string)", what));
            }
        }
    }

    void add_option(stage& st, const option_spec& o, const toml::node& n, std::string_view where) {
        const auto what = fmt::format("{} {}", where, o.key);
        const auto push = [&](std::string value) {
            if (!o.flag.empty()) st.args.emplace_back(o.flag);
            st.args.push_back(std::move(value));
        };
        switch (o.type) {
        case value_type::boolean:
            if (auto b = boolean(n, what); b && *b) st.args.emplace_back(o.flag);
            return;
        case value_type::integer:
            if (const auto* i = n.as_integer(); i && i->get() >= 0) push(std::to_string(i->get()));
            else error(at(n.source()), fmt::format("{} must be a whole number, 0 or more", what));
            return;
        case value_type::text:
        case value_type::path:
            if (auto s = text(n, what)) {
                if (!o.choices.empty() && !choice(n, what, *s, o.choices)) return;
                if (o.key == "source_credentials") st.source_credentials = *s;
                else if (o.key == "dest") st.dest = *s;
                else push(o.type == value_type::path ? located(path_of(*s), what, n) : *s);
            }
            return;
        case value_type::text_list:
        case value_type::path_list: {
            const bool paths = o.type == value_type::path_list;
            if (const auto* s = n.as_string()) {
                push(paths ? located(path_of(s->get()), what, n) : s->get());
                return;
            }
            const auto* arr = n.as_array();
            if (!arr) {
                error(at(n.source()), fmt::format("{} must be {}", what, to_string(o.type)));
                return;
            }
            for (const auto& item : *arr) {
                if (const auto* s = item.as_string()) push(paths ? located(path_of(s->get()), what, item) : s->get());
                else error(at(item.source()), fmt::format("{}: every item must be a string", what));
            }
            if (o.required && arr->empty()) error(at(n.source()), fmt::format("{} must not be empty", what));
            return;
        }
        }
    }

    // Each name in a stage's `after` is a stage of this plan that runs before it. The run order is fixed (the
    // stage table's), so `after` can only add waiting, never reorder.
    void check_after(const stage& st) {
        for (std::size_t i = 0; i < st.after.size(); ++i) {
            const auto& name = st.after[i];
            const auto& where = st.after_where[i];
            const auto what = fmt::format("[stages.{}] after = \"{}\"", st.name, name);
            if (!find_stage_spec(name)) {
                error(where, fmt::format("{}: no such stage (the stages are, in run order: {})", what, stage_names()));
            } else if (!out_.plan.find_stage(name)) {
                error(where, fmt::format("{}: the plan has no [stages.{}]", what, name));
            } else if (run_rank(name) >= run_rank(st.name)) {
                error(where, fmt::format("{}: {} runs {} {}, never before it (the stages run in this order: {})", what,
                                                  name, name == st.name ? "as" : "after", st.name, stage_names()));
            }
        }
    }

    // What the stages need from [servers] and [credentials], once everything is read.
    void check_references() {
        auto& p = out_.plan;
        for (const auto& st : p.stages) {
            const auto* spec = find_stage_spec(st.name);
            for (const auto role : spec->servers) {
                if (!p.servers.count(std::string(role))) {
                    error(st.where, fmt::format("stage '{}' needs a [servers.{}] table", st.name, role));
                }
            }
            check_after(st);
            if (!st.source_credentials.empty() && !p.credentials.count(st.source_credentials)) {
                error(st.where, fmt::format("[stages.{}] source_credentials = \"{}\": no [credentials.{}] table", st.name,
                                            st.source_credentials, st.source_credentials));
            }
        }
        for (const auto& [role, s] : p.servers) {
            if (!s.credentials.empty() && !p.credentials.count(s.credentials)) {
                error(s.where, fmt::format("[servers.{}] credentials = \"{}\": no [credentials.{}] table", role, s.credentials,
                                           s.credentials));
            }
        }
        // migrate and verify have one --insecure for both sides.
        const auto src = p.servers.find("source"), dst = p.servers.find("dest");
        if (src != p.servers.end() && dst != p.servers.end() && src->second.insecure != dst->second.insecure) {
            error(dst->second.where, "[servers.source] and [servers.dest] must agree on insecure (migrate and verify verify "
                                     "both sides' certificates, or neither)");
        }
    }

    std::string source_name_;
    parse_result out_;
};

}  // namespace

const stage* run_plan::find_stage(const std::string& name) const {
    for (const auto& s : stages) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

std::vector<std::string> run_plan::runs_after(const stage& st) const {
    const auto table = find_stage_spec(st.name)->depends_on;
    std::vector<std::string> out;
    for (const auto& earlier : stages) {
        if (earlier.name == st.name) break;
        if (std::find(table.begin(), table.end(), earlier.name) != table.end() ||
            std::find(st.after.begin(), st.after.end(), earlier.name) != st.after.end()) {
            out.push_back(earlier.name);
        }
    }
    return out;
}

const server* run_plan::find_server(const std::string& role) const {
    const auto it = servers.find(role);
    return it == servers.end() ? nullptr : &it->second;
}

parse_result parse_plan(std::string_view text, std::string_view source_name, const std::string& directory) {
    return parser(source_name, directory).run(text);
}

std::string format_error(std::string_view source_name, const plan_error& e) {
    if (e.where.line == 0) return fmt::format("{}: {}", source_name, e.message);
    return fmt::format("{}:{}:{}: {}", source_name, e.where.line, e.where.column, e.message);
}

}  // namespace arrival::plan
