#include "tests/support/split_feed.hpp"

#include <fmt/format.h>

namespace arrival::test {

split_result split_feed(std::string_view input, const chunked_parse& parse, std::size_t max_positions) {
    split_result r;
    r.whole = parse({input});
    const std::size_t stride = input.size() <= max_positions ? 1 : input.size() / max_positions + 1;
    for (std::size_t pos = 1; pos < input.size(); pos += stride) {
        std::string got = parse({input.substr(0, pos), input.substr(pos)});
        if (got != r.whole) {
            r.mismatch = fmt::format("split at byte {}:\n--- whole ---\n{}\n--- split ---\n{}", pos, r.whole, got);
            return r;
        }
    }
    std::vector<std::string_view> bytes;
    bytes.reserve(input.size());
    for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
    std::string got = parse(bytes);
    if (got != r.whole) r.mismatch = fmt::format("one byte at a time:\n--- whole ---\n{}\n--- bytewise ---\n{}", r.whole, got);
    return r;
}

}  // namespace arrival::test
