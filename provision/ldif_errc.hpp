// Error codes of the LDIF reader and the DN parser (category "arrival.ldif"). The reader reports them with
// the line number of the offending line; the message text never contains attribute values, which may be
// password hashes.
#pragma once
#include <system_error>

namespace arrival::provision {

enum class ldif_errc {
    bad_version = 1,            // `version:` other than 1, or not on the first line
    missing_dn,                 // a record does not start with `dn:`
    bad_dn,                     // the DN is not RFC 4514
    bad_line,                   // neither `type: value`, `type:: base64` nor `type:< url`
    bad_attribute_description,  // type or option with characters RFC 4512 does not allow
    bad_base64,                 // `::` value is not valid base64
    unsupported_url,            // `:<` with a scheme other than file:
    bad_url,                    // malformed file: URL
    unexpected_continuation,    // a line starting with a space where nothing can be continued
    bad_changetype,             // unknown changetype, or changetype/control in the wrong place
    bad_modify,                 // modify record: missing `-`, value of another attribute, unknown operation
    bad_modrdn,                 // modrdn record: newrdn / deleteoldrdn / newsuperior missing or malformed
    unexpected_line_in_delete,  // a delete record carries attribute lines
    line_too_long,              // a logical line exceeds the reader's limit
    record_too_big,             // a record exceeds the reader's limit
    nul_in_value,               // a NUL byte in a plain value (must be base64)
    empty_record,               // `dn:` with no attributes in a content record
};

const std::error_category& ldif_category() noexcept;
std::error_code make_error_code(ldif_errc e) noexcept;

}  // namespace arrival::provision

template <>
struct std::is_error_code_enum<arrival::provision::ldif_errc> : std::true_type {};
