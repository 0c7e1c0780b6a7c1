// Drop-and-report for what the destination's schema lacks. A Zimbra 10 export carries ~150 attribute types
// (backup, ActiveSync, ...) and two object classes Carbonio does not define; slapd would refuse every entry
// carrying one. Each unknown object class and attribute is removed from the entry, and the drops are
// counted per attribute (the report lists each name with its count and first place, not 100,000 lines).
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "provision/directory_model.hpp"
#include "provision/schema.hpp"

namespace arrival::provision {

struct dropped_attribute {
    std::size_t entries = 0;
    std::string first_file;
    std::uint32_t first_line = 0;
    std::string reason;  // "unknown to the destination" / "not allowed by the entry's object classes"
};

struct filter_result {
    std::map<std::string, dropped_attribute> attributes;      // by attribute description
    std::map<std::string, dropped_attribute> object_classes;  // by class name
    std::size_t entries_changed = 0;                          // entries that lost at least one value
};

// Rewrites every attribute description (entries and change records) to the schema's primary NAME, options
// kept: `surname: x` becomes `sn: x`, `GIVENNAME;lang-de` becomes `givenName;lang-de`. The destination
// answers with primary names, so without this an LDIF using an alias would be "modified" on every rerun.
// Unknown attributes are left as written (apply_schema drops them). Returns how many entries changed.
std::size_t use_primary_names(directory_model& model, const schema& s);

// Removes, from every entry: object classes `s` does not define; attributes it does not define; and
// attributes none of the entry's (remaining) object classes allow, unless the entry is extensibleObject.
filter_result apply_schema(directory_model& model, const schema& s);

}  // namespace arrival::provision
