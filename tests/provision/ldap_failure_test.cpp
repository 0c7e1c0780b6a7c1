// LDAP's and LDIF's codes in the one failure model: the same code before and after the bind, and the codes
// whose meaning decides an exit status (tools/arrival/exit_status.hpp).
#include "provision/ldap_failure.hpp"

#include <gtest/gtest.h>
#include <ldap.h>

namespace pv = arrival::provision;
using arrival::failure;
using pv::ldap_step;

TEST(ldap_failure, a_server_gone_is_unreachable_tls_or_transient_by_step) {
    for (const int rc : {LDAP_SERVER_DOWN, LDAP_CONNECT_ERROR, LDAP_TIMEOUT}) {
        EXPECT_EQ(pv::classify_ldap(rc, ldap_step::connect), failure::unreachable) << rc;
        EXPECT_EQ(pv::classify_ldap(rc, ldap_step::tls), failure::tls) << rc;
        EXPECT_EQ(pv::classify_ldap(rc, ldap_step::bind), failure::transient) << rc;
        EXPECT_EQ(pv::classify_ldap(rc, ldap_step::request), failure::transient) << rc;
    }
}

TEST(ldap_failure, the_bind_refused_is_auth_and_a_request_refused_is_one_entry) {
    for (const int rc : {LDAP_INVALID_CREDENTIALS, LDAP_INAPPROPRIATE_AUTH, LDAP_STRONG_AUTH_REQUIRED,
                         LDAP_UNWILLING_TO_PERFORM}) {
        EXPECT_EQ(pv::classify_ldap(rc, ldap_step::bind), failure::auth) << rc;
    }
    for (const int rc : {LDAP_NO_SUCH_OBJECT, LDAP_CONSTRAINT_VIOLATION, LDAP_OBJECT_CLASS_VIOLATION,
                         LDAP_ALREADY_EXISTS, LDAP_UNWILLING_TO_PERFORM, LDAP_UNDEFINED_TYPE}) {
        EXPECT_EQ(pv::classify_ldap(rc, ldap_step::request), failure::refused) << rc;
    }
    EXPECT_EQ(pv::classify_ldap(LDAP_INSUFFICIENT_ACCESS, ldap_step::request), failure::auth);
    EXPECT_EQ(pv::classify_ldap(LDAP_OTHER, ldap_step::bind), failure::protocol);
}

TEST(ldap_failure, wanting_tls_first_is_tls_as_imaps_privacyrequired) {
    EXPECT_EQ(pv::classify_ldap(LDAP_CONFIDENTIALITY_REQUIRED, ldap_step::bind), failure::tls);
    EXPECT_EQ(pv::classify_ldap(LDAP_CONFIDENTIALITY_REQUIRED, ldap_step::request), failure::tls);
}

TEST(ldap_failure, later_is_transient_and_garbage_is_protocol) {
    for (const int rc : {LDAP_BUSY, LDAP_UNAVAILABLE, LDAP_ADMINLIMIT_EXCEEDED, LDAP_TIMELIMIT_EXCEEDED}) {
        EXPECT_EQ(pv::classify_ldap(rc, ldap_step::request), failure::transient) << rc;
    }
    for (const int rc : {LDAP_PROTOCOL_ERROR, LDAP_DECODING_ERROR, LDAP_ENCODING_ERROR}) {
        for (const auto step : {ldap_step::connect, ldap_step::bind, ldap_step::request}) {
            EXPECT_EQ(pv::classify_ldap(rc, step), failure::protocol) << rc;
        }
    }
}

TEST(ldap_failure, every_ldif_code_is_the_inputs_fault) {
    for (int c = static_cast<int>(pv::ldif_errc::bad_version); c <= static_cast<int>(pv::ldif_errc::empty_record); ++c) {
        EXPECT_EQ(pv::classify(static_cast<pv::ldif_errc>(c)), failure::input) << c;
    }
}
