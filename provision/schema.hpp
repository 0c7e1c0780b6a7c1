// The destination's schema, as far as provisioning needs it: which attribute types and object classes exist
// (by every NAME and by OID), each class's superclasses and MUST/MAY lists. Filled from OpenLDAP .schema
// files (`attributetype ( … )` / `objectclass ( … )` statements, as slapd.conf includes them) or from the
// attributeTypes / objectClasses values of a server's subschema entry (RFC 4512 §4.1, same description syntax).
#pragma once
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace arrival::provision {

struct attribute_type_info {
    std::vector<std::string> names;
    std::string oid;
    std::string sup;
    bool single_value = false;
};

struct object_class_info {
    std::vector<std::string> names;
    std::string oid;
    std::vector<std::string> sup;
    std::vector<std::string> must, may;
    enum class kind_t { structural, auxiliary, abstract } kind = kind_t::structural;
};

struct schema_error {
    std::size_t line = 0;
    std::string message;
};

class schema {
public:
    // RFC 4512 AttributeTypeDescription / ObjectClassDescription. Returns false on malformed text.
    [[nodiscard]] bool add_attribute_type(std::string_view description);
    [[nodiscard]] bool add_object_class(std::string_view description);

    // An OpenLDAP .schema file's text; `objectidentifier` macros are accepted (names only matter here).
    [[nodiscard]] bool add_schema_file(std::string_view text, schema_error& err);

    // slapd's built-in ("system") schema, which .schema files do not repeat (core.schema has cn, uid,
    // userPassword, description, objectClass... only as comments). Add it when reading .schema files;
    // a server's subschema entry already lists it.
    void add_slapd_system_schema();

    bool empty() const noexcept { return attrs_.empty(); }

    bool knows_attribute(std::string_view name) const;  // options ignored ("cn;lang-de" -> cn)
    bool knows_class(std::string_view name) const;
    const attribute_type_info* attribute(std::string_view name) const;
    const object_class_info* object_class(std::string_view name) const;

    // Every attribute (lower-case canonical first NAME) the classes allow, and the ones they require,
    // following SUP chains. Unknown classes are ignored (the caller reports them).
    void allowed_and_required(const std::vector<std::string_view>& classes, std::vector<std::string>& allowed,
                              std::vector<std::string>& required) const;
    // The same, cached per distinct set of classes: a directory has a handful of class combinations and
    // zimbraAccount alone allows ~1,000 attributes, so computing this per entry would dominate a large run.
    struct class_rules {
        std::unordered_set<std::string> allowed;  // canonical lower-case names
        std::vector<std::string> required;
    };
    const class_rules& rules_for(const std::vector<std::string_view>& classes) const;

    // The canonical (first NAME, lower-case) spelling of an attribute, or "" when unknown.
    std::string canonical_attribute(std::string_view name) const;

private:
    std::vector<attribute_type_info> attr_list_;
    std::vector<object_class_info> class_list_;
    std::unordered_map<std::string, std::size_t> attrs_;    // lower-case name or OID -> index
    std::unordered_map<std::string, std::size_t> classes_;  // lower-case name or OID -> index
    mutable std::unordered_map<std::string, class_rules> rules_cache_;  // key: sorted lower-case class names
};

}  // namespace arrival::provision
