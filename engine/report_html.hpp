// The run's HTML report (issue 12): one self-contained page from the run JSON, for people, not scripts.
//
// Input: {"stages": [{"name", "status", "report": {...that stage's own JSON report...}}...], "shard": "K/N"}
// (what `arrival run` writes as run.json and `arrival report merge` as report.json). Every stage report the
// commands write is known (migrate, verify, calendars, contacts, files, preflight, provision); a field the
// renderer does not know is still shown (scalars as columns or key/value pairs, lists of objects as tables),
// and a missing one is left out, so a newer or older report renders too.
//
// The page: per stage its status and totals; per account rows (failures first; every column sorts on a click,
// a text box and "failures only" filter them); throughput over time as an inline SVG plot (migrate's
// "throughput" series); the adaptations (renamed folders and files, dropped or mapped keywords, too-large and
// empty messages, dropped dates, dropped LDAP attributes); the verify result.
//
// Self-contained: inline CSS, JS and SVG and nothing else; a Content-Security-Policy forbids every fetch and
// admits only the page's own script (by its SHA-256), so even a string that escaped escaping could not run.
// Everything from servers, users or reports is HTML-escaped (folder names, server words, account names).
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace arrival::engine {

[[nodiscard]] std::string render_html_report(const nlohmann::json& run);

}  // namespace arrival::engine
