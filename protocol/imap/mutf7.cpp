#include "protocol/imap/mutf7.hpp"

#include <cstdint>

#include <fmt/format.h>

#include "protocol/imap/diagnostics.hpp"
#include "protocol/unicode.hpp"

namespace arrival::imap {
namespace {

// modified BASE64 of RFC 2152 with "," for "/" (RFC 3501 §5.1.3)
constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

constexpr int b64_value(unsigned char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == ',') return 63;
    return -1;
}

constexpr bool printable(std::uint32_t c) noexcept { return c >= 0x20 && c <= 0x7e; }

error_code fail(errc e, diagnostics* diag, std::size_t pos, std::string_view why) {
    if (diag) diag->set_client_message(fmt::format("{} at byte {}: {}", e == errc::bad_utf8 ? "invalid UTF-8" : "invalid modified UTF-7", pos, why));
    return e;
}

using unicode::append_utf8;

using unicode::next_utf8;

void flush_run(std::string& out, const std::u16string& run) {
    out += '&';
    std::uint32_t bits = 0;
    int nbits = 0;
    for (char16_t u : run) {
        bits = (bits << 16) | u;
        nbits += 16;
        while (nbits >= 6) {
            nbits -= 6;
            out += b64_alphabet[(bits >> nbits) & 0x3F];
        }
    }
    if (nbits > 0) out += b64_alphabet[(bits << (6 - nbits)) & 0x3F];
    out += '-';
}

}  // namespace

error_code encode_mutf7(std::string_view in, std::string& out, diagnostics* diag) {
    std::string result;
    result.reserve(in.size());
    std::u16string run;
    for (std::size_t i = 0; i < in.size();) {
        std::uint32_t cp = 0;
        const char* why = "";
        const std::size_t n = next_utf8(in, i, cp, why);
        if (n == 0) return fail(errc::bad_utf8, diag, i, why);
        if (cp == 0) return fail(errc::bad_utf8, diag, i, "NUL in a mailbox name");
        i += n;
        if (printable(cp)) {
            if (!run.empty()) {
                flush_run(result, run);
                run.clear();
            }
            result += static_cast<char>(cp);
            if (cp == '&') result += '-';
        } else if (cp < 0x10000) {
            run += static_cast<char16_t>(cp);
        } else {
            cp -= 0x10000;
            run += static_cast<char16_t>(0xD800 + (cp >> 10));
            run += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
        }
    }
    if (!run.empty()) flush_run(result, run);
    out = std::move(result);
    return {};
}

error_code decode_mutf7(std::string_view in, std::string& out, diagnostics* diag) {
    std::string result;
    result.reserve(in.size());
    bool after_run = false;  // the previous character closed an encoded run ("...-")
    for (std::size_t i = 0; i < in.size();) {
        const auto c = static_cast<unsigned char>(in[i]);
        if (!printable(c)) return fail(errc::bad_mutf7, diag, i, "8-bit or control character");
        if (c != '&') {
            result += static_cast<char>(c);
            after_run = false;
            ++i;
            continue;
        }
        const std::size_t start = i++;
        if (i < in.size() && in[i] == '-') {  // "&-" is "&"
            result += '&';
            after_run = false;
            ++i;
            continue;
        }
        if (after_run) return fail(errc::bad_mutf7, diag, start, "two adjacent encoded runs (not minimal)");
        std::uint32_t bits = 0;
        int nbits = 0;
        std::uint32_t high = 0;  // pending high surrogate
        bool any = false;
        for (;; ++i) {
            if (i >= in.size()) return fail(errc::bad_mutf7, diag, start, "encoded run not terminated by '-'");
            const auto d = static_cast<unsigned char>(in[i]);
            if (d == '-') break;
            const int v = b64_value(d);
            if (v < 0) return fail(errc::bad_mutf7, diag, i, "invalid modified BASE64 character");
            bits = (bits << 6) | static_cast<std::uint32_t>(v);
            nbits += 6;
            if (nbits >= 16) {
                nbits -= 16;
                const std::uint32_t u = (bits >> nbits) & 0xFFFF;
                bits &= (1u << nbits) - 1;
                any = true;
                if (high) {
                    if (!unicode::is_low_surrogate(u)) return fail(errc::bad_mutf7, diag, i, "high surrogate not followed by a low one");
                    append_utf8(result, unicode::combine_surrogates(high, u));
                    high = 0;
                } else if (unicode::is_high_surrogate(u)) {
                    high = u;
                } else if (unicode::is_low_surrogate(u)) {
                    return fail(errc::bad_mutf7, diag, i, "low surrogate without a high one");
                } else if (printable(u)) {
                    return fail(errc::bad_mutf7, diag, i, "printable US-ASCII must not be encoded");
                } else if (u == 0) {
                    return fail(errc::bad_mutf7, diag, i, "encoded NUL");
                } else {
                    append_utf8(result, u);
                }
            }
        }
        if (!any) return fail(errc::bad_mutf7, diag, start, "empty encoded run");
        if (high) return fail(errc::bad_mutf7, diag, i, "high surrogate at the end of an encoded run");
        if (nbits >= 6 || bits != 0) return fail(errc::bad_mutf7, diag, i, "non-zero or excess padding bits");
        ++i;  // '-'
        after_run = true;
    }
    out = std::move(result);
    return {};
}

}  // namespace arrival::imap
