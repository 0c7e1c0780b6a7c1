// `arrival probe`: the pre-flight check an administrator runs before a migration night (imapsync's
// --justlogin / --justfoldersizes). Connects as the URL says, logs in (as an admin acting for the user with
// --admin), and prints capabilities, namespaces, the hierarchy delimiter and every folder with its special
// use, subscription, message count and total size. --json prints the same as one JSON object.
// Failures are one line on stderr and a distinct exit status (tools/arrival/exit_status.hpp).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "protocol/imap/connection.hpp"
#include "protocol/imap/errc.hpp"
#include "protocol/tls_policy.hpp"
#include "tools/arrival/commands.hpp"
#include "tools/arrival/exit_status.hpp"
#include "tools/arrival/secret.hpp"

namespace arrival::cli {

namespace net = boost::asio;
using imap::error_code;

namespace {

struct probe_args {
    std::string url;
    std::string user;
    std::string admin;
    std::string password_file;
    std::string ca_file;
    bool insecure = false;
    bool json = false;
    bool starttls = false;
    credential_flags credentials;  // --allow-cleartext, --strict-permissions
    bool master_login = false;
    int timeout = 30;
};

struct folder_row {
    imap::mailbox_info info;
    std::optional<std::uint64_t> messages;
    std::optional<std::uint64_t> size;
    std::string error;  // why counting failed (server text), empty when it worked
};

struct probe_result {
    std::string server;
    std::string tls;
    std::string greeting;
    std::string login_method;
    std::vector<std::string> capabilities;
    imap::namespace_info namespaces;
    std::optional<char> delimiter;
    std::vector<folder_row> folders;
    std::vector<std::string> alerts;
    bool size_from_status = false;
};

// Which exit status a failure gets: the one classification of IMAP's codes (imap::classify, never the server's
// words) through the one table (exit_status.hpp). A probe tries once: a server that hangs up or stalls is
// unreachable for it, and a refusal it cannot name is the server speaking something else.
int exit_for_failure(const error_code& ec, bool connecting) {
    const auto f = imap::classify(ec, connecting);
    if (f == failure::transient) return exit_unreachable;
    return exit_status_of(f).value_or(exit_protocol_error);
}

// Sums RFC822.SIZE of every message; for servers without STATUS=SIZE.
class size_sum final : public imap::fetch_handler {
public:
    error_code on_body_begin(const imap::fetch_part&, std::uint64_t) override { return {}; }
    error_code on_body_chunk(std::string_view) override { return {}; }
    error_code on_body_end() override { return {}; }
    error_code on_fetch(const imap::fetch_record& r) override {
        if (r.rfc822_size) total += *r.rfc822_size;
        return {};
    }
    std::uint64_t total = 0;
};

struct outcome {
    int status = exit_ok;
    std::string message;
};

net::awaitable<void> count_by_status(imap::connection& c, folder_row& row, int& pending, net::steady_timer& done) {
    error_code ec;
    const auto st = co_await c.async_status(row.info.name, ec);
    if (ec) {
        row.error = c.diag().to_string();
    } else {
        row.messages = st.messages;
        row.size = st.size;
    }
    if (--pending == 0) done.cancel();
}

net::awaitable<void> probe(const probe_args& a, const imap::credentials& cred,
                           std::shared_ptr<net::ssl::context> tls, probe_result& res, outcome& out) {
    std::string err;
    auto url = imap::parse_imap_url(a.url, err);
    imap::connect_options opts;
    opts.url = *url;
    if (a.credentials.allow_cleartext && !a.starttls && opts.url.tls == imap::tls_mode::starttls_required) {
        opts.url.tls = imap::tls_mode::starttls_if_offered;
    }
    opts.connect_timeout = std::chrono::seconds(a.timeout);
    opts.read_timeout = std::chrono::seconds(a.timeout);
    auto ex = co_await net::this_coro::executor;
    auto conn = imap::connection::create(ex, tls, opts);
    res.server = opts.url.str();

    error_code ec;
    co_await conn->async_connect(ec);
    if (ec) {
        out = {exit_for_failure(ec, true), conn->diag().to_string()};
        co_return;
    }
    res.tls = conn->tls_active() ? conn->tls_description() : "none (cleartext)";
    res.greeting = conn->greeting();

    co_await conn->async_login(cred, ec);
    if (ec) {
        out = {exit_for_failure(ec, false), "login as " + (cred.admin.empty() ? cred.user : cred.admin + " for " + cred.user) +
                                               " failed: " + conn->diag().to_string()};
        conn->close();
        co_return;
    }
    res.capabilities = conn->session().capabilities();
    auto fail = [&](std::string what) {
        out = {imap::is_fatal(ec) && ec.category() != imap::imap_category() ? exit_unreachable : exit_protocol_error,
               what + ": " + conn->diag().to_string()};
        conn->close();
    };
    if (conn->has_capability("NAMESPACE")) {
        res.namespaces = co_await conn->async_namespace(ec);
        if (ec) co_return fail("NAMESPACE");
    }
    auto folders = co_await conn->async_list("", "*", ec);
    if (ec) co_return fail("LIST");
    // The delimiter: the personal namespace's, else the first folder's (RFC 3501 §6.3.8 LIST "" "").
    if (!res.namespaces.personal.empty()) res.delimiter = res.namespaces.personal.front().delimiter;
    if (!res.delimiter) {
        for (const auto& f : folders) {
            if (f.delimiter) {
                res.delimiter = f.delimiter;
                break;
            }
        }
    }
    for (auto& f : folders) res.folders.push_back({std::move(f), std::nullopt, std::nullopt, {}});

    // Counts and sizes: every STATUS in flight at once (pipelined) when the server has STATUS=SIZE; otherwise
    // EXAMINE each folder and sum RFC822.SIZE (one folder at a time: SELECT state is per connection).
    res.size_from_status = conn->has_capability("STATUS=SIZE");
    if (res.size_from_status) {
        int pending = 0;
        net::steady_timer done(ex, std::chrono::steady_clock::time_point::max());
        for (auto& row : res.folders) {
            if (row.info.noselect) continue;
            ++pending;
            net::co_spawn(ex, count_by_status(*conn, row, pending, done), net::detached);
        }
        if (pending > 0) {
            error_code ignored;
            co_await done.async_wait(net::redirect_error(net::use_awaitable, ignored));
        }
    } else {
        for (auto& row : res.folders) {
            if (row.info.noselect) continue;
            const auto sel = co_await conn->async_select(row.info.name, true, ec);
            if (ec) {
                if (imap::is_fatal(ec)) co_return fail("EXAMINE " + row.info.name);
                row.error = conn->diag().to_string();
                continue;
            }
            row.messages = sel.exists;
            size_sum sum;
            if (sel.exists > 0) {
                co_await conn->async_uid_fetch("1:*", "(RFC822.SIZE)", sum, ec);
                if (ec) {
                    if (imap::is_fatal(ec)) co_return fail("UID FETCH in " + row.info.name);
                    row.error = conn->diag().to_string();
                    continue;
                }
            }
            row.size = sum.total;
        }
    }
    for (const auto& row : res.folders) {
        if (!row.error.empty() && !conn->is_open()) co_return fail("STATUS");
    }
    res.alerts = conn->alerts();
    co_await conn->async_logout(ec);  // a failed LOGOUT changes nothing of what was learned
}

std::string delimiter_text(std::optional<char> d) { return d ? std::string(1, *d) : std::string("NIL"); }

void print_text(const probe_result& r, const imap::credentials& cred) {
    fmt::print("server        {}\n", r.server);
    fmt::print("tls           {}\n", r.tls);
    fmt::print("greeting      {}\n", r.greeting);
    fmt::print("logged in     {}\n", cred.admin.empty() ? cred.user : cred.admin + " acting for " + cred.user);
    fmt::print("capabilities  {}\n", fmt::join(r.capabilities, " "));
    auto ns = [](const std::vector<imap::namespace_info::entry>& v) {
        if (v.empty()) return std::string("none");
        std::vector<std::string> parts;
        for (const auto& e : v) parts.push_back(fmt::format("\"{}\" \"{}\"", e.prefix, delimiter_text(e.delimiter)));
        return fmt::format("{}", fmt::join(parts, ", "));
    };
    fmt::print("namespaces    personal {}; other users {}; shared {}\n", ns(r.namespaces.personal),
               ns(r.namespaces.other_users), ns(r.namespaces.shared));
    fmt::print("delimiter     {}\n", delimiter_text(r.delimiter));
    for (const auto& a : r.alerts) fmt::print("ALERT         {}\n", a);
    std::size_t width = 6;
    for (const auto& f : r.folders) width = std::max(width, f.info.name.size());
    std::uint64_t total_messages = 0, total_size = 0;
    fmt::print("\n{:<{}}  {:<12} {:<10} {:>9} {:>13}\n", "folder", width, "special-use", "subscribed", "messages",
               "bytes");
    for (const auto& f : r.folders) {
        const auto use = imap::to_string(f.info.use);
        const std::string msgs = f.info.noselect ? "-" : f.messages ? std::to_string(*f.messages) : "?";
        const std::string size = f.info.noselect ? "-" : f.size ? std::to_string(*f.size) : "?";
        fmt::print("{:<{}}  {:<12} {:<10} {:>9} {:>13}{}\n", f.info.name, width, use.empty() ? "-" : use,
                   f.info.subscribed ? "yes" : "no", msgs, size, f.error.empty() ? "" : "  (" + f.error + ")");
        total_messages += f.messages.value_or(0);
        total_size += f.size.value_or(0);
    }
    fmt::print("{:<{}}  {:<12} {:<10} {:>9} {:>13}\n", fmt::format("{} folders", r.folders.size()), width, "", "",
               total_messages, total_size);
}

void print_json(const probe_result& r, const imap::credentials& cred) {
    using nlohmann::json;
    auto ns = [](const std::vector<imap::namespace_info::entry>& v) {
        json a = json::array();
        for (const auto& e : v) {
            a.push_back({{"prefix", e.prefix},
                         {"delimiter", e.delimiter ? json(std::string(1, *e.delimiter)) : json(nullptr)}});
        }
        return a;
    };
    json folders = json::array();
    std::uint64_t total_messages = 0, total_size = 0;
    for (const auto& f : r.folders) {
        const auto use = imap::to_string(f.info.use);
        json row = {
            {"name", f.info.name},
            {"raw_name", f.info.raw_name},
            {"delimiter", f.info.delimiter ? json(std::string(1, *f.info.delimiter)) : json(nullptr)},
            {"attributes", f.info.attributes},
            {"special_use", use.empty() ? json(nullptr) : json(std::string(use))},
            {"subscribed", f.info.subscribed},
            {"selectable", !f.info.noselect},
            {"messages", f.messages ? json(*f.messages) : json(nullptr)},
            {"size", f.size ? json(*f.size) : json(nullptr)},
        };
        if (!f.error.empty()) row["error"] = f.error;
        folders.push_back(std::move(row));
        total_messages += f.messages.value_or(0);
        total_size += f.size.value_or(0);
    }
    const json out = {
        {"server", r.server},
        {"tls", r.tls},
        {"greeting", r.greeting},
        {"user", cred.user},
        {"admin", cred.admin.empty() ? json(nullptr) : json(cred.admin)},
        {"capabilities", r.capabilities},
        {"namespaces", {{"personal", ns(r.namespaces.personal)},
                        {"other_users", ns(r.namespaces.other_users)},
                        {"shared", ns(r.namespaces.shared)}}},
        {"delimiter", r.delimiter ? json(std::string(1, *r.delimiter)) : json(nullptr)},
        {"alerts", r.alerts},
        {"size_source", r.size_from_status ? "STATUS=SIZE" : "FETCH RFC822.SIZE"},
        {"folders", folders},
        {"totals", {{"folders", r.folders.size()}, {"messages", total_messages}, {"size", total_size}}},
    };
    // Invalid UTF-8 from a server (names we could not decode are kept as sent) must not abort the dump.
    std::puts(out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
}

}  // namespace

int run_probe(int argc, char** argv) {
    CLI::App app{"arrival probe: log in to an IMAP server and list capabilities, namespaces and folders"};
    app.name("arrival probe");
    probe_args a;
    app.add_option("url", a.url, "imap://host[:port] (STARTTLS required) or imaps://host[:port]")->required();
    app.add_option("--user", a.user, "the mailbox to look at")->required();
    app.add_option("--admin", a.admin,
                   "log in as this administrator acting for --user (SASL PLAIN authorization identity)");
    app.add_flag("--master-login", a.master_login,
                 "with --admin: use Dovecot's LOGIN \"user*admin\" form instead of AUTHENTICATE PLAIN");
    app.add_option("--password-file", a.password_file,
                   "file whose first line is the password (of --admin when given); default: $ARRIVAL_PASSWORD");
    app.add_option("--ca-file", a.ca_file, ca_file_help);
    app.add_flag("--insecure", a.insecure, "do NOT verify the server certificate and host name");
    app.add_flag("--starttls", a.starttls, "with imap://: fail unless the server offers STARTTLS (the default)");
    add_credential_flags(app, a.credentials);
    app.add_flag("--json", a.json, "print one JSON object instead of text");
    app.add_option("--timeout", a.timeout, "seconds for connect and for each reply (default 30)")
        ->check(CLI::Range(1, 3600));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    }
    std::string err;
    if (!imap::parse_imap_url(a.url, err)) {
        std::fprintf(stderr, "arrival probe: %s\n", err.c_str());
        return exit_usage;
    }
    if (a.master_login && a.admin.empty()) {
        std::fprintf(stderr, "arrival probe: --master-login needs --admin\n");
        return exit_usage;
    }
    imap::credentials cred;
    cred.user = a.user;
    cred.admin = a.admin;
    cred.how = a.master_login ? imap::credentials::method::master_login : imap::credentials::method::automatic;
    auto password = read_secret(a.password_file, "ARRIVAL_PASSWORD");
    if (!password) {
        std::fprintf(stderr, "arrival probe: no password: give --password-file or set ARRIVAL_PASSWORD\n");
        return exit_usage;
    }
    cred.password = std::move(*password);
    if (a.insecure) std::fprintf(stderr, "arrival probe: WARNING: --insecure: certificates and host names are NOT verified\n");

    error_code ec;
    auto tls = tls::make_client_context({a.ca_file, a.insecure}, ec, err);
    if (!tls) {
        std::fprintf(stderr, "arrival probe: %s\n", err.c_str());
        return exit_usage;
    }

    net::io_context io;
    probe_result res;
    outcome out;
    std::exception_ptr failure;
    net::co_spawn(net::make_strand(io), probe(a, cred, tls, res, out),
                  [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
    if (out.status != exit_ok) {
        std::fprintf(stderr, "arrival probe: %s\n", out.message.c_str());
        return out.status;
    }
    if (a.json) {
        print_json(res, cred);
    } else {
        print_text(res, cred);
    }
    return exit_ok;
}

}  // namespace arrival::cli
