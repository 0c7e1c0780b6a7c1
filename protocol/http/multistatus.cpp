#include "protocol/http/multistatus.hpp"

#include <expat.h>

#include <memory>

#include <fmt/format.h>

namespace arrival::http {
namespace {

int status_code(std::string_view status_line) {
    // "HTTP/1.1 200 OK"
    const auto sp = status_line.find(' ');
    if (sp == std::string_view::npos || sp + 4 > status_line.size()) return 0;
    int code = 0;
    for (char c : status_line.substr(sp + 1, 3)) {
        if (c < '0' || c > '9') return 0;
        code = code * 10 + (c - '0');
    }
    return code;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
        s.remove_suffix(1);
    return std::string(s);
}

// Element nesting we care about: multistatus > response > (href | status | propstat > (prop > P | status)).
struct state {
    std::vector<dav_response>* out;
    std::vector<std::string> path;  // names of open elements
    std::string text;
    dav_response cur;
    std::vector<dav_property> propstat_props;
    int propstat_status = 0;

    bool in(std::initializer_list<std::string_view> tail) const {
        if (path.size() < tail.size()) return false;
        auto it = path.end() - static_cast<std::ptrdiff_t>(tail.size());
        for (auto t : tail) {
            if (*it++ != t) return false;
        }
        return true;
    }

    // Index of the open property element in `path`, if any: the element right below a prop in a propstat.
    std::ptrdiff_t property_depth() const {
        for (std::size_t i = 0; i + 1 < path.size(); ++i) {
            if (path[i] == "DAV: prop" && i > 0 && path[i - 1] == "DAV: propstat") return static_cast<std::ptrdiff_t>(i + 1);
        }
        return -1;
    }
};

void on_start(void* ud, const XML_Char* name, const XML_Char** attrs) {
    auto& s = *static_cast<state*>(ud);
    s.path.emplace_back(name);
    s.text.clear();
    const auto pd = s.property_depth();
    const auto depth = static_cast<std::ptrdiff_t>(s.path.size()) - 1;
    if (s.in({"DAV: response", "DAV: propstat"})) {
        s.propstat_props.clear();
        s.propstat_status = 0;
    } else if (pd >= 0 && depth == pd) {
        s.propstat_props.push_back({name, {}, {}, {}});
    } else if (pd >= 0 && depth == pd + 1) {
        dav_element e{name, {}};
        for (auto a = attrs; a && *a; a += 2) e.attributes.emplace_back(a[0], a[1]);
        s.propstat_props.back().children.push_back(std::move(e));
    }
}

void on_end(void* ud, const XML_Char*) {
    auto& s = *static_cast<state*>(ud);
    const auto pd = s.property_depth();
    const auto depth = static_cast<std::ptrdiff_t>(s.path.size()) - 1;
    const std::string& name = s.path.back();
    if (name == "DAV: href") {
        if (pd >= 0 && depth > pd) {
            s.propstat_props.back().hrefs.push_back(trim(s.text));
        } else if (s.in({"DAV: response", "DAV: href"})) {
            s.cur.href = trim(s.text);
        }
    } else if (name == "DAV: status") {
        if (s.in({"DAV: propstat", "DAV: status"})) s.propstat_status = status_code(trim(s.text));
        else if (s.in({"DAV: response", "DAV: status"})) s.cur.status = status_code(trim(s.text));
    } else if (pd >= 0 && depth == pd) {
        s.propstat_props.back().text = trim(s.text);
    } else if (name == "DAV: propstat") {
        if (s.propstat_status >= 200 && s.propstat_status < 300) {
            for (auto& p : s.propstat_props) s.cur.props.push_back(std::move(p));
        }
        s.propstat_props.clear();
    } else if (name == "DAV: response") {
        s.out->push_back(std::move(s.cur));
        s.cur = {};
    }
    s.path.pop_back();
    s.text.clear();
}

void on_text(void* ud, const XML_Char* data, int len) {
    static_cast<state*>(ud)->text.append(data, static_cast<std::size_t>(len));
}

}  // namespace

std::string_view dav_element::attribute(std::string_view local) const {
    for (const auto& [k, v] : attributes) {
        if (k == local) return v;
    }
    return {};
}

bool dav_property::has_child(std::string_view n) const {
    for (const auto& c : children) {
        if (c.name == n) return true;
    }
    return false;
}

const dav_property* dav_response::prop(std::string_view n) const {
    for (const auto& p : props) {
        if (p.name == n) return &p;
    }
    return nullptr;
}

std::string dav_name(std::string_view ns, std::string_view local) { return fmt::format("{} {}", ns, local); }

std::string parse_multistatus(std::string_view body, std::vector<dav_response>& out) {
    std::unique_ptr<std::remove_pointer_t<XML_Parser>, decltype(&XML_ParserFree)> p(XML_ParserCreateNS(nullptr, ' '),
                                                                                   &XML_ParserFree);
    if (!p) throw std::bad_alloc();
    state s{&out, {}, {}, {}, {}, 0};
    XML_SetUserData(p.get(), &s);
    XML_SetElementHandler(p.get(), on_start, on_end);
    XML_SetCharacterDataHandler(p.get(), on_text);
    if (XML_Parse(p.get(), body.data(), static_cast<int>(body.size()), XML_TRUE) == XML_STATUS_ERROR) {
        return fmt::format("multistatus XML line {}: {}", XML_GetCurrentLineNumber(p.get()),
                           XML_ErrorString(XML_GetErrorCode(p.get())));
    }
    return {};
}

}  // namespace arrival::http
