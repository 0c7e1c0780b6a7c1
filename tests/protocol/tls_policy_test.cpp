// protocol/tls_policy on real certificates: two throwaway CAs made by the testbed's own script
// (tools/testbed/cert), and handshakes between a client SSL made by the policy and an OpenSSL server, in
// memory (a BIO pair), so no server and no port is needed.
#include "protocol/tls_policy.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/fixtures.hpp"

namespace tls_policy_test {

namespace fs = std::filesystem;
namespace tls = arrival::tls;

struct handshake_result {
    bool ok = false;
    long verify = X509_V_OK;     // the client's verify result
    std::string refused;         // tls::verify_failure(client).message() ("" = none)
    std::string server_name;     // the SNI the server saw ("" = none)
};

// Two CAs, each with a server certificate for localhost / 127.0.0.1 (tools/testbed/cert).
class tls_policy : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("arrival-tls-policy-" + std::to_string(::getpid()));
        const fs::path script = fs::path(arrival::test::fixture_dir()) / ".." / ".." / "tools" / "testbed" / "cert";
        for (const char* ca : {"a", "b"}) {
            const std::string cmd = "bash '" + script.string() + "' '" + (dir_ / ca).string() + "'";
            ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
        }
    }
    static void TearDownTestSuite() {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }

    static std::string ca(const char* which) { return (dir_ / which / "tls" / "ca.crt").string(); }

    static std::shared_ptr<boost::asio::ssl::context> context(const tls::client_options& o) {
        boost::system::error_code ec;
        std::string detail;
        auto ctx = tls::make_client_context(o, ec, detail);
        EXPECT_TRUE(ctx) << detail;
        return ctx;
    }

    // One handshake of a client on `ctx` naming `host` with a server presenting CA `server_ca`'s certificate.
    static handshake_result handshake(boost::asio::ssl::context& ctx, const std::string& host,
                                      const char* server_ca = "a") {
        handshake_result r;
        std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> sctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
        const fs::path tls_dir = dir_ / server_ca / "tls";
        EXPECT_EQ(SSL_CTX_use_certificate_chain_file(sctx.get(), (tls_dir / "server.crt").c_str()), 1);
        EXPECT_EQ(SSL_CTX_use_PrivateKey_file(sctx.get(), (tls_dir / "server.key").c_str(), SSL_FILETYPE_PEM), 1);
        std::unique_ptr<SSL, decltype(&SSL_free)> server(SSL_new(sctx.get()), SSL_free);
        std::unique_ptr<SSL, decltype(&SSL_free)> client(SSL_new(ctx.native_handle()), SSL_free);
        std::string detail;
        EXPECT_FALSE(tls::name_peer(client.get(), host, detail)) << detail;
        BIO* client_bio = nullptr;
        BIO* server_bio = nullptr;
        EXPECT_EQ(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0), 1);
        SSL_set_bio(client.get(), client_bio, client_bio);
        SSL_set_bio(server.get(), server_bio, server_bio);
        SSL_set_connect_state(client.get());
        SSL_set_accept_state(server.get());
        auto pending = [](SSL* s, int rc) {
            const int e = SSL_get_error(s, rc);
            return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
        };
        for (int round = 0; round < 50; ++round) {
            const int c = SSL_do_handshake(client.get());
            const int s = SSL_do_handshake(server.get());
            if (c == 1 && s == 1) {
                r.ok = true;
                break;
            }
            if ((c != 1 && !pending(client.get(), c)) || (s != 1 && !pending(server.get(), s))) break;
        }
        r.verify = SSL_get_verify_result(client.get());
        if (const auto refused = tls::verify_failure(client.get())) {
            EXPECT_EQ(refused.category(), tls::verify_category());
            EXPECT_EQ(refused.value(), r.verify);
            r.refused = refused.message();
        }
        if (const char* name = SSL_get_servername(server.get(), TLSEXT_NAMETYPE_host_name)) r.server_name = name;
        return r;
    }

    static inline fs::path dir_;
};

// SSL_CERT_FILE moves OpenSSL's default CA file (the "system store") for the life of one test.
class system_store_override {
public:
    explicit system_store_override(const std::string& file) {
        if (const char* v = std::getenv("SSL_CERT_FILE")) old_ = v;
        ::setenv("SSL_CERT_FILE", file.c_str(), 1);
    }
    ~system_store_override() {
        if (old_) {
            ::setenv("SSL_CERT_FILE", old_->c_str(), 1);
        } else {
            ::unsetenv("SSL_CERT_FILE");
        }
    }
    system_store_override(const system_store_override&) = delete;
    system_store_override& operator=(const system_store_override&) = delete;

private:
    std::optional<std::string> old_;
};

TEST_F(tls_policy, ca_file_verifies_the_server_it_signed_by_name_and_by_address) {
    auto ctx = context({.ca_file = ca("a")});
    ASSERT_TRUE(ctx);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->native_handle()), TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_get_verify_mode(ctx->native_handle()), SSL_VERIFY_PEER);
    const auto by_name = handshake(*ctx, "localhost");
    EXPECT_TRUE(by_name.ok) << X509_verify_cert_error_string(by_name.verify);
    EXPECT_EQ(by_name.refused, "");
    EXPECT_EQ(by_name.server_name, "localhost");
    const auto by_address = handshake(*ctx, "127.0.0.1");
    EXPECT_TRUE(by_address.ok) << X509_verify_cert_error_string(by_address.verify);
    EXPECT_EQ(by_address.server_name, "");  // RFC 6066 §3: no IP literal in SNI
}

TEST_F(tls_policy, ca_file_replaces_the_system_store) {
    // The "system store" trusts CA a; the CA file names CA b. Adding would accept a's server; replacing refuses.
    system_store_override store(ca("a"));
    auto system_only = context({});
    ASSERT_TRUE(system_only);
    const auto trusted = handshake(*system_only, "localhost");
    EXPECT_TRUE(trusted.ok) << X509_verify_cert_error_string(trusted.verify);
    auto other_ca = context({.ca_file = ca("b")});
    ASSERT_TRUE(other_ca);
    const auto refused = handshake(*other_ca, "localhost");
    EXPECT_FALSE(refused.ok);
    EXPECT_EQ(refused.verify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
        << X509_verify_cert_error_string(refused.verify);
    EXPECT_EQ(refused.refused, "certificate verification failed: unable to get local issuer certificate");
    const auto own = handshake(*other_ca, "localhost", "b");
    EXPECT_TRUE(own.ok) << X509_verify_cert_error_string(own.verify);
}

TEST_F(tls_policy, a_certificate_for_another_name_or_address_is_refused) {
    auto ctx = context({.ca_file = ca("a")});
    ASSERT_TRUE(ctx);
    struct wrong_peer {
        const char* host;
        long verify;
        const char* reason;
    };
    for (const auto& w : {wrong_peer{"mail.example.test", X509_V_ERR_HOSTNAME_MISMATCH, "hostname mismatch"},
                          wrong_peer{"127.0.0.2", X509_V_ERR_IP_ADDRESS_MISMATCH, "IP address mismatch"}}) {
        const auto r = handshake(*ctx, w.host);
        EXPECT_FALSE(r.ok) << w.host;
        EXPECT_EQ(r.verify, w.verify) << w.host << ": " << X509_verify_cert_error_string(r.verify);
        EXPECT_EQ(r.refused, std::string("certificate verification failed: ") + w.reason);
    }
}

TEST_F(tls_policy, insecure_accepts_any_certificate_and_reads_no_ca_file) {
    auto ctx = context({.ca_file = "/nonexistent/ca.pem", .insecure = true});
    ASSERT_TRUE(ctx);
    EXPECT_EQ(SSL_CTX_get_verify_mode(ctx->native_handle()), SSL_VERIFY_NONE);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->native_handle()), TLS1_2_VERSION);
    const auto r = handshake(*ctx, "mail.example.test");
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.server_name, "mail.example.test");
}

TEST_F(tls_policy, a_ca_file_that_cannot_be_loaded_is_an_error_naming_it) {
    const std::string garbage = (dir_ / "not-a-certificate.pem").string();
    std::ofstream(garbage) << "this is not PEM\n";
    for (const std::string& file : {std::string("/nonexistent/ca.pem"), garbage}) {
        boost::system::error_code ec;
        std::string detail;
        EXPECT_FALSE(tls::make_client_context({.ca_file = file}, ec, detail)) << file;
        EXPECT_TRUE(ec) << file;
        EXPECT_NE(detail.find("cannot load CA file " + file), std::string::npos) << detail;
        try {
            (void)tls::make_client_context({.ca_file = file});
            ADD_FAILURE() << "no exception for " << file;
        } catch (const std::runtime_error& e) {
            EXPECT_EQ(e.what(), detail);
        }
    }
}

}  // namespace tls_policy_test
