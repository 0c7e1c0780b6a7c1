// The online writer: libldap (ldap://, ldaps://, StartTLS; simple bind), reading the destination's schema
// and what it already holds, then writing the ordered plan idempotently:
//   absent                       -> add                                   (created)
//   present, every value equal   -> nothing                               (unchanged)
//   present, some attribute differs -> replace exactly those attributes   (modified)
//   base entries (create_only)   -> added when missing, never modified    (a live Carbonio has its own)
//   moved by a modrdn (renamed_from), old DN still there -> renamed first, then compared as above
//   read from the destination for change records (from_server) -> attributes it lost are deleted too
//   the plan's deletes           -> deleted after every write, deepest first (absent: unchanged)
// Attributes the server has but the plan does not name are left alone: provisioning owns what it writes,
// and Carbonio adds its own (zimbraMailHost, timestamps) that a rerun must not strip.
// Entries of one depth do not depend on each other, so up to `window` requests are in flight on the
// connection at once; depths are written in order, so every parent exists before its children.
// TLS is verified by default (CA from --ca-file, else the system store: protocol/tls_policy.hpp); the password
// is only in memory.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "provision/directory_model.hpp"
#include "provision/ldap_failure.hpp"
#include "provision/problem.hpp"
#include "provision/schema.hpp"
#include "provision/validator.hpp"

typedef struct ldap LDAP;

namespace arrival::provision {

struct ldap_options {
    std::string url;        // ldap://host:port or ldaps://host:port
    std::string bind_dn;
    std::string password;   // from a file or the environment, never argv
    std::string ca_file;    // PEM CA to trust instead of the system store ("" = system store)
    bool starttls = false;  // ldap:// + StartTLS, required to succeed (also the default, see allow_cleartext)
    bool allow_cleartext = false;  // ldap:// without starttls: bind in cleartext instead of requiring StartTLS
    bool insecure = false;  // skip certificate verification (says so on stderr)
    int timeout_seconds = 30;
    std::size_t window = 64;  // requests in flight
};

struct write_result {
    std::size_t created = 0, modified = 0, unchanged = 0, deleted = 0, failed = 0;
    std::vector<problem> failures;  // one per failed entry, with the server's reply
    std::vector<std::string> modified_dns;
};

class ldap_writer {
public:
    explicit ldap_writer(const ldap_options& opts);  // connects, TLS, binds; throws ldap_failure
    ~ldap_writer();
    ldap_writer(const ldap_writer&) = delete;
    ldap_writer& operator=(const ldap_writer&) = delete;

    // attributeTypes / objectClasses of the server's subschema entry (RFC 4512 §4.2).
    void read_schema(schema& out);
    // Every entry's DN, zimbraId, addresses, domain names and COS ids (for validation against it).
    void read_index(destination_index& out);
    // One entry with all its user attributes; false when it does not exist. Throws ldap_failure otherwise.
    bool read_entry(const std::string& dn, entry& out);
    // Writes (or, with dry_run, compares and counts would-be changes as created/modified).
    write_result write(const directory_model& model, bool dry_run);

private:
    LDAP* ld_ = nullptr;
    ldap_options opts_;
};

}  // namespace arrival::provision
