#include "protocol/sasl_plain.hpp"

namespace arrival::imap {
namespace {
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int value_of(unsigned char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}
}  // namespace

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                                static_cast<unsigned char>(in[i + 2]);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (const std::size_t rest = in.size() - i; rest > 0) {
        std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
        if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

error_code base64_decode(std::string_view in, std::string& out) {
    if (in.size() % 4 != 0) return errc::bad_syntax;
    std::string r;
    r.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const auto c = static_cast<unsigned char>(in[i + static_cast<std::size_t>(k)]);
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                ++pad;
            } else {
                if (pad) return errc::bad_syntax;  // data after padding
                v[k] = value_of(c);
                if (v[k] < 0) return errc::bad_syntax;
            }
        }
        const std::uint32_t n = (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
                                (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
        r += static_cast<char>((n >> 16) & 0xFF);
        if (pad < 2) r += static_cast<char>((n >> 8) & 0xFF);
        if (pad < 1) r += static_cast<char>(n & 0xFF);
        if ((pad == 1 && (n & 0xFF) != 0) || (pad == 2 && (n & 0xFFFF) != 0)) return errc::bad_syntax;
    }
    out = std::move(r);
    return {};
}

error_code sasl_plain_response(std::string_view authzid, std::string_view authcid, std::string_view password,
                               std::string& base64_out) {
    auto has_nul = [](std::string_view s) { return s.find('\0') != std::string_view::npos; };
    if (authcid.empty() || password.empty() || has_nul(authzid) || has_nul(authcid) || has_nul(password))
        return errc::unencodable;
    std::string msg;
    msg.reserve(authzid.size() + authcid.size() + password.size() + 2);
    msg.append(authzid).append(1, '\0').append(authcid).append(1, '\0').append(password);
    base64_out = base64_encode(msg);
    // The cleartext copy held the password: wipe it before the memory is released.
    for (auto& c : msg) *static_cast<volatile char*>(&c) = 0;
    return {};
}

}  // namespace arrival::imap
