// Changes on the way from the old server to the new one: renaming domains, dropping or rewriting attributes
// that describe the old servers (host names, transports), and leaving out entries that belong to the old
// servers themselves (zimbraServer, global config, MIME/zimlet entries: a live Carbonio has its own).
//
// Rules file (one rule a line, '#' comments; later rules for an attribute override the built-in defaults):
//   drop ATTR                   remove ATTR from every entry
//   set ATTR VALUE              every entry that has ATTR gets exactly VALUE (rest of the line)
//   replace ATTR OLD NEW        substring OLD -> NEW in every value of ATTR
//   default CLASS ATTR VALUE    entries of objectClass CLASS that lack ATTR get VALUE
// Built-in defaults (see default_rules_text()): drop zimbraMailHost, zimbraMailTransport, zimbraMailHostPool,
// zimbraPublicServiceHostname and zimbraLastLogonTimestamp.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "provision/directory_model.hpp"
#include "provision/problem.hpp"
#include "provision/schema.hpp"

namespace arrival::provision {

struct domain_rename {
    std::string from, to;  // lower-case domain names
};

// Parses "old.example=acme.corp". Returns false (with a reason) on anything else.
[[nodiscard]] bool parse_domain_rename(std::string_view arg, domain_rename& out, std::string& error);

// Renames in DNs (the dc= suffix), in RDN attribute values, in every address (@old -> @new), in DN-valued
// values, and in values equal to the domain name (zimbraDomainName, o, associatedDomain...).
// Returns how many entries changed.
std::size_t rename_domains(directory_model& model, const std::vector<domain_rename>& renames);

struct attribute_rule {
    enum class action { drop, set, replace, default_value } act = action::drop;
    std::string attr;
    std::string object_class;  // default_value only
    std::string from, to;      // replace: from -> to; set/default_value: to
    std::string origin;        // "built-in" or file:line
};

std::string_view default_rules_text() noexcept;

class rewrite_rules {
public:
    // With the built-in defaults (use_defaults) or empty.
    explicit rewrite_rules(bool use_defaults = true);

    // Appends the rules in `text`; `file` names it in errors. A user rule for an attribute removes the
    // built-in rules for that attribute. Returns false with "file:line: reason" in `error`.
    [[nodiscard]] bool parse(std::string_view text, std::string_view file, std::string& error);

    const std::vector<attribute_rule>& rules() const noexcept { return rules_; }

    // Applies the rules to every entry; returns how many entries changed.
    std::size_t apply(directory_model& model) const;

    // The same rules with attribute names as the schema's primary NAME (`drop surname` -> `drop sn`), to
    // match entries after use_primary_names() (schema_filter.hpp) rewrote theirs.
    [[nodiscard]] rewrite_rules with_primary_names(const schema& s) const;

private:
    bool add_line(std::string_view line, std::string origin, bool user, std::string& error);
    std::vector<attribute_rule> rules_;
};

// Removes entries of kind `server` and everything under them, reporting one warning per removed entry.
// Call after index().
std::size_t skip_server_entries(directory_model& model, std::vector<problem>& out);

}  // namespace arrival::provision
