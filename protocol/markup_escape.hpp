// Text into XML or HTML, as element content or a quoted attribute value: & < > " ' become entity or character
// references. The apostrophe is &#39;, which XML 1.0 and every HTML read alike (&apos; is not HTML 4).
// Used by the HTML report and the Carbonio SOAP requests. Header-only, std only.
#pragma once
#include <string>
#include <string_view>

namespace arrival::markup {

[[nodiscard]] inline std::string escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

}  // namespace arrival::markup
