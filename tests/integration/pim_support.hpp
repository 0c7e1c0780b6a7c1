// Shared by the pim_* integration tests: the Radicale testbed's variables (a missing one FAILS the test,
// never skips it), a synchronous wrapper around the coroutine client, and read-back helpers that go through
// CalDAV/CardDAV exactly as another client would.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include "engine/pim/import_job.hpp"
#include "protocol/http/client.hpp"
#include "protocol/http/url.hpp"
#include "protocol/http/webdav.hpp"
#include "protocol/percent.hpp"

namespace arrival::pim::test {

namespace net = boost::asio;

// Returns the variable or records a fatal failure naming it (callers ASSERT_FALSE(HasFatalFailure())).
inline std::string env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        ADD_FAILURE() << name << " is not set: start the testbed (tools/testbed/testbed start radicale) and "
                      << "export DIR/env before running the integration suite";
        return {};
    }
    return v;
}

struct radicale {
    std::string url, tls_url, ca, password, admin, admin_password;
    bool ok = false;
};

inline radicale testbed() {
    radicale r{env("ARRIVAL_RADICALE_URL"), env("ARRIVAL_RADICALE_TLS_URL"), env("ARRIVAL_RADICALE_CA"),
               env("ARRIVAL_RADICALE_PASSWORD"), env("ARRIVAL_RADICALE_ADMIN"),
               env("ARRIVAL_RADICALE_ADMIN_PASSWORD")};
    r.ok = !r.url.empty() && !r.tls_url.empty() && !r.ca.empty() && !r.password.empty() && !r.admin.empty() &&
           !r.admin_password.empty();
    return r;
}

// Base of every pim integration test: the testbed's Radicale, the test failing when its variables are missing.
struct radicale_test : ::testing::Test {
    void SetUp() override {
        rb = testbed();
        ASSERT_TRUE(rb.ok) << "Radicale testbed variables missing";
    }
    radicale rb;
};

inline std::string fixture_path(const std::string& rel) { return std::string(PIM_FIXTURE_DIR) + "/" + rel; }

// A scratch export directory: DIR/<user>.<ext> copied from fixtures.
class export_dir {
public:
    export_dir() {
        path_ = std::filesystem::temp_directory_path() /
                ("arrival-pim-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::create_directories(path_);
    }
    ~export_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    void add(const std::string& user, const std::string& ext, const std::string& fixture) {
        std::filesystem::copy_file(fixture_path(fixture), path_ / (user + ext),
                                   std::filesystem::copy_options::overwrite_existing);
    }
    void write(const std::string& name, const std::string& content) {
        std::ofstream(path_ / name, std::ios::binary) << content;
    }
    [[nodiscard]] std::string file(const std::string& user, const std::string& ext) const {
        return (path_ / (user + ext)).string();
    }
    [[nodiscard]] std::string str() const { return path_.string(); }

private:
    static int& counter() {
        static int c = 0;
        return c;
    }
    std::filesystem::path path_;
};

template <class T>
T run_sync(net::awaitable<T> op) {
    net::io_context ioc;
    std::optional<T> result;
    std::exception_ptr error;
    net::co_spawn(ioc, std::move(op), [&](std::exception_ptr e, T value) {
        error = e;
        if (!e) result = std::move(value);
    });
    ioc.run();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
}

inline http::url parse(const std::string& s) {
    std::string err;
    auto u = http::parse_url(s, err);
    if (!u) throw std::runtime_error("bad URL " + s + ": " + err);
    return *u;
}

// Deletes everything stored for `user` (as the admin), so each test starts from an empty account.
inline void reset_user(const radicale& r, const std::string& user) {
    auto origin = parse(r.url);
    const auto target = origin.target + percent::encode_segment(user) + "/";
    origin.target = "/";
    auto op = [](http::url o, std::string auth, std::string t) -> net::awaitable<int> {
        http::client c(co_await net::this_coro::executor, o, nullptr, std::move(auth));
        boost::system::error_code ec;
        // Named, not a braced temporary: g++ 12 destroys temporaries in co_await expressions twice.
        const http::request del{"DELETE", t, {}, {}};
        auto resp = co_await c.async_send(del, ec);
        co_await c.async_close();
        co_return ec ? -1 : resp.status;
    };
    const int status = run_sync(op(origin, http::basic_authorization(r.admin, r.admin_password), target));
    ASSERT_TRUE(status == 200 || status == 204 || status == 404) << "DELETE " << target << " -> " << status;
}

// Every resource body of a collection (PROPFIND Depth 1, then GET each), as `user`.
inline std::vector<std::string> read_collection(const radicale& r, const std::string& user, const std::string& collection_url) {
    auto origin = parse(collection_url);
    const auto target = origin.target;
    origin.target = "/";
    auto op = [](http::url o, std::string auth, std::string t) -> net::awaitable<std::vector<std::string>> {
        http::client c(co_await net::this_coro::executor, o, nullptr, std::move(auth));
        http::dav_failure err;
        const std::vector<std::string> props{http::dav_name(http::dav_ns, "getetag")};
        auto listing = co_await http::async_propfind(c, t, 1, props, "list", err);
        if (err) throw std::runtime_error(err.what);
        std::vector<std::string> bodies;
        for (const auto& item : listing) {
            const auto path = http::resolve(o, item.href).target;
            if (percent::decode(path) == percent::decode(t)) continue;
            boost::system::error_code ec;
            const http::request get{"GET", path, {}, {}};
            auto resp = co_await c.async_send(get, ec);
            if (ec || resp.status != 200) throw std::runtime_error("GET " + path + " failed");
            bodies.push_back(std::move(resp.body));
        }
        co_await c.async_close();
        co_return bodies;
    };
    return run_sync(op(origin, http::basic_authorization(user, r.password), target));
}

inline const user_result* find(const std::vector<user_result>& rs, const std::string& user) {
    for (const auto& r : rs) {
        if (r.user == user) return &r;
    }
    return nullptr;
}

inline import_options options(const radicale& r, pim_kind kind, const std::string& dest) {
    import_options o;
    o.kind = kind;
    std::string err;
    auto d = parse_destination(dest, err);
    if (!d) throw std::runtime_error(err);
    o.dest = *d;
    o.default_password = r.password;
    o.jobs = 3;
    o.retries = 1;
    o.backoff = std::chrono::milliseconds(50);
    o.timeouts.connect = std::chrono::seconds(5);
    o.timeouts.io = std::chrono::seconds(20);
    o.collection_name = kind == pim_kind::calendars ? "calendar" : "contacts";
    return o;
}

inline import_user user(const export_dir& dir, const std::string& name, const std::string& ext) {
    return {name, name, {}, dir.file(name, ext)};
}

}  // namespace arrival::pim::test
