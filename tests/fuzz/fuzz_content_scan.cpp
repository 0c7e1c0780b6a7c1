// Fuzzes engine/mail/content_scan: any bytes, fed whole and in two chunks at a point the input chooses. The scanner
// sees FETCH literals in arbitrary pieces, so the findings must not depend on where the bytes were split.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/mail/content_scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace arrival::engine;
    if (size == 0) return 0;
    const std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
    const content_findings whole = scan_content(all);
    content_scanner s;
    const std::size_t cut = all.empty() ? 0 : data[0] % (all.size() + 1);
    s.feed(all.substr(0, cut));
    s.feed(all.substr(cut));
    const content_findings split = s.finish();
    if (split.traits != whole.traits || split.longest_line != whole.longest_line ||
        split.mime_problem != whole.mime_problem || split.header_utf8 != whole.header_utf8)
        __builtin_trap();
    if (whole.has(content_trait::mime_malformed) == whole.mime_problem.empty()) __builtin_trap();
    if (whole.longest_line > all.size()) __builtin_trap();
    return 0;
}
