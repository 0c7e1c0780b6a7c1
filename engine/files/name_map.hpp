// File and folder names a destination would refuse, mapped before writing and reported (as migrate does for
// folder names). Both kinds: control characters and bytes that are not UTF-8 become '_', "." and ".." become
// "_" and "__". Carbonio Files: a Filename longer than 1024 characters is refused (FACTS.md §3) and is
// shortened, keeping the extension. WebDAV (a file system behind the server, as Apache's mod_dav_fs): more than
// 255 bytes is shortened the same way.
#pragma once
#include <string>
#include <string_view>

namespace arrival::files {

enum class dest_kind { carbonio, webdav };

struct mapped_name {
    std::string name;
    std::string why;  // "" when the name is kept as is
};

[[nodiscard]] mapped_name map_name(std::string_view name, dest_kind kind);

}  // namespace arrival::files
