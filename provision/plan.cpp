#include "provision/plan.hpp"

#include <fmt/format.h>

#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "provision/changes.hpp"
#include "provision/dl_csv.hpp"
#include "provision/ldif_emitter.hpp"
#include "provision/ldif_file.hpp"

namespace arrival::provision {
namespace {

// Step 7: changes to entries the input does not carry. Online they apply to the destination's copy of the
// entry (read here, validated with the rest, written as a diff); a modrdn whose old DN is gone but whose
// new DN exists was done by an earlier run.
void resolve_remaining_changes(const plan_options& opts, plan_result& out) {
    auto& m = out.model;
    bool pending = false;
    for (const auto& c : m.changes()) pending = pending || !c.resolved;
    if (!pending) return;
    if (opts.fetch_entry) {
        std::unordered_set<std::string> asked;
        for (auto& c : m.changes()) {
            if (c.resolved || m.contains(c.ndn) || !asked.insert(c.ndn).second) continue;
            entry e;
            if (opts.fetch_entry(c.dn, e)) {
                e.from_server = true;
                e.loc = c.loc;
                m.add(e);
                ++out.fetched;
                continue;
            }
            std::string text, target, error;
            if (c.type == change_type::modrdn && modrdn_target(c, text, target, error) && !m.contains(target)) {
                entry moved;
                if (opts.fetch_entry(text, moved)) {
                    c.resolved = true;  // done by an earlier run: unchanged
                    ++out.changes_applied;
                }
            }
        }
        out.changes_applied += apply_changes(m, out.problems).applied;
    }
    for (auto& c : m.changes()) {
        if (c.resolved) continue;
        problem p;
        p.file = m.file(c.loc.file);
        p.line = c.loc.line;
        p.dn = c.dn;
        p.code = "change_target_missing";
        const std::string_view word = c.type == change_type::modrdn ? "modrdn" : "modify";
        if (opts.fetch_entry) {
            p.message = fmt::format("changetype: {}: the entry is neither in the input nor on the destination", word);
        } else if (opts.emit) {
            p.message = fmt::format("changetype: {}: the entry is not in the input, and --emit writes whole entries "
                                    "(apply this change online with --ldap)", word);
        } else {
            p.level = problem::severity::warning;
            p.message = fmt::format("changetype: {}: the entry is not in the input; not checked (give --ldap to check "
                                    "it against the destination)", word);
        }
        out.problems.push_back(std::move(p));
    }
}

}  // namespace

void build_plan(const plan_options& opts, plan_result& out) {
    auto& m = out.model;
    for (const auto& f : opts.ldif_files) {
        const auto st = load_ldif_file(f, m, out.problems);
        out.records_read += st.records;
        out.changes_read += st.changes;
    }
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
        for (const auto& l : lists) m.add(l);
    }
    // The destination's schema, when one was given (the server's, or --schema files).
    const schema* dest_schema =
        opts.destination_schema != nullptr && !opts.destination_schema->empty() ? opts.destination_schema : nullptr;
    if (dest_schema) out.aliases_rewritten = use_primary_names(m, *dest_schema);
    if (!m.changes().empty()) out.changes_applied += apply_changes(m, out.problems).applied;
    out.converted = convert_generic_sources(m, out.problems);
    if (!opts.keep_server_entries) out.skipped_server = skip_server_entries(m, out.problems);
    if (!opts.renames.empty()) out.renamed = rename_domains(m, opts.renames);
    out.rewritten = dest_schema ? opts.rules.with_primary_names(*dest_schema).apply(m) : opts.rules.apply(m);
    if (opts.add_base_entries) {
        const auto before = m.size();
        m.add_base_entries();
        out.base_added = m.size() - before;
    }
    if (dest_schema) {
        out.dropped = apply_schema(m, *dest_schema);
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
    resolve_remaining_changes(opts, out);
    m.order();
    validation_options vo;
    vo.destination_schema = opts.destination_schema;
    vo.existing = opts.existing;
    validate(m, vo, out.problems);
    out.kinds.clear();
    for (std::size_t i = 0; i < m.size(); ++i) ++out.kinds[std::string(to_string(m.kind(i)))];
}

std::size_t keep_shard_entries(plan_result& plan, const std::function<bool(const std::string& source_address)>& owns_account,
                               bool owns_shared) {
    auto& m = plan.model;
    // Accounts first, by their address; then every entry below an account follows it (a DN's suffix after a ','
    // is an ancestor's normalized DN; an escaped ',' only yields a suffix that names no account).
    std::unordered_map<std::string, bool> account_kept;
    entry e;
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (m.kind(i) != entry_kind::account && m.kind(i) != entry_kind::person) continue;
        m.at(i, e);
        account_kept.emplace(m.ndn(i), owns_account(addresses_of_account(e).source));
    }
    std::vector<bool> drop(m.size(), false);
    std::size_t dropped = 0;
    for (std::size_t i = 0; i < m.size(); ++i) {
        const auto ndn = m.ndn(i);
        std::optional<bool> kept;
        if (const auto it = account_kept.find(ndn); it != account_kept.end()) kept = it->second;
        for (auto comma = ndn.find(','); !kept && comma != std::string::npos; comma = ndn.find(',', comma + 1)) {
            if (const auto it = account_kept.find(ndn.substr(comma + 1)); it != account_kept.end()) kept = it->second;
        }
        drop[i] = !kept.value_or(owns_shared);
        dropped += drop[i] ? 1 : 0;
    }
    m.erase(drop);
    if (!owns_shared) {
        m.changes().clear();
        m.deletes().clear();
    }
    plan.kinds.clear();
    for (std::size_t i = 0; i < m.size(); ++i) ++plan.kinds[std::string(to_string(m.kind(i)))];
    return dropped;
}

}  // namespace arrival::provision
