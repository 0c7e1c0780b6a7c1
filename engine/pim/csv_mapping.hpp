// Column mappings from the CSV exports people have (Outlook, Google, Thunderbird, Zimbra/Carbonio) to
// `contact`. The dialect is chosen from the header; the caller may force one. Header names match
// case-insensitively and ignore surrounding spaces; unknown columns are kept in contact::extra.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/pim/contact.hpp"
#include "engine/pim/csv_reader.hpp"

namespace arrival::pim {

enum class csv_format { outlook, google, thunderbird, zimbra };

[[nodiscard]] std::string_view to_string(csv_format f) noexcept;
[[nodiscard]] std::optional<csv_format> parse_csv_format(std::string_view name) noexcept;

// Recognises the dialect from its distinctive columns; nullopt when none fits.
[[nodiscard]] std::optional<csv_format> detect_csv_format(const std::vector<std::string>& header);

struct mapped_contacts {
    std::vector<contact> contacts;
    std::vector<csv_issue> issues;  // records skipped (e.g. nothing to identify the contact by)
};

[[nodiscard]] mapped_contacts map_contacts(const csv_table& table, csv_format format);

}  // namespace arrival::pim
