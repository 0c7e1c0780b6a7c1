#include "engine/report_html.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "engine/mail/report.hpp"
#include "protocol/markup_escape.hpp"

namespace arrival::engine {

using nlohmann::json;

namespace {

// Rows shown per list before "N more" (the JSON report has them all); per account rows are never cut.
constexpr std::size_t max_list_rows = 500;
constexpr std::size_t max_columns = 16;

bool is_scalar(const json& v) { return v.is_primitive(); }

std::string text_of(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "";
    if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
    return v.dump();
}

const json* field(const json& o, std::string_view key) {
    if (!o.is_object()) return nullptr;
    const auto it = o.find(std::string(key));
    return it == o.end() ? nullptr : &*it;
}

std::string str_field(const json& o, std::string_view key) {
    const auto* v = field(o, key);
    return v && is_scalar(*v) ? text_of(*v) : std::string();
}

double num_field(const json& o, std::string_view key) {
    const auto* v = field(o, key);
    return v && v->is_number() ? v->get<double>() : 0.0;
}

bool is_bytes_key(std::string_view k) { return k == "bytes" || k.ends_with("_bytes") || k.starts_with("bytes_") || k == "size"; }

// One cell: escaped text, and for numbers the raw value the sort compares.
std::string cell(std::string_view key, const json& v, std::string_view tag = "td") {
    std::string text;
    if (v.is_number()) {
        const double d = v.get<double>();
        if (is_bytes_key(key) && d >= 0) text = human_bytes(v.get<std::uint64_t>());
        else if (key == "seconds" || v.is_number_float()) text = fmt::format("{:.1f}", d);
        else text = v.dump();
        return fmt::format("<{} data-num=\"{}\">{}</{}>", tag, v.dump(), markup::escape(text), tag);
    }
    if (v.is_array()) return fmt::format("<{} data-num=\"{}\">{}</{}>", tag, v.size(), v.size(), tag);
    if (v.is_object()) return fmt::format("<{}>{}</{}>", tag, markup::escape(v.dump()), tag);
    return fmt::format("<{}>{}</{}>", tag, markup::escape(text_of(v)), tag);
}

// 0: failed (sorts first), 1: partial or unknown, 2: fine.
int rank_of(const json& row) {
    const auto status = str_field(row, "status");
    const auto error = str_field(row, "error");
    if (status.find("fail") != std::string::npos || status.find("error") != std::string::npos) return 0;
    if (!error.empty()) return 0;
    for (const char* k : {"failed", "missing", "items_failed"}) {
        const auto* v = field(row, k);
        if (v && ((v->is_number() && v->get<double>() > 0) || (v->is_array() && !v->empty()))) return 1;
    }
    if (status.empty() || status == "ok" || status == "completed" || status == "done" || status == "skipped") return 2;
    return 1;
}

const char* rank_class(int rank) { return rank == 0 ? "bad" : rank == 1 ? "warn" : "good"; }

int status_rank(std::string_view status) {
    if (status.empty() || status == "ok" || status == "completed" || status == "done" || status == "skipped") return 2;
    if (status.find("fail") != std::string_view::npos || status.find("error") != std::string_view::npos) return 0;
    return 1;
}

// The per account (or per user, per entry) list of a stage report.
const json* rows_of(const json& report, std::string* key = nullptr) {
    for (const char* k : {"accounts", "users", "entries"}) {
        const auto* v = field(report, k);
        if (v && v->is_array() && (v->empty() || v->front().is_object())) {
            if (key) *key = k;
            return v;
        }
    }
    return nullptr;
}

// Scalar columns of a list of objects: the names people look for first, then the rest as they come.
std::vector<std::string> columns_of(const json& rows, bool with_lists) {
    std::vector<std::string> cols;
    std::set<std::string> seen;
    auto add = [&](const std::string& k) {
        if (cols.size() < max_columns && seen.insert(k).second) cols.push_back(k);
    };
    // (A parsed report's objects list their keys alphabetically: the order of the rest.)
    for (const char* first : {"source_user", "user", "account", "name", "dest_user", "source_folder", "dest_folder", "status", "error"}) {
        for (const auto& r : rows) {
            if (field(r, first)) {
                add(first);
                break;
            }
        }
    }
    for (const auto& r : rows) {
        if (!r.is_object()) continue;
        for (const auto& [k, v] : r.items()) {
            if (is_scalar(v) || (with_lists && v.is_array())) add(k);
        }
    }
    return cols;
}

std::string label(std::string k) {
    std::replace(k.begin(), k.end(), '_', ' ');
    return k;
}

// A table of objects; `id` names it for the filter box. Rows carry their rank as class (bad/warn/good).
std::string object_table(const json& rows, const std::string& id, bool sortable, bool ranked, std::size_t limit) {
    const auto cols = columns_of(rows, ranked);
    std::string out = fmt::format("<table id=\"{}\" class=\"{}\"><thead><tr>", markup::escape(id), sortable ? "rows sortable" : "rows");
    for (const auto& c : cols) out += fmt::format("<th data-key=\"{}\">{}</th>", markup::escape(c), markup::escape(label(c)));
    out += "</tr></thead><tbody>\n";
    std::vector<const json*> order;
    for (const auto& r : rows) order.push_back(&r);
    if (ranked) {
        std::stable_sort(order.begin(), order.end(), [](const json* a, const json* b) { return rank_of(*a) < rank_of(*b); });
    }
    std::size_t shown = 0;
    for (const auto* r : order) {
        if (shown++ == limit) break;
        out += fmt::format("<tr class=\"{}\">", ranked ? rank_class(rank_of(*r)) : "");
        for (const auto& c : cols) {
            const auto* v = field(*r, c);
            out += v ? cell(c, *v) : std::string("<td></td>");
        }
        out += "</tr>\n";
    }
    out += "</tbody></table>\n";
    if (order.size() > limit) out += fmt::format("<p class=\"note\">{} more in the JSON report</p>\n", order.size() - limit);
    return out;
}

std::string filter_box(const std::string& table_id, std::size_t rows) {
    return fmt::format(
        "<div class=\"filter\"><input type=\"search\" placeholder=\"filter\" data-table=\"{0}\" aria-label=\"filter rows\">"
        "<label><input type=\"checkbox\" class=\"failures-only\" data-table=\"{0}\"> failures only</label>"
        " <span class=\"count\" data-table=\"{0}\">{1} of {1}</span></div>\n",
        markup::escape(table_id), rows);
}

// Key/value pairs of an object's scalars, nested objects flattened as "a.b".
void flatten(const json& o, const std::string& prefix, std::vector<std::pair<std::string, const json*>>& out) {
    for (const auto& [k, v] : o.items()) {
        const auto name = prefix.empty() ? k : prefix + "." + k;
        if (v.is_object()) flatten(v, name, out);
        else if (is_scalar(v)) out.emplace_back(name, &v);
    }
}

std::string totals_block(const json& totals) {
    std::vector<std::pair<std::string, const json*>> kv;
    flatten(totals, "", kv);
    std::string out = "<dl class=\"totals\">";
    for (const auto& [k, v] : kv) {
        const auto leaf = k.substr(k.rfind('.') == std::string::npos ? 0 : k.rfind('.') + 1);
        out += fmt::format("<div><dt>{}</dt>{}</div>", markup::escape(label(k)), cell(leaf, *v, "dd"));
    }
    return out + "</dl>\n";
}

// ---- adaptations: what the destination's rules changed, per account and folder (or file, or attribute) ----

struct adaptation {
    std::string stage, account, where, kind, detail;
};

void folder_adaptations(const std::string& stage, const std::string& account, const json& folder, std::vector<adaptation>& out) {
    const auto where = str_field(folder, "source_folder");
    if (const auto* r = field(folder, "renamed"); r && r->is_object()) {
        const bool on_source = str_field(*r, "on") == "source";
        out.push_back({stage, account, where, on_source ? "renamed on the source" : "folder renamed",
                       fmt::format("{} → {}", str_field(*r, "from"), str_field(*r, "to"))});
    }
    if (const auto* fc = field(folder, "flags_changed"); fc && fc->is_array()) {
        for (const auto& c : *fc) {
            const auto* to = field(c, "to");
            const bool dropped = !to || to->is_null();
            out.push_back({stage, account, where, dropped ? "keyword dropped" : "keyword mapped",
                           fmt::format("{}{}{}: {} message(s)", str_field(c, "from"), dropped ? "" : " → ", dropped ? "" : text_of(*to),
                                       str_field(c, "messages")) +
                               (str_field(c, "reason").empty() ? "" : " (" + str_field(c, "reason") + ")")});
        }
    }
    if (const auto* t = field(folder, "too_large"); t && t->is_array()) {
        for (const auto& m : *t) {
            out.push_back({stage, account, where, "too large",
                           fmt::format("UID {}: {} bytes over a limit of {}", str_field(m, "uid"), str_field(m, "size"), str_field(m, "limit"))});
        }
    }
    if (const auto* d = field(folder, "date_dropped"); d && d->is_array()) {
        for (const auto& m : *d) {
            out.push_back({stage, account, where, "date fallback",
                           fmt::format("UID {}: sent without its date {}", str_field(m, "uid"), str_field(m, "date"))});
        }
    }
    if (const auto* e = field(folder, "empty_skipped"); e && e->is_array() && !e->empty()) {
        std::string uids;
        for (const auto& u : *e) uids += (uids.empty() ? "" : ", ") + text_of(u);
        out.push_back({stage, account, where, "empty message", "UID " + uids + " (0 bytes) not sent"});
    }
}

std::vector<adaptation> adaptations_of(const std::string& stage, const json& report) {
    std::vector<adaptation> out;
    if (const auto* rows = rows_of(report)) {
        for (const auto& row : *rows) {
            auto account = str_field(row, "source_user");
            if (account.empty()) account = str_field(row, "user");
            if (const auto* folders = field(row, "folders"); folders && folders->is_array()) {
                for (const auto& f : *folders) folder_adaptations(stage, account, f, out);
            }
            // files: {"path", "as", "why"}
            if (const auto* renamed = field(row, "renamed"); renamed && renamed->is_array()) {
                for (const auto& n : *renamed) {
                    out.push_back({stage, account, str_field(n, "path"), "file renamed",
                                   fmt::format("as {} ({})", str_field(n, "as"), str_field(n, "why"))});
                }
            }
        }
    }
    // provision: {"name", "entries", "reason"}
    for (const char* k : {"dropped_attributes", "dropped_object_classes"}) {
        const auto* list = field(report, k);
        if (!list || !list->is_array()) continue;
        for (const auto& d : *list) {
            out.push_back({stage, "", str_field(d, "name"), k == std::string_view("dropped_attributes") ? "attribute dropped" : "object class dropped",
                           fmt::format("{} entries: {}", str_field(d, "entries"), str_field(d, "reason"))});
        }
    }
    return out;
}

std::string adaptations_section(const json& stages) {
    std::vector<adaptation> all;
    for (const auto& s : stages) {
        const auto* report = field(s, "report");
        if (report && report->is_object()) {
            auto a = adaptations_of(str_field(s, "name"), *report);
            all.insert(all.end(), a.begin(), a.end());
        }
    }
    std::string out = "<section id=\"adaptations\"><h2>Adaptations</h2>\n";
    if (all.empty()) return out + "<p class=\"good\">The destination took everything as it was: nothing renamed, dropped or left out.</p></section>\n";
    out += "<p>What the destination's rules changed or left out (not failures: the profile decided them).</p>\n";
    out += filter_box("adaptations-table", std::min(all.size(), max_list_rows));
    out += "<table id=\"adaptations-table\" class=\"rows sortable\"><thead><tr><th>stage</th><th>account</th><th>folder or item</th>"
           "<th>what</th><th>detail</th></tr></thead><tbody>\n";
    for (std::size_t i = 0; i < all.size() && i < max_list_rows; ++i) {
        const auto& a = all[i];
        out += fmt::format("<tr class=\"warn\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", markup::escape(a.stage),
                           markup::escape(a.account), markup::escape(a.where), markup::escape(a.kind), markup::escape(a.detail));
    }
    out += "</tbody></table>\n";
    if (all.size() > max_list_rows) out += fmt::format("<p class=\"note\">{} more in the JSON report</p>\n", all.size() - max_list_rows);
    return out + "</section>\n";
}

// ---- verify ----

bool is_verify(const json& stage) {
    const auto* r = field(stage, "report");
    return str_field(stage, "name") == "verify" || (r && str_field(*r, "command") == "verify");
}

std::string verify_section(const json& stages) {
    std::string out = "<section id=\"verify\"><h2>Verify</h2>\n";
    const json* report = nullptr;
    for (const auto& s : stages) {
        if (is_verify(s)) report = field(s, "report");
    }
    if (!report || !report->is_object()) return out + "<p class=\"note\">No verify stage in this run.</p></section>\n";
    const json empty = json::object();
    const auto* totals = field(*report, "totals");
    const auto& t = totals && totals->is_object() ? *totals : empty;
    const auto missing = num_field(t, "missing"), differ = num_field(t, "flags_differ"), failed = num_field(t, "accounts_failed");
    const bool ok = missing == 0 && differ == 0 && failed == 0;
    out += fmt::format("<p class=\"verdict {}\">{}: {} message(s) missing, {} with different flags, {} of {} account(s) could not be verified</p>\n",
                       ok ? "good" : "bad", ok ? "Every message arrived" : "Differences", missing, differ, failed, num_field(t, "accounts"));
    json diffs = json::array();
    if (const auto* rows = rows_of(*report)) {
        for (const auto& a : *rows) {
            const auto* folders = field(a, "folders");
            if (!folders || !folders->is_array()) continue;
            for (const auto& f : *folders) {
                const auto* m = field(f, "missing");
                const auto* fd = field(f, "flags_differ");
                const auto* ns = field(f, "not_sent");
                const auto count = [](const json* v) { return v && v->is_array() ? v->size() : std::size_t{0}; };
                const bool gone = field(f, "dest_folder_missing") && f["dest_folder_missing"] == true && num_field(f, "source_messages") > 0;
                if (!gone && !count(m) && !count(fd) && !count(ns)) continue;
                diffs.push_back({{"account", str_field(a, "source_user")},
                                 {"source_folder", str_field(f, "source_folder")},
                                 {"dest_folder", str_field(f, "dest_folder")},
                                 {"status", gone || count(m) ? "missing" : count(fd) ? "flags differ" : "not sent (adaptation)"},
                                 {"source_messages", f.value("source_messages", json(0))},
                                 {"dest_messages", f.value("dest_messages", json(0))},
                                 {"missing", count(m)},
                                 {"flags_differ", count(fd)},
                                 {"not_sent", count(ns)}});
            }
            if (!str_field(a, "error").empty()) {
                diffs.push_back({{"account", str_field(a, "source_user")}, {"status", "failed"}, {"error", str_field(a, "error")}});
            }
        }
    }
    if (!diffs.empty()) out += object_table(diffs, "verify-table", true, true, max_list_rows);
    return out + "</section>\n";
}

// ---- throughput plot ----

struct point {
    double t, messages, bytes;
};

std::vector<point> samples_of(const json& stages) {
    std::vector<point> pts;
    for (const auto& s : stages) {
        const auto* r = field(s, "report");
        const auto* tp = r ? field(*r, "throughput") : nullptr;
        const auto* samples = tp ? field(*tp, "samples") : nullptr;
        if (!samples || !samples->is_array() || samples->size() < pts.size()) continue;
        std::vector<point> these;
        for (const auto& x : *samples) {
            if (x.is_array() && x.size() >= 3 && x[0].is_number() && x[1].is_number() && x[2].is_number()) {
                these.push_back({x[0].get<double>(), x[1].get<double>(), x[2].get<double>()});
            }
        }
        if (these.size() >= pts.size()) pts = std::move(these);
    }
    return pts;
}

std::string polyline(const std::vector<std::pair<double, double>>& xy, double tmax, double ymax, const char* cls) {
    constexpr double x0 = 60, w = 640, y0 = 20, h = 140;
    std::string pts;
    for (const auto& [t, y] : xy) pts += fmt::format("{:.1f},{:.1f} ", x0 + w * t / tmax, y0 + h - h * y / ymax);
    return fmt::format("<polyline class=\"{}\" points=\"{}\"/>", cls, pts);
}

std::string throughput_section(const json& stages) {
    std::string out = "<section id=\"throughput\"><h2>Throughput over time</h2>\n";
    const auto pts = samples_of(stages);
    if (pts.size() < 2) return out + "<p class=\"note\">No throughput samples (the run was too short, a dry run, or has no mail stage).</p></section>\n";
    std::vector<std::pair<double, double>> mps, mbs;
    double max_mps = 0, max_mbs = 0;
    for (std::size_t i = 1; i < pts.size(); ++i) {
        const double dt = pts[i].t - pts[i - 1].t;
        if (dt <= 0) continue;
        const double m = std::max(0.0, pts[i].messages - pts[i - 1].messages) / dt;
        const double b = std::max(0.0, pts[i].bytes - pts[i - 1].bytes) / dt / 1e6;
        mps.emplace_back(pts[i].t, m);
        mbs.emplace_back(pts[i].t, b);
        max_mps = std::max(max_mps, m);
        max_mbs = std::max(max_mbs, b);
    }
    const double tmax = std::max(pts.back().t, 1e-9);
    const double ym = max_mps > 0 ? max_mps : 1, yb = max_mbs > 0 ? max_mbs : 1;
    out += fmt::format("<svg id=\"throughput-plot\" data-samples=\"{}\" viewBox=\"0 0 760 190\" width=\"760\" height=\"190\" role=\"img\" "
                       "aria-label=\"messages per second and MB per second over the run\">",
                       pts.size());
    out += "<rect x=\"60\" y=\"20\" width=\"640\" height=\"140\" class=\"frame\"/>";
    out += polyline(mps, tmax, ym, "mps") + polyline(mbs, tmax, yb, "mbs");
    out += fmt::format("<text x=\"56\" y=\"26\" class=\"mps\" text-anchor=\"end\">{:.0f}</text>"
                       "<text x=\"56\" y=\"162\" text-anchor=\"end\">0</text>"
                       "<text x=\"704\" y=\"26\" class=\"mbs\">{:.3g}</text>"
                       "<text x=\"60\" y=\"178\">0 s</text><text x=\"700\" y=\"178\" text-anchor=\"end\">{:.0f} s</text>"
                       "<text x=\"380\" y=\"14\" text-anchor=\"middle\"><tspan class=\"mps\">messages/s (left)</tspan>"
                       "  <tspan class=\"mbs\">MB/s (right)</tspan></text></svg>\n",
                       max_mps, max_mbs, tmax);
    out += fmt::format("<p class=\"note\">{} samples; {:.0f} messages and {} in {:.0f} s, {:.0f} messages/s on average.</p>\n", pts.size(),
                       pts.back().messages, human_bytes(static_cast<std::uint64_t>(pts.back().bytes)), pts.back().t,
                       pts.back().messages / tmax);
    return out + "</section>\n";
}

// ---- one stage ----

std::string stage_section(const json& stage, std::size_t index) {
    const auto name = str_field(stage, "name");
    const auto status = str_field(stage, "status");
    std::string out = fmt::format("<section class=\"stage\" id=\"stage-{}\"><h2>{} <span class=\"badge {}\">{}</span></h2>\n", index,
                                  markup::escape(name.empty() ? "stage" : name), rank_class(status_rank(status)), markup::escape(status));
    const auto* report = field(stage, "report");
    if (!report || !report->is_object()) {
        const auto reason = str_field(stage, "reason");
        return out + fmt::format("<p class=\"note\">No report{}{}</p></section>\n", reason.empty() ? "." : ": ", markup::escape(reason));
    }
    // Scalars of the report itself: command, started, seconds, destination, shard, ...
    std::string facts;
    for (const auto& [k, v] : report->items()) {
        if (is_scalar(v)) facts += fmt::format("<span><b>{}</b> {}</span> ", markup::escape(label(k)), cell(k, v, "span"));
    }
    if (!facts.empty()) out += "<p class=\"facts\">" + facts + "</p>\n";
    for (const char* k : {"totals", "counts"}) {
        if (const auto* t = field(*report, k); t && t->is_object()) out += totals_block(*t);
    }
    std::string rows_key;
    if (const auto* rows = rows_of(*report, &rows_key)) {
        const auto id = fmt::format("rows-{}", index);
        out += fmt::format("<h3>{} ({})</h3>\n", markup::escape(rows_key), rows->size());
        out += filter_box(id, rows->size());
        out += object_table(*rows, id, true, true, rows->size());
    }
    // Everything else: objects as key/value pairs, lists of objects as tables (problems, findings, ...).
    for (const auto& [k, v] : report->items()) {
        if (k == rows_key || k == "totals" || k == "counts" || k == "throughput") continue;
        if (v.is_object()) {
            out += fmt::format("<details><summary>{}</summary>{}</details>\n", markup::escape(label(k)), totals_block(v));
        } else if (v.is_array() && !v.empty() && v.front().is_object()) {
            out += fmt::format("<details{}><summary>{} ({})</summary>{}</details>\n", k == "problems" ? " open" : "", markup::escape(label(k)),
                               v.size(), object_table(v, fmt::format("list-{}-{}", index, k), true, false, max_list_rows));
        } else if (v.is_array() && !v.empty()) {
            std::string items;
            for (std::size_t i = 0; i < v.size() && i < max_list_rows; ++i) items += "<li>" + markup::escape(text_of(v[i])) + "</li>";
            out += fmt::format("<details><summary>{} ({})</summary><ul>{}</ul></details>\n", markup::escape(label(k)), v.size(), items);
        }
    }
    return out + "</section>\n";
}

constexpr std::string_view style = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.4em 0 .4em;border-bottom:1px solid #ddd}h3{font-size:1em}
table{border-collapse:collapse;margin:.4em 0;font-size:13px}th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
td[data-num]{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
table.sortable th{cursor:pointer;user-select:none}th[data-dir=asc]::after{content:" \25B2"}th[data-dir=desc]::after{content:" \25BC"}
tr.bad td{background:#fde8e8}tr.warn td{background:#fff6e0}.good{color:#176b2c}.bad{color:#a31515}
.badge{font-size:.8em;padding:1px 8px;border-radius:8px;color:#fff;background:#888}.badge.good{background:#2e8540}
.badge.bad{background:#c0392b}.badge.warn{background:#d68910}
dl.totals{display:flex;flex-wrap:wrap;gap:6px;margin:.4em 0}dl.totals div{border:1px solid #ddd;border-radius:4px;padding:3px 8px}
dt{font-size:11px;color:#666}dd{margin:0;font-weight:600}.facts span{margin-right:1em}.note{color:#666}
.verdict{font-weight:600}.filter{margin:.3em 0}.filter input[type=search]{width:18em}
svg .frame{fill:none;stroke:#ccc}svg polyline{fill:none;stroke-width:1.5}svg polyline.mps{stroke:#1f5fbf}
svg polyline.mbs{stroke:#d35400}svg text{font-size:11px;fill:#444;stroke:none}svg text.mbs,svg tspan.mbs{fill:#d35400}
svg text.mps,svg tspan.mps{fill:#1f5fbf}
)";

// Sorting: a header click sorts its table by that column (numbers by data-num), a second click reverses.
// Filtering: the text box keeps rows whose text contains it (case-insensitive), "failures only" rows of
// class bad or warn; the count says how many rows show. <html data-ready="1"> says the script ran.
constexpr std::string_view script = R"(
(function () {
  function sortBy(table, index, th) {
    var dir = th.getAttribute('data-dir') === 'asc' ? 'desc' : 'asc';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-dir'); });
    th.setAttribute('data-dir', dir);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index], y = b.cells[index];
      var nx = x && x.hasAttribute('data-num') ? parseFloat(x.getAttribute('data-num')) : NaN;
      var ny = y && y.hasAttribute('data-num') ? parseFloat(y.getAttribute('data-num')) : NaN;
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny
            : (x ? x.textContent : '').localeCompare(y ? y.textContent : '');
      return dir === 'asc' ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function applyFilter(id) {
    var table = document.getElementById(id);
    if (!table) return;
    var box = document.querySelector('input[type=search][data-table="' + id + '"]');
    var only = document.querySelector('input.failures-only[data-table="' + id + '"]');
    var text = box ? box.value.toLowerCase() : '';
    var shown = 0, rows = table.tBodies[0].rows;
    for (var i = 0; i < rows.length; ++i) {
      var r = rows[i];
      var keep = r.textContent.toLowerCase().indexOf(text) >= 0 &&
                 (!only || !only.checked || r.classList.contains('bad') || r.classList.contains('warn'));
      r.hidden = !keep;
      if (keep) ++shown;
    }
    var count = document.querySelector('span.count[data-table="' + id + '"]');
    if (count) count.textContent = shown + ' of ' + rows.length;
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('th').forEach(function (th, i) {
      th.addEventListener('click', function () { sortBy(table, i, th); });
    });
  });
  document.querySelectorAll('.filter input').forEach(function (input) {
    var id = input.getAttribute('data-table');
    input.addEventListener('input', function () { applyFilter(id); });
    input.addEventListener('change', function () { applyFilter(id); });
  });
  document.documentElement.setAttribute('data-ready', '1');
})();
)";

std::string sha256_base64(std::string_view s) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(s.data(), s.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) return {};
    std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> b64{};
    const int n = EVP_EncodeBlock(b64.data(), md.data(), static_cast<int>(len));
    return std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
}

std::string overview(const json& stages) {
    std::string out = "<table id=\"stages\" class=\"rows\"><thead><tr><th>stage</th><th>status</th><th>accounts</th><th>failed</th>"
                      "<th>seconds</th></tr></thead><tbody>\n";
    std::size_t i = 0;
    for (const auto& s : stages) {
        const auto* r = field(s, "report");
        const json empty = json::object();
        const auto* t = r ? field(*r, "totals") : nullptr;
        if (!t && r) t = field(*r, "counts");
        const auto& tt = t && t->is_object() ? *t : empty;
        const auto* rows = r ? rows_of(*r) : nullptr;
        std::size_t failed = 0;
        if (rows) {
            for (const auto& row : *rows) failed += rank_of(row) == 0 ? 1 : 0;
        } else {
            failed = static_cast<std::size_t>(num_field(tt, "failed"));
        }
        const auto status = str_field(s, "status");
        const double seconds = r ? num_field(*r, "seconds") : 0;
        out += fmt::format("<tr class=\"{}\"><td><a href=\"#stage-{}\">{}</a></td><td>{}</td><td data-num=\"{}\">{}</td>"
                           "<td data-num=\"{}\">{}</td><td data-num=\"{}\">{:.1f}</td></tr>\n",
                           rank_class(status_rank(status)), i, markup::escape(str_field(s, "name")), markup::escape(status),
                           rows ? rows->size() : 0, rows ? std::to_string(rows->size()) : "", failed, failed, seconds, seconds);
        ++i;
    }
    return out + "</tbody></table>\n";
}

}  // namespace

std::string render_html_report(const json& run) {
    const json no_stages = json::array();
    const auto* stages_field = field(run, "stages");
    const auto& stages = stages_field && stages_field->is_array() ? *stages_field : no_stages;
    auto shard = str_field(run, "shard");
    if (shard.empty()) shard = "0/1";
    std::string shards;
    if (const auto* list = field(run, "shards"); list && list->is_array()) {
        for (const auto& s : *list) shards += (shards.empty() ? "" : ", ") + text_of(s);
    }
    std::string started;
    for (const auto& s : stages) {
        const auto* r = field(s, "report");
        if (r && started.empty()) started = str_field(*r, "started");
    }

    std::string out;
    out.reserve(64 * 1024);
    out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
    out += fmt::format("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
                       "script-src 'sha256-{}'; img-src data:\">\n",
                       sha256_base64(script));
    out += "<meta name=\"viewport\" content=\"width=device-width\"><title>arrival run report</title>\n<style>";
    out += style;
    out += "</style></head><body>\n<h1>arrival run report</h1>\n";
    out += fmt::format("<p class=\"facts\"><span><b>shard</b> <span id=\"shard\">{}</span></span>{}{}</p>\n", markup::escape(shard),
                       shards.empty() ? "" : fmt::format(" <span><b>merged from</b> {}</span>", markup::escape(shards)),
                       started.empty() ? "" : fmt::format(" <span><b>started</b> {}</span>", markup::escape(started)));
    out += "<section id=\"overview\"><h2>Stages</h2>\n" + overview(stages) + "</section>\n";
    out += verify_section(stages);
    out += throughput_section(stages);
    out += adaptations_section(stages);
    std::size_t i = 0;
    for (const auto& s : stages) out += stage_section(s, i++);
    out += "<script>";
    out += script;
    out += "</script>\n</body></html>\n";
    return out;
}

}  // namespace arrival::engine
