#include "protocol/imap/sasl_plain.hpp"

#include "protocol/base64.hpp"

namespace arrival::imap {

error_code sasl_plain_response(std::string_view authzid, std::string_view authcid, std::string_view password,
                               std::string& base64_out) {
    auto has_nul = [](std::string_view s) { return s.find('\0') != std::string_view::npos; };
    if (authcid.empty() || password.empty() || has_nul(authzid) || has_nul(authcid) || has_nul(password))
        return errc::unencodable;
    std::string msg;
    msg.reserve(authzid.size() + authcid.size() + password.size() + 2);
    msg.append(authzid).append(1, '\0').append(authcid).append(1, '\0').append(password);
    base64_out = base64::encode(msg);
    // The cleartext copy held the password: wipe it before the memory is released.
    for (auto& c : msg) *static_cast<volatile char*>(&c) = 0;
    return {};
}

}  // namespace arrival::imap
