#include "engine/files/files_job.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/files/carbonio_files.hpp"
#include "engine/files/dav_listing.hpp"
#include "engine/pim/carbonio_login.hpp"
#include "engine/pim/user_pool.hpp"
#include "engine/stop_request.hpp"
#include "protocol/http/webdav.hpp"
#include "protocol/percent.hpp"
#include "protocol/tls_policy.hpp"

namespace arrival::files {

namespace net = boost::asio;
using boost::system::error_code;
using pim::failure_kind;

namespace {

std::string join_path(const std::vector<std::string>& dirs, std::string_view name = {}) {
    std::string out;
    for (const auto& d : dirs) out += d + "/";
    out += name;
    if (name.empty() && !out.empty()) out.pop_back();
    return out;
}

std::string replace_user(std::string target, const std::string& user) {
    const auto at = target.find("{user}");
    if (at != std::string::npos) target.replace(at, 6, percent::encode_segment(user));
    if (target.empty() || target.back() != '/') target += '/';
    return target;
}

// A destination folder as the job knows it: its id (Carbonio node id / WebDAV collection target) and, once
// listed, its children by name.
struct dest_folder {
    std::string id;
    bool listed = false;
    std::map<std::string, remote_entry> children;
    std::set<std::string> written;  // names this run wrote (two source names mapping to one are refused)
};

// The user's job stopped (login refused, connection lost after retries): unwinds to run().
struct user_stop {};

class user_job {
public:
    user_job(const files_options& o, const files_user& u, files_observer& obs, pim::carbonio_session& session,
             const std::string& spool)
        : o_(o), u_(u), obs_(obs), session_(session), spool_(spool) {
        r_.user = u.dest_user;
        r_.source_user = u.source_user;
    }

    net::awaitable<files_result> run() {
        const auto start = std::chrono::steady_clock::now();
        executor_ = co_await net::this_coro::executor;
        try {
            co_await run_inner();
        } catch (const user_stop&) {
        } catch (const std::exception& e) {
            if (r_.error.empty()) fail_user(failure_kind::protocol, e.what());
        }
        if (dest_) co_await dest_->async_close();
        if (source_) co_await source_->async_close();
        std::error_code ignored;
        std::filesystem::remove(spool_, ignored);
        if (r_.status != pim::user_status::failed && r_.status != pim::user_status::no_file) {
            if (r_.failed.empty()) r_.status = pim::user_status::ok;
            else if (r_.uploaded + r_.skipped_existing + r_.versions == 0) r_.status = pim::user_status::failed;
            else r_.status = pim::user_status::partial;
            if (r_.status == pim::user_status::failed) {
                r_.kind = failure_kind::input;
                r_.error = "nothing could be moved; see failed";
            }
        }
        if (done_bytes_ < found_bytes_) obs_.file_done(found_bytes_ - done_bytes_);
        r_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        co_return std::move(r_);
    }

private:
    [[noreturn]] void stop(failure_kind k, std::string what) {
        fail_user(k, std::move(what));
        throw user_stop{};
    }

    void fail_user(failure_kind k, std::string what) {
        r_.status = pim::user_status::failed;
        r_.kind = k;
        r_.error = std::move(what);
    }

    std::shared_ptr<net::ssl::context> tls() { return tls::make_client_context(o_.conn.tls); }

    // ---------------------------------------------------------------- source
    net::awaitable<bool> read_source(source_tree& tree) {
        switch (o_.source) {
            case source_kind::directory: {
                const auto root = fmt::format("{}/{}", o_.source_dir, u_.source_user);
                r_.source = root;
                if (!std::filesystem::is_directory(root)) {
                    r_.status = pim::user_status::no_file;
                    r_.error = fmt::format("no directory {}", root);
                    co_return false;
                }
                tree = scan_directory(root);
                co_return true;
            }
            case source_kind::zimbra_tgz: {
                const auto file = fmt::format("{}/{}.tgz", o_.source_dir, u_.source_user);
                r_.source = file;
                if (!std::filesystem::exists(file)) {
                    r_.status = pim::user_status::no_file;
                    r_.error = fmt::format("no export {}", file);
                    co_return false;
                }
                try {
                    tree = scan_zimbra_tgz(file);
                } catch (const std::exception& e) {
                    stop(failure_kind::input, e.what());
                }
                r_.left_out = tree.left_out;
                co_return true;
            }
            case source_kind::webdav: co_await walk_webdav(tree); co_return true;
        }
        co_return false;
    }

    net::awaitable<void> walk_webdav(source_tree& tree) {
        auto origin = o_.source_url;
        origin.target = "/";
        const auto& password = u_.source_password.empty() ? o_.source_password : u_.source_password;
        const auto& login = o_.source_admin.empty() ? u_.source_user : o_.source_admin;
        source_ = std::make_unique<http::client>(executor_, origin, origin.tls ? tls() : nullptr,
                                                 http::basic_authorization(login, password), o_.conn.timeouts);
        const auto root = replace_user(o_.source_url.target, u_.source_user);
        r_.source = origin.origin() + root;
        std::vector<std::pair<std::vector<std::string>, std::string>> todo{{{}, root}};
        while (!todo.empty()) {
            auto [dirs, target] = std::move(todo.back());
            todo.pop_back();
            auto children = co_await dav_list(*source_, target, "source");
            if (!children) {
                if (dirs.empty()) {
                    r_.status = pim::user_status::no_file;
                    r_.error = fmt::format("no collection {}{}", origin.origin(), target);
                    co_return;
                }
                r_.failed.push_back({join_path(dirs), "the source collection disappeared while it was read"});
                continue;
            }
            for (auto& e : *children) {
                auto path = dirs;
                path.push_back(e.name);
                if (e.folder) {
                    tree.folders.push_back(path);
                    todo.emplace_back(path, e.id.back() == '/' ? e.id : e.id + "/");
                } else {
                    source_file f;
                    f.dirs = dirs;
                    f.name = e.name;
                    f.size = e.size;
                    f.mtime = e.mtime;
                    f.origin = e.id;
                    tree.files.push_back(std::move(f));
                }
            }
        }
        std::sort(tree.folders.begin(), tree.folders.end(), [](const auto& a, const auto& b) {
            return a.size() != b.size() ? a.size() < b.size() : a < b;
        });
    }

    // PROPFIND Depth: 1 of `target` on `c`, retried; nullopt on 404. Other failures stop the user.
    net::awaitable<std::optional<std::vector<remote_entry>>> dav_list(http::client& c, const std::string& target,
                                                                      std::string_view side) {
        auto req = http::propfind_request(target, 1, listing_props());
        error_code ec;
        auto resp = co_await pim::send_retrying(c, o_.conn, req, ec);
        if (ec) stop(http::classify(ec, 0), fmt::format("PROPFIND {}{} ({}): {}", c.origin().origin(), target, side,
                                                          ec.message()));
        if (resp.status == 404) co_return std::nullopt;
        if (resp.status != 207) {
            stop(resp.status == 401 || resp.status == 403 ? failure_kind::auth : failure_kind::protocol,
                 fmt::format("PROPFIND {}{} ({}) answered {} {}: {}", c.origin().origin(), target, side, resp.status,
                             resp.reason, http::excerpt(resp.body)));
        }
        std::vector<http::dav_response> parsed;
        auto error = http::parse_multistatus(resp.body, parsed);
        std::vector<remote_entry> out;
        if (error.empty()) error = dav_children(parsed, target, out);
        if (!error.empty()) {
            stop(failure_kind::protocol, fmt::format("PROPFIND {}{} ({}): {}", c.origin().origin(), target, side, error));
        }
        co_return out;
    }

    // ---------------------------------------------------------------- destination
    net::awaitable<void> connect_dest() {
        auto origin = o_.conn.dest.url;
        origin.target = "/";
        if (o_.dest == dest_kind::carbonio) {
            auto login = co_await pim::delegate_login(o_.conn, session_, u_.dest_user);
            if (!login.error.empty()) stop(login.kind, std::move(login.error));
            cookie_ = std::move(login.token);
            dest_ = std::make_unique<http::client>(executor_, origin, origin.tls ? tls() : nullptr, std::string(),
                                                   o_.conn.timeouts);
            root_.id = std::string(files_root_id);
            co_return;
        }
        const auto& password = !o_.conn.admin.empty()  ? o_.conn.admin_password
                               : u_.dest_password.empty() ? o_.conn.default_password
                                                          : u_.dest_password;
        const auto& login = o_.conn.admin.empty() ? u_.dest_user : o_.conn.admin;
        dest_ = std::make_unique<http::client>(executor_, origin, origin.tls ? tls() : nullptr,
                                               http::basic_authorization(login, password), o_.conn.timeouts);
        root_.id = replace_user(o_.conn.dest.url.target, u_.dest_user);
        // The user's collection made when missing (its parents too when the server says 409 Conflict).
        auto listing = co_await dav_list(*dest_, root_.id, "destination");
        root_.listed = true;
        if (listing) {
            for (auto& e : *listing) root_.children[e.name] = std::move(e);
            co_return;
        }
        if (o_.dry_run) {
            r_.planned.push_back("mkdir " + root_.id);
            co_return;
        }
        const auto what = fmt::format("MKCOL {}{}", origin.origin(), root_.id);
        auto resp = co_await send(http::mkcol_request(root_.id), what);
        if (resp.status == 409) {
            for (auto j = root_.id.find('/', 1); j != std::string::npos; j = root_.id.find('/', j + 1)) {
                const auto parent = root_.id.substr(0, j + 1);
                const auto error = co_await mkcol(parent);
                if (!error.empty()) stop(failure_kind::protocol, error);
            }
        } else if (resp.status != 201) {
            stop(resp.status == 403 ? failure_kind::auth : failure_kind::protocol, refused(what, resp));
        }
    }

    std::vector<std::pair<std::string, std::string>> cookie_headers() const {
        if (cookie_.empty()) return {};
        return {{"Cookie", "ZM_AUTH_TOKEN=" + cookie_.reveal()}};
    }

    // A request failed at the HTTP level: 401 stops the user, anything else is returned as text.
    std::string refused(std::string_view what, const http::response& resp) {
        auto text = fmt::format("{} answered {} {}{}{}", what, resp.status, resp.reason, resp.body.empty() ? "" : ": ",
                                http::excerpt(resp.body));
        if (resp.status == 401) stop(failure_kind::auth, text);
        return text;
    }

    net::awaitable<http::response> send(const http::request& req, std::string_view what,
                                        const std::string& body_file = {}) {
        error_code ec;
        auto resp = co_await pim::send_retrying(*dest_, o_.conn, req, ec, false, body_file);
        if (ec) stop(http::classify(ec, 0), fmt::format("{}: {}", what, ec.message()));
        co_return resp;
    }

    net::awaitable<std::string> mkcol(const std::string& target) {
        const auto what = fmt::format("MKCOL {}{}", dest_->origin().origin(), target);
        auto resp = co_await send(http::mkcol_request(target), what);
        if (resp.status == 201 || resp.status == 405) co_return std::string();  // 405: it exists
        co_return refused(what, resp);
    }

    net::awaitable<void> list(dest_folder& f) {
        if (f.listed) co_return;
        f.listed = true;
        if (o_.dest == dest_kind::webdav) {
            auto children = co_await dav_list(*dest_, f.id, "destination");
            for (auto& e : children.value_or(std::vector<remote_entry>{})) f.children[e.name] = std::move(e);
            co_return;
        }
        std::string cursor;
        for (;;) {
            auto headers = cookie_headers();
            headers.emplace_back("Content-Type", "application/json");
            const http::request req{"POST", "/services/files/graphql", std::move(headers),
                                    children_query(f.id, children_page, cursor)};
            const auto what = fmt::format("getNode {} children", f.id);
            auto resp = co_await send(req, what);
            if (resp.status != 200) stop(failure_kind::protocol, refused(what, resp));
            std::vector<remote_entry> page;
            bool full = false;
            if (auto error = read_children(resp.body, children_page, page, full); !error.empty()) {
                stop(failure_kind::protocol, fmt::format("{}: {}", what, error));
            }
            if (page.empty()) break;
            cursor = page.back().id;
            for (auto& e : page) f.children[e.name] = std::move(e);
            if (!full) break;
        }
    }

    // The destination folder for `dirs` (names mapped), made when missing; nullptr (and a failure for `path`)
    // when it cannot be.
    net::awaitable<dest_folder*> folder(const std::vector<std::string>& dirs) {
        dest_folder* cur = &root_;
        std::vector<std::string> mapped_path;
        for (const auto& d : dirs) {
            const auto m = map_name(d, o_.dest);
            mapped_path.push_back(m.name);
            auto it = folders_.find(mapped_path);
            if (it != folders_.end()) {
                cur = it->second.get();
                if (cur == nullptr) co_return nullptr;
                continue;
            }
            if (!m.why.empty()) {
                r_.renamed.push_back({join_path(std::vector<std::string>(dirs.begin(), dirs.begin() +
                                                                          static_cast<long>(mapped_path.size()))),
                                      m.name, m.why});
            }
            co_await list(*cur);
            auto next = std::make_unique<dest_folder>();
            const auto existing = cur->children.find(m.name);
            if (existing != cur->children.end() && existing->second.folder) {
                next->id = existing->second.id;
                if (o_.dest == dest_kind::webdav && next->id.back() != '/') next->id += '/';
            } else if (existing != cur->children.end()) {
                r_.failed.push_back({join_path(mapped_path), "a file of that name exists at the destination"});
                folders_[mapped_path] = nullptr;
                co_return nullptr;
            } else {
                next->listed = true;  // new: nothing in it
                if (o_.dry_run) {
                    r_.planned.push_back("mkdir " + join_path(mapped_path));
                } else if (!(co_await make_folder(*cur, m.name, *next))) {
                    folders_[mapped_path] = nullptr;
                    co_return nullptr;
                }
                remote_entry e;
                e.name = m.name;
                e.folder = true;
                e.id = next->id;
                cur->children[m.name] = e;
            }
            cur = next.get();
            folders_[mapped_path] = std::move(next);
        }
        co_return cur;
    }

    net::awaitable<bool> make_folder(dest_folder& parent, const std::string& name, dest_folder& out) {
        if (o_.dest == dest_kind::webdav) {
            out.id = http::join_target(parent.id, percent::encode_segment(name)) + "/";
            const auto error = co_await mkcol(out.id);
            if (error.empty()) co_return true;
            r_.failed.push_back({name, error});
            co_return false;
        }
        auto headers = cookie_headers();
        headers.emplace_back("Content-Type", "application/json");
        const http::request req{"POST", "/services/files/graphql", std::move(headers),
                                create_folder_query(parent.id, name)};
        const auto what = fmt::format("createFolder {} in {}", name, parent.id);
        auto resp = co_await send(req, what);
        remote_entry made;
        std::string error = resp.status == 200 ? read_created_folder(resp.body, made) : refused(what, resp);
        if (error.empty() && made.name != name) {
            // Listed just before, so another client made the folder meanwhile (Files renamed ours, §3).
            error = fmt::format("created as \"{}\": a folder \"{}\" appeared meanwhile", made.name, name);
        }
        if (!error.empty()) {
            r_.failed.push_back({name, error});
            co_return false;
        }
        out.id = made.id;
        co_return true;
    }

    // ---------------------------------------------------------------- files
    // The bytes of `f` as a local file: the directory source's own path, else a spooled copy.
    net::awaitable<std::optional<std::string>> local_copy(const source_file& f, const std::string& path) {
        if (o_.source == source_kind::directory) co_return f.origin;
        if (o_.source == source_kind::zimbra_tgz) {
            if (!extractor_) extractor_ = std::make_unique<tgz_extractor>(r_.source);
            if (auto error = extractor_->extract(f.origin, spool_); !error.empty()) {
                r_.failed.push_back({path, error});
                co_return std::nullopt;
            }
            co_return spool_;
        }
        error_code ec;
        const http::request req{"GET", f.origin, {}, {}};
        auto resp = co_await source_->async_download(req, spool_, ec);
        if (ec) {
            stop(http::classify(ec, 0), fmt::format("GET {}{} (source): {}", source_->origin().origin(), f.origin,
                                                      ec.message()));
        }
        if (resp.status != 200) {
            r_.failed.push_back({path, fmt::format("GET {} (source) answered {} {}", f.origin, resp.status, resp.reason)});
            co_return std::nullopt;
        }
        co_return spool_;
    }

    // Writes one file (create, or a new version of `existing`); false when it failed (recorded).
    net::awaitable<bool> write(dest_folder& dir, const std::string& name, const std::string& local,
                               const remote_entry* existing, const std::string& path) {
        std::string error;
        if (::access(local.c_str(), R_OK) != 0) {
            r_.failed.push_back({path, fmt::format("cannot read {}: {}", local, std::strerror(errno))});
            co_return false;
        }
        if (o_.dest == dest_kind::webdav) {
            const auto target = http::join_target(dir.id, percent::encode_segment(name));
            const http::request req{"PUT", target, {{"Content-Type", "application/octet-stream"}}, {}};
            const auto what = fmt::format("PUT {}{}", dest_->origin().origin(), target);
            auto resp = co_await send(req, what, local);
            if (resp.status != 201 && resp.status != 204 && resp.status != 200) error = refused(what, resp);
            if (error.empty() && !existing) {
                remote_entry e;
                e.name = name;
                e.id = target;
                dir.children[name] = std::move(e);
            }
        } else {
            auto headers = existing ? upload_version_headers(name, existing->id) : upload_headers(name, dir.id);
            for (auto& h : cookie_headers()) headers.push_back(std::move(h));
            const http::request req{"POST", existing ? "/services/files/upload-version" : "/services/files/upload",
                                    std::move(headers), {}};
            const auto what = fmt::format("POST {}{} {}", dest_->origin().origin(), req.target, name);
            auto resp = co_await send(req, what, local);
            std::string node;
            int version = 0;
            if (resp.status != 200) error = refused(what, resp);
            else error = read_upload_reply(resp.body, node, version);
            if (error.empty() && !existing) {
                remote_entry e;
                e.name = name;
                e.id = node;
                e.version = version;
                dir.children[name] = std::move(e);
            }
        }
        if (!error.empty()) {
            r_.failed.push_back({path, error});
            co_return false;
        }
        std::error_code ec;
        r_.bytes_sent += std::filesystem::file_size(local, ec);
        co_return true;
    }

    // One source file with all its revisions (tgz: several, oldest first; otherwise one).
    net::awaitable<void> move_file(const std::vector<const source_file*>& revisions) {
        const auto& last = *revisions.back();
        const auto path = join_path(last.dirs, last.name);
        ++r_.files;
        r_.bytes += last.size;
        struct reported {
            files_observer& obs;
            std::uint64_t bytes;
            std::uint64_t& done;
            ~reported() {
                obs.file_done(bytes);
                done += bytes;
            }
        } progress{obs_, last.size, done_bytes_};
        auto* dir = co_await folder(last.dirs);
        if (dir == nullptr) {
            if (r_.failed.empty() || r_.failed.back().path != path) {
                r_.failed.push_back({path, "its folder could not be made at the destination"});
            }
            co_return;
        }
        const auto m = map_name(last.name, o_.dest);
        if (!m.why.empty()) r_.renamed.push_back({path, m.name, m.why});
        if (!dir->written.insert(m.name).second) {
            r_.failed.push_back({path, fmt::format("maps to \"{}\", which another file of this folder was written as",
                                                   m.name)});
            co_return;
        }
        co_await list(*dir);
        const auto found = dir->children.find(m.name);
        const remote_entry* existing = found == dir->children.end() ? nullptr : &found->second;
        if (existing && existing->folder) {
            r_.failed.push_back({path, "a folder of that name exists at the destination"});
            co_return;
        }
        if (existing && existing->size == last.size && existing->mtime >= last.mtime) {
            ++r_.skipped_existing;
            co_return;
        }
        // Present and different: only the last revision, as a new version. Absent: every revision in order.
        std::vector<const source_file*> todo = existing ? std::vector<const source_file*>{&last} : revisions;
        if (o_.dry_run) {
            r_.planned.push_back(fmt::format("{} {}{}", existing ? "version" : "upload", join_path(last.dirs, m.name),
                                             todo.size() > 1 ? fmt::format(" ({} revisions)", todo.size()) : ""));
            r_.uploaded += existing ? 0 : 1;
            r_.versions += existing ? 1 : todo.size() - 1;
            co_return;
        }
        for (const auto* rev : todo) {
            const auto local = co_await local_copy(*rev, path);
            if (!local) co_return;
            const auto current = dir->children.find(m.name);
            const bool ok = co_await write(*dir, m.name, *local, current == dir->children.end() ? nullptr
                                                                                                 : &current->second,
                                           path);
            if (!ok) co_return;
            if (current == dir->children.end()) ++r_.uploaded;
            else ++r_.versions;
        }
    }

    net::awaitable<void> run_inner() {
        source_tree tree;
        if (!(co_await read_source(tree))) co_return;
        if (r_.status == pim::user_status::no_file) co_return;
        for (auto& p : tree.problems) r_.failed.push_back({std::move(p.path), std::move(p.reason)});
        // Revisions of one document are consecutive entries with the same folders and name.
        std::vector<std::vector<const source_file*>> groups;
        for (const auto& f : tree.files) {
            if (!groups.empty() && groups.back().back()->dirs == f.dirs && groups.back().back()->name == f.name) {
                groups.back().push_back(&f);
            } else {
                groups.push_back({&f});
            }
        }
        for (const auto& g : groups) found_bytes_ += g.back()->size;
        obs_.files_found(groups.size(), found_bytes_);
        co_await connect_dest();
        for (const auto& dirs : tree.folders) co_await folder(dirs);  // empty folders too
        for (const auto& g : groups) co_await move_file(g);
    }

    const files_options& o_;
    const files_user& u_;
    files_observer& obs_;
    pim::carbonio_session& session_;
    std::string spool_;
    files_result r_;
    net::any_io_executor executor_;
    std::unique_ptr<http::client> dest_, source_;
    engine::secret_string cookie_;
    dest_folder root_;
    std::map<std::vector<std::string>, std::unique_ptr<dest_folder>> folders_;  // nullptr: could not be made
    std::unique_ptr<tgz_extractor> extractor_;
    std::uint64_t found_bytes_ = 0, done_bytes_ = 0;
};

net::awaitable<void> worker(const files_options& o, const std::vector<files_user>& users,
                            std::vector<files_result>& results, std::size_t& next, std::size_t& done,
                            files_observer& observer, pim::carbonio_session& session, const std::string& spool) {
    co_await pim::work_through_users(users, results, next, done, observer,
                                     [&](std::size_t i) -> net::awaitable<files_result> {
                                         user_job job(o, users[i], observer, session, fmt::format("{}/{}.part", spool, i));
                                         co_return co_await job.run();
                                     });
}

// A private directory for spooled files, removed when the run ends.
struct spool_dir {
    std::string path;
    explicit spool_dir(const std::string& base) {
        const char* tmp = std::getenv("TMPDIR");
        std::string templ = (base.empty() ? (tmp && *tmp ? tmp : "/tmp") : base) + "/arrival-files.XXXXXX";
        if (::mkdtemp(templ.data()) == nullptr) {
            throw std::runtime_error(fmt::format("cannot make a spool directory in {}: {}",
                                                 templ.substr(0, templ.rfind('/')), std::strerror(errno)));
        }
        path = templ;
    }
    ~spool_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

}  // namespace

std::vector<files_result> run_files(const files_options& o, const std::vector<files_user>& users,
                                    files_observer& observer) {
    std::vector<files_result> results(users.size());
    spool_dir spool(o.spool_dir);
    net::io_context ioc(1);
    std::size_t next = 0, done = 0;
    std::exception_ptr failure;
    pim::carbonio_session session;
    if (o.dest == dest_kind::carbonio && !users.empty()) {
        net::co_spawn(ioc, pim::admin_login(o.conn, session), [&](std::exception_ptr e) {
            if (e) failure = e;
        });
        ioc.run();
        if (failure) std::rethrow_exception(failure);
        ioc.restart();
    }
    const auto workers = std::max<std::size_t>(1, std::min<std::size_t>(o.jobs, users.size()));
    for (std::size_t w = 0; w < workers; ++w) {
        net::co_spawn(ioc, worker(o, users, results, next, done, observer, session, spool.path),
                      [&](std::exception_ptr e) {
                          if (e && !failure) failure = e;
                      });
    }
    ioc.run();
    if (failure) std::rethrow_exception(failure);
    return results;
}

std::string files_progress_line(const files_result& r, std::size_t done, std::size_t total) {
    auto line = fmt::format("[{}/{}] {} {}: {} files, {} uploaded, {} already there, {} versions, {} failed ({:.1f} s)",
                            done, total, r.user, pim::to_string(r.status), r.files, r.uploaded, r.skipped_existing,
                            r.versions, r.failed.size(), r.seconds);
    if (!r.error.empty()) line += " - " + r.error;
    return line;
}

std::string files_report_json(std::string_view source, std::string_view destination, bool dry_run,
                              const std::vector<files_result>& results) {
    using nlohmann::json;
    json users = json::array();
    json totals{{"users", results.size()}, {"ok", 0}, {"partial", 0}, {"failed_users", 0}, {"no_source", 0},
                {"files", 0}, {"bytes", 0}, {"uploaded", 0}, {"skipped_existing", 0}, {"versions", 0},
                {"failed", 0}, {"bytes_sent", 0}};
    for (const auto& r : results) {
        const char* bucket = r.status == pim::user_status::ok        ? "ok"
                             : r.status == pim::user_status::partial ? "partial"
                             : r.status == pim::user_status::failed  ? "failed_users"
                                                                     : "no_source";
        totals[bucket] = totals[bucket].get<std::size_t>() + 1;
        json failed = json::array(), renamed = json::array();
        for (const auto& f : r.failed) failed.push_back({{"path", f.path}, {"reason", f.reason}});
        for (const auto& n : r.renamed) renamed.push_back({{"path", n.path}, {"as", n.as}, {"why", n.why}});
        users.push_back({{"user", r.user}, {"source_user", r.source_user}, {"source", r.source},
                         {"status", pim::to_string(r.status)}, {"error", r.error},
                         {"error_kind", pim::to_string(r.kind)}, {"files", r.files}, {"bytes", r.bytes},
                         {"uploaded", r.uploaded}, {"skipped_existing", r.skipped_existing},
                         {"versions", r.versions}, {"bytes_sent", r.bytes_sent}, {"failed", failed},
                         {"renamed", renamed}, {"left_out", r.left_out}, {"planned", r.planned},
                         {"seconds", r.seconds}});
        for (const char* k : {"files", "uploaded", "skipped_existing", "versions"}) {
            totals[k] = totals[k].get<std::uint64_t>() + users.back()[k].get<std::uint64_t>();
        }
        totals["bytes"] = totals["bytes"].get<std::uint64_t>() + r.bytes;
        totals["bytes_sent"] = totals["bytes_sent"].get<std::uint64_t>() + r.bytes_sent;
        totals["failed"] = totals["failed"].get<std::uint64_t>() + r.failed.size();
    }
    return json{{"stage", "files"}, {"source", source}, {"destination", destination}, {"dry_run", dry_run},
                {"totals", totals}, {"users", users}}
               .dump(2) +
           "\n";
}

}  // namespace arrival::files
