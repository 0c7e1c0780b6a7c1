// libFuzzer target for the ICS reader and what is built from its output. For any input: no crash, no
// hang; every component's text ends with CRLF and has a UID; grouping keeps each component
// at most once; every CalDAV resource and the Carbonio body re-read without issues and with the same
// number of components (the reader must accept what it wrote). The streaming read (what ics_file's first
// pass does) hands over the same components, and each one's byte range re-read alone gives it back exactly
// (what ics_file's second pass relies on).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "engine/pim/calendar_object.hpp"
#include "engine/pim/ics_reader.hpp"

using namespace arrival::pim;

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto cal = read_ics(text);
    for (const auto& c : cal.components) {
        check(c.text.size() >= 2 && c.text.substr(c.text.size() - 2) == "\r\n");
        check(!c.uid.empty());
    }
    const auto groups = group_by_uid(cal);
    std::size_t grouped = 0;
    for (const auto& o : groups.objects) grouped += o.components.size();
    check(grouped + groups.issues.size() == cal.components.size());
    for (const auto& o : groups.objects) {
        const auto resource = make_caldav_resource(cal, o);
        const auto again = read_ics(resource);
        check(again.issues.empty());
        check(again.components.size() == o.components.size());
    }
    const auto body = make_carbonio_ics(cal, groups);
    const auto reread = read_ics(body);
    check(reread.issues.empty());
    check(reread.components.size() == grouped);

    std::istringstream in{std::string(text)};
    std::size_t k = 0;
    const auto head = read_ics(in, [&](ics_component&& c, std::uint64_t offset, std::uint64_t length) {
        check(k < cal.components.size() && c.text == cal.components[k].text && c.uid == cal.components[k].uid);
        check(offset + length <= text.size());
        const auto alone = read_ics(text.substr(offset, length), c.line);
        check(alone.issues.empty() && alone.components.size() == 1 && alone.components[0].text == c.text &&
              alone.components[0].line == c.line);
        ++k;
    });
    check(k == cal.components.size());
    check(head.issues.size() == cal.issues.size() && head.timezones.size() == cal.timezones.size());
    return 0;
}
