// imap_session's implementation: a blocking IMAP4rev1 client over a POSIX socket and OpenSSL, one per
// connection, driven from a job thread.
//
// Why this exists beside protocol/ (imap_codec + imap_net): the engine had to be exercised against real
// servers before the shared client landed. It implements exactly the operations imap_session lists and no
// more; moving imap_session onto imap_net's connection is a change to this file only.
//
// Timeouts: SO_RCVTIMEO/SO_SNDTIMEO on the socket (a read or write that stalls for `io_timeout` fails as a
// transient error); connect has its own timeout. TLS: the system trust store or --ca-file, host name checked
// (SSL_set1_host) and SNI sent unless insecure. Credentials are only ever written to the socket.
#include "engine/imap_session.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace arrival::engine {

std::string_view to_string(error_kind k) noexcept {
    switch (k) {
    case error_kind::unreachable: return "unreachable";
    case error_kind::tls: return "tls";
    case error_kind::auth: return "auth";
    case error_kind::transient: return "transient";
    case error_kind::refused: return "refused";
    case error_kind::protocol: return "protocol";
    }
    return "?";
}

server_endpoint server_endpoint::parse(const std::string& url) {
    server_endpoint e;
    e.url = url;
    std::string_view rest = url;
    if (rest.substr(0, 8) == "imaps://") {
        e.implicit_tls = true;
        rest.remove_prefix(8);
    } else if (rest.substr(0, 7) == "imap://") {
        rest.remove_prefix(7);
    } else {
        throw std::invalid_argument(fmt::format("'{}' is not an imap:// or imaps:// URL", url));
    }
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.find('@') != std::string_view::npos) {
        throw std::invalid_argument("server URLs must not carry user names or passwords; use --*-admin and --*-password-file");
    }
    std::string_view host = rest, port;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument(fmt::format("bad IPv6 host in '{}'", url));
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
    } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    if (host.empty() || host.find('/') != std::string_view::npos) throw std::invalid_argument(fmt::format("no host in '{}'", url));
    e.host = std::string(host);
    if (port.empty()) {
        e.port = e.implicit_tls ? 993 : 143;
    } else {
        unsigned long p = 0;
        for (char c : port) {
            if (c < '0' || c > '9') throw std::invalid_argument(fmt::format("bad port in '{}'", url));
            p = p * 10 + static_cast<unsigned long>(c - '0');
            if (p > 65535) throw std::invalid_argument(fmt::format("bad port in '{}'", url));
        }
        if (p == 0) throw std::invalid_argument(fmt::format("bad port in '{}'", url));
        e.port = static_cast<std::uint16_t>(p);
    }
    return e;
}

namespace {

// ---- modified UTF-7 (RFC 3501 §5.1.3) ----

constexpr char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

std::string mutf7_encode(std::string_view utf8) {
    std::string out;
    std::u16string pending;
    auto flush = [&] {
        if (pending.empty()) return;
        out += '&';
        std::uint32_t bits = 0;
        int nbits = 0;
        for (char16_t u : pending) {
            bits = (bits << 16) | u;
            nbits += 16;
            while (nbits >= 6) {
                nbits -= 6;
                out += b64chars[(bits >> nbits) & 0x3f];
            }
        }
        if (nbits > 0) out += b64chars[(bits << (6 - nbits)) & 0x3f];
        out += '-';
        pending.clear();
    };
    for (std::size_t i = 0; i < utf8.size();) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        if (c >= 0x20 && c <= 0x7e) {
            flush();
            if (c == '&') out += "&-";
            else out += static_cast<char>(c);
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
        for (int k = 1; k < len && i + static_cast<std::size_t>(k) < utf8.size(); ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + static_cast<std::size_t>(k)]) & 0x3f);
        }
        i += static_cast<std::size_t>(len);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            pending += static_cast<char16_t>(0xd800 + (cp >> 10));
            pending += static_cast<char16_t>(0xdc00 + (cp & 0x3ff));
        } else {
            pending += static_cast<char16_t>(cp);
        }
    }
    flush();
    return out;
}

// Returns false on malformed input (the caller then keeps the raw name).
bool mutf7_decode(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '&') {
            out += in[i];
            continue;
        }
        const auto end = in.find('-', i + 1);
        if (end == std::string_view::npos) return false;
        if (end == i + 1) {
            out += '&';
            i = end;
            continue;
        }
        std::uint32_t bits = 0;
        int nbits = 0;
        std::u16string units;
        for (std::size_t k = i + 1; k < end; ++k) {
            const char* p = std::strchr(b64chars, in[k]);
            if (!p || !*p) return false;
            bits = (bits << 6) | static_cast<std::uint32_t>(p - b64chars);
            nbits += 6;
            if (nbits >= 16) {
                nbits -= 16;
                units += static_cast<char16_t>((bits >> nbits) & 0xffff);
            }
        }
        for (std::size_t k = 0; k < units.size(); ++k) {
            std::uint32_t cp = units[k];
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (k + 1 >= units.size()) return false;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (units[++k] - 0xdc00);
            }
            if (cp < 0x80) out += static_cast<char>(cp);
            else if (cp < 0x800) {
                out += static_cast<char>(0xc0 | (cp >> 6));
                out += static_cast<char>(0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                out += static_cast<char>(0xe0 | (cp >> 12));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
                out += static_cast<char>(0x80 | (cp & 0x3f));
            } else {
                out += static_cast<char>(0xf0 | (cp >> 18));
                out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
                out += static_cast<char>(0x80 | (cp & 0x3f));
            }
        }
        i = end;
    }
    return true;
}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

std::string base64(std::string_view in) {
    static constexpr char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const auto n = (static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16) |
                       (static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8) | static_cast<unsigned char>(in[i + 2]);
        out += t[n >> 18];
        out += t[(n >> 12) & 63];
        out += t[(n >> 6) & 63];
        out += t[n & 63];
    }
    if (i < in.size()) {
        std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
        if (i + 1 < in.size()) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
        out += t[n >> 18];
        out += t[(n >> 12) & 63];
        out += i + 1 < in.size() ? t[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string upper(std::string_view s) {
    std::string o(s);
    std::transform(o.begin(), o.end(), o.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return o;
}

// ---- transport: socket + optional TLS ----

class wire {
public:
    wire(const server_endpoint& ep, std::chrono::seconds io_timeout) : ep_(ep) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        const auto port = std::to_string(ep.port);
        if (const int rc = ::getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
            throw session_error(error_kind::unreachable, fmt::format("cannot resolve {}: {}", ep.host, gai_strerror(rc)));
        }
        std::string last = "no address";
        for (auto* ai = res; ai && fd_ < 0; ai = ai->ai_next) {
            const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            if (fd < 0) continue;
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
            int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
            if (rc < 0 && errno == EINPROGRESS) {
                pollfd p{fd, POLLOUT, 0};
                rc = ::poll(&p, 1, 15000);
                if (rc == 1) {
                    int err = 0;
                    socklen_t len = sizeof err;
                    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                    errno = err;
                    rc = err ? -1 : 0;
                } else {
                    errno = rc == 0 ? ETIMEDOUT : errno;
                    rc = -1;
                }
            }
            if (rc == 0) {
                ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
                timeval tv{static_cast<time_t>(io_timeout.count()), 0};
                ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                // Commands are small writes followed by a wait for the reply: Nagle + delayed ACK would add
                // up to 40 ms to each round trip.
                const int one = 1;
                ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                fd_ = fd;
            } else {
                last = std::strerror(errno);
                ::close(fd);
            }
        }
        ::freeaddrinfo(res);
        if (fd_ < 0) throw session_error(error_kind::unreachable, fmt::format("cannot connect to {}:{}: {}", ep.host, ep.port, last));
    }
    ~wire() {
        if (ssl_) SSL_free(ssl_);
        if (ctx_) SSL_CTX_free(ctx_);
        if (fd_ >= 0) ::close(fd_);
    }
    wire(const wire&) = delete;
    wire& operator=(const wire&) = delete;

    void start_tls() {
        ctx_ = SSL_CTX_new(TLS_client_method());
        if (!ctx_) throw session_error(error_kind::tls, "cannot create a TLS context");
        SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
        if (!ep_.insecure) {
            SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
            const bool ok = ep_.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx_) == 1
                                                : SSL_CTX_load_verify_locations(ctx_, ep_.ca_file.c_str(), nullptr) == 1;
            if (!ok) throw session_error(error_kind::tls, fmt::format("cannot load CA file '{}': {}", ep_.ca_file, ssl_error()));
        }
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        SSL_set_tlsext_host_name(ssl_, ep_.host.c_str());
        if (!ep_.insecure) SSL_set1_host(ssl_, ep_.host.c_str());
        if (SSL_connect(ssl_) != 1) {
            const long v = SSL_get_verify_result(ssl_);
            const std::string why = v != X509_V_OK ? fmt::format("certificate verification failed: {}", X509_verify_cert_error_string(v))
                                                   : ssl_error();
            throw session_error(error_kind::tls, fmt::format("TLS handshake with {}:{} failed: {}", ep_.host, ep_.port, why));
        }
    }

    void write(std::string_view data) {
        while (!data.empty()) {
            long n;
            if (ssl_) {
                n = SSL_write(ssl_, data.data(), static_cast<int>(std::min<std::size_t>(data.size(), 1 << 20)));
                if (n <= 0) throw session_error(error_kind::transient, fmt::format("write to {} failed: {}", ep_.host, io_error(n)));
            } else {
                n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
                if (n < 0) {
                    if (errno == EINTR) continue;
                    throw session_error(error_kind::transient, fmt::format("write to {} failed: {}", ep_.host, std::strerror(errno)));
                }
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    // Reads what is available (at least one byte) into the buffer.
    void fill(std::string& buf) {
        char tmp[64 * 1024];
        long n;
        while (true) {
            if (ssl_) {
                n = SSL_read(ssl_, tmp, sizeof tmp);
                if (n <= 0) throw session_error(error_kind::transient, fmt::format("read from {} failed: {}", ep_.host, io_error(n)));
            } else {
                n = ::recv(fd_, tmp, sizeof tmp, 0);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                    throw session_error(error_kind::transient, fmt::format("read from {} timed out", ep_.host));
                }
                if (n < 0) throw session_error(error_kind::transient, fmt::format("read from {} failed: {}", ep_.host, std::strerror(errno)));
                if (n == 0) throw session_error(error_kind::transient, fmt::format("{} closed the connection", ep_.host));
            }
            break;
        }
        buf.append(tmp, static_cast<std::size_t>(n));
    }

private:
    static std::string ssl_error() {
        const unsigned long e = ERR_get_error();
        if (!e) return "unknown TLS error";
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        return buf;
    }
    std::string io_error(long n) {
        const int e = SSL_get_error(ssl_, static_cast<int>(n));
        if (e == SSL_ERROR_ZERO_RETURN) return "connection closed";
        if (e == SSL_ERROR_SYSCALL) return errno == EAGAIN ? "timed out" : errno ? std::strerror(errno) : "connection closed";
        return ssl_error();
    }

    server_endpoint ep_;
    int fd_ = -1;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
};

// ---- response values ----

struct value {
    enum kind_t { atom, string, list, nil } kind = atom;
    std::string text;            // atom or string
    std::vector<value> items;    // list
};

// Streams a literal that is a message body into a caller's buffer instead of a value.
using literal_hook = std::function<bool(const std::vector<value>& context, std::uint64_t size, std::string& buf, std::size_t& pos)>;

class session_impl final : public imap_session {
public:
    session_impl(const server_endpoint& ep, const credentials& who) : ep_(ep), wire_(ep, std::chrono::seconds(180)) {
        if (ep.implicit_tls) wire_.start_tls();
        auto greeting = read_line();
        if (greeting.rfind("* BYE", 0) == 0) throw session_error(error_kind::transient, fmt::format("server said: {}", greeting));
        if (greeting.rfind("* OK", 0) != 0 && greeting.rfind("* PREAUTH", 0) != 0) {
            throw session_error(error_kind::protocol, fmt::format("unexpected greeting: {}", greeting.substr(0, 200)));
        }
        refresh_caps(greeting);
        if (!ep.implicit_tls) {
            if (caps_.count("STARTTLS")) {
                command("STARTTLS");
                wire_.start_tls();
                caps_.clear();
            } else if (ep.require_starttls) {
                throw session_error(error_kind::tls, fmt::format("{} does not offer STARTTLS and --starttls requires it", ep.host));
            }
        }
        if (caps_.empty()) command("CAPABILITY");
        login(who);
        // Capabilities may change after authentication (RFC 3501 §7.2.1); ask unless the OK carried them.
        if (!caps_fresh_) command("CAPABILITY");
    }

    bool has_capability(std::string_view cap) const override { return caps_.count(upper(cap)) != 0; }

    std::optional<std::uint64_t> append_limit() const override {
        for (const auto& c : caps_) {
            if (c.rfind("APPENDLIMIT=", 0) == 0) return std::stoull(c.substr(12));
        }
        return std::nullopt;
    }

    namespace_info personal_namespace() override {
        namespace_info ns;
        if (has_capability("NAMESPACE")) {
            bool got = false;
            command("NAMESPACE", [&](const std::vector<value>& r) {
                if (r.size() >= 2 && upper(r[0].text) == "NAMESPACE" && r[1].kind == value::list && !r[1].items.empty() &&
                    r[1].items[0].kind == value::list && r[1].items[0].items.size() >= 2) {
                    ns.prefix = r[1].items[0].items[0].text;
                    const auto& d = r[1].items[0].items[1];
                    ns.delimiter = d.kind == value::nil || d.text.empty() ? '\0' : d.text[0];
                    got = true;
                }
            });
            if (got) return ns;
        }
        command("LIST \"\" \"\"", [&](const std::vector<value>& r) {
            if (r.size() >= 3 && upper(r[0].text) == "LIST") ns.delimiter = r[2].kind == value::nil || r[2].text.empty() ? '\0' : r[2].text[0];
        });
        return ns;
    }

    std::vector<namespace_info> shared_namespaces() override {
        std::vector<namespace_info> out;
        if (!has_capability("NAMESPACE")) return out;
        command("NAMESPACE", [&](const std::vector<value>& r) {
            if (r.size() < 4 || upper(r[0].text) != "NAMESPACE" || r[3].kind != value::list) return;
            for (const auto& e : r[3].items) {
                if (e.kind != value::list || e.items.size() < 2) continue;
                namespace_info ns;
                if (!mutf7_decode(e.items[0].text, ns.prefix)) ns.prefix = e.items[0].text;
                const auto& d = e.items[1];
                ns.delimiter = d.kind == value::nil || d.text.empty() ? '\0' : d.text[0];
                out.push_back(std::move(ns));
            }
        });
        return out;
    }

    std::vector<mailbox_entry> list() override {
        std::vector<mailbox_entry> out;
        auto collect = [&](const std::vector<value>& r) {
            if (r.size() < 4 || upper(r[0].text) != "LIST") return;
            mailbox_entry e;
            if (!mutf7_decode(r[3].text, e.name)) e.name = r[3].text;
            for (const auto& a : r[1].items) {
                if (upper(a.text) == "\\SUBSCRIBED") e.subscribed = true;
                else e.attributes.push_back(a.text);
            }
            out.push_back(std::move(e));
        };
        if (has_capability("LIST-EXTENDED")) {
            command(std::string("LIST \"\" \"*\" RETURN (SUBSCRIBED") + (has_capability("SPECIAL-USE") ? " SPECIAL-USE)" : ")"), collect);
        } else {
            command("LIST \"\" \"*\"", collect);
            std::set<std::string> subscribed;
            command("LSUB \"\" \"*\"", [&](const std::vector<value>& r) {
                if (r.size() >= 4 && upper(r[0].text) == "LSUB") {
                    std::string n;
                    subscribed.insert(mutf7_decode(r[3].text, n) ? n : r[3].text);
                }
            });
            for (auto& e : out) e.subscribed = subscribed.count(e.name) != 0;
        }
        return out;
    }

    mailbox_status status(const std::string& mailbox) override {
        mailbox_status st;
        command("STATUS " + quote(mutf7_encode(mailbox)) + " (UIDVALIDITY UIDNEXT MESSAGES)", [&](const std::vector<value>& r) {
            if (r.size() < 3 || upper(r[0].text) != "STATUS") return;
            const auto& items = r[2].items;
            for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
                const auto k = upper(items[i].text);
                const auto v = static_cast<std::uint32_t>(std::stoul(items[i + 1].text));
                if (k == "UIDVALIDITY") st.uidvalidity = v;
                else if (k == "UIDNEXT") st.uidnext = v;
                else if (k == "MESSAGES") st.messages = v;
            }
        });
        return st;
    }

    mailbox_status examine(const std::string& mailbox) override { return open_mailbox("EXAMINE", mailbox); }
    mailbox_status select(const std::string& mailbox) override { return open_mailbox("SELECT", mailbox); }

    std::vector<source_message> fetch_index(std::uint32_t from_uid, bool with_flags) override {
        std::vector<source_message> out;
        const std::string header_item = fmt::format("BODY[HEADER.FIELDS ({})]", dedupe_header_fields);
        command(fmt::format("UID FETCH {}:* (UID RFC822.SIZE{} BODY.PEEK[HEADER.FIELDS ({})])", from_uid,
                            with_flags ? " FLAGS INTERNALDATE" : "", dedupe_header_fields),
                [&](const std::vector<value>& r) {
                    if (r.size() < 3 || upper(r[1].text) != "FETCH" || r[2].kind != value::list) return;
                    source_message m;
                    std::string header;
                    const auto& it = r[2].items;
                    for (std::size_t i = 0; i + 1 < it.size(); i += 2) {
                        const auto k = upper(it[i].text);
                        const auto& v = it[i + 1];
                        if (k == "UID") m.uid = static_cast<std::uint32_t>(std::stoul(v.text));
                        else if (k == "RFC822.SIZE") m.size = std::stoull(v.text);
                        else if (k == "INTERNALDATE") m.internaldate = v.text;
                        else if (k == "FLAGS") {
                            for (const auto& f : v.items) m.flags.push_back(f.text);
                        } else if (k.rfind("BODY[HEADER.FIELDS", 0) == 0) {
                            header = v.text;
                        }
                    }
                    if (m.uid < from_uid) return;   // "n:*" also returns the last message when n is past the end
                    m.key = compute_dedupe_key(header, m.size);
                    out.push_back(std::move(m));
                });
        return out;
    }

    void fetch_bodies(const std::vector<std::uint32_t>& uids,
                      const std::function<body_buffer&(std::uint32_t, std::uint64_t)>& sink) override {
        if (uids.empty()) return;
        auto sorted = uids;
        std::sort(sorted.begin(), sorted.end());
        std::string set;
        for (std::size_t i = 0; i < sorted.size();) {
            std::size_t j = i;
            while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
            if (!set.empty()) set += ',';
            set += j == i ? std::to_string(sorted[i]) : fmt::format("{}:{}", sorted[i], sorted[j]);
            i = j + 1;
        }
        // The body literal goes straight into the caller's buffer (to disk when big), never into a value.
        hook_ = [&](const std::vector<value>& ctx, std::uint64_t size, std::string& buf, std::size_t& pos) -> bool {
            if (ctx.empty() || upper(ctx.back().text) != "BODY[]") return false;
            std::uint32_t uid = 0;
            for (std::size_t i = 0; i + 1 < ctx.size(); i += 2) {
                if (upper(ctx[i].text) == "UID") uid = static_cast<std::uint32_t>(std::stoul(ctx[i + 1].text));
            }
            body_buffer tmp;
            body_buffer* target = &tmp;
            if (uid) target = &sink(uid, size);
            else tmp.begin(size);
            std::uint64_t left = size;
            while (left > 0) {
                if (pos >= buf.size()) {
                    buf.clear();
                    pos = 0;
                    wire_.fill(buf);
                }
                const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size() - pos));
                target->append(std::string_view(buf).substr(pos, n));
                pos += n;
                left -= n;
            }
            if (!uid) pending_body_ = std::move(tmp);   // UID came after the body: handed over at the end
            return true;
        };
        try {
            command(fmt::format("UID FETCH {} (UID BODY.PEEK[])", set), [&](const std::vector<value>& r) {
                if (!pending_body_ || r.size() < 3 || r[2].kind != value::list) return;
                const auto& it = r[2].items;
                for (std::size_t i = 0; i + 1 < it.size(); i += 2) {
                    if (upper(it[i].text) == "UID") {
                        const auto uid = static_cast<std::uint32_t>(std::stoul(it[i + 1].text));
                        auto& target = sink(uid, pending_body_->size());
                        target = std::move(*pending_body_);
                    }
                }
                pending_body_.reset();
            });
        } catch (...) {
            hook_ = nullptr;
            throw;
        }
        hook_ = nullptr;
    }

    void create(const std::string& mailbox) override {
        const auto r = command("CREATE " + quote(mutf7_encode(mailbox)), {}, false);
        if (r.ok) return;
        // Already there (RFC 5530 [ALREADYEXISTS], or a server that just says so) is what we wanted.
        if (r.text.find("[ALREADYEXISTS]") != std::string::npos || r.text.find("already exists") != std::string::npos) return;
        throw session_error(error_kind::refused, fmt::format("CREATE '{}' refused: {}", mailbox, r.text));
    }

    void subscribe(const std::string& mailbox) override {
        const auto r = command("SUBSCRIBE " + quote(mutf7_encode(mailbox)), {}, false);
        if (!r.ok) throw session_error(error_kind::refused, fmt::format("SUBSCRIBE '{}' refused: {}", mailbox, r.text));
    }

    std::vector<append_result> append(const std::string& mailbox, const std::vector<append_item>& items) override {
        if (items.empty()) return {};
        if (items.size() > 1 && has_capability("MULTIAPPEND")) {
            const auto r = append_command(mailbox, items);
            if (r.ok || is_transient_text(r.text)) {
                if (!r.ok) throw session_error(error_kind::transient, fmt::format("APPEND to '{}': {}", mailbox, r.text));
                return std::vector<append_result>(items.size(), append_result{true, r.text});
            }
            // MULTIAPPEND is all or nothing: find the message(s) the server refuses one by one.
        }
        std::vector<append_result> out;
        for (const auto& it : items) {
            const auto r = append_command(mailbox, {it});
            if (!r.ok && is_transient_text(r.text)) throw session_error(error_kind::transient, fmt::format("APPEND to '{}': {}", mailbox, r.text));
            out.push_back({r.ok, r.text});
        }
        return out;
    }

    void logout() noexcept override {
        try {
            if (!closed_) command("LOGOUT");
        } catch (...) {
        }
        closed_ = true;
    }

private:
    struct tagged {
        bool ok = false;
        std::string text;   // "OK ...", "NO [CODE] ..." as the server sent it
    };

    static bool is_transient_text(const std::string& t) {
        return t.find("[UNAVAILABLE]") != std::string::npos || t.find("[INUSE]") != std::string::npos ||
               t.find("[SERVERBUG]") != std::string::npos;
    }

    void refresh_caps(std::string_view line) {
        // "* OK [CAPABILITY IMAP4rev1 ...] text" or the tagged OK of LOGIN/AUTHENTICATE
        const auto open = line.find("[CAPABILITY ");
        if (open == std::string_view::npos) return;
        const auto close = line.find(']', open);
        caps_.clear();
        std::string_view rest = line.substr(open + 12, close - open - 12);
        while (!rest.empty()) {
            const auto sp = rest.find(' ');
            caps_.insert(upper(rest.substr(0, sp)));
            if (sp == std::string_view::npos) break;
            rest.remove_prefix(sp + 1);
        }
        caps_fresh_ = true;
    }

    void login(const credentials& who) {
        if (!who.admin.empty() || has_capability("AUTH=PLAIN")) {
            if (!has_capability("AUTH=PLAIN") && !who.admin.empty()) {
                throw session_error(error_kind::auth, fmt::format("{} does not offer AUTH=PLAIN, needed for --*-admin", ep_.host));
            }
            // RFC 4616: authzid NUL authcid NUL passwd. With an admin, the admin authenticates for the user.
            std::string msg = who.admin.empty() ? std::string() + '\0' + who.user + '\0' + who.password.reveal()
                                                : who.user + '\0' + who.admin + '\0' + who.password.reveal();
            std::string b64 = base64(msg);
            std::fill(msg.begin(), msg.end(), '\0');
            caps_fresh_ = false;
            tagged r;
            if (has_capability("SASL-IR")) {
                r = command_secret("AUTHENTICATE PLAIN ", b64);
            } else {
                r = command_secret("AUTHENTICATE PLAIN", "", b64);
            }
            std::fill(b64.begin(), b64.end(), '\0');
            if (!r.ok) throw session_error(error_kind::auth, fmt::format("login refused: {}", r.text));
            return;
        }
        if (has_capability("LOGINDISABLED")) throw session_error(error_kind::auth, fmt::format("{} refuses LOGIN here (LOGINDISABLED)", ep_.host));
        caps_fresh_ = false;
        std::string args = quote(who.user) + " " + quote(who.password.reveal());
        const auto r = command_secret("LOGIN ", args);
        std::fill(args.begin(), args.end(), '\0');
        if (!r.ok) throw session_error(error_kind::auth, fmt::format("login refused: {}", r.text));
    }

    mailbox_status open_mailbox(const char* verb, const std::string& mailbox) {
        mailbox_status st;
        last_uidvalidity_ = last_uidnext_ = 0;
        last_permanent_flags_.clear();
        auto r = command(std::string(verb) + " " + quote(mutf7_encode(mailbox)),
                         [&](const std::vector<value>& v) {
                             if (v.size() >= 2 && upper(v[1].text) == "EXISTS") st.messages = static_cast<std::uint32_t>(std::stoul(v[0].text));
                         },
                         false);
        if (!r.ok) throw session_error(is_transient_text(r.text) ? error_kind::transient : error_kind::refused,
                                       fmt::format("{} '{}' refused: {}", verb, mailbox, r.text));
        st.uidvalidity = last_uidvalidity_;
        st.uidnext = last_uidnext_;
        st.permanent_flags = last_permanent_flags_;
        return st;
    }

    // The response codes SELECT/EXAMINE send in untagged OKs.
    void note_untagged_status(std::string_view line) {
        auto num = [&](std::string_view code) -> std::optional<std::uint32_t> {
            const auto p = line.find(code);
            if (p == std::string_view::npos) return std::nullopt;
            return static_cast<std::uint32_t>(std::strtoul(std::string(line.substr(p + code.size())).c_str(), nullptr, 10));
        };
        if (auto v = num("[UIDVALIDITY ")) last_uidvalidity_ = *v;
        if (auto v = num("[UIDNEXT ")) last_uidnext_ = *v;
        if (const auto p = line.find("[PERMANENTFLAGS ("); p != std::string_view::npos) {
            last_permanent_flags_.clear();
            auto rest = line.substr(p + 17);
            rest = rest.substr(0, rest.find(')'));
            while (!rest.empty()) {
                const auto sp = rest.find(' ');
                if (sp != 0) last_permanent_flags_.emplace_back(rest.substr(0, sp));
                if (sp == std::string_view::npos) break;
                rest.remove_prefix(sp + 1);
            }
        }
        if (line.find("[CAPABILITY ") != std::string_view::npos) refresh_caps(line);
    }

    std::string next_tag() { return fmt::format("A{:04}", ++tag_); }

    // Sends `verb`, reads untagged responses (handing parsed ones to `on_untagged`) up to the tagged reply.
    // With `must_succeed`, a NO/BAD throws; otherwise it is returned.
    tagged command(const std::string& verb, const std::function<void(const std::vector<value>&)>& on_untagged = {}, bool must_succeed = true) {
        const auto tag = next_tag();
        wire_.write(tag + " " + verb + "\r\n");
        auto r = read_until_tagged(tag, on_untagged);
        if (!r.ok && must_succeed) {
            throw session_error(is_transient_text(r.text) ? error_kind::transient : error_kind::refused,
                                fmt::format("{} refused: {}", verb.substr(0, verb.find(' ')), r.text));
        }
        return r;
    }

    // A command whose arguments are secret: never echoed in errors. `continuation` is sent after '+'.
    tagged command_secret(const std::string& verb, const std::string& args, const std::string& continuation = "") {
        const auto tag = next_tag();
        std::string line = tag + " " + verb + args + "\r\n";
        wire_.write(line);
        std::fill(line.begin(), line.end(), '\0');
        if (!continuation.empty()) {
            const auto l = read_line();
            if (l.rfind("+", 0) != 0) return {false, l};
            std::string c = continuation + "\r\n";
            wire_.write(c);
            std::fill(c.begin(), c.end(), '\0');
        }
        return read_until_tagged(tag, {});
    }

    tagged append_command(const std::string& mailbox, const std::vector<append_item>& items) {
        const bool nonsync = has_capability("LITERAL+");
        const auto tag = next_tag();
        std::string head = tag + " APPEND " + quote(mutf7_encode(mailbox));
        for (std::size_t i = 0; i < items.size(); ++i) {
            const auto& it = items[i];
            std::string part = " (";
            for (std::size_t f = 0; f < it.flags.size(); ++f) part += (f ? " " : "") + it.flags[f];
            part += ")";
            if (!it.internaldate.empty()) part += " " + quote(it.internaldate);
            part += fmt::format(" {{{}{}}}\r\n", it.body->size(), nonsync ? "+" : "");
            wire_.write(head + part);
            head.clear();
            if (!nonsync) {
                // Synchronizing literal: the server says '+' (go on) or refuses with the tagged reply.
                const auto l = read_line();
                if (l.rfind("+", 0) != 0) {
                    if (l.rfind(tag + " ", 0) == 0) return {false, l.substr(tag.size() + 1)};
                    throw session_error(error_kind::protocol, fmt::format("APPEND: unexpected reply {}", l.substr(0, 200)));
                }
            }
            it.body->for_each_chunk([&](std::string_view c) { wire_.write(c); });
        }
        wire_.write("\r\n");
        return read_until_tagged(tag, {});
    }

    tagged read_until_tagged(const std::string& tag, const std::function<void(const std::vector<value>&)>& on_untagged) {
        while (true) {
            ensure_line_start();
            if (starts_with_buffered("* ")) {
                pos_ += 2;
                // Status responses carry free text: read them raw.
                const auto word = peek_word();
                const auto uw = upper(word);
                if (uw == "CAPABILITY") {
                    const auto l = read_line();
                    refresh_caps("[" + l + "]");
                    continue;
                }
                if (uw == "OK" || uw == "NO" || uw == "BAD" || uw == "BYE" || uw == "PREAUTH") {
                    const auto l = read_line();
                    note_untagged_status(l);
                    if (uw == "BYE") bye_ = l;
                    continue;
                }
                auto vals = read_values();
                if (on_untagged) on_untagged(vals);
                continue;
            }
            if (starts_with_buffered("+")) {
                const auto l = read_line();
                throw session_error(error_kind::protocol, fmt::format("unexpected continuation: {}", l.substr(0, 200)));
            }
            const auto l = read_line();
            if (l.rfind(tag + " ", 0) != 0) {
                throw session_error(error_kind::protocol, fmt::format("unexpected reply (expected tag {}): {}", tag, l.substr(0, 200)));
            }
            tagged r;
            r.text = l.substr(tag.size() + 1);
            r.ok = upper(r.text.substr(0, 3)) == "OK " || upper(r.text) == "OK";
            if (r.ok) note_untagged_status(r.text);
            return r;
        }
    }

    // ---- buffered reading ----

    void ensure(std::size_t n) {
        while (buf_.size() - pos_ < n) {
            if (pos_ > 0 && pos_ == buf_.size()) {
                buf_.clear();
                pos_ = 0;
            }
            try {
                wire_.fill(buf_);
            } catch (const session_error& e) {
                if (!bye_.empty()) throw session_error(error_kind::transient, fmt::format("server closed the connection: {}", bye_));
                throw;
            }
        }
    }
    void ensure_line_start() { ensure(1); }
    bool starts_with_buffered(std::string_view p) {
        ensure(1);
        for (std::size_t i = 0; i < p.size(); ++i) {
            ensure(i + 1);
            if (buf_[pos_ + i] != p[i]) return false;
        }
        return true;
    }
    std::string peek_word() {
        std::size_t i = 0;
        while (true) {
            ensure(i + 1);
            const char c = buf_[pos_ + i];
            if (c == ' ' || c == '\r' || c == '\n') break;
            ++i;
        }
        return buf_.substr(pos_, i);
    }
    std::string read_line() {
        while (true) {
            const auto nl = buf_.find("\r\n", pos_);
            if (nl != std::string::npos) {
                std::string l = buf_.substr(pos_, nl - pos_);
                pos_ = nl + 2;
                compact();
                return l;
            }
            if (buf_.size() - pos_ > (1 << 20)) throw session_error(error_kind::protocol, "response line longer than 1 MB");
            ensure(buf_.size() - pos_ + 1);
        }
    }
    void compact() {
        if (pos_ > (1 << 16) && pos_ * 2 > buf_.size()) {
            buf_.erase(0, pos_);
            pos_ = 0;
        }
    }
    char peek() {
        ensure(1);
        return buf_[pos_];
    }

    // Reads values up to the end of the line (literals included).
    std::vector<value> read_values() {
        std::vector<value> out;
        while (true) {
            const char c = peek();
            if (c == '\r') {
                ensure(2);
                pos_ += 2;
                compact();
                return out;
            }
            if (c == ' ') {
                ++pos_;
                continue;
            }
            out.push_back(read_value(out));
        }
    }

    value read_value(const std::vector<value>& context) {
        const char c = peek();
        value v;
        if (c == '(') {
            ++pos_;
            v.kind = value::list;
            while (true) {
                const char d = peek();
                if (d == ')') {
                    ++pos_;
                    return v;
                }
                if (d == ' ') {
                    ++pos_;
                    continue;
                }
                if (d == '\r') throw session_error(error_kind::protocol, "unbalanced parenthesis in a response");
                v.items.push_back(read_value(v.items));
            }
        }
        if (c == '"') {
            ++pos_;
            v.kind = value::string;
            while (true) {
                char d = peek();
                ++pos_;
                if (d == '"') return v;
                if (d == '\\') {
                    d = peek();
                    ++pos_;
                }
                if (d == '\r' || d == '\n') throw session_error(error_kind::protocol, "line break inside a quoted string");
                v.text += d;
            }
        }
        if (c == '{' || (c == '~' && (ensure(2), buf_[pos_ + 1] == '{'))) {
            pos_ += c == '~' ? 2 : 1;
            std::uint64_t n = 0;
            while (peek() != '}') {
                const char d = buf_[pos_++];
                if (d < '0' || d > '9') throw session_error(error_kind::protocol, "bad literal length");
                n = n * 10 + static_cast<std::uint64_t>(d - '0');
            }
            ++pos_;
            ensure(2);
            if (buf_.compare(pos_, 2, "\r\n") != 0) throw session_error(error_kind::protocol, "literal length not followed by CRLF");
            pos_ += 2;
            v.kind = value::string;
            if (hook_ && hook_(context, n, buf_, pos_)) return v;
            if (n > (64u << 20)) throw session_error(error_kind::protocol, "literal over 64 MB outside a message body");
            ensure(static_cast<std::size_t>(n));
            v.text = buf_.substr(pos_, static_cast<std::size_t>(n));
            pos_ += static_cast<std::size_t>(n);
            return v;
        }
        // Atom, including "BODY[HEADER.FIELDS (A B)]<0>": brackets may hold spaces and parentheses.
        int depth = 0;
        while (true) {
            const char d = peek();
            if (d == '[') ++depth;
            else if (d == ']') --depth;
            else if (depth == 0 && (d == ' ' || d == ')' || d == '(' || d == '\r')) break;
            else if (d == '\r') break;
            v.text += d;
            ++pos_;
        }
        if (v.text.empty()) throw session_error(error_kind::protocol, fmt::format("unexpected character '{}' in a response", c));
        if (upper(v.text) == "NIL") v.kind = value::nil;
        return v;
    }

    server_endpoint ep_;
    wire wire_;
    std::set<std::string> caps_;
    bool caps_fresh_ = false;
    unsigned tag_ = 0;
    std::string buf_;
    std::size_t pos_ = 0;
    std::string bye_;
    bool closed_ = false;
    std::uint32_t last_uidvalidity_ = 0, last_uidnext_ = 0;
    std::vector<std::string> last_permanent_flags_;
    literal_hook hook_;
    std::optional<body_buffer> pending_body_;
};

}  // namespace

std::unique_ptr<imap_session> imap_session::open(const server_endpoint& where, const credentials& who) {
    return std::make_unique<session_impl>(where, who);
}

}  // namespace arrival::engine
