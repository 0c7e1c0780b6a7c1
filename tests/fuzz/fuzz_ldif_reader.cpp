// libFuzzer target for the LDIF reader and the DN code. The input is fed in two chunks split at a position
// taken from its first byte (so splits inside CRLF, base64 and continuations get explored), every record is
// pulled out, and each record's DN is normalized and re-parsed: a normalized DN must parse again and
// normalize to itself. Must never crash, hang or grow without bound, for any input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "provision/dn.hpp"
#include "provision/ldif_reader.hpp"

using namespace arrival::provision;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t split = all.empty() ? 0 : data[0] % (all.size() + 1);
    ldif_limits lim;
    lim.max_line = 4096;
    lim.max_record = 16384;
    ldif_reader r(lim);
    r.feed(all.substr(0, split));
    bool fed_rest = false;
    ldif_record rec;
    ldif_error err;
    for (int guard = 0; guard < 100000; ++guard) {
        const auto st = r.next(rec, err);
        if (st == read_status::end) break;
        if (st == read_status::need_more) {
            if (!fed_rest) {
                r.feed(all.substr(split));
                fed_rest = true;
            } else {
                r.finish();
            }
            continue;
        }
        if (st == read_status::error) {
            if (!err.ec) std::abort();  // an error must say what it is
            continue;
        }
        const std::string n = rec.name.normalized();
        dn again;
        if (parse_dn(n, again)) std::abort();
        if (again.normalized() != n) std::abort();
        if (parse_dn(rec.name.str(), again)) std::abort();
        (void)parent_ndn(n);
        (void)ndn_depth(n);
    }
    dn d;
    (void)parse_dn(all, d);
    return 0;
}
