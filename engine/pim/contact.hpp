// A contact as read from any CSV dialect, before it becomes a vCard or a Zimbra CSV row. Nothing a column
// held is dropped: columns without a field here are kept in `extra` and written into the note.
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace arrival::pim {

// type: "work", "home", "cell", "fax", "pager", "other" or "" (unknown); value as exported.
struct typed_value {
    std::string type;
    std::string value;
    bool operator==(const typed_value&) const = default;
};

struct postal_address {
    std::string type;  // "work", "home", "other"
    std::string pobox, extended, street, city, region, postal_code, country;
    [[nodiscard]] bool empty() const {
        return pobox.empty() && extended.empty() && street.empty() && city.empty() && region.empty() &&
               postal_code.empty() && country.empty();
    }
};

struct contact {
    std::string prefix, given, middle, family, suffix, full_name, nickname;
    std::string organization, department, title;
    std::vector<typed_value> emails, phones, urls;
    std::vector<postal_address> addresses;
    std::string birthday;     // YYYY-MM-DD when recognised, else as exported
    std::string anniversary;  // same
    std::string note;
    std::vector<std::string> categories;
    std::vector<std::pair<std::string, std::string>> extra;  // (column header, value) of unmapped columns
    std::size_t line = 0;                                    // CSV line the record starts on

    // The display name: full name, else the name parts, else organisation, e-mail or phone.
    [[nodiscard]] std::string display_name() const;
    // The note plus one "Header: value" line per unmapped column.
    [[nodiscard]] std::string full_note() const;
    // True when there is nothing to identify the contact by (no name, organisation, e-mail or phone).
    [[nodiscard]] bool anonymous() const;
    // A UID derived from the normalised name and the sorted e-mail addresses (phones when there are none),
    // so the same contact gets the same UID on every run and a rerun finds it already present.
    [[nodiscard]] std::string stable_uid() const;
};

}  // namespace arrival::pim
