#include "provision/ldif_errc.hpp"

#include <string>

namespace arrival::provision {
namespace {

class ldif_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "arrival.ldif"; }
    std::string message(int ev) const override {
        switch (static_cast<ldif_errc>(ev)) {
        case ldif_errc::bad_version: return "version must be 1 and come first";
        case ldif_errc::missing_dn: return "record does not start with dn:";
        case ldif_errc::bad_dn: return "malformed DN (RFC 4514)";
        case ldif_errc::bad_line: return "malformed line (expected 'type: value', 'type:: base64' or 'type:< url')";
        case ldif_errc::bad_attribute_description: return "malformed attribute description";
        case ldif_errc::bad_base64: return "invalid base64 value";
        case ldif_errc::unsupported_url: return "unsupported URL (only file: URLs are read)";
        case ldif_errc::bad_url: return "malformed file: URL";
        case ldif_errc::unexpected_continuation: return "continuation line with nothing to continue";
        case ldif_errc::bad_changetype: return "unknown or misplaced changetype/control";
        case ldif_errc::bad_modify: return "malformed modify record";
        case ldif_errc::bad_modrdn: return "malformed modrdn record";
        case ldif_errc::unexpected_line_in_delete: return "a delete record cannot carry attributes";
        case ldif_errc::line_too_long: return "line too long";
        case ldif_errc::record_too_big: return "record too big";
        case ldif_errc::nul_in_value: return "NUL byte in a plain value (use base64)";
        case ldif_errc::empty_record: return "entry has no attributes";
        }
        return "unknown LDIF error";
    }
};

}  // namespace

const std::error_category& ldif_category() noexcept {
    static const ldif_category_impl instance;
    return instance;
}

std::error_code make_error_code(ldif_errc e) noexcept { return {static_cast<int>(e), ldif_category()}; }

}  // namespace arrival::provision
