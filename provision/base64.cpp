#include "provision/base64.hpp"

#include <array>
#include <cstdint>

namespace arrival::provision {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto table = make_table();

}  // namespace

bool base64_decode(std::string_view in, std::string& out) {
    out.clear();
    if (in.size() % 4 != 0) return false;
    out.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        int pad = 0;
        std::uint32_t acc = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = in[i + j];
            if (c == '=') {
                // Padding only in the last quantum, only in its last two places, and nothing after it.
                if (!last || j < 2) return false;
                ++pad;
                acc <<= 6;
                continue;
            }
            if (pad != 0) return false;
            const auto v = table[static_cast<unsigned char>(c)];
            if (v < 0) return false;
            acc = (acc << 6) | static_cast<std::uint32_t>(v);
        }
        out.push_back(static_cast<char>((acc >> 16) & 0xff));
        if (pad < 2) out.push_back(static_cast<char>((acc >> 8) & 0xff));
        if (pad < 1) out.push_back(static_cast<char>(acc & 0xff));
    }
    return true;
}

void base64_encode(std::string_view in, std::string& out) {
    out.reserve(out.size() + (in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t(static_cast<unsigned char>(in[i])) << 16) |
                                (std::uint32_t(static_cast<unsigned char>(in[i + 1])) << 8) |
                                std::uint32_t(static_cast<unsigned char>(in[i + 2]));
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back(alphabet[v & 63]);
    }
    const std::size_t rest = in.size() - i;
    if (rest == 0) return;
    std::uint32_t v = std::uint32_t(static_cast<unsigned char>(in[i])) << 16;
    if (rest == 2) v |= std::uint32_t(static_cast<unsigned char>(in[i + 1])) << 8;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
}

}  // namespace arrival::provision
