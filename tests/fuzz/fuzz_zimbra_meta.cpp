// Fuzzes what `arrival files` reads from a Zimbra export before trusting it: the .meta JSON, the document path
// split and the destination name mapping. Nothing may crash; a mapped name is never empty, never "." or
// "..", never holds '/' or a control character, and stays within the destination's length limit.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/files/name_map.hpp"
#include "engine/files/zimbra_meta.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace arrival::files;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    zimbra_item item;
    (void)parse_zimbra_meta(text, item);
    std::vector<std::string> dirs;
    std::string name;
    (void)split_document_path(text, dirs, name);
    for (auto kind : {dest_kind::carbonio, dest_kind::webdav}) {
        const auto m = map_name(text, kind);
        if (m.name.empty() || m.name == "." || m.name == "..") __builtin_trap();
        for (unsigned char c : m.name) {
            if (c < 0x20 || c == 0x7f || c == '/') __builtin_trap();
        }
        if (kind == dest_kind::webdav && m.name.size() > 255) __builtin_trap();
        if (kind == dest_kind::carbonio && m.name.size() > 4 * 1024) __builtin_trap();
    }
    return 0;
}
