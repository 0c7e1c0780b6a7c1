#include "provision/ldap_failure.hpp"

#include <ldap.h>

namespace arrival::provision {

failure classify_ldap(int rc, ldap_step step) noexcept {
    switch (rc) {
    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR:
    case LDAP_TIMEOUT:
        if (step == ldap_step::connect) return failure::unreachable;
        if (step == ldap_step::tls) return failure::tls;
        return failure::transient;
    case LDAP_BUSY:
    case LDAP_UNAVAILABLE:
    case LDAP_ADMINLIMIT_EXCEEDED:
    case LDAP_TIMELIMIT_EXCEEDED:
        return failure::transient;
    case LDAP_CONFIDENTIALITY_REQUIRED:
        return failure::tls;
    case LDAP_INSUFFICIENT_ACCESS:
        return failure::auth;
    case LDAP_PROTOCOL_ERROR:
    case LDAP_DECODING_ERROR:
    case LDAP_ENCODING_ERROR:
        return failure::protocol;
    default:
        break;
    }
    if (step == ldap_step::bind) {
        switch (rc) {
        case LDAP_INVALID_CREDENTIALS:
        case LDAP_INAPPROPRIATE_AUTH:
        case LDAP_STRONG_AUTH_REQUIRED:
        case LDAP_UNWILLING_TO_PERFORM:
            return failure::auth;
        default:
            return failure::protocol;
        }
    }
    if (step == ldap_step::request) return failure::refused;
    return failure::protocol;
}

}  // namespace arrival::provision
