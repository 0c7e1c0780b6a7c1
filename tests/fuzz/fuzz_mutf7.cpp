// libFuzzer target: modified UTF-7 both ways. decode(x) that succeeds must re-encode to exactly x (one
// spelling per name); encode(y) that succeeds must decode back to y.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/imap/diagnostics.hpp"
#include "protocol/imap/mutf7.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace arrival::imap;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string utf8, back;
    diagnostics d;
    if (!decode_mutf7(in, utf8, &d)) {
        if (encode_mutf7(utf8, back) || back != in) std::abort();
    } else if (d.client_message().empty()) {
        std::abort();  // every rejection says why
    }
    std::string enc, dec;
    if (!encode_mutf7(in, enc)) {
        if (decode_mutf7(enc, dec) || dec != in) std::abort();
    }
    return 0;
}
