#include "tools/arrival/rest_check.hpp"

#include <fmt/format.h>

#include "engine/pim/import_job.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/secret.hpp"

namespace arrival::cli {

void add_rest_check_options(CLI::App& app, rest_check_args& a) {
    app.add_option("--rest", a.url, "also check the Carbonio REST side as `arrival calendars/contacts` will use it: carbonio+https://host");
    app.add_option("--rest-admin-url", a.admin_url, "admin SOAP URL for --rest (default https://HOST:7071/service/admin/soap)");
    app.add_option("--rest-auth", a.auth, "delegate (admin AuthRequest + DelegateAuthRequest, default) or basic")
        ->check(CLI::IsMember({"delegate", "basic"}));
}

engine::side_check check_rest(const rest_check_args& a, const std::string& user, const engine::job_options& job) {
    engine::side_check c;
    c.role = "rest";
    c.url = a.url;
    c.account = user;
    auto fail = [&](engine::error_kind kind, std::string why) {
        c.kind = kind;
        c.error = std::move(why);
        return c;
    };
    pim::import_options o;
    std::string error;
    const auto d = pim::parse_destination(a.url, error);
    if (!d || d->kind != pim::destination::type::carbonio) {
        return fail(engine::error_kind::protocol, fmt::format("--rest {}: {}", a.url, d ? "expected carbonio+https://host" : error));
    }
    if (job.dest_admin.empty()) return fail(engine::error_kind::auth, "--rest needs --dest-admin (the REST import runs as the admin)");
    o.dest = *d;
    o.admin = job.dest_admin;
    o.admin_password = job.dest_password.reveal();
    o.tls.ca_file = job.dest.ca_file;
    o.tls.insecure = job.dest.insecure;
    o.timeouts.io = std::chrono::seconds(a.timeout);
    o.timeouts.connect = std::chrono::seconds(a.timeout);
    o.retries = 0;
    o.rest_auth = a.auth == "basic" ? pim::carbonio_auth::basic : pim::carbonio_auth::delegate;
    o.admin_url = pim::default_carbonio_admin_url(o.dest.url);
    if (!a.admin_url.empty()) {
        auto u = http::parse_url(a.admin_url, error);
        if (!u) return fail(engine::error_kind::protocol, fmt::format("--rest-admin-url {}: {}", a.admin_url, error));
        if (u->target == "/") u->target = "/service/admin/soap";
        o.admin_url = std::move(*u);
    }
    // The admin password (SOAP AuthRequest, or Basic) and the tokens: never over plain http:// unless asked.
    for (const http::url* u : {&o.dest.url, &o.admin_url}) {
        if (!u->tls && !job.dest.allow_cleartext) {
            return fail(engine::error_kind::tls, cleartext_refusal(u->origin(), "is plain http:// (no TLS)"));
        }
    }
    const auto r = pim::check_carbonio_access(o, user);
    if (r.status == pim::user_status::failed) {
        // Only the reasons that say something of the server; anything else it answered is a protocol failure.
        const auto k = r.kind.value_or(failure::protocol);
        return fail(exit_status_of(k) ? k : failure::protocol, r.error);
    }
    c.ok = true;
    // detail: "admin acts for user (DelegateAuthRequest); GET ...: 200, N bytes; ..."
    for (std::size_t from = 0; from < r.detail.size();) {
        const auto to = r.detail.find("; ", from);
        c.details.push_back(r.detail.substr(from, to == std::string::npos ? std::string::npos : to - from));
        if (to == std::string::npos) break;
        from = to + 2;
    }
    return c;
}

}  // namespace arrival::cli
