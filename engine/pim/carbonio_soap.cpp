#include "engine/pim/carbonio_soap.hpp"

#include <expat.h>

#include <memory>

#include <fmt/format.h>

#include "engine/pim/carbonio_rest.hpp"
#include "protocol/markup_escape.hpp"

namespace arrival::pim {
namespace {

struct builder {
    std::vector<xml_element*> open;  // root first
};

void split_name(const XML_Char* name, xml_element& e) {
    // XML_ParserCreateNS with ' ' as separator: "uri local", or just "local" without a namespace.
    const std::string_view n(name);
    const auto sp = n.find(' ');
    if (sp == std::string_view::npos) {
        e.name = std::string(n);
    } else {
        e.ns = std::string(n.substr(0, sp));
        e.name = std::string(n.substr(sp + 1));
    }
}

void on_start(void* ud, const XML_Char* name, const XML_Char** attrs) {
    auto& b = *static_cast<builder*>(ud);
    xml_element* e = b.open.back();
    if (b.open.size() > 1 || !e->name.empty()) {
        e->children.emplace_back();
        e = &e->children.back();
    }
    split_name(name, *e);
    for (auto a = attrs; a && *a; a += 2) {
        const std::string_view an(a[0]);
        const auto sp = an.find(' ');
        e->attributes.emplace_back(std::string(sp == std::string_view::npos ? an : an.substr(sp + 1)), a[1]);
    }
    b.open.push_back(e);
}

void on_end(void* ud, const XML_Char*) { static_cast<builder*>(ud)->open.pop_back(); }

void on_text(void* ud, const XML_Char* s, int len) {
    static_cast<builder*>(ud)->open.back()->text.append(s, static_cast<std::size_t>(len));
}

std::string trimmed(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

std::string envelope(std::string_view header_context, std::string_view body) {
    return fmt::format(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
        "<soap:Envelope xmlns:soap=\"{}\"><soap:Header><context xmlns=\"{}\">{}<nosession/>"
        "<userAgent name=\"arrival\"/></context></soap:Header><soap:Body>{}</soap:Body></soap:Envelope>",
        soap12_ns, zimbra_ns, header_context, body);
}

std::string token_context(std::string_view token) { return "<authToken>" + markup::escape(token) + "</authToken>"; }

// The Body's first element, or an outcome naming what was wrong (a Fault included).
soap_outcome read_body(int http_status, std::string_view body, xml_element& doc, const xml_element*& first) {
    soap_outcome out;
    first = nullptr;
    const auto xml_error = parse_xml(body, doc);
    const xml_element* soap_body = xml_error.empty() && doc.name == "Envelope" ? doc.child(doc.ns, "Body") : nullptr;
    if (soap_body == nullptr || soap_body->children.empty()) {
        out.error = fmt::format("HTTP {} without a SOAP reply{}{}", http_status, body.empty() ? "" : ": ",
                                reply_line(body));
        return out;
    }
    first = &soap_body->children.front();
    if (first->name != "Fault") {
        if (http_status != 200) out.error = fmt::format("HTTP {} with a SOAP {}", http_status, first->name);
        return out;
    }
    // SOAP 1.2: Reason/Text and Detail/Error/Code; SOAP 1.1: faultstring and detail/Error/Code.
    const auto ns = first->ns;
    std::string reason;
    if (const auto* r = first->child(ns, "Reason")) {
        if (const auto* t = r->child(ns, "Text")) reason = trimmed(t->text);
    } else if (const auto* fs = first->child("", "faultstring")) {
        reason = trimmed(fs->text);
    }
    const xml_element* detail = first->child(ns, "Detail");
    if (detail == nullptr) detail = first->child("", "detail");
    if (detail != nullptr) {
        if (const auto* err = detail->child(zimbra_ns, "Error")) {
            if (const auto* code = err->child(zimbra_ns, "Code")) out.fault_code = trimmed(code->text);
        }
    }
    out.error = fmt::format("SOAP fault {}{}{}", out.fault_code.empty() ? "(no code)" : out.fault_code,
                            reason.empty() ? "" : ": ", reply_line(reason));
    first = nullptr;
    return out;
}

void collect_folders(const xml_element& f, const std::string& parent, bool root, std::vector<mail_folder>& out) {
    mail_folder m;
    m.id = std::string(f.attribute("id"));
    m.view = std::string(f.attribute("view"));
    const auto abs = f.attribute("absFolderPath");
    if (root) m.path = "/";
    else if (!abs.empty()) m.path = std::string(abs);
    else m.path = (parent == "/" ? "" : parent) + "/" + std::string(f.attribute("name"));
    if (const auto* acl = f.child(zimbra_mail_ns, "acl")) {
        for (const auto& g : acl->children) {
            if (g.ns != zimbra_mail_ns || g.name != "grant") continue;
            m.grants.push_back({std::string(g.attribute("gt")), std::string(g.attribute("perm")),
                                std::string(g.attribute("zid")), std::string(g.attribute("d"))});
        }
    }
    out.push_back(m);
    for (const auto& c : f.children) {
        // <link> (a mountpoint of another mailbox) and <search> are not folders of this mailbox: Carbonio's
        // UID lookup (Mailbox.getCalendarItemByUid) covers only the mailbox's own items.
        if (c.ns == zimbra_mail_ns && c.name == "folder") collect_folders(c, m.path, false, out);
    }
}

}  // namespace

std::string_view xml_element::attribute(std::string_view local) const {
    for (const auto& [k, v] : attributes) {
        if (k == local) return v;
    }
    return {};
}

const xml_element* xml_element::child(std::string_view ns_uri, std::string_view local) const {
    for (const auto& c : children) {
        if (c.ns == ns_uri && c.name == local) return &c;
    }
    return nullptr;
}

std::string parse_xml(std::string_view body, xml_element& root) {
    root = {};
    std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> p(XML_ParserCreateNS(nullptr, ' '), XML_ParserFree);
    if (!p) throw std::bad_alloc();
    builder b;
    b.open.push_back(&root);
    XML_SetUserData(p.get(), &b);
    XML_SetElementHandler(p.get(), on_start, on_end);
    XML_SetCharacterDataHandler(p.get(), on_text);
    if (XML_Parse(p.get(), body.data(), static_cast<int>(body.size()), XML_TRUE) == XML_STATUS_ERROR) {
        return fmt::format("XML error at line {}: {}", XML_GetCurrentLineNumber(p.get()),
                           XML_ErrorString(XML_GetErrorCode(p.get())));
    }
    return {};
}

std::string admin_auth_request(std::string_view admin, std::string_view password) {
    return envelope("", fmt::format("<AuthRequest xmlns=\"{}\"><name>{}</name><password>{}</password></AuthRequest>",
                                    zimbra_admin_ns, markup::escape(admin), markup::escape(password)));
}

std::string delegate_auth_request(std::string_view admin_token, std::string_view account, unsigned duration_s) {
    return envelope(token_context(admin_token),
                    fmt::format("<DelegateAuthRequest xmlns=\"{}\" duration=\"{}\"><account by=\"name\">{}</account>"
                                "</DelegateAuthRequest>",
                                zimbra_admin_ns, duration_s, markup::escape(account)));
}

std::string get_folder_request(std::string_view token) {
    return envelope(token_context(token), fmt::format("<GetFolderRequest xmlns=\"{}\"/>", zimbra_mail_ns));
}

std::string folder_grant_request(std::string_view token, std::string_view folder_id, const folder_grant& g) {
    const std::string who = g.d.empty() ? std::string() : fmt::format(" d=\"{}\"", markup::escape(g.d));
    return envelope(token_context(token),
                    fmt::format("<FolderActionRequest xmlns=\"{}\"><action op=\"grant\" id=\"{}\"><grant gt=\"{}\" "
                                "perm=\"{}\"{}/></action></FolderActionRequest>",
                                zimbra_mail_ns, markup::escape(folder_id), markup::escape(g.gt), markup::escape(g.perm), who));
}

soap_outcome read_folder_action(int http_status, std::string_view body) {
    xml_element doc;
    const xml_element* first = nullptr;
    auto out = read_body(http_status, body, doc, first);
    if (first != nullptr && first->name != "FolderActionResponse") {
        out.error = fmt::format("{} instead of FolderActionResponse", first->name);
    }
    return out;
}

bool soap_outcome::auth_refused() const {
    for (std::string_view c : {"account.AUTH_FAILED", "service.AUTH_REQUIRED", "service.AUTH_EXPIRED",
                               "service.PERM_DENIED", "account.CHANGE_PASSWORD", "account.ACCOUNT_INACTIVE"}) {
        if (fault_code == c) return true;
    }
    return false;
}

soap_outcome read_auth_response(int http_status, std::string_view body, std::string& token) {
    xml_element doc;
    const xml_element* first = nullptr;
    auto out = read_body(http_status, body, doc, first);
    if (first == nullptr) return out;
    const auto* t = first->child(first->ns, "authToken");
    if (t == nullptr || trimmed(t->text).empty()) {
        out.error = fmt::format("{} without an authToken", first->name);
        return out;
    }
    token = trimmed(t->text);
    return out;
}

soap_outcome read_folders(int http_status, std::string_view body, std::vector<mail_folder>& out) {
    xml_element doc;
    const xml_element* first = nullptr;
    auto outcome = read_body(http_status, body, doc, first);
    if (first == nullptr) return outcome;
    const auto* root = first->child(zimbra_mail_ns, "folder");
    if (root == nullptr) {
        outcome.error = fmt::format("{} without a folder", first->name);
        return outcome;
    }
    collect_folders(*root, "", true, out);
    return outcome;
}

}  // namespace arrival::pim
