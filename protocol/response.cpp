#include "protocol/response.hpp"

#include "protocol/charclass.hpp"

namespace arrival::imap {

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (detail::ascii_upper(static_cast<unsigned char>(a[i])) != detail::ascii_upper(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

bool response::is(std::string_view upper_name) const noexcept { return iequals(name, upper_name); }

std::string_view to_string(response_status s) noexcept {
    switch (s) {
    case response_status::none: return "";
    case response_status::ok: return "OK";
    case response_status::no: return "NO";
    case response_status::bad: return "BAD";
    case response_status::preauth: return "PREAUTH";
    case response_status::bye: return "BYE";
    }
    return "";
}

}  // namespace arrival::imap
