#include "engine/pim/import_job.hpp"
#include "engine/pim/carbonio_login.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "engine/pim/calendar_object.hpp"
#include "engine/pim/carbonio_rest.hpp"
#include "engine/pim/carbonio_soap.hpp"
#include "engine/pim/csv_reader.hpp"
#include "engine/pim/ics_file.hpp"
#include "engine/pim/user_pool.hpp"
#include "engine/secret_string.hpp"
#include "engine/stop_request.hpp"
#include "protocol/http/webdav.hpp"
#include "protocol/percent.hpp"
#include "protocol/tls_policy.hpp"

namespace arrival::pim {

namespace net = boost::asio;
using boost::system::error_code;

namespace {
constexpr std::chrono::milliseconds max_backoff{30000};
}  // namespace

namespace {
// Retry-After in seconds (the HTTP-date form is rare for 429/503 and treated as absent).
std::optional<std::chrono::milliseconds> retry_after(const http::response& r) {
    const auto v = r.header("Retry-After");
    if (v.empty() || v.find_first_not_of("0123456789") != std::string_view::npos || v.size() > 4) return std::nullopt;
    return std::chrono::seconds(std::stoi(std::string(v)));
}

}  // namespace

net::awaitable<http::response> send_retrying(http::client& c, const import_options& o, const http::request& req,
                                             error_code& ec, bool soap, const std::string& body_file) {
    auto delay = o.backoff;
    for (unsigned attempt = 0;; ++attempt) {
        http::response resp;
        if (body_file.empty()) resp = co_await c.async_send(req, ec);
        else resp = co_await c.async_upload(req, body_file, ec);
        bool transient = http::is_transient(ec, resp.status);
        if (soap && !ec && resp.body.find("Fault>") != std::string::npos) transient = false;
        if (!transient || attempt >= o.retries) co_return resp;
        auto wait = delay;
        if (!ec) {
            if (auto ra = retry_after(resp)) wait = std::min(*ra, max_backoff * 2);
        }
        net::steady_timer t(co_await net::this_coro::executor);
        t.expires_after(wait);
        co_await t.async_wait(net::use_awaitable);
        delay = std::min(delay * 2, max_backoff);
    }
}

// POSTs one SOAP envelope to `endpoint` (an absolute URL with its path) on a connection of its own.
net::awaitable<http::response> soap_call(const import_options& o, const http::url& endpoint, std::string body,
                                         error_code& ec) {
    auto origin = endpoint;
    origin.target = "/";
    std::shared_ptr<net::ssl::context> tls;
    if (origin.tls) tls = tls::make_client_context(o.tls);
    http::client c(co_await net::this_coro::executor, origin, tls, {}, o.timeouts);
    const http::request req{"POST", endpoint.target, {{"Content-Type", std::string(soap_content_type)}},
                            std::move(body)};
    auto resp = co_await send_retrying(c, o, req, ec, true);
    co_await c.async_close();
    co_return resp;
}

net::awaitable<void> admin_login(const import_options& o, carbonio_session& s) {
    try {
        error_code ec;
        auto body = admin_auth_request(o.admin, o.admin_password);  // named: see carbonio_calendars
        auto resp = co_await soap_call(o, o.admin_url, std::move(body), ec);
        if (ec) {
            s.kind = http::classify(ec, 0);
            s.error = fmt::format("admin AuthRequest at {}: {}", o.admin_url.str(), ec.message());
            co_return;
        }
        std::string token;
        const auto out = read_auth_response(resp.status, resp.body, token);
        s.admin_token = engine::secret_string(std::move(token));
        if (!out.error.empty()) {
            s.kind = out.auth_refused() || resp.status == 401 || resp.status == 403 ? failure_kind::auth
                                                                                   : failure_kind::protocol;
            s.error = fmt::format("admin AuthRequest as {} at {}: {}", o.admin, o.admin_url.str(), out.error);
        }
    } catch (const std::exception& e) {
        s.kind = failure_kind::protocol;
        s.error = fmt::format("admin AuthRequest at {}: {}", o.admin_url.str(), e.what());
    }
}

net::awaitable<delegated_login> delegate_login(const import_options& o, carbonio_session& session,
                                               const std::string& user) {
    delegated_login out;
    const auto what = fmt::format("DelegateAuthRequest for {} at {}", user, o.admin_url.str());
    // The admin token lives 12 h (zimbraAdminAuthTokenLifetime); a longer run logs in again once when the
    // server says it expired, for this user and those after.
    for (int attempt = 0;; ++attempt) {
        if (!session.error.empty()) {
            out.kind = session.kind;
            out.error = session.error;
            co_return out;
        }
        error_code ec;
        auto body = delegate_auth_request(session.admin_token.reveal(), user);
        auto resp = co_await soap_call(o, o.admin_url, std::move(body), ec);
        if (ec) {
            out.kind = http::classify(ec, 0);
            out.error = fmt::format("{}: {}", what, ec.message());
            co_return out;
        }
        std::string token;
        const auto reply = read_auth_response(resp.status, resp.body, token);
        out.token = engine::secret_string(std::move(token));
        if (reply.error.empty()) co_return out;
        if (attempt == 0 && (reply.fault_code == "service.AUTH_EXPIRED" || reply.fault_code == "service.AUTH_REQUIRED")) {
            session = {};
            co_await admin_login(o, session);
            continue;
        }
        out.kind = reply.auth_refused() ? failure_kind::auth : failure_kind::protocol;
        out.error = fmt::format("{}: {}", what, reply.error);
        co_return out;
    }
}

namespace {

enum class read_result { ok, missing, error };

read_result read_file(const std::string& path, std::string& out, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::error_code ec(errno, std::generic_category());
        if (ec == std::errc::no_such_file_or_directory) return read_result::missing;
        error = fmt::format("cannot open {}: {}", path, ec.message());
        return read_result::error;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        error = fmt::format("cannot read {}", path);
        return read_result::error;
    }
    out = std::move(ss).str();
    return read_result::ok;
}

class user_job {
public:
    user_job(const import_options& o, const import_user& u, import_observer& obs, carbonio_session& session)
        : o_(o), u_(u), obs_(obs), session_(session) {
        r_.user = u.dest_user;
        r_.file = u.file;
    }

    net::awaitable<user_result> run() {
        const auto start = std::chrono::steady_clock::now();
        try {
            co_await run_inner();
        } catch (const std::exception& e) {
            fail_user(failure_kind::protocol, e.what());
        }
        if (client_) co_await client_->async_close();
        // Whatever was not written (the user failed part-way) is done too, as far as progress goes.
        if (file_bytes_ > bytes_reported_ || items_found_ > items_reported_) {
            obs_.items_done(items_found_ - std::min(items_found_, items_reported_), file_bytes_ - bytes_reported_);
        }
        r_.failed = r_.failures.size();
        if (r_.status != user_status::failed && r_.status != user_status::no_file) {
            if (r_.failed == 0) r_.status = user_status::ok;
            else if (r_.imported + r_.existing == 0) r_.status = user_status::failed;
            else r_.status = user_status::partial;
            if (r_.status == user_status::failed && !r_.kind) {
                r_.kind = failure_kind::input;
                r_.error = "nothing could be imported; see failures";
            }
        }
        r_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        co_return std::move(r_);
    }

    // arrival preflight --rest: this user's access as an import will use it, writing nothing: the login
    // (delegate or basic) and a GET of the Calendar and Contacts exports. `detail` lists what was checked.
    net::awaitable<user_result> check_access() {
        executor_ = co_await net::this_coro::executor;
        if (co_await carbonio_login()) {
            r_.detail = o_.rest_auth == carbonio_auth::basic ? fmt::format("basic auth as {}", o_.admin)
                                                             : fmt::format("{} acts for {} (DelegateAuthRequest)", o_.admin, u_.dest_user);
            const std::pair<std::string_view, rest_request> exports[] = {{"/Calendar", carbonio_calendar_export_request(u_.dest_user)},
                                                                         {"/Contacts", carbonio_contacts_export_request(u_.dest_user)}};
            for (const auto& [folder, get] : exports) {
                const auto reply = co_await get_export(get);
                if (!reply) break;
                if (reply->status != 200) {
                    const auto meaning = explain_status("GET", folder, reply->status, auth_kind());
                    fail_user(reply->status == 401 || reply->status == 403 ? failure_kind::auth : failure_kind::protocol,
                              fmt::format("GET {}{}: {}{}{}", origin_.origin(), get.target, describe_reply(*reply),
                                          meaning.empty() ? "" : " - ", meaning));
                    break;
                }
                r_.detail += fmt::format("; GET {}: 200, {} bytes", get.target, reply->body.size());
            }
        }
        if (client_) co_await client_->async_close();
        co_return std::move(r_);
    }

private:
    // Object i of the file, or nullptr when it cannot be read (the user then failed with the reason: input).
    const ics_calendar* load_object(ics_file& file, std::size_t i, calendar_object& obj) {
        std::string error;
        const auto* part = file.load(i, obj, error);
        if (part == nullptr) fail_user(failure_kind::input, error);
        return part;
    }

    void fail_user(failure_kind k, std::string what) {
        r_.status = user_status::failed;
        r_.kind = k;
        r_.error = std::move(what);
    }

    net::awaitable<http::response> send(const http::request& req, error_code& ec) {
        co_return co_await send_retrying(*client_, o_, req, ec);
    }

    // GETs one of the user's exports as the user; nullopt when the connection failed (the user failed with it).
    net::awaitable<std::optional<rest_reply>> get_export(const rest_request& get) {
        const http::request req{"GET", get.target, rest_headers(), {}};
        error_code ec;
        auto resp = co_await send(req, ec);
        if (ec) {
            fail_transport("GET", req.target, ec);
            co_return std::nullopt;
        }
        co_return rest_reply{resp.status, resp.reason, std::move(resp.body)};
    }

    // Discovery, retried as a whole on transient failures.
    net::awaitable<std::optional<http::dav_collection>> find_collection(http::dav_kind kind) {
        http::discovery_options d;
        d.kind = kind;
        d.user = u_.dest_user;
        d.collection_name = o_.collection_name;
        d.display_name = kind == http::dav_kind::calendar ? "Calendar" : "Contacts";
        auto delay = o_.backoff;
        for (unsigned attempt = 0;; ++attempt) {
            http::dav_failure err;
            auto col = co_await http::async_find_collection(*client_, o_.dest.url.target, d, err);
            if (!err) co_return col;
            const bool transient = http::is_transient(err.ec, err.status);
            if (!transient || attempt >= o_.retries) {
                fail_user(http::classify(err.ec, err.status), err.what);
                co_return std::nullopt;
            }
            net::steady_timer t(co_await net::this_coro::executor);
            t.expires_after(delay);
            co_await t.async_wait(net::use_awaitable);
            delay = std::min(delay * 2, max_backoff);
        }
    }

    // The connection failed (after retries): the user stops here.
    void fail_transport(std::string_view method, const std::string& target, const error_code& ec) {
        fail_user(http::classify(ec, 0),
                  fmt::format("{} {}{}: {}", method, origin_.origin(), target, ec.message()));
    }

    void found(std::size_t items) {
        items_found_ = items;
        obs_.items_found(items);
    }

    void done(std::size_t items, std::uint64_t bytes) {
        bytes = std::min(bytes, file_bytes_ - bytes_reported_);
        bytes_reported_ += bytes;
        items_reported_ += items;
        obs_.items_done(items, bytes);
    }

    // HTTP basic auth as the admin, or as the user with their own password.
    std::string basic_authorization(bool as_admin) const {
        if (as_admin) return http::basic_authorization(o_.admin, o_.admin_password);
        return http::basic_authorization(u_.dest_user, u_.password.empty() ? o_.default_password : u_.password);
    }

    // `auth` is sent as the Authorization header of every request ("" for none).
    void make_client(std::string auth) {
        std::shared_ptr<net::ssl::context> tls;
        if (o_.dest.url.tls) tls = tls_context();
        origin_ = o_.dest.url;
        origin_.target = "/";
        client_ = std::make_unique<http::client>(executor_, origin_, tls, std::move(auth), o_.timeouts);
    }

    std::shared_ptr<net::ssl::context> tls_context() {
        // One context per process would do; building one per user keeps the job self-contained and costs
        // one CA-file read.
        return tls::make_client_context(o_.tls);
    }

    // PUTs one new resource; returns false when the connection is unusable (the rest is then not tried).
    net::awaitable<bool> put_new(const std::string& collection, const std::string& name, std::string_view type,
                                 std::string body, std::string item) {
        error_code ec;
        auto req = http::put_new_request(http::join_target(collection, percent::encode_segment(name)), type,
                                         std::move(body));
        auto resp = co_await send(req, ec);
        if (ec) {
            r_.failures.push_back({std::move(item), fmt::format("PUT {}: {}", req.target, ec.message())});
            fail_transport("PUT", req.target, ec);
            co_return false;
        }
        if (resp.status == 201 || resp.status == 204 || resp.status == 200) {
            ++r_.imported;
        } else if (resp.status == 412) {
            ++r_.existing;
        } else {
            r_.failures.push_back({std::move(item), fmt::format("PUT {} answered {} {}{}{}", req.target, resp.status,
                                                                resp.reason, resp.body.empty() ? "" : ": ",
                                                                http::excerpt(resp.body))});
            if (resp.status == 401) {
                fail_user(failure_kind::auth, fmt::format("PUT {}{} answered 401 {}", origin_.origin(), req.target,
                                                          resp.reason));
                co_return false;
            }
        }
        co_return true;
    }

    net::awaitable<void> run_inner() {
        executor_ = co_await net::this_coro::executor;
        if (o_.kind == pim_kind::calendars) {
            co_await calendars();
            co_return;
        }
        std::string bytes, error;
        switch (read_file(u_.file, bytes, error)) {
            case read_result::missing: no_file(); co_return;
            case read_result::error: fail_user(failure_kind::input, error); co_return;
            case read_result::ok: break;
        }
        file_bytes_ = bytes.size();
        co_await contacts(bytes);
    }

    void no_file() {
        r_.status = user_status::no_file;
        r_.detail = fmt::format("no export file {}", u_.file);
    }

    // Streamed in two passes (ics_file.hpp): memory is bounded by the largest calendar object, not the file.
    net::awaitable<void> calendars() {
        ics_file file;
        std::error_code fec;
        std::string error;
        if (!file.open(u_.file, fec, error)) {
            if (fec == std::errc::no_such_file_or_directory) no_file();
            else fail_user(failure_kind::input, error);
            co_return;
        }
        file_bytes_ = file.size();
        for (const auto& i : file.issues()) r_.failures.push_back({fmt::format("{}:{}", u_.file, i.line), i.message});
        const auto& groups = file.groups();
        r_.detail = fmt::format("{} calendar objects, {} time zones", groups.objects.size(),
                                file.head().timezones.size());
        found(groups.objects.size());
        if (groups.objects.empty()) co_return;
        if (o_.dest.kind == destination::type::carbonio) {
            co_await carbonio_calendars(file);
            co_return;
        }
        make_client(basic_authorization(!o_.admin.empty()));
        auto col = co_await find_collection(http::dav_kind::calendar);
        if (!col) co_return;
        r_.collection = origin_.origin() + col->target;
        for (std::size_t i = 0; i < groups.objects.size(); ++i) {
            calendar_object obj;
            const auto* part = load_object(file, i, obj);
            if (part == nullptr) co_return;
            auto item = fmt::format("UID {} ({}:{})", obj.uid, u_.file, obj.line);
            auto name = resource_name(obj.uid, ".ics");
            auto body = make_caldav_resource(*part, obj);
            const bool usable = co_await put_new(col->target, name, "text/calendar; charset=utf-8", std::move(body),
                                                 std::move(item));
            done(1, file.object_bytes(i));
            if (!usable) co_return;
        }
    }

    // Temporaries are named before co_await throughout: g++ 12 mishandles non-trivial temporaries that live
    // across a suspension point.
    net::awaitable<void> carbonio_calendars(ics_file& file) {
        const bool logged_in = co_await carbonio_login();
        if (!logged_in) co_return;
        calendar_inventory inventory;
        const bool have_inventory = co_await carbonio_inventory(inventory);
        if (!have_inventory) co_return;
        const auto& groups = file.groups();
        carbonio_calendar_batch batch(u_.dest_user, file.head(), o_.rest_batch_bytes, target_folder());
        std::uint64_t batch_bytes = 0;
        for (std::size_t i = 0; i < groups.objects.size(); ++i) {
            calendar_object obj;
            const auto* part = load_object(file, i, obj);
            if (part == nullptr) co_return;
            const auto verdict = judge_calendar_object(*part, obj, inventory, target_folder());
            if (verdict.what != calendar_verdict::action::post) {
                if (verdict.what == calendar_verdict::action::todo) ++r_.todo_skipped;
                else ++r_.existing;
                if (verdict.notable()) {
                    r_.skipped.push_back({fmt::format("UID {} ({}:{})", obj.uid, u_.file, obj.line), obj.uid,
                                          verdict.folder, verdict.reason});
                }
                done(1, file.object_bytes(i));
                continue;
            }
            batch.add(*part, obj);
            batch_bytes += file.object_bytes(i);
            if (batch.full()) {
                const bool posted = co_await post_batch(batch, batch_bytes);
                if (!posted) co_return;
            }
        }
        if (batch.objects() > 0) co_await post_batch(batch, batch_bytes);
    }

    // Carbonio: a connection to the REST origin that acts as this user (FACTS.md §7); false when the user
    // failed. Delegate: a DelegateAuthRequest with the run's admin token, the user's token as the
    // ZM_AUTH_TOKEN cookie. Basic: the admin's credentials on every request.
    net::awaitable<bool> carbonio_login() {
        if (client_) co_return true;
        if (o_.rest_auth == carbonio_auth::basic) {
            make_client(basic_authorization(true));
            co_return true;
        }
        auto login = co_await delegate_login(o_, session_, u_.dest_user);
        if (!login.error.empty()) {
            fail_user(login.kind, std::move(login.error));
            co_return false;
        }
        token_ = std::move(login.token);
        make_client({});
        co_return true;
    }

    // Headers of every REST request: the delegated token as a cookie (basic auth is the client's own).
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> rest_headers() const {
        if (token_.empty()) return {};
        return {{"Cookie", "ZM_AUTH_TOKEN=" + token_.reveal()}};
    }

    [[nodiscard]] rest_auth auth_kind() const {
        return o_.rest_auth == carbonio_auth::basic ? rest_auth::basic : rest_auth::cookie;
    }

    // Every UID of every calendar of the mailbox (delegate: the folders GetFolderRequest lists with
    // view="appointment"; basic auth has no SOAP, so only the target calendar); false when the user failed.
    net::awaitable<bool> carbonio_inventory(calendar_inventory& inventory) {
        std::vector<std::string> folders;
        if (o_.rest_auth == carbonio_auth::basic) {
            folders.emplace_back(target_folder());
            r_.detail += fmt::format("; only {} checked for existing UIDs (listing the mailbox's other calendars "
                                     "needs SOAP: --carbonio-auth delegate)",
                                     target_folder());
        } else {
            const http::request req{"POST", "/service/soap", {{"Content-Type", std::string(soap_content_type)}},
                                    get_folder_request(token_.reveal())};
            error_code ec;
            auto resp = co_await send_retrying(*client_, o_, req, ec, true);
            if (ec) {
                fail_transport("POST", req.target, ec);
                co_return false;
            }
            std::vector<mail_folder> all;
            const auto out = read_folders(resp.status, resp.body, all);
            if (!out.error.empty()) {
                fail_user(out.auth_refused() ? failure_kind::auth : failure_kind::protocol,
                          fmt::format("GetFolderRequest for {} at {}{}: {} (nothing posted: without the mailbox's "
                                      "calendars an existing UID would be moved silently)",
                                      u_.dest_user, origin_.origin(), req.target, out.error));
                co_return false;
            }
            for (const auto& f : all) {
                if (f.view == "appointment") folders.push_back(f.path);
            }
            const auto match = find_folder(folders, target_folder());
            if (match.empty()) {
                fail_user(failure_kind::protocol,
                          fmt::format("{}'s mailbox has no calendar {} (GetFolderRequest lists {} calendar(s)); "
                                      "nothing posted",
                                      u_.dest_user, target_folder(), folders.size()));
                co_return false;
            }
            listed_folder_ = match;
            r_.detail += fmt::format("; {} calendar(s) checked for existing UIDs", folders.size());
        }
        for (const auto& folder : folders) {
            const auto get = carbonio_folder_export_request(u_.dest_user, folder);
            const auto reply = co_await get_export(get);
            if (!reply) co_return false;
            const auto error = read_calendar_folder(*reply, folder, inventory);
            if (!error.empty()) {
                fail_rest("GET", get.target, folder, reply->status, error);
                co_return false;
            }
        }
        co_return true;
    }

    // A refused REST request: the server's words and what they mean (explain_status).
    void fail_rest(std::string_view method, const std::string& target, std::string_view folder, int status,
                   const std::string& error) {
        const auto meaning = explain_status(method, folder, status, auth_kind());
        // A GET that failed for another reason than a missing folder: say why nothing at all was posted.
        const bool why_nothing = method == "GET" && status != 404;
        fail_user(status == 401 || status == 403 ? failure_kind::auth : failure_kind::protocol,
                  fmt::format("{} {}{}: {}{}{}{}", method, origin_.origin(), target, error,
                              meaning.empty() ? "" : " - ", meaning,
                              why_nothing ? " (nothing posted: without the list of present items a rerun would "
                                            "duplicate or move them)"
                                          : ""));
    }

    net::awaitable<bool> post_batch(carbonio_calendar_batch& batch, std::uint64_t& bytes) {
        const auto n = batch.objects();
        auto rest = batch.take();
        const bool posted = co_await carbonio(std::move(rest), n, target_folder());
        done(n, bytes);
        bytes = 0;
        co_return posted;
    }

    net::awaitable<void> contacts(const std::string& bytes) {
        const auto table = read_csv(bytes);
        for (const auto& i : table.issues) r_.failures.push_back({fmt::format("{}:{}", u_.file, i.line), i.message});
        auto format = o_.forced_format ? o_.forced_format : detect_csv_format(table.header);
        if (!format) {
            fail_user(failure_kind::input,
                      fmt::format("{}:1: header matches no known CSV export (outlook, google, thunderbird, zimbra); "
                                  "choose one with --csv-format",
                                  u_.file));
            co_return;
        }
        const auto mapped = map_contacts(table, *format);
        for (const auto& i : mapped.issues) r_.failures.push_back({fmt::format("{}:{}", u_.file, i.line), i.message});
        r_.detail = fmt::format("csv {} ({}, '{}'), {} contacts", to_string(*format), to_string(table.encoding),
                                table.delimiter == '\t' ? std::string("\\t") : std::string(1, table.delimiter),
                                mapped.contacts.size());
        found(mapped.contacts.size());
        if (mapped.contacts.empty()) co_return;
        // Contacts are small; their bytes are shared out evenly for the progress display.
        const std::uint64_t per_contact = file_bytes_ / mapped.contacts.size();
        if (o_.dest.kind == destination::type::carbonio) {
            const bool logged_in = co_await carbonio_login();
            if (!logged_in) co_return;
            std::set<std::string> present;
            const bool have_list = co_await carbonio_present_contacts(present);
            if (!have_list) co_return;
            auto upload = plan_contacts_upload(mapped, present);
            r_.existing += upload.present;
            if (upload.fresh.contacts.empty()) {
                done(mapped.contacts.size(), file_bytes_);
                co_return;
            }
            auto rest = carbonio_contacts_request(u_.dest_user, table, *format, upload.fresh, target_folder());
            const auto n = upload.fresh.contacts.size();
            co_await carbonio(std::move(rest), n, target_folder());
            done(mapped.contacts.size(), file_bytes_);
            co_return;
        }
        make_client(basic_authorization(!o_.admin.empty()));
        auto col = co_await find_collection(http::dav_kind::addressbook);
        if (!col) co_return;
        r_.collection = origin_.origin() + col->target;
        vcard_version version = vcard_version::v3;
        if (o_.forced_vcard) {
            version = *o_.forced_vcard;
        } else if (!col->vcard_versions.empty() &&
                   std::find(col->vcard_versions.begin(), col->vcard_versions.end(), "3.0") ==
                       col->vcard_versions.end() &&
                   std::find(col->vcard_versions.begin(), col->vcard_versions.end(), "4.0") !=
                       col->vcard_versions.end()) {
            version = vcard_version::v4;  // the server lists 4.0 and not 3.0
        }
        r_.detail += version == vcard_version::v3 ? ", vCard 3.0" : ", vCard 4.0";
        // Two rows describing the same person (same name and addresses) would share a UID; the later ones get
        // a numbered suffix, which is as stable across reruns as the file's order, so nothing is dropped.
        std::map<std::string, int> seen;
        for (const auto& c : mapped.contacts) {
            auto uid = c.stable_uid();
            if (const int n = seen[uid]++; n > 0) uid += fmt::format("-{}", n + 1);
            auto item = fmt::format("contact {} ({}:{})", c.display_name(), u_.file, c.line);
            auto name = resource_name(uid, ".vcf");
            auto body = write_vcard(c, uid, version);
            const bool usable = co_await put_new(col->target, name, "text/vcard; charset=utf-8", std::move(body),
                                                 std::move(item));
            done(1, per_contact);
            if (!usable) co_return;
        }
    }

    // GETs the user's contacts (see carbonio_rest.hpp); false when the user failed.
    net::awaitable<bool> carbonio_present_contacts(std::set<std::string>& present) {
        const auto get = carbonio_contacts_export_request(u_.dest_user, target_folder());
        const auto reply = co_await get_export(get);
        if (!reply) co_return false;
        const auto error = read_present_contacts(*reply, present);
        if (!error.empty()) {
            fail_rest("GET", get.target, target_folder(), reply->status, error);
            co_return false;
        }
        co_return true;
    }

    // POSTs one upload into `folder`; false when the user failed.
    net::awaitable<bool> carbonio(rest_request rest, std::size_t items, std::string_view folder) {
        r_.collection = origin_.origin() + rest.target.substr(0, rest.target.find('?'));
        auto headers = rest_headers();
        headers.emplace_back("Content-Type", rest.content_type);
        const http::request req{"POST", std::move(rest.target), std::move(headers), std::move(rest.body)};
        error_code ec;
        auto resp = co_await send(req, ec);
        if (ec) {
            fail_transport("POST", req.target, ec);
            co_return false;
        }
        if (resp.status != 200 && resp.status != 201 && resp.status != 204) {
            const rest_reply reply{resp.status, resp.reason, std::move(resp.body)};
            fail_rest("POST", req.target, folder, resp.status, describe_reply(reply));
            co_return false;
        }
        // The REST import answers for the whole upload; with ignore=1 a bad event is skipped server-side and
        // not itemised, so everything sent counts as imported.
        r_.imported += items;
        co_return true;
    }

    // The Carbonio folder posted into: --folder, else the user's default calendar or address book; once the
    // mailbox's calendars are listed, spelled as the server spells it (folder names are case-insensitive).
    [[nodiscard]] std::string target_folder() const {
        if (!listed_folder_.empty()) return listed_folder_;
        if (o_.carbonio_folder.empty()) return o_.kind == pim_kind::calendars ? "/Calendar" : "/Contacts";
        return o_.carbonio_folder.front() == '/' ? o_.carbonio_folder : "/" + o_.carbonio_folder;
    }

    const import_options& o_;
    const import_user& u_;
    import_observer& obs_;
    carbonio_session& session_;  // shared by the run's users (one thread): renewed by whoever finds it expired
    engine::secret_string token_;  // the delegated token (a credential: prints as <redacted>, wiped when dropped)
    std::string listed_folder_;
    user_result r_;
    std::uint64_t file_bytes_ = 0;
    std::uint64_t bytes_reported_ = 0;
    std::size_t items_found_ = 0;
    std::size_t items_reported_ = 0;
    net::any_io_executor executor_;
    http::url origin_;
    std::unique_ptr<http::client> client_;
};

net::awaitable<void> worker(const import_options& o, const std::vector<import_user>& users,
                            std::vector<user_result>& results, std::size_t& next, std::size_t& done,
                            import_observer& observer, carbonio_session& session) {
    co_await work_through_users(users, results, next, done, observer, [&](std::size_t i) -> net::awaitable<user_result> {
        user_job job(o, users[i], observer, session);
        co_return co_await job.run();
    });
}

// The per-user callback of the simpler run_import overload.
class callback_observer final : public import_observer {
public:
    explicit callback_observer(const progress_fn& f) : f_(f) {}
    void user_finished(const user_result& r, std::size_t done, std::size_t total) override {
        if (f_) f_(r, done, total);
    }

private:
    const progress_fn& f_;
};

}  // namespace

std::string_view to_string(user_status s) noexcept {
    switch (s) {
        case user_status::ok: return "ok";
        case user_status::partial: return "partial";
        case user_status::failed: return "failed";
        case user_status::no_file: return "no-file";
    }
    return "?";
}

std::string_view to_string(const std::optional<failure_kind>& k) noexcept { return k ? arrival::to_string(*k) : "none"; }

std::optional<destination> parse_destination(std::string_view text, std::string& error) {
    destination d;
    std::string url_text(text);
    if (text.substr(0, 9) == "carbonio+") {
        d.kind = destination::type::carbonio;
        url_text = std::string(text.substr(9));
    }
    auto u = http::parse_url(url_text, error);
    if (!u) return std::nullopt;
    if (d.kind == destination::type::carbonio && u->target != "/") {
        error = "a carbonio+https:// destination takes no path (the REST paths are fixed)";
        return std::nullopt;
    }
    d.url = std::move(*u);
    return d;
}

http::url default_carbonio_admin_url(const http::url& rest) {
    auto u = rest;
    u.port = "7071";
    u.target = "/service/admin/soap";
    return u;
}

std::optional<http::url> carbonio_admin_url(const http::url& rest, const std::string& admin_url_option,
                                           std::string& error) {
    if (admin_url_option.empty()) return default_carbonio_admin_url(rest);
    auto u = http::parse_url(admin_url_option, error);
    if (u && u->target == "/") u->target = "/service/admin/soap";
    return u;
}

user_result check_carbonio_access(const import_options& o, const std::string& dest_user) {
    net::io_context ioc(1);
    carbonio_session session;
    import_user u;
    u.dest_user = dest_user;
    import_observer quiet;
    user_result out;
    std::exception_ptr failure;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            if (o.rest_auth == carbonio_auth::delegate) co_await admin_login(o, session);
            user_job job(o, u, quiet, session);
            out = co_await job.check_access();
        },
        [&](std::exception_ptr e) { failure = e; });
    ioc.run();
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            out.user = dest_user;
            out.status = user_status::failed;
            out.kind = failure_kind::protocol;
            out.error = e.what();
        }
    }
    return out;
}

std::vector<user_result> run_import(const import_options& o, const std::vector<import_user>& users,
                                    const progress_fn& progress) {
    callback_observer observer(progress);
    return run_import(o, users, observer);
}

std::vector<user_result> run_import(const import_options& o, const std::vector<import_user>& users,
                                    import_observer& observer) {
    std::vector<user_result> results(users.size());
    net::io_context ioc(1);
    std::size_t next = 0, done = 0;
    const auto workers = std::max<std::size_t>(1, std::min<std::size_t>(o.jobs, users.size()));
    std::exception_ptr failure;
    carbonio_session session;
    if (o.dest.kind == destination::type::carbonio && o.rest_auth == carbonio_auth::delegate && !users.empty()) {
        net::co_spawn(ioc, admin_login(o, session), [&](std::exception_ptr e) {
            if (e) failure = e;
        });
        ioc.run();
        if (failure) std::rethrow_exception(failure);
        ioc.restart();
    }
    for (std::size_t w = 0; w < workers; ++w) {
        net::co_spawn(ioc, worker(o, users, results, next, done, observer, session), [&](std::exception_ptr e) {
            if (e && !failure) failure = e;
        });
    }
    ioc.run();
    if (failure) std::rethrow_exception(failure);
    return results;
}

}  // namespace arrival::pim
