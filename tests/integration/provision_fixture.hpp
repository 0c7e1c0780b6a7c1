// Shared by the provisioning integration tests: the testbed's slapd (from the environment; a missing
// variable FAILS the test, it never skips), `arrival provision` (the arrival binary), the LDIF generator, a scratch
// directory, and a small libldap reader to check what landed in the directory.
#pragma once
#include <gtest/gtest.h>
#include <ldap.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace provision_it {

inline std::string env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        ADD_FAILURE() << name << " is not set: start the testbed (tools/testbed/testbed start slapd) and export DIR/env";
        return {};
    }
    return v;
}

struct slapd_env {
    std::string url = env("ARRIVAL_SLAPD_URL");
    std::string ldaps_url = env("ARRIVAL_SLAPD_LDAPS_URL");
    std::string ca = env("ARRIVAL_SLAPD_CA");
    std::string bind_dn = env("ARRIVAL_SLAPD_BIND_DN");
    std::string password = env("ARRIVAL_SLAPD_PASSWORD");
    std::string conf = env("ARRIVAL_SLAPD_CONF");
    bool ok() const { return !url.empty() && !bind_dn.empty() && !password.empty(); }
};

inline std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out.push_back(c);
    }
    return out + "'";
}

struct run_result {
    int status = -1;
    std::string output;  // stdout + stderr
};

// Runs a shell command line; the password travels in the environment (ARRIVAL_LDAP_PASSWORD), never argv.
inline run_result run(const std::string& cmd) {
    run_result r;
    std::string full = cmd + " 2>&1";
    FILE* p = ::popen(full.c_str(), "r");
    if (p == nullptr) return r;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

class scratch {
public:
    explicit scratch(const std::string& tag) {
        std::string tmpl = (std::filesystem::temp_directory_path() / ("arrival-prov-" + tag + "-XXXXXX")).string();
        dir_ = ::mkdtemp(tmpl.data());
    }
    ~scratch() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::string path(const std::string& name) const { return (std::filesystem::path(dir_) / name).string(); }
    void write(const std::string& name, const std::string& text) const { std::ofstream(path(name)) << text; }
    std::string read(const std::string& name) const {
        std::ifstream in(path(name));
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

private:
    std::string dir_;
};

// `arrival provision`: the binary an admin runs (ARRIVAL_EXE from meson), as a shell command prefix.
inline std::string cli() { return quote(env("ARRIVAL_EXE")) + " provision"; }
inline std::string ldif_gen() { return "python3 " + quote(env("ARRIVAL_LDIF_GEN")); }

// `arrival provision ARGS --ldap URL --bind-dn DN` with the password from the environment.
inline run_result provision(const slapd_env& s, const std::string& args, const std::string& url = {}) {
    return run("ARRIVAL_LDAP_PASSWORD=" + quote(s.password) + " " + cli() + " " + args + " --ldap " +
               quote(url.empty() ? s.url : url) + " --bind-dn " + quote(s.bind_dn));
}

inline nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in, nullptr, false);
}

// Attribute (lower-case name) -> values of one entry; empty when it does not exist.
using ldap_entry = std::map<std::string, std::vector<std::string>>;

class ldap_reader {
public:
    // Logs in as the test's rootdn and proves that login and a search work (the subschema entry every slapd
    // has), so an empty answer later means "not in the directory", never "could not ask": an unreachable
    // or refusing LDAP fails the test instead of passing its "nothing was written" checks.
    explicit ldap_reader(const slapd_env& s) {
        if (ldap_initialize(&ld_, s.url.c_str()) != LDAP_SUCCESS) {
            ADD_FAILURE() << "ldap_initialize(" << s.url << ") failed";
            return;
        }
        int v = LDAP_VERSION3;
        ldap_set_option(ld_, LDAP_OPT_PROTOCOL_VERSION, &v);
        berval cred{static_cast<ber_len_t>(s.password.size()), const_cast<char*>(s.password.data())};
        const int rc = ldap_sasl_bind_s(ld_, s.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
        if (rc != LDAP_SUCCESS) {
            ADD_FAILURE() << "the test's own LDAP login to " << s.url << " as " << s.bind_dn
                          << " failed: " << ldap_err2string(rc);
            return;
        }
        bound_ = !search("cn=Subschema", LDAP_SCOPE_BASE, "(objectClass=subschema)").empty();
        if (!bound_) ADD_FAILURE() << "the test's own LDAP search on " << s.url << " found no subschema entry";
    }
    ~ldap_reader() {
        if (ld_) ldap_unbind_ext_s(ld_, nullptr, nullptr);
    }
    ldap_reader(const ldap_reader&) = delete;
    ldap_reader& operator=(const ldap_reader&) = delete;
    // Logged in, and a search answered.
    bool bound() const { return bound_; }

    // The entry's attributes; empty when it does not exist. A failed search fails the test.
    ldap_entry get(const std::string& dn) {
        const auto found = search(dn, LDAP_SCOPE_BASE, "(objectClass=*)");
        return found.empty() ? ldap_entry{} : found.front();
    }

    std::size_t count(const std::string& base, const std::string& filter) {
        return search(base, LDAP_SCOPE_SUBTREE, filter).size();
    }

private:
    // Every entry the search returns (none when the base does not exist: LDAP_NO_SUCH_OBJECT); any other
    // outcome, including no login, is a test failure, not an empty answer.
    std::vector<ldap_entry> search(const std::string& base, int scope, const std::string& filter) {
        std::vector<ldap_entry> out;
        if (ld_ == nullptr) {
            ADD_FAILURE() << "no LDAP connection for the search of " << base;
            return out;
        }
        LDAPMessage* res = nullptr;
        const char* all[] = {"*", nullptr};
        const int rc = ldap_search_ext_s(ld_, base.c_str(), scope, filter.c_str(), const_cast<char**>(all), 0, nullptr,
                                         nullptr, nullptr, 0, &res);
        if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
            ADD_FAILURE() << "the test's LDAP search of " << base << " " << filter << " failed: " << ldap_err2string(rc);
        }
        for (LDAPMessage* e = res ? ldap_first_entry(ld_, res) : nullptr; e; e = ldap_next_entry(ld_, e)) {
            auto& entry = out.emplace_back();
            BerElement* ber = nullptr;
            for (char* a = ldap_first_attribute(ld_, e, &ber); a; a = ldap_next_attribute(ld_, e, ber)) {
                std::string name(a);
                for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                if (berval** vals = ldap_get_values_len(ld_, e, a)) {
                    for (int i = 0; vals[i]; ++i) entry[name].emplace_back(vals[i]->bv_val, vals[i]->bv_len);
                    ldap_value_free_len(vals);
                }
                ldap_memfree(a);
            }
            if (ber) ber_free(ber, 0);
        }
        ldap_msgfree(res);
        return out;
    }

    LDAP* ld_ = nullptr;
    bool bound_ = false;
};

}  // namespace provision_it
