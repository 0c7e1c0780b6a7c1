#include "engine/report_merge.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/shard.hpp"

namespace arrival::engine {

using nlohmann::json;

std::optional<shard_id> shard_field(std::string_view s) {
    try {
        const auto spec = parse_shard(s);
        return shard_id{spec.index, spec.count};
    } catch (const std::invalid_argument&) {
        return std::nullopt;
    }
}

namespace {

std::string str_of(const json& o, const char* key) {
    const auto it = o.is_object() ? o.find(key) : o.end();
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A stage report's own verdict when no run recorded one: "failed" when nothing succeeded, "partial" when
// something failed, else "ok".
std::string status_of(const json& report) {
    const auto* totals = report.contains("totals") ? &report["totals"] : report.contains("counts") ? &report["counts"] : nullptr;
    std::uint64_t bad = 0;
    if (totals && totals->is_object()) {
        for (const char* k : {"accounts_failed", "failed", "failed_users", "missing", "items_failed", "flags_differ", "errors"}) {
            const auto it = totals->find(k);
            if (it != totals->end() && it->is_number_unsigned()) bad += it->get<std::uint64_t>();
        }
    }
    if (report.contains("ok") && report["ok"] == false) return "failed";
    return bad ? "partial" : "ok";
}

}  // namespace

json wrap_stage_report(const json& report, const std::string& fallback_name) {
    auto name = str_of(report, "command");
    if (name.empty()) name = str_of(report, "stage");
    if (name.empty()) name = fallback_name;
    auto shard = str_of(report, "shard");
    return {{"stages", json::array({{{"name", name}, {"status", status_of(report)}, {"report", report}}})},
            {"shard", shard.empty() ? "0/1" : shard}};
}

report_input load_report_input(const std::filesystem::path& path) {
    std::error_code ec;
    auto file = path;
    if (std::filesystem::is_directory(path, ec)) file = path / "run.json";
    std::ifstream in(file);
    if (!in) throw std::runtime_error(fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
    json j;
    try {
        j = json::parse(in);
    } catch (const json::exception& e) {
        throw std::runtime_error(fmt::format("{}: not JSON: {}", file.string(), e.what()));
    }
    if (!j.is_object()) throw std::runtime_error(fmt::format("{}: not a report (a JSON object was expected)", file.string()));
    if (j.contains("stages")) {
        if (!j["stages"].is_array()) throw std::runtime_error(fmt::format("{}: \"stages\" is not a list", file.string()));
        for (const auto& s : j["stages"]) {
            if (!s.is_object() || !s.contains("name")) {
                throw std::runtime_error(fmt::format("{}: a stage without a name: {}", file.string(), s.dump().substr(0, 120)));
            }
        }
        if (!j.contains("shard")) j["shard"] = "0/1";
        return {path.string(), std::move(j)};
    }
    return {path.string(), wrap_stage_report(j, path.stem().string())};
}

namespace {

struct stage_part {
    shard_id shard;
    const report_input* input;
    const json* stage;
};

bool keeps_largest(std::string_view key) {
    return key == "seconds" || key.starts_with("largest") || key.starts_with("max_") || key == "every_seconds";
}

std::optional<std::time_t> parse_iso(const std::string& s) {
    std::tm tm{};
    std::istringstream in(s);
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    if (in.fail()) return std::nullopt;
    return timegm(&tm);
}

void merge_into(json& into, const json& from, std::string_view key);

void merge_objects(json& into, const json& from) {
    for (const auto& [k, v] : from.items()) {
        if (!into.contains(k)) into[k] = v;
        else merge_into(into[k], v, k);
    }
}

void merge_into(json& into, const json& from, std::string_view key) {
    if (into.is_null()) {
        into = from;
    } else if (into.is_number() && from.is_number()) {
        if (keeps_largest(key)) {
            if (from.get<double>() > into.get<double>()) into = from;
        } else if (into.is_number_float() || from.is_number_float()) {
            into = into.get<double>() + from.get<double>();
        } else if (into.is_number_integer() && from.is_number_integer() && (into.get<std::int64_t>() < 0 || from.get<std::int64_t>() < 0)) {
            into = into.get<std::int64_t>() + from.get<std::int64_t>();
        } else {
            into = into.get<std::uint64_t>() + from.get<std::uint64_t>();
        }
    } else if (into.is_object() && from.is_object()) {
        merge_objects(into, from);
    } else if (into.is_array() && from.is_array()) {
        into.insert(into.end(), from.begin(), from.end());
    } else if (into.is_boolean() && from.is_boolean()) {
        into = into.get<bool>() || from.get<bool>();
    } else if (key == "started" && into.is_string() && from.is_string()) {
        if (from.get<std::string>() < into.get<std::string>()) into = from;
    }
    // Other strings, and values of different types: the first shard's stay.
}

// Each shard's cumulative series on one time axis (shifted by its start), summed on an even grid.
json merge_throughput(const std::vector<const json*>& reports) {
    struct series {
        double offset;
        std::vector<std::array<double, 3>> samples;
    };
    std::vector<series> all;
    std::optional<std::time_t> first;
    double every = 0;
    for (const auto* r : reports) {
        const auto start = parse_iso(str_of(*r, "started"));
        if (start && (!first || *start < *first)) first = start;
    }
    for (const auto* r : reports) {
        if (!r->contains("throughput") || !(*r)["throughput"].is_object()) continue;
        const auto& tp = (*r)["throughput"];
        series s{0, {}};
        if (const auto start = parse_iso(str_of(*r, "started")); start && first) s.offset = static_cast<double>(*start - *first);
        if (tp.contains("every_seconds") && tp["every_seconds"].is_number()) {
            const double e = tp["every_seconds"].get<double>();
            if (e > 0 && (every == 0 || e < every)) every = e;
        }
        if (tp.contains("samples") && tp["samples"].is_array()) {
            for (const auto& x : tp["samples"]) {
                if (x.is_array() && x.size() >= 3 && x[0].is_number() && x[1].is_number() && x[2].is_number()) {
                    s.samples.push_back({x[0].get<double>() + s.offset, x[1].get<double>(), x[2].get<double>()});
                }
            }
        }
        if (!s.samples.empty()) all.push_back(std::move(s));
    }
    if (all.empty()) return nullptr;
    double end = 0;
    for (const auto& s : all) end = std::max(end, s.samples.back()[0]);
    constexpr double max_points = 240;
    if (every <= 0) every = 1;
    every = std::max(every, end / (max_points - 1));
    json samples = json::array();
    for (double t = 0;; t += every) {
        const bool last = t >= end;
        if (last) t = end;
        double m = 0, b = 0;
        for (const auto& s : all) {
            // The last sample at or before t (0 before the shard started).
            const auto it = std::upper_bound(s.samples.begin(), s.samples.end(), t, [](double v, const auto& x) { return v < x[0]; });
            if (it == s.samples.begin()) continue;
            m += (*std::prev(it))[1];
            b += (*std::prev(it))[2];
        }
        samples.push_back({std::round(t * 10) / 10, static_cast<std::uint64_t>(m), static_cast<std::uint64_t>(b)});
        if (last) break;
    }
    return {{"every_seconds", std::round(every * 10) / 10}, {"samples", std::move(samples)}};
}

int status_weight(const std::string& s) {
    if (s.empty() || s == "ok" || s == "completed" || s == "done" || s == "skipped") return 0;
    if (s.find("fail") != std::string::npos || s.find("error") != std::string::npos) return 2;
    return 1;
}

std::string shard_text(shard_id s) { return fmt::format("{}/{}", s.k, s.n); }

}  // namespace

json merge_runs(const std::vector<report_input>& inputs) {
    if (inputs.empty()) throw shard_error("no input");
    std::vector<stage_part> parts;
    std::vector<std::string> problems;
    std::map<unsigned, std::vector<std::string>> by_n;   // N -> inputs that say it
    for (const auto& in : inputs) {
        const auto run_shard = str_of(in.run, "shard");
        for (const auto& st : in.run["stages"]) {
            auto text = st.contains("report") ? str_of(st["report"], "shard") : std::string();
            if (text.empty()) text = run_shard.empty() ? "0/1" : run_shard;
            const auto id = shard_field(text);
            if (!id) {
                problems.push_back(fmt::format("{}: stage {}: shard '{}' is not K/N with 0 <= K < N", in.name, str_of(st, "name"), text));
                continue;
            }
            auto& names = by_n[id->n];
            if (std::find(names.begin(), names.end(), in.name) == names.end()) names.push_back(in.name);
            parts.push_back({*id, &in, &st});
        }
    }
    if (by_n.size() > 1) {
        std::string list;
        for (const auto& [n, names] : by_n) {
            for (const auto& name : names) list += fmt::format("{}{} (of {})", list.empty() ? "" : ", ", name, n);
        }
        problems.push_back("mixed shard counts: " + list);
    }
    if (!problems.empty()) throw shard_error(fmt::format("{}", fmt::join(problems, "\n")));
    const unsigned n = by_n.begin()->first;

    // Stages in the order the shards list them; each stage's parts in shard order.
    std::stable_sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.shard.k < b.shard.k; });
    std::vector<std::string> order;
    std::map<std::string, std::vector<const stage_part*>> stages;
    for (const auto& p : parts) {
        const auto name = str_of(*p.stage, "name");
        if (!stages.contains(name)) order.push_back(name);
        stages[name].push_back(&p);
    }
    for (const auto& name : order) {
        std::map<unsigned, const stage_part*> seen;
        for (const auto* p : stages[name]) {
            if (const auto it = seen.find(p->shard.k); it != seen.end()) {
                problems.push_back(fmt::format("stage {}: shard {} given twice: {} and {}", name, shard_text(p->shard),
                                               it->second->input->name, p->input->name));
            } else {
                seen[p->shard.k] = p;
            }
        }
        std::vector<std::string> missing;
        for (unsigned k = 0; k < n; ++k) {
            if (!seen.contains(k)) missing.push_back(shard_text({k, n}));
        }
        if (!missing.empty()) problems.push_back(fmt::format("stage {}: shard{} {} missing", name, missing.size() > 1 ? "s" : "", fmt::join(missing, ", ")));
    }
    if (!problems.empty()) throw shard_error(fmt::format("{}", fmt::join(problems, "\n")));

    json merged_stages = json::array();
    for (const auto& name : order) {
        json report = json::object();
        std::string status;
        std::vector<const json*> reports;
        json shards = json::array();
        for (const auto* p : stages[name]) {
            const auto st = str_of(*p->stage, "status");
            if (status.empty() || status_weight(st) > status_weight(status)) status = st;
            shards.push_back(shard_text(p->shard));
            if (!p->stage->contains("report") || !(*p->stage)["report"].is_object()) continue;
            const auto& r = (*p->stage)["report"];
            reports.push_back(&r);
            json without = r;
            without.erase("throughput");
            merge_objects(report, without);
        }
        report["shard"] = "0/1";
        report["shards"] = std::move(shards);
        if (auto tp = merge_throughput(reports); !tp.is_null()) report["throughput"] = std::move(tp);
        merged_stages.push_back({{"name", name}, {"status", status}, {"report", std::move(report)}});
    }
    json from = json::array();
    for (const auto& in : inputs) from.push_back(in.name);
    json all_shards = json::array();
    for (unsigned k = 0; k < n; ++k) all_shards.push_back(shard_text({k, n}));
    return {{"stages", std::move(merged_stages)}, {"shard", "0/1"}, {"shards", std::move(all_shards)}, {"merged_from", std::move(from)}};
}

}  // namespace arrival::engine
