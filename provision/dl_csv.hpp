// Distribution lists from the CSV Carbonio's documentation uses for bulk list creation:
//   dl@domain,Description,Display Name,member1@domain,member2@other,...
// One list a line; fields may be double-quoted ("a, b" and "" for a quote); '#' lines and blank lines are
// skipped, and so is a first line whose first field has no '@' (a header). Each list becomes a
// zimbraDistributionList entry uid=<local>,ou=people,<domain's dc DN> with its members as
// zimbraMailForwardingAddress, and a zimbraId derived from its address (stable across reruns).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "provision/entry.hpp"
#include "provision/problem.hpp"

namespace arrival::provision {

// Parses the whole CSV text; entries get loc {file_index, line}. Problems name `file_name`:line.
void parse_dl_csv(std::string_view text, std::uint32_t file_index, const std::string& file_name,
                  std::vector<entry>& lists, std::vector<problem>& problems);

}  // namespace arrival::provision
