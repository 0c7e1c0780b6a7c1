#include "engine/pim/import_job.hpp"

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
#include "engine/pim/csv_reader.hpp"
#include "engine/pim/ics_file.hpp"
#include "protocol/http/webdav.hpp"

namespace arrival::pim {

namespace net = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::chrono::milliseconds max_backoff{30000};

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

failure_kind classify(const http::dav_failure& f) {
    if (f.ec) return http::is_tls_error(f.ec) ? failure_kind::tls : failure_kind::unreachable;
    if (f.status == 401 || f.status == 403) return failure_kind::auth;
    return failure_kind::protocol;
}

// Retry-After in seconds (the HTTP-date form is rare for 429/503 and treated as absent).
std::optional<std::chrono::milliseconds> retry_after(const http::response& r) {
    const auto v = r.header("Retry-After");
    if (v.empty() || v.find_first_not_of("0123456789") != std::string_view::npos || v.size() > 4) return std::nullopt;
    return std::chrono::seconds(std::stoi(std::string(v)));
}

class user_job {
public:
    user_job(const import_options& o, const import_user& u, import_observer& obs) : o_(o), u_(u), obs_(obs) {
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
            if (r_.status == user_status::failed && r_.kind == failure_kind::none) {
                r_.kind = failure_kind::input;
                r_.error = "nothing could be imported; see failures";
            }
        }
        r_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        co_return std::move(r_);
    }

private:
    void fail_user(failure_kind k, std::string what) {
        r_.status = user_status::failed;
        r_.kind = k;
        r_.error = std::move(what);
    }

    // Sends with retries on transient failures (network errors, 408/429/5xx), backing off exponentially.
    net::awaitable<http::response> send(const http::request& req, error_code& ec) {
        auto delay = o_.backoff;
        for (unsigned attempt = 0;; ++attempt) {
            auto resp = co_await client_->async_send(req, ec);
            const bool transient = ec ? http::is_transient(ec) : http::is_transient_status(resp.status);
            if (!transient || attempt >= o_.retries) co_return resp;
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
            const bool transient = err.ec ? http::is_transient(err.ec) : http::is_transient_status(err.status);
            if (!transient || attempt >= o_.retries) {
                fail_user(classify(err), err.what);
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
        fail_user(http::is_tls_error(ec) ? failure_kind::tls : failure_kind::unreachable,
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

    void make_client(bool as_admin) {
        std::string auth;
        if (as_admin) {
            auth = http::basic_authorization(o_.admin, o_.admin_password);
        } else {
            auth = http::basic_authorization(u_.dest_user, u_.password.empty() ? o_.default_password : u_.password);
        }
        std::shared_ptr<net::ssl::context> tls;
        if (o_.dest.url.tls) tls = tls_context();
        origin_ = o_.dest.url;
        origin_.target = "/";
        client_ = std::make_unique<http::client>(executor_, origin_, tls, std::move(auth), o_.timeouts);
    }

    std::shared_ptr<net::ssl::context> tls_context() {
        // One context per process would do; building one per user keeps the job self-contained and costs
        // one CA-file read.
        return http::make_tls_context(o_.tls);
    }

    // PUTs one new resource; returns false when the connection is unusable (the rest is then not tried).
    net::awaitable<bool> put_new(const std::string& collection, const std::string& name, std::string_view type,
                                 std::string body, std::string item) {
        error_code ec;
        auto req = http::put_new_request(http::join_target(collection, http::encode_segment(name)), type,
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
        make_client(!o_.admin.empty());
        auto col = co_await find_collection(http::dav_kind::calendar);
        if (!col) co_return;
        r_.collection = origin_.origin() + col->target;
        for (std::size_t i = 0; i < groups.objects.size(); ++i) {
            calendar_object obj;
            const auto* part = file.load(i, obj, error);
            if (part == nullptr) {
                fail_user(failure_kind::input, error);
                co_return;
            }
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
        std::set<std::string> present;
        auto get = carbonio_calendar_export_request(u_.dest_user);
        const bool have_list = co_await carbonio_present(std::move(get), present, true);
        if (!have_list) co_return;
        const auto& groups = file.groups();
        carbonio_calendar_batch batch(u_.dest_user, file.head(), o_.rest_batch_bytes);
        std::uint64_t batch_bytes = 0;
        std::string error;
        for (std::size_t i = 0; i < groups.objects.size(); ++i) {
            if (present.count(groups.objects[i].uid)) {
                ++r_.existing;
                done(1, file.object_bytes(i));
                continue;
            }
            calendar_object obj;
            const auto* part = file.load(i, obj, error);
            if (part == nullptr) {
                fail_user(failure_kind::input, error);
                co_return;
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

    net::awaitable<bool> post_batch(carbonio_calendar_batch& batch, std::uint64_t& bytes) {
        const auto n = batch.objects();
        auto rest = batch.take();
        const bool posted = co_await carbonio(std::move(rest), n);
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
            std::set<std::string> present;
            auto get = carbonio_contacts_export_request(u_.dest_user);
            const bool have_list = co_await carbonio_present(std::move(get), present, false);
            if (!have_list) co_return;
            auto upload = plan_contacts_upload(mapped, present);
            r_.existing += upload.present;
            if (upload.fresh.contacts.empty()) {
                done(mapped.contacts.size(), file_bytes_);
                co_return;
            }
            auto rest = carbonio_contacts_request(u_.dest_user, table, *format, upload.fresh);
            const auto n = upload.fresh.contacts.size();
            co_await carbonio(std::move(rest), n);
            done(mapped.contacts.size(), file_bytes_);
            co_return;
        }
        make_client(!o_.admin.empty());
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

    // GETs what the user already has (see carbonio_rest.hpp); false when the user failed.
    net::awaitable<bool> carbonio_present(rest_request get, std::set<std::string>& present, bool calendar) {
        if (!client_) make_client(true);
        const http::request req{"GET", std::move(get.target), {}, {}};
        error_code ec;
        auto resp = co_await send(req, ec);
        if (ec) {
            fail_transport("GET", req.target, ec);
            co_return false;
        }
        const rest_reply reply{resp.status, resp.reason, std::move(resp.body)};
        auto error = calendar ? read_present_uids(reply, present) : read_present_contacts(reply, present);
        if (!error.empty()) {
            fail_user(resp.status == 401 || resp.status == 403 ? failure_kind::auth : failure_kind::protocol,
                      fmt::format("{}{}: {} (nothing posted: without the list of present items a rerun "
                                  "would duplicate them)",
                                  origin_.origin(), req.target, error));
            co_return false;
        }
        co_return true;
    }

    // POSTs one upload; false when the user failed.
    net::awaitable<bool> carbonio(rest_request rest, std::size_t items) {
        if (!client_) make_client(true);
        r_.collection = origin_.origin() + rest.target.substr(0, rest.target.find('?'));
        http::request req{"POST", std::move(rest.target), {{"Content-Type", rest.content_type}}, std::move(rest.body)};
        error_code ec;
        auto resp = co_await send(req, ec);
        if (ec) {
            fail_transport("POST", req.target, ec);
            co_return false;
        }
        if (resp.status != 200 && resp.status != 201 && resp.status != 204) {
            fail_user(resp.status == 401 || resp.status == 403 ? failure_kind::auth : failure_kind::protocol,
                      fmt::format("POST {}{} answered {} {}{}{}", origin_.origin(), req.target, resp.status, resp.reason,
                                  resp.body.empty() ? "" : ": ", http::excerpt(resp.body)));
            co_return false;
        }
        // The REST import answers for the whole upload; with ignore=1 a bad event is skipped server-side and
        // not itemised, so everything sent counts as imported.
        r_.imported += items;
        co_return true;
    }

    const import_options& o_;
    const import_user& u_;
    import_observer& obs_;
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
                            import_observer& observer) {
    while (next < users.size()) {
        const auto i = next++;
        observer.user_started(users[i]);
        user_job job(o, users[i], observer);
        results[i] = co_await job.run();
        ++done;
        observer.user_finished(results[i], done, users.size());
    }
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

std::string_view to_string(failure_kind k) noexcept {
    switch (k) {
        case failure_kind::none: return "none";
        case failure_kind::input: return "input";
        case failure_kind::unreachable: return "unreachable";
        case failure_kind::tls: return "tls";
        case failure_kind::auth: return "auth";
        case failure_kind::protocol: return "protocol";
    }
    return "?";
}

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
    for (std::size_t w = 0; w < workers; ++w) {
        net::co_spawn(ioc, worker(o, users, results, next, done, observer), [&](std::exception_ptr e) {
            if (e && !failure) failure = e;
        });
    }
    ioc.run();
    if (failure) std::rethrow_exception(failure);
    return results;
}

}  // namespace arrival::pim
