#include "provision/tls_diagnosis.hpp"

#include "protocol/tls_policy.hpp"
#include "provision/entry.hpp"

#include <fmt/format.h>
#include <ldap.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>

namespace arrival::provision {
namespace {

struct fd_closer {
    int fd = -1;
    ~fd_closer() {
        if (fd >= 0) ::close(fd);
    }
};

int connect_to(const std::string& host, const std::string& port) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return -1;
    int fd = -1;
    for (auto* a = res; a != nullptr && fd < 0; a = a->ai_next) {
        fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            ::close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

bool read_exact(int fd, unsigned char* p, std::size_t n) {
    while (n > 0) {
        const auto got = ::read(fd, p, n);
        if (got <= 0) return false;
        p += got;
        n -= static_cast<std::size_t>(got);
    }
    return true;
}

// RFC 4511 §4.14.1 StartTLS: ExtendedRequest with requestName 1.3.6.1.4.1.1466.20037, message id 1; then the
// whole ExtendedResponse (one BER element) is read and its resultCode must be success (0).
bool start_tls(int fd) {
    static const char oid[] = "1.3.6.1.4.1.1466.20037";
    std::string req = {0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, static_cast<char>(0x80), 0x16};
    req += oid;
    if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return false;
    unsigned char head[2];
    if (!read_exact(fd, head, 2) || head[0] != 0x30) return false;
    std::size_t len = head[1];
    if (len & 0x80) {
        const std::size_t n = len & 0x7f;
        unsigned char l[4];
        if (n == 0 || n > 4 || !read_exact(fd, l, n)) return false;
        len = 0;
        for (std::size_t i = 0; i < n; ++i) len = (len << 8) | l[i];
    }
    if (len > 65536) return false;
    std::string body(len, '\0');
    if (!read_exact(fd, reinterpret_cast<unsigned char*>(body.data()), len)) return false;
    // messageID (02 01 01), then [APPLICATION 24] with its length, then resultCode ENUMERATED (0a 01 rc).
    const auto at = body.find("\x0a\x01", 0, 2);
    return at != std::string::npos && at + 2 < body.size() && body[at + 2] == 0;
}

}  // namespace

std::string diagnose_tls(const std::string& url, const std::string& ca_file, bool starttls) {
    LDAPURLDesc* u = nullptr;
    if (ldap_url_parse(url.c_str(), &u) != LDAP_URL_SUCCESS) return {};
    const std::string host = u->lud_host ? u->lud_host : "localhost";
    const bool ldaps = u->lud_scheme && std::string(u->lud_scheme) == "ldaps";
    const std::string port = std::to_string(u->lud_port ? u->lud_port : (ldaps ? 636 : 389));
    ldap_free_urldesc(u);

    fd_closer sock{connect_to(host, port)};
    if (sock.fd < 0) return {};
    if (starttls && !ldaps && !start_tls(sock.fd)) return {};

    // The policy's own context and peer name (protocol/tls_policy.hpp), so the verdict is the one IMAP and
    // HTTP would reach; only the handshake is let to finish so that the verdict can be read.
    boost::system::error_code ec;
    std::string detail;
    const auto ctx = tls::make_client_context({.ca_file = ca_file}, ec, detail);
    if (!ctx) return detail;
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx->native_handle()), SSL_free);
    if (!ssl) return {};
    if (tls::name_peer(ssl.get(), host, detail)) return detail;
    SSL_set_verify(ssl.get(), SSL_VERIFY_NONE, nullptr);  // finish the handshake, then read the verdict
    SSL_set_fd(ssl.get(), sock.fd);
    ERR_clear_error();
    if (SSL_connect(ssl.get()) != 1) {
        char buf[256] = "";
        if (const unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, buf, sizeof buf);
        return fmt::format("TLS handshake failed: {}", *buf ? buf : "the server closed the connection");
    }
    const long verdict = SSL_get_verify_result(ssl.get());
    if (verdict == X509_V_OK && iequals(host, "localhost")) {
        // OpenLDAP's own quirk (tls2.c, ldap_pvt_tls_check_hostname): for a URL naming "localhost" it checks
        // the certificate against this machine's host name instead, so a certificate for localhost fails.
        char self[256] = "";
        (void)::gethostname(self, sizeof self - 1);
        return fmt::format("the certificate is valid for localhost, but libldap checks a localhost URL against this "
                           "machine's name ({}) instead; connect to 127.0.0.1 if the certificate names that address, or "
                           "use the name the certificate carries",
                           self);
    }
    if (verdict == X509_V_OK) {
        return "libldap gives no reason; a handshake by OpenSSL with the same CA and host name verifies the server, "
               "so look at libldap's own checks (it matches the certificate against the host name as it resolves "
               "it; TLS_* settings in ldap.conf)";
    }
    std::string subject;
    if (X509* cert = SSL_get1_peer_certificate(ssl.get())) {
        char name[256];
        X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof name);
        subject = name;
        X509_free(cert);
    }
    return fmt::format("certificate verify failed ({}); server certificate {}{}", X509_verify_cert_error_string(verdict),
                       subject, ca_file.empty() ? " (give its CA with --ca-file)" : "");
}

}  // namespace arrival::provision
