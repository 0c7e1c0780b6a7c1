#include "tools/arrival/rest_check.hpp"
namespace arrival::cli {
void add_rest_check_options(CLI::App& app, rest_check_args& a) {
    app.add_option("--rest", a.url, "also check the Carbonio REST side: carbonio+https://host");
}
engine::side_check check_rest(const rest_check_args& a, const std::string& user, const engine::job_options&) {
    engine::side_check c; c.role = "rest"; c.url = a.url; c.account = user; c.error = "TEMPORARY"; return c;
}
}
