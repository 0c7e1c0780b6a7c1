// `arrival report`: the run's reports for people.
//   arrival report merge --out DIR INPUT...   the shards' reports as one: DIR/report.json and DIR/report.html
//   arrival report html --out FILE INPUT      one input (run directory, run.json or a stage report) as HTML
// Shard checks, merge rules and the input forms: engine/report_merge.hpp; the page: engine/report_html.hpp.
// Exit status: 0 written; 2 bad command line, or shards that overlap, lack one or mix counts (nothing
// written); 3 an input that cannot be read or is not a report, or an output that cannot be written.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "engine/mail/report.hpp"
#include "engine/owner_only.hpp"
#include "engine/report_html.hpp"
#include "engine/report_merge.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"

namespace arrival::cli {

namespace {

// Reads every input; prints what failed and returns false when one cannot be read.
bool load_inputs(const std::vector<std::string>& paths, std::vector<engine::report_input>& out) {
    bool ok = true;
    for (const auto& p : paths) {
        try {
            out.push_back(engine::load_report_input(p));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "arrival report: %s\n", e.what());
            ok = false;
        }
    }
    return ok;
}

}  // namespace

int run_report(int argc, char** argv) {
    CLI::App app{"arrival report: merge the shards' reports into one, or render a report as one HTML page"};
    app.name("arrival report");
    std::string action, out;
    std::vector<std::string> paths;
    app.add_option("action", action, "merge: the shards' reports into --out DIR (report.json, report.html); "
                                     "html: one report as the page --out FILE")
        ->required()
        ->check(CLI::IsMember({"merge", "html"}));
    app.add_option("--out", out, "merge: directory for report.json and report.html (created owner-only); html: the HTML file")->required();
    app.add_option("inputs", paths, "run directories (their run.json), run JSONs or stages' JSON reports; html takes one")->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    }
    const bool merging = action == "merge";
    if (!merging && paths.size() != 1) {
        std::fprintf(stderr, "arrival report html: one input, %zu given (merge takes several)\n", paths.size());
        return exit_usage;
    }

    std::vector<engine::report_input> inputs;
    if (!load_inputs(paths, inputs)) return exit_nothing_ran;
    nlohmann::json run;
    if (merging) {
        try {
            run = engine::merge_runs(inputs);
        } catch (const engine::shard_error& e) {
            std::fprintf(stderr, "arrival report merge: refused, nothing written:\n%s\n", e.what());
            return exit_usage;
        }
    } else {
        run = std::move(inputs.front().run);
    }
    try {
        const auto page = engine::render_html_report(run);
        if (merging) {
            std::error_code ec;
            engine::create_owner_only_dirs(out, ec);
            if (ec) throw std::runtime_error("cannot create " + out + ": " + ec.message());
            const auto dir = std::filesystem::path(out);
            engine::write_report_text(dir / "report.json", run.dump(2) + '\n');
            engine::write_report_text(dir / "report.html", page);
            std::fprintf(stdout, "report: %s\nreport: %s\n", std::filesystem::absolute(dir / "report.json").c_str(),
                         std::filesystem::absolute(dir / "report.html").c_str());
        } else {
            engine::write_report_text(out, page);
            std::fprintf(stdout, "report: %s\n", std::filesystem::absolute(out).c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "arrival report: %s\n", e.what());
        return exit_nothing_ran;
    }
    return exit_ok;
}

}  // namespace arrival::cli
