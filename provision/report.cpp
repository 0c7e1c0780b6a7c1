#include "provision/report.hpp"

#include <nlohmann/json.hpp>

namespace arrival::provision {

std::string render_report_json(const report_input& in) {
    using nlohmann::json;
    json j;
    j["mode"] = in.mode;
    j["inputs"] = in.inputs;
    j["destination"] = in.destination.empty() ? json(nullptr) : json(in.destination);
    const auto& p = *in.plan;
    std::size_t errors = 0, warnings = 0;
    json problems = json::array();
    auto add_problem = [&](const problem& x) {
        (x.level == problem::severity::error ? errors : warnings)++;
        problems.push_back({{"level", x.level == problem::severity::error ? "error" : "warning"},
                            {"code", x.code},
                            {"file", x.file},
                            {"line", x.line},
                            {"dn", x.dn},
                            {"message", x.message}});
    };
    for (const auto& x : p.problems) add_problem(x);
    if (in.written) {
        for (const auto& x : in.written->failures) add_problem(x);
    }
    json kinds = json::object();
    for (const auto& [k, n] : p.kinds) kinds[k] = n;
    j["counts"] = {
        {"read", p.records_read},
        {"planned", p.model.size()},
        {"created", in.written ? in.written->created : 0},
        {"modified", in.written ? in.written->modified : 0},
        {"unchanged", in.written ? in.written->unchanged : 0},
        {"deleted", in.written ? in.written->deleted : 0},
        {"changes", p.changes_read},
        {"dropped_attribute", p.dropped.entries_changed},
        {"failed", in.written ? in.written->failed : 0},
        {"skipped", p.skipped_server},
        {"errors", errors},
        {"warnings", warnings},
        {"kinds", kinds},
    };
    auto drops = [](const std::map<std::string, dropped_attribute>& m) {
        json a = json::array();
        for (const auto& [name, d] : m) {
            a.push_back({{"name", name},
                         {"entries", d.entries},
                         {"reason", d.reason},
                         {"first", d.first_file + ":" + std::to_string(d.first_line)}});
        }
        return a;
    };
    j["dropped_attributes"] = drops(p.dropped.attributes);
    j["dropped_object_classes"] = drops(p.dropped.object_classes);
    j["problems"] = std::move(problems);
    j["seconds"] = in.seconds;
    return j.dump(2) + "\n";
}

}  // namespace arrival::provision
