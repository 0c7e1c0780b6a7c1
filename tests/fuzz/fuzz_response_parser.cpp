// libFuzzer target: the response parser plus every decoder, on arbitrary bytes fed in input-chosen splits.
// Must never crash, leak, hang or trip a sanitizer; and the events must not depend on the split (checked by
// comparing against a one-chunk run). Input layout: byte 0 picks the inline-literal limit, byte 1 seeds the
// chunk sizes, the rest is the server's byte stream.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/imap/data_decoder.hpp"
#include "protocol/imap/fetch_decoder.hpp"
#include "protocol/imap/list_decoder.hpp"
#include "protocol/imap/mutf7.hpp"
#include "protocol/imap/resp_code.hpp"
#include "protocol/imap/response_parser.hpp"

namespace {

using namespace arrival::imap;

// Runs the decoders and folds what they return into a digest, so a split-dependent result is detectable.
class fuzz_handler : public response_handler, public fetch_handler {
public:
    std::string digest;
    fetch_decoder fetch;
    bool fetch_literal = false;

    error_code on_response(const response& r) override {
        digest += static_cast<char>('0' + static_cast<int>(r.kind));
        if (r.kind == response_kind::untagged && r.is("FETCH")) return fetch.on_response(r, *this);
        if (r.is_status()) {
            digest += static_cast<char>('a' + status_error(r).value() % 26);
            appenduid_data a;
            copyuid_data c;
            std::uint64_t n = 0;
            std::vector<std::string_view> w;
            digest += code_appenduid(r.code, a) ? 'x' : 'A';
            digest += code_copyuid(r.code, c) ? 'x' : 'C';
            digest += code_number(r.code, n) ? 'x' : 'N';
            digest += code_words(r.code, w) ? 'x' : 'W';
            return {};
        }
        list_entry l;
        status_entry s;
        namespace_data ns;
        esearch_result e;
        std::vector<std::uint32_t> nums;
        std::vector<std::string_view> words;
        std::vector<std::pair<std::string_view, std::optional<std::string_view>>> id;
        digest += decode_list(r, l) ? 'x' : 'L';
        if (!l.name.empty()) {
            std::string utf8;
            digest += decode_mutf7(l.name, utf8) ? 'x' : 'U';
        }
        digest += decode_status(r, s) ? 'x' : 'S';
        digest += decode_namespace(r, ns) ? 'x' : 'M';
        digest += decode_esearch(r, e) ? 'x' : 'E';
        digest += decode_search(r, nums) ? 'x' : 'Q';
        digest += decode_capability(r, words) ? 'x' : 'K';
        digest += decode_flags(r, words) ? 'x' : 'F';
        digest += decode_id(r, id) ? 'x' : 'I';
        return {};
    }
    error_code on_literal_begin(const response& partial, std::uint64_t size) override {
        fetch_literal = partial.is("FETCH");
        digest += 'B';
        return fetch_literal ? fetch.on_literal_begin(partial, size, *this) : error_code{};
    }
    error_code on_literal_chunk(std::string_view b) override {
        return fetch_literal ? fetch.on_literal_chunk(b, *this) : error_code{};
    }
    error_code on_literal_end() override { return fetch_literal ? fetch.on_literal_end(*this) : error_code{}; }

    error_code on_body_begin(const fetch_part& p, std::uint64_t size) override {
        digest += "b" + std::to_string(size) + std::string(p.section);
        return {};
    }
    error_code on_body_chunk(std::string_view b) override {
        body_bytes += b.size();
        return {};
    }
    error_code on_body_end() override {
        digest += "e" + std::to_string(body_bytes);
        body_bytes = 0;
        return {};
    }
    error_code on_fetch(const fetch_record& rec) override {
        digest += "f" + std::to_string(rec.uid.value_or(0)) + "/" + std::to_string(rec.flags.size());
        return {};
    }

private:
    std::uint64_t body_bytes = 0;
};

std::string run(std::string_view data, response_parser::limits limits, unsigned seed, bool split) {
    response_parser p(limits);
    fuzz_handler h;
    std::size_t i = 0;
    unsigned x = seed | 1;
    while (i < data.size()) {
        x = x * 1103515245u + 12345u;
        const std::size_t n = split ? 1 + (x >> 16) % 17 : data.size();
        const auto ec = p.feed(data.substr(i, n), h);
        i += n;
        if (ec) {
            h.digest += "!" + std::to_string(ec.value());
            return h.digest;
        }
    }
    return h.digest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    response_parser::limits limits;
    limits.max_inline_literal = data[0] % 64;  // small, so streaming is exercised
    limits.max_line = 4096;
    limits.max_depth = 8;
    const std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);
    const std::string whole = run(in, limits, 0, false);
    const std::string split = run(in, limits, data[1], true);
    // Errors are reported where they are detected; with the same bytes before them they must be the same.
    if (whole != split) std::abort();
    return 0;
}
