#include "provision/plan.hpp"

#include "provision/dl_csv.hpp"
#include "provision/ldif_file.hpp"

namespace arrival::provision {

void build_plan(const plan_options& opts, plan_result& out) {
    auto& m = out.model;
    for (const auto& f : opts.ldif_files) out.records_read += load_ldif_file(f, m, out.problems).records;
    for (const auto& f : opts.dl_csv_files) {
        const auto idx = m.add_file(f);
        std::string text;
        try {
            text = read_text_file(f);
        } catch (const std::exception& e) {
            problem p;
            p.code = "io_error";
            p.file = f;
            p.message = e.what();
            out.problems.push_back(std::move(p));
            continue;
        }
        std::vector<entry> lists;
        parse_dl_csv(text, idx, f, lists, out.problems);
        out.records_read += lists.size();
        for (auto& l : lists) m.add(std::move(l));
    }
    m.index();
    out.converted = convert_generic_sources(m, out.problems);
    if (!opts.keep_server_entries) out.skipped_server = skip_server_entries(m, out.problems);
    if (!opts.renames.empty()) out.renamed = rename_domains(m, opts.renames);
    out.rewritten = opts.rules.apply(m);
    if (opts.add_base_entries) {
        const auto before = m.entries().size();
        m.add_base_entries();
        out.base_added = m.entries().size() - before;
    }
    if (opts.destination_schema != nullptr && !opts.destination_schema->empty()) {
        out.dropped = apply_schema(m, *opts.destination_schema);
        // Drops are warnings: the run goes on without them, and the report lists each attribute.
        for (const auto& [name, d] : out.dropped.attributes) {
            problem p;
            p.level = problem::severity::warning;
            p.code = "dropped_attribute";
            p.file = d.first_file;
            p.line = d.first_line;
            p.message = "attribute " + name + " dropped from " + std::to_string(d.entries) + " entries: " + d.reason;
            out.problems.push_back(std::move(p));
        }
        for (const auto& [name, d] : out.dropped.object_classes) {
            problem p;
            p.level = problem::severity::warning;
            p.code = "dropped_object_class";
            p.file = d.first_file;
            p.line = d.first_line;
            p.message = "object class " + name + " dropped from " + std::to_string(d.entries) + " entries: " + d.reason;
            out.problems.push_back(std::move(p));
        }
    }
    m.order();
    validation_options vo;
    vo.destination_schema = opts.destination_schema;
    vo.existing = opts.existing;
    validate(m, vo, out.problems);
    out.kinds.clear();
    for (std::size_t i = 0; i < m.entries().size(); ++i) ++out.kinds[std::string(to_string(m.kind(i)))];
}

}  // namespace arrival::provision
