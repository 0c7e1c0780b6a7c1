// The index path's per-message work on real messages: the dedupe key of each message's
// BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)] reply, today's compute_dedupe_key (mimetic-backed
// fallback) against the first release's compute_dedupe_key_v1, on the same inputs. Reports messages/s.
//   all/...       every message of the corpus (the corpus generator sends ~2 % without Message-ID)
//   fallback/...  only the messages without Message-ID (what mimetic, iconv and ICU cost per message)
//   message_id/...only the messages with one (the hot path: must not pay for mimetic)
// The corpus is tools/corpus_gen's --out output (4 accounts x 500 messages, seed 1), written to
// $ARRIVAL_BENCH_CORPUS (default /tmp/arrival-header-key-corpus) on the first run. (tests/fixtures holds
// IMAP transcripts and calendar/contact files, no whole messages, so the corpus is the input.)
//
//   meson setup build-rel -Dbuildtype=release -Dtests=false && meson compile -C build-rel bench/header_key_bench &&
//   ./build-rel/bench/header_key_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/mail/dedupe_key.hpp"

namespace {

struct indexed_message {
    std::string fields;   // what HEADER.FIELDS returns: the four fields' lines, then an empty line
    std::uint64_t size = 0;
    bool has_message_id = false;
};

// The lines (with continuations) of the four fields, in the message's order, as a server returns them.
std::string header_fields_reply(const std::string& msg) {
    std::string out;
    std::istringstream in(msg);
    std::string line;
    bool keep = false;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) break;
        if (line[0] == ' ' || line[0] == '\t') {
            if (keep) out += line + "\r\n";
            continue;
        }
        const auto colon = line.find(':');
        std::string name = line.substr(0, colon == std::string::npos ? 0 : colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        keep = name == "message-id" || name == "date" || name == "from" || name == "subject";
        if (keep) out += line + "\r\n";
    }
    return out + "\r\n";
}

const std::vector<indexed_message>& corpus() {
    static const std::vector<indexed_message> msgs = [] {
        const char* env = std::getenv("ARRIVAL_BENCH_CORPUS");
        const std::filesystem::path dir = env ? env : "/tmp/arrival-header-key-corpus";
        if (!std::filesystem::exists(dir / "manifest.json")) {
            const std::string cmd = fmt::format("python3 '{}/tools/corpus_gen/corpus_gen' --out '{}' --accounts 4 --messages 500 "
                                                "--seed 1 --max-size 200K >/dev/null",
                                                ARRIVAL_SOURCE_ROOT, dir.string());
            if (std::system(cmd.c_str()) != 0) throw std::runtime_error("corpus_gen failed: " + cmd);
        }
        std::vector<indexed_message> out;
        for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
            if (e.path().extension() != ".eml") continue;
            std::ifstream f(e.path(), std::ios::binary);
            const std::string msg((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
            indexed_message m;
            m.fields = header_fields_reply(msg);
            m.size = msg.size();
            m.has_message_id = arrival::engine::compute_dedupe_key_v1(m.fields, m.size).from_message_id;
            out.push_back(std::move(m));
        }
        return out;
    }();
    return msgs;
}

using key_fn = arrival::engine::dedupe_key (*)(std::string_view, std::uint64_t);
using arrival::engine::compute_dedupe_key;
using arrival::engine::compute_dedupe_key_v1;

enum class subset { all, fallback, message_id };

void keys(benchmark::State& state, key_fn fn, subset which) {
    std::vector<const indexed_message*> msgs;
    for (const auto& m : corpus()) {
        if (which == subset::all || (which == subset::message_id) == m.has_message_id) msgs.push_back(&m);
    }
    if (msgs.empty()) {
        state.SkipWithError("no such messages in the corpus");
        return;
    }
    std::uint64_t sink = 0;
    for (auto _ : state) {
        for (const auto* m : msgs) sink += fn(m->fields, m->size).lo;
    }
    benchmark::DoNotOptimize(sink);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * msgs.size()));
    state.counters["messages"] = static_cast<double>(msgs.size());
}

}  // namespace

BENCHMARK_CAPTURE(keys, all/v1, compute_dedupe_key_v1, subset::all);
BENCHMARK_CAPTURE(keys, all/current, compute_dedupe_key, subset::all);
BENCHMARK_CAPTURE(keys, message_id/v1, compute_dedupe_key_v1, subset::message_id);
BENCHMARK_CAPTURE(keys, message_id/current, compute_dedupe_key, subset::message_id);
BENCHMARK_CAPTURE(keys, fallback/v1, compute_dedupe_key_v1, subset::fallback);
BENCHMARK_CAPTURE(keys, fallback/current, compute_dedupe_key, subset::fallback);

BENCHMARK_MAIN();
