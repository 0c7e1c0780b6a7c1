#include "engine/plan/run_state.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/owner_only.hpp"

namespace arrival::plan {
namespace {

constexpr const char* state_file = "run-state.json";

nlohmann::json to_json(const stage_record& r) {
    return {{"status", r.status}, {"exit_status", r.exit_status}, {"command", r.command}, {"reason", r.reason},
            {"finished", r.finished}, {"seconds", r.seconds}};
}

stage_record record_from(const nlohmann::json& j) {
    stage_record r;
    r.status = j.value("status", "");
    r.exit_status = j.value("exit_status", 0);
    r.command = j.value("command", "");
    r.reason = j.value("reason", "");
    r.finished = j.value("finished", "");
    r.seconds = j.value("seconds", 0.0);
    r.this_run = false;
    return r;
}

}  // namespace

std::string status_for_exit(int exit_status) {
    switch (exit_status) {
    case 0: return "ok";
    case 1: return "partial";
    case 130: return "interrupted";
    default: return "failed";
    }
}

run_state run_state::load(const std::string& run_dir) {
    run_state s;
    s.dir_ = run_dir;
    const auto path = std::filesystem::path(run_dir) / state_file;
    if (!std::filesystem::exists(path)) return s;
    std::ifstream in(path);
    if (!in) throw std::runtime_error(fmt::format("cannot read {}", path.string()));
    try {
        const auto j = nlohmann::json::parse(in);
        for (const auto& [name, rec] : j.at("stages").items()) s.stages_[name] = record_from(rec);
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(fmt::format("{}: not a run state ({}); move it away to start the run afresh", path.string(), e.what()));
    }
    return s;
}

void run_state::save() const {
    nlohmann::json j;
    j["stages"] = nlohmann::json::object();
    for (const auto& [name, r] : stages_) j["stages"][name] = to_json(r);
    write_owner_only_atomically((std::filesystem::path(dir_) / state_file).string(), j.dump(2) + "\n");
}

const stage_record* run_state::find(const std::string& stage) const {
    const auto it = stages_.find(stage);
    return it == stages_.end() ? nullptr : &it->second;
}

bool run_state::completed(const std::string& stage, const std::string& command) const {
    const auto* r = find(stage);
    return r && r->status == "ok" && r->command == command;
}

nlohmann::json run_json(const std::vector<run_row>& rows, const std::string& shard) {
    nlohmann::json stages = nlohmann::json::array();
    for (const auto& row : rows) {
        nlohmann::json report = nullptr;
        if (std::ifstream in(row.report_file); in && row.record.status != "blocked" && row.record.status != "not_run") {
            report = nlohmann::json::parse(in, nullptr, false);
            if (report.is_discarded()) report = nullptr;
        }
        auto s = to_json(row.record);
        s["name"] = row.name;
        s["report"] = std::move(report);
        s["this_run"] = row.record.this_run ? "ran" : "skipped: completed earlier";
        stages.push_back(std::move(s));
    }
    return {{"stages", std::move(stages)}, {"shard", shard}};
}

void write_owner_only_atomically(const std::string& path, const std::string& text) {
    const auto tmp = path + ".tmp";
    {
        auto out = engine::open_owner_only(tmp);
        out << text;
        out.flush();
        if (!out) throw std::runtime_error(fmt::format("cannot write {}", tmp));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot rename {} to {}: {}", tmp, path, ec.message()));
}

}  // namespace arrival::plan
