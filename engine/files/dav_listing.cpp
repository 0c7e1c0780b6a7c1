#include "engine/files/dav_listing.hpp"

#include <ctime>

#include "protocol/http/url.hpp"
#include "protocol/percent.hpp"

namespace arrival::files {

namespace {

std::string_view strip_slash(std::string_view s) {
    while (s.size() > 1 && s.back() == '/') s.remove_suffix(1);
    return s;
}

// The path of an href (an absolute URL's origin dropped).
std::string_view href_path(std::string_view href) {
    if (const auto scheme = href.find("://"); scheme != std::string_view::npos) {
        const auto slash = href.find('/', scheme + 3);
        return slash == std::string_view::npos ? std::string_view("/") : href.substr(slash);
    }
    return href;
}

}  // namespace

const std::vector<std::string>& listing_props() {
    static const std::vector<std::string> props{http::dav_name(http::dav_ns, "resourcetype"),
                                                http::dav_name(http::dav_ns, "getcontentlength"),
                                                http::dav_name(http::dav_ns, "getlastmodified")};
    return props;
}

std::string dav_children(const std::vector<http::dav_response>& responses, std::string_view collection_target,
                         std::vector<remote_entry>& out) {
    const auto self = percent::decode(strip_slash(collection_target));
    for (const auto& r : responses) {
        const auto path = strip_slash(href_path(r.href));
        const auto decoded = percent::decode(path);
        if (decoded == self) continue;
        remote_entry e;
        const auto slash = decoded.rfind('/');
        e.name = decoded.substr(slash == std::string::npos ? 0 : slash + 1);
        if (e.name.empty()) return "a response without a name: " + r.href;
        e.id = std::string(href_path(r.href));
        if (const auto* t = r.prop(http::dav_name(http::dav_ns, "resourcetype"))) {
            e.folder = t->has_child(http::dav_name(http::dav_ns, "collection"));
        }
        if (const auto* len = r.prop(http::dav_name(http::dav_ns, "getcontentlength")); len && !e.folder) {
            try {
                e.size = std::stoull(len->text);
            } catch (const std::exception&) {
                return "getcontentlength is not a number for " + r.href;
            }
        }
        if (const auto* lm = r.prop(http::dav_name(http::dav_ns, "getlastmodified"))) {
            e.mtime = parse_http_date(lm->text).value_or(0);
        }
        out.push_back(std::move(e));
    }
    return {};
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
    std::tm tm{};
    const std::string s(text);
    const char* end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') return std::nullopt;
    return static_cast<std::int64_t>(::timegm(&tm));
}

}  // namespace arrival::files
