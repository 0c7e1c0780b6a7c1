#include "engine/files/zimbra_meta.hpp"

#include <nlohmann/json.hpp>

namespace arrival::files {

namespace {

// Zimbra's Metadata encoding is bencode-like: "d3:veri4e...e". The revision is the integer after "3:ver".
int metadata_version(std::string_view md) {
    const auto at = md.find("3:veri");
    if (at == std::string_view::npos) return 1;
    int v = 0;
    std::size_t i = at + 6;
    for (; i < md.size() && md[i] >= '0' && md[i] <= '9' && v < 1000000; ++i) v = v * 10 + (md[i] - '0');
    return i < md.size() && md[i] == 'e' && v > 0 ? v : 1;
}

}  // namespace

std::string parse_zimbra_meta(std::string_view json, zimbra_item& out) {
    const auto doc = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return "not a JSON object";
    auto integer = [&](const char* key, auto& into) -> bool {
        const auto it = doc.find(key);
        if (it == doc.end() || !it->is_number_integer()) return false;
        into = it->template get<std::remove_reference_t<decltype(into)>>();
        return true;
    };
    auto text = [&](const char* key) -> std::string {
        const auto it = doc.find(key);
        return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    zimbra_item item;
    if (!integer("type", item.type)) return "no integer \"type\"";
    std::int64_t size = 0;
    if (!integer("size", size) || size < 0) return "no \"size\"";
    item.size = static_cast<std::uint64_t>(size);
    integer("date", item.date);
    item.name = text("name");
    item.path = text("Path");
    item.version = metadata_version(text("metadata"));
    out = std::move(item);
    return {};
}

bool split_document_path(std::string_view path, std::vector<std::string>& dirs, std::string& name) {
    std::vector<std::string> parts;
    std::size_t i = 0;
    while (i <= path.size()) {
        const auto j = std::min(path.find('/', i), path.size());
        if (j > i) parts.emplace_back(path.substr(i, j - i));
        i = j + 1;
    }
    if (parts.empty()) return false;
    name = parts.back();
    parts.pop_back();
    if (!parts.empty() && parts.front() == "Briefcase") parts.erase(parts.begin());
    dirs = std::move(parts);
    return true;
}

}  // namespace arrival::files
