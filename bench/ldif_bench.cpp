// Parse + validate of a large generated LDIF (issue 4's figure: 100,000 accounts in seconds, bounded memory).
//   python3 tools/ldif_gen/ldif_gen.py --accounts 100000 --domains 4 -o /tmp/100k.ldif
//   ARRIVAL_LDIF_BENCH=/tmp/100k.ldif build/bench/ldif_bench
// (bench/provision/run.sh does both and the online comparison with ldapadd.)
// Reports entries/s and bytes/s; peak RSS of the process is printed at the end (getrusage), since the
// whole plan is held in memory by design (validation needs every DN, address and id at once).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "provision/ldif_file.hpp"
#include "provision/plan.hpp"

namespace {
namespace pv = arrival::provision;

std::string input() {
    const char* f = std::getenv("ARRIVAL_LDIF_BENCH");
    return f ? f : "";
}

// The destination schema as slapd includes it: Debian's system schema files + Carbonio's.
const pv::schema& carbonio_schema() {
    static const pv::schema s = [] {
        pv::schema out;
        out.add_slapd_system_schema();
        const std::string here = ARRIVAL_SOURCE_ROOT;
        for (const std::string& f : std::vector<std::string>{"/etc/ldap/schema/core.schema", "/etc/ldap/schema/cosine.schema",
                                    "/etc/ldap/schema/inetorgperson.schema", "/etc/ldap/schema/nis.schema",
                                    "/etc/ldap/schema/dyngroup.schema",
                                    here + "/tools/testbed/slapd/schema/amavisd.schema",
                                    here + "/tools/testbed/slapd/schema/carbonio.schema"}) {
            pv::schema_error err;
            if (!out.add_schema_file(pv::read_text_file(f), err)) {
                std::fprintf(stderr, "%s:%zu: %s\n", f.c_str(), err.line, err.message.c_str());
                std::abort();
            }
        }
        return out;
    }();
    return s;
}

void parse_only(benchmark::State& state) {
    const auto f = input();
    if (f.empty()) {
        state.SkipWithError("set ARRIVAL_LDIF_BENCH to a generated LDIF file");
        return;
    }
    std::size_t entries = 0;
    for (auto _ : state) {
        pv::directory_model m;
        std::vector<pv::problem> ps;
        entries = pv::load_ldif_file(f, m, ps).entries;
        benchmark::DoNotOptimize(m);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * entries));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * std::filesystem::file_size(f)));
}

void parse_and_validate(benchmark::State& state) {
    const auto f = input();
    if (f.empty()) {
        state.SkipWithError("set ARRIVAL_LDIF_BENCH to a generated LDIF file");
        return;
    }
    const auto& s = carbonio_schema();
    std::size_t entries = 0, errors = 0;
    for (auto _ : state) {
        pv::plan_options o;
        o.ldif_files = {f};
        o.destination_schema = &s;
        pv::plan_result r;
        pv::build_plan(o, r);
        entries = r.model.size();
        errors = 0;
        for (const auto& p : r.problems) errors += p.level == pv::problem::severity::error;
    }
    if (errors) state.SkipWithError("the generated LDIF did not validate");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * entries));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * std::filesystem::file_size(f)));
    state.counters["entries"] = static_cast<double>(entries);
}

BENCHMARK(parse_only)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(parse_and_validate)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("peak RSS: %.1f MB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
    return 0;
}
