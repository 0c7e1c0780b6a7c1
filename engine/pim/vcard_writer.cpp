#include "engine/pim/vcard_writer.hpp"

#include <fmt/format.h>

namespace arrival::pim {
namespace {

std::string type_param(std::string_view type, vcard_version v, bool email) {
    std::string t(type);
    if (v == vcard_version::v3) {
        std::string out = email ? "INTERNET" : "";
        if (!t.empty()) {
            for (auto& c : t) {
                if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
            }
            if (!out.empty()) out += ',';
            out += t;
        }
        return out.empty() ? std::string{} : ";TYPE=" + out;
    }
    if (t.empty()) return {};
    if (t == "cell" || t == "fax" || t == "pager") return ";TYPE=" + t;
    if (t == "home" || t == "work") return ";TYPE=" + t;
    return {};  // "other" has no vCard 4.0 type
}

// URI and date values are not TEXT (no escaping), but a line break in one would start a new property.
std::string one_line(std::string_view v) {
    std::string out(v);
    for (auto& c : out) {
        if (c == '\r' || c == '\n') c = ' ';
    }
    return out;
}

struct writer {
    std::string out;
    void line(std::string_view l) { out += fold_line(l); }
    void text(std::string_view name, std::string_view value) {
        if (!value.empty()) line(fmt::format("{}:{}", name, escape_vcard_text(value)));
    }
};

}  // namespace

std::string escape_vcard_text(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        switch (c) {
            case '\\': out += "\\\\"; break;
            case ',': out += "\\,"; break;
            case ';': out += "\\;"; break;
            case '\r':
                if (i + 1 < v.size() && v[i + 1] == '\n') ++i;
                out += "\\n";
                break;
            case '\n': out += "\\n"; break;
            default: out += c;
        }
    }
    return out;
}

std::string fold_line(std::string_view l) {
    std::string out;
    std::size_t width = 75;  // the first line has 75 octets, continuations 1 space + 74
    while (l.size() > width) {
        std::size_t cut = width;
        // Never split inside a UTF-8 sequence: back up to a lead byte.
        while (cut > 1 && (static_cast<unsigned char>(l[cut]) & 0xC0) == 0x80) --cut;
        out.append(l.substr(0, cut)).append("\r\n ");
        l.remove_prefix(cut);
        width = 74;
    }
    out.append(l).append("\r\n");
    return out;
}

std::string write_vcard(const contact& c, std::string_view uid, vcard_version version) {
    writer w;
    w.line("BEGIN:VCARD");
    w.line(version == vcard_version::v3 ? "VERSION:3.0" : "VERSION:4.0");
    w.line(fmt::format("UID:{}", escape_vcard_text(uid)));
    w.line(fmt::format("FN:{}", escape_vcard_text(c.display_name())));
    // N is required in 3.0 and harmless in 4.0.
    w.line(fmt::format("N:{};{};{};{};{}", escape_vcard_text(c.family), escape_vcard_text(c.given),
                       escape_vcard_text(c.middle), escape_vcard_text(c.prefix), escape_vcard_text(c.suffix)));
    w.text("NICKNAME", c.nickname);
    if (!c.organization.empty() || !c.department.empty()) {
        w.line(c.department.empty()
                   ? fmt::format("ORG:{}", escape_vcard_text(c.organization))
                   : fmt::format("ORG:{};{}", escape_vcard_text(c.organization), escape_vcard_text(c.department)));
    }
    w.text("TITLE", c.title);
    for (const auto& e : c.emails) {
        w.line(fmt::format("EMAIL{}:{}", type_param(e.type, version, true), escape_vcard_text(e.value)));
    }
    for (const auto& p : c.phones) {
        w.line(fmt::format("TEL{}:{}", type_param(p.type, version, false), escape_vcard_text(p.value)));
    }
    for (const auto& a : c.addresses) {
        if (a.empty()) continue;
        w.line(fmt::format("ADR{}:{};{};{};{};{};{};{}", type_param(a.type, version, false),
                           escape_vcard_text(a.pobox), escape_vcard_text(a.extended), escape_vcard_text(a.street),
                           escape_vcard_text(a.city), escape_vcard_text(a.region),
                           escape_vcard_text(a.postal_code), escape_vcard_text(a.country)));
    }
    for (const auto& u : c.urls) w.line(fmt::format("URL:{}", one_line(u.value)));
    if (!c.birthday.empty()) w.line(fmt::format("BDAY:{}", one_line(c.birthday)));
    if (!c.anniversary.empty()) {
        w.line(fmt::format("{}:{}", version == vcard_version::v3 ? "X-ANNIVERSARY" : "ANNIVERSARY",
                           one_line(c.anniversary)));
    }
    if (!c.categories.empty()) {
        std::string cats;
        for (const auto& cat : c.categories) {
            if (!cats.empty()) cats += ',';
            cats += escape_vcard_text(cat);
        }
        w.line("CATEGORIES:" + cats);
    }
    w.text("NOTE", c.full_note());
    w.line("END:VCARD");
    return std::move(w.out);
}

}  // namespace arrival::pim
