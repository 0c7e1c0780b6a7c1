#include "protocol/tls_policy.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace arrival::tls {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

std::shared_ptr<ssl::context> make_client_context(const client_options& opts, error_code& ec, std::string& detail) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
        ec = error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
        detail = "cannot require TLS 1.2 or later";
        return nullptr;
    }
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    if (opts.insecure) {
        ctx->set_verify_mode(ssl::verify_none);
        return ctx;
    }
    ctx->set_verify_mode(ssl::verify_peer);
    if (!opts.ca_file.empty()) {
        // Only this file: the context starts with an empty store, and set_default_verify_paths is not called.
        ctx->load_verify_file(opts.ca_file, ec);
        if (ec) {
            detail = "cannot load CA file " + opts.ca_file + ": " + ec.message();
            return nullptr;
        }
    } else {
        ctx->set_default_verify_paths(ec);
        if (ec) {
            detail = "cannot load the system CA store: " + ec.message();
            return nullptr;
        }
    }
    return ctx;
}

std::shared_ptr<ssl::context> make_client_context(const client_options& opts) {
    error_code ec;
    std::string detail;
    auto ctx = make_client_context(opts, ec, detail);
    if (!ctx) throw std::runtime_error(detail);
    return ctx;
}

error_code name_peer(SSL* ssl, const std::string& host, std::string& detail) {
    error_code addr_ec;
    (void)net::ip::make_address(host, addr_ec);  // only "is it an IP literal?" matters
    const bool dns_name = static_cast<bool>(addr_ec);
    if (SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE) {
        // The check is OpenSSL's own (not a verify callback), so a mismatch is reported as
        // X509_V_ERR_HOSTNAME_MISMATCH, a clear reason, rather than as a bare verification failure.
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        const int ok = dns_name ? X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size())
                                : X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
        if (ok != 1) {
            detail = "cannot set the host name to verify";
            return net::error::invalid_argument;
        }
    }
    if (dns_name && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
        detail = "cannot set SNI";
        return error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
    }
    return {};
}

namespace {

// error_category's destructor is protected and non-virtual by design (categories are never deleted through
// a base pointer), which -Wnon-virtual-dtor cannot tell.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class verify_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "arrival.tls.verify"; }
    std::string message(int v) const override {
        return std::string("certificate verification failed: ") + X509_verify_cert_error_string(v);
    }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& verify_category() noexcept {
    static const verify_category_impl instance;
    return instance;
}

error_code verify_failure(SSL* ssl) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify == X509_V_OK) return {};
    return error_code(static_cast<int>(verify), verify_category());
}

}  // namespace arrival::tls
