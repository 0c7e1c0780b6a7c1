#include "protocol/http/webdav.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "protocol/markup_escape.hpp"
#include "protocol/percent.hpp"

namespace arrival::http {

namespace net = boost::asio;

namespace {

const std::string resourcetype = dav_name(dav_ns, "resourcetype");
const std::string cal_home_set = dav_name(caldav_ns, "calendar-home-set");
const std::string card_home_set = dav_name(carddav_ns, "addressbook-home-set");
const std::string principal = dav_name(dav_ns, "current-user-principal");
const std::string comp_set = dav_name(caldav_ns, "supported-calendar-component-set");
const std::string address_data = dav_name(carddav_ns, "supported-address-data");
const std::string calendar_type = dav_name(caldav_ns, "calendar");
const std::string addressbook_type = dav_name(carddav_ns, "addressbook");
const std::string collection_type = dav_name(dav_ns, "collection");

std::string prefix_of(std::string_view ns) {
    if (ns == dav_ns) return "D";
    if (ns == caldav_ns) return "C";
    if (ns == carddav_ns) return "A";
    return {};
}

bool is_kind(const dav_response& r, dav_kind kind) {
    const auto* rt = r.prop(resourcetype);
    return rt && rt->has_child(kind == dav_kind::calendar ? calendar_type : addressbook_type);
}

bool is_plain_collection(const dav_response& r) {
    const auto* rt = r.prop(resourcetype);
    return rt && rt->has_child(collection_type) && !rt->has_child(calendar_type) && !rt->has_child(addressbook_type);
}

// A calendar we may put events into: no component restriction, or VEVENT allowed.
bool accepts_events(const dav_response& r) {
    const auto* cs = r.prop(comp_set);
    if (!cs || cs->children.empty()) return true;
    for (const auto& c : cs->children) {
        if (c.attribute("name") == "VEVENT") return true;
    }
    return false;
}

std::vector<std::string> vcard_versions(const dav_response& r) {
    std::vector<std::string> out;
    if (const auto* ad = r.prop(address_data)) {
        for (const auto& c : ad->children) {
            auto v = c.attribute("version");
            if (!v.empty()) out.emplace_back(v);
        }
    }
    return out;
}

std::string with_slash(std::string s) {
    if (s.empty() || s.back() != '/') s += '/';
    return s;
}

bool same_path(std::string_view a, std::string_view b) {
    return with_slash(percent::decode(a)) == with_slash(percent::decode(b));
}

std::string parent_of(std::string_view target) {
    std::string t(target);
    if (!t.empty() && t.back() == '/') t.pop_back();
    const auto p = t.rfind('/');
    return p == std::string::npos ? "/" : t.substr(0, p + 1);
}

std::string href_path(const client& c, std::string_view href) { return resolve(c.origin(), href).target; }

net::awaitable<response> send(client& c, const request& r, std::string_view step, dav_failure& err) {
    boost::system::error_code ec;
    auto resp = co_await c.async_send(r, ec);
    if (ec) {
        err.ec = ec;
        err.what = fmt::format("{} {}: {}", step, c.origin().origin() + r.target, ec.message());
    }
    co_return resp;
}

void fail_status(dav_failure& err, const client& c, std::string_view step, const request& r, const response& resp) {
    err.status = resp.status;
    err.what = fmt::format("{}: {} {} answered {} {}{}{}", step, r.method, c.origin().origin() + r.target,
                           resp.status, resp.reason, resp.body.empty() ? "" : ": ", excerpt(resp.body));
}

const std::vector<std::string>& collection_props() {
    static const std::vector<std::string> props = {resourcetype, comp_set, address_data,
                                                   dav_name(dav_ns, "displayname")};
    return props;
}

// Creates `target` as the wanted kind; on 409 (a parent is missing) creates the parents with MKCOL first.
net::awaitable<bool> create(client& c, const std::string& target, const discovery_options& o, dav_failure& err) {
    auto make = [&] {
        return o.kind == dav_kind::calendar ? mkcalendar_request(target, o.display_name)
                                            : mkcol_addressbook_request(target, o.display_name);
    };
    auto req = make();
    auto resp = co_await send(c, req, "create collection", err);
    if (err) co_return false;
    if (resp.status == 409) {
        // Create missing ancestors top-down (Radicale does not auto-create another user's principal).
        std::vector<std::string> parents;
        for (auto p = parent_of(target); p != "/" && !p.empty(); p = parent_of(p)) parents.push_back(p);
        for (auto it = parents.rbegin(); it != parents.rend(); ++it) {
            auto mk = mkcol_request(*it);
            auto r = co_await send(c, mk, "create parent collection", err);
            if (err) co_return false;
            // 405: it exists already, which is what we want.
            if (r.status != 201 && r.status != 405) {
                fail_status(err, c, "create parent collection", mk, r);
                co_return false;
            }
        }
        req = make();
        resp = co_await send(c, req, "create collection", err);
        if (err) co_return false;
    }
    if (resp.status != 201 && resp.status != 200) {
        fail_status(err, c, "create collection", req, resp);
        co_return false;
    }
    co_return true;
}

// Looks in a home set for a usable collection, else creates HOME/NAME/.
net::awaitable<dav_collection> from_home(client& c, const std::string& home, const discovery_options& o,
                                         dav_failure& err) {
    dav_collection out;
    auto listing = co_await async_propfind(c, home, 1, collection_props(), "list collections", err);
    if (err) co_return out;
    const auto wanted = join_target(home, percent::encode_segment(o.collection_name)) + "/";
    const dav_response* pick = nullptr;
    for (const auto& r : listing) {
        if (!is_kind(r, o.kind) || (o.kind == dav_kind::calendar && !accepts_events(r))) continue;
        if (same_path(href_path(c, r.href), wanted)) {
            pick = &r;
            break;
        }
        if (!pick) pick = &r;
    }
    if (pick) {
        out.target = with_slash(href_path(c, pick->href));
        out.vcard_versions = vcard_versions(*pick);
        co_return out;
    }
    if (!co_await create(c, wanted, o, err)) co_return out;
    out.target = wanted;
    out.created = true;
    co_return out;
}

}  // namespace

std::string excerpt(std::string_view body, std::size_t max) {
    std::string out;
    bool space = false;
    for (char ch : body) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        if (ch == '\r' || ch == '\n' || ch == '\t' || ch == ' ') {
            space = !out.empty();
            continue;
        }
        if (static_cast<unsigned char>(ch) < 0x20) continue;
        if (space) out += ' ';
        space = false;
        out += ch;
    }
    return out;
}

request propfind_request(std::string target, int depth, const std::vector<std::string>& props) {
    std::string body = R"(<?xml version="1.0" encoding="utf-8"?>)"
                       R"(<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" )"
                       R"(xmlns:A="urn:ietf:params:xml:ns:carddav"><D:prop>)";
    for (const auto& p : props) {
        const auto sp = p.find(' ');
        const auto prefix = prefix_of(std::string_view(p).substr(0, sp));
        const auto local = p.substr(sp + 1);
        body += prefix.empty() ? fmt::format("<{} xmlns=\"{}\"/>", local, markup::escape(p.substr(0, sp)))
                               : fmt::format("<{}:{}/>", prefix, local);
    }
    body += "</D:prop></D:propfind>";
    return {"PROPFIND", std::move(target),
            {{"Depth", std::to_string(depth)}, {"Content-Type", "application/xml; charset=utf-8"}}, std::move(body)};
}

request mkcalendar_request(std::string target, std::string_view display_name) {
    auto body = fmt::format(
        R"(<?xml version="1.0" encoding="utf-8"?>)"
        R"(<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>)"
        R"(<D:displayname>{}</D:displayname><C:supported-calendar-component-set>)"
        R"(<C:comp name="VEVENT"/><C:comp name="VTODO"/><C:comp name="VJOURNAL"/>)"
        R"(</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>)",
        markup::escape(display_name));
    return {"MKCALENDAR", std::move(target), {{"Content-Type", "application/xml; charset=utf-8"}}, std::move(body)};
}

request mkcol_addressbook_request(std::string target, std::string_view display_name) {
    auto body = fmt::format(
        R"(<?xml version="1.0" encoding="utf-8"?>)"
        R"(<D:mkcol xmlns:D="DAV:" xmlns:A="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>)"
        R"(<D:resourcetype><D:collection/><A:addressbook/></D:resourcetype>)"
        R"(<D:displayname>{}</D:displayname></D:prop></D:set></D:mkcol>)",
        markup::escape(display_name));
    return {"MKCOL", std::move(target), {{"Content-Type", "application/xml; charset=utf-8"}}, std::move(body)};
}

request mkcol_request(std::string target) { return {"MKCOL", std::move(target), {}, {}}; }

request put_new_request(std::string target, std::string_view content_type, std::string body) {
    return {"PUT", std::move(target), {{"Content-Type", std::string(content_type)}, {"If-None-Match", "*"}},
            std::move(body)};
}

net::awaitable<std::vector<dav_response>> async_propfind(client& c, std::string target, int depth,
                                                         const std::vector<std::string>& props,
                                                         std::string_view step, dav_failure& err) {
    std::vector<dav_response> out;
    auto req = propfind_request(std::move(target), depth, props);
    auto resp = co_await send(c, req, step, err);
    if (err) co_return out;
    if (resp.status != 207) {
        fail_status(err, c, step, req, resp);
        co_return out;
    }
    if (auto e = parse_multistatus(resp.body, out); !e.empty()) {
        err.status = resp.status;
        err.what = fmt::format("{}: PROPFIND {}: {}", step, c.origin().origin() + req.target, e);
    }
    co_return out;
}

net::awaitable<dav_collection> async_find_collection(client& c, std::string_view base_target,
                                                     const discovery_options& o, dav_failure& err) {
    dav_collection out;
    std::string base(base_target);
    if (const auto p = base.find("{user}"); p != std::string::npos) {
        base.replace(p, 6, percent::encode_segment(o.user));
        const auto target = with_slash(base);
        auto self = co_await async_propfind(c, target, 0, collection_props(), "find collection", err);
        if (err.status == 404) {
            err = {};
            if (!co_await create(c, target, o, err)) co_return out;
            out.target = target;
            out.created = true;
            co_return out;
        }
        if (err) co_return out;
        for (const auto& r : self) {
            if (is_kind(r, o.kind)) {
                out.target = target;
                out.vcard_versions = vcard_versions(r);
                co_return out;
            }
            if (is_plain_collection(r)) co_return co_await from_home(c, target, o, err);
        }
        err.what = fmt::format("find collection: {} is neither a {} nor a collection", c.origin().origin() + target,
                               o.kind == dav_kind::calendar ? "calendar" : "address book");
        co_return out;
    }
    // Named vectors, not braced lists: g++ 12 miscompiles initializer lists inside co_await expressions.
    const std::vector<std::string> principal_props{principal};
    auto me = co_await async_propfind(c, base, 0, principal_props, "find current-user-principal", err);
    if (err) co_return out;
    std::string principal_path;
    for (const auto& r : me) {
        if (const auto* p = r.prop(principal); p && !p->hrefs.empty()) principal_path = href_path(c, p->hrefs.front());
    }
    if (principal_path.empty()) {
        err.what = fmt::format("find current-user-principal: {} did not name one; put {{user}} in the URL",
                               c.origin().origin() + base);
        co_return out;
    }
    const auto& home_prop = o.kind == dav_kind::calendar ? cal_home_set : card_home_set;
    const std::vector<std::string> home_props{home_prop};
    auto homes = co_await async_propfind(c, principal_path, 0, home_props, "find home set", err);
    if (err) co_return out;
    std::string home;
    for (const auto& r : homes) {
        if (const auto* p = r.prop(home_prop); p && !p->hrefs.empty()) home = href_path(c, p->hrefs.front());
    }
    if (home.empty()) {
        err.what = fmt::format("find home set: principal {} has no {}", c.origin().origin() + principal_path,
                               o.kind == dav_kind::calendar ? "calendar-home-set" : "addressbook-home-set");
        co_return out;
    }
    const auto home_target = with_slash(home);
    co_return co_await from_home(c, home_target, o, err);
}

}  // namespace arrival::http
