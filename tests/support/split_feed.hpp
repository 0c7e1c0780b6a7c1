// Dovecot-style split feeding for sans-I/O parsers: a parser must produce the same events whatever the chunk
// boundaries are. split_feed() runs `parse` on the input whole, split in two at every byte position, and one
// byte at a time, and reports the first split whose transcript differs from the whole-input one.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace arrival::test {

// parse(chunks) feeds the chunks in order to a FRESH parser and returns a transcript of what it produced
// (events and the final error), as text.
using chunked_parse = std::function<std::string(const std::vector<std::string_view>& chunks)>;

struct split_result {
    std::string whole;     // transcript with the input in one chunk
    std::string mismatch;  // empty when every split agreed; otherwise which split, and both transcripts
};

// max_positions bounds the two-chunk splits for long inputs (every position up to it, then a stride), so a
// 1 MB fixture does not cost a million parses; the one-byte-at-a-time run is always done.
[[nodiscard]] split_result split_feed(std::string_view input, const chunked_parse& parse, std::size_t max_positions = 4096);

}  // namespace arrival::test
