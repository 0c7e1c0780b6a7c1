#include "provision/dl_csv.hpp"

#include <fmt/format.h>

#include "protocol/csv.hpp"
#include "protocol/take_line.hpp"
#include "provision/directory_model.hpp"
#include "provision/dn.hpp"
#include "provision/uuid.hpp"

namespace arrival::provision {

void parse_dl_csv(std::string_view text, std::uint32_t file_index, const std::string& file_name,
                  std::vector<entry>& lists, std::vector<problem>& problems) {
    std::vector<std::string> f;
    std::uint32_t line_no = 0;
    bool first = true;
    auto report = [&](std::string code, std::string msg) {
        problem p;
        p.code = std::move(code);
        p.file = file_name;
        p.line = line_no;
        p.message = std::move(msg);
        problems.push_back(std::move(p));
    };
    while (!text.empty()) {
        ++line_no;
        const std::string_view line = take_line(text);
        if (line.empty() || line[0] == '#') continue;
        if (!csv::split_line(line, f, {',', true})) {
            report("csv_syntax", "unterminated quote");
            continue;
        }
        const bool header = first && f[0].find('@') == std::string::npos;
        first = false;
        if (header) continue;
        const std::string& address = f[0];
        const auto at = address.rfind('@');
        if (at == std::string::npos || at == 0 || at + 1 == address.size()) {
            report("csv_syntax", fmt::format("'{}' is not a list address", address));
            continue;
        }
        const std::string local = to_lower(address.substr(0, at));
        const std::string domain = to_lower(address.substr(at + 1));
        const std::string text_dn = "uid=" + escape_dn_value(local) + ",ou=people," + domain_dn(domain);
        std::string ndn;
        if (normalize_dn(text_dn, ndn)) {
            report("csv_syntax", fmt::format("'{}' cannot form a DN", address));
            continue;
        }
        entry e;
        e.set_dn(text_dn, ndn);
        e.loc = {file_index, line_no};
        e.add("objectClass", "zimbraDistributionList");
        e.add("objectClass", "zimbraMailRecipient");
        e.add("uid", local);
        e.add("mail", local + "@" + domain);
        e.add("zimbraMailDeliveryAddress", local + "@" + domain);
        e.add("zimbraMailStatus", "enabled");
        e.add("zimbraId", name_uuid("list:" + local + "@" + domain));
        if (f.size() > 1 && !f[1].empty()) e.add("description", f[1]);
        if (f.size() > 2 && !f[2].empty()) {
            e.add("displayName", f[2]);
            e.add("cn", f[2]);
        }
        for (std::size_t k = 3; k < f.size(); ++k) {
            if (f[k].empty()) continue;
            if (f[k].find('@') == std::string::npos) {
                report("csv_syntax", fmt::format("member '{}' of {} is not an address", f[k], address));
                continue;
            }
            e.add("zimbraMailForwardingAddress", f[k]);
        }
        lists.push_back(std::move(e));
    }
}

}  // namespace arrival::provision
