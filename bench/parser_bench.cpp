// Parser throughput on a synthetic UID FETCH stream like a migration's: 1000 messages of 2-20 KB with every
// 100th one 1 MB, each "* n FETCH (UID n FLAGS (...) INTERNALDATE "..." RFC822.SIZE n BODY[] {n}" + body, read
// in 64 KiB chunks (a socket read) through response_parser + fetch_decoder into a sink that only sums bytes.
// Reports MB/s (SetBytesProcessed) and heap allocations per message (global operator new is counted), which
// is 0 in steady state: the parser's buffers are reused and bodies are handed over as views.
//
//   meson setup build-rel -Dbuildtype=release && meson compile -C build-rel bench/parser_bench &&
//   ./build-rel/bench/parser_bench
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string>

#include <fmt/format.h>

#include "protocol/imap/fetch_decoder.hpp"
#include "protocol/imap/response_parser.hpp"

namespace {
std::atomic<std::uint64_t> allocations{0};
}

// The replacement operator new below uses malloc, so free is the matching release; GCC cannot see that
// through the replaceable-function rules.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace arrival::imap;

struct stream {
    std::string bytes;
    std::size_t messages = 0;
};

const stream& fetch_stream() {
    static const stream s = [] {
        stream st;
        std::mt19937 rng(42);
        std::uniform_int_distribution<std::size_t> size(2 * 1024, 20 * 1024);
        std::string line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n";
        for (std::uint32_t i = 1; i <= 1000; ++i) {
            const std::size_t n = i % 100 == 0 ? 1024 * 1024 : size(rng);
            std::string body = "From: a@example.org\r\nSubject: message " + std::to_string(i) + "\r\n\r\n";
            while (body.size() < n) body += line;
            body.resize(n);
            st.bytes += fmt::format("* {} FETCH (UID {} FLAGS (\\Seen $Label{}) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
                                    "RFC822.SIZE {} BODY[] {{{}}}\r\n",
                                    i, i + 1000, i % 5, n, n);
            st.bytes += body;
            st.bytes += ")\r\n";
            ++st.messages;
        }
        st.bytes += "A00042 OK Fetch completed.\r\n";
        return st;
    }();
    return s;
}

class summing_sink final : public fetch_handler, public response_handler {
public:
    std::uint64_t body_bytes = 0, records = 0;
    fetch_decoder decoder;
    bool fetch_literal = false;

    error_code on_body_begin(const fetch_part&, std::uint64_t) override { return {}; }
    error_code on_body_chunk(std::string_view b) override {
        body_bytes += b.size();
        return {};
    }
    error_code on_body_end() override { return {}; }
    error_code on_fetch(const fetch_record& r) override {
        records += r.uid.has_value();
        return {};
    }
    error_code on_response(const response& r) override {
        return r.is("FETCH") ? decoder.on_response(r, *this) : error_code{};
    }
    error_code on_literal_begin(const response& p, std::uint64_t n) override { return decoder.on_literal_begin(p, n, *this); }
    error_code on_literal_chunk(std::string_view b) override { return decoder.on_literal_chunk(b, *this); }
    error_code on_literal_end() override { return decoder.on_literal_end(*this); }
};

void run_stream(benchmark::State& state, const stream& s, std::size_t inline_limit);

void parse_fetch_stream(benchmark::State& state) {
    run_stream(state, fetch_stream(), static_cast<std::size_t>(state.range(0)));
}

// The index pass of a migration (no bodies): tokenizing dominates here, not copying.
const stream& index_stream() {
    static const stream s = [] {
        stream st;
        for (std::uint32_t i = 1; i <= 100000; ++i) {
            const std::string hdr = fmt::format("Message-ID: <{}.{}@example.org>\r\n\r\n", i * 7919u, i);
            st.bytes += fmt::format("* {} FETCH (UID {} RFC822.SIZE {} FLAGS (\\Seen \\Answered $Forwarded) "
                                    "INTERNALDATE \"{:2d}-Jul-2019 02:44:25 -0700\" BODY[HEADER.FIELDS (MESSAGE-ID)] {{{}}}\r\n{})\r\n",
                                    i, i, 2000 + i % 18000, 1 + i % 28, hdr.size(), hdr);
            ++st.messages;
        }
        st.bytes += "A00043 OK Fetch completed.\r\n";
        return st;
    }();
    return s;
}

void run_stream(benchmark::State& state, const stream& s, std::size_t inline_limit) {
    response_parser::limits limits;
    limits.max_inline_literal = inline_limit;
    const std::size_t chunk = 64 * 1024;
    response_parser parser(limits);
    summing_sink sink;
    std::uint64_t allocs = 0, messages = 0;
    for (auto _ : state) {
        const std::uint64_t before = allocations.load(std::memory_order_relaxed);
        const std::string_view all = s.bytes;
        for (std::size_t i = 0; i < all.size(); i += chunk) {
            if (auto ec = parser.feed(all.substr(i, chunk), sink)) {
                state.SkipWithError(ec.message().c_str());
                return;
            }
        }
        allocs += allocations.load(std::memory_order_relaxed) - before;
        messages += s.messages;
    }
    if (sink.records != messages) state.SkipWithError("not every FETCH was decoded");
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.bytes.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(messages));
    state.counters["allocs_per_msg"] = messages ? static_cast<double>(allocs) / static_cast<double>(messages) : 0;
    state.counters["stream_MB"] = static_cast<double>(s.bytes.size()) / 1e6;
}

void parse_index_stream(benchmark::State& state) { run_stream(state, index_stream(), 32 * 1024); }

}  // namespace

BENCHMARK(parse_index_stream)->Unit(benchmark::kMillisecond);

// Arg: the inline-literal limit. 32 KiB (default): the 2-20 KB bodies are copied once into the parser's
// buffer and handed over as views, the 1 MB ones streamed; 0: every body streamed from the read chunk.
BENCHMARK(parse_fetch_stream)->Arg(32 * 1024)->Arg(0)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
