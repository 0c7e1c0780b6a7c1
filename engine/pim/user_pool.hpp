// One worker of a per-user stage's pool (calendars, contacts, files): the workers share one io_context and
// one `next` index, so each takes the next user until none is left or a stop is asked.
#pragma once
#include <cstddef>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "engine/stop_request.hpp"

namespace arrival::pim {

// run_one(i) -> awaitable<Result> runs user i; the observer hears user_started(users[i]) before and
// user_finished(result, done, total) after. After a stop (engine/stop_request.hpp) the users no worker started
// are reported failed with engine::interrupted_reason, never as done.
template <class Users, class Results, class Observer, class RunOne>
boost::asio::awaitable<void> work_through_users(const Users& users, Results& results, std::size_t& next,
                                                std::size_t& done, Observer& observer, RunOne run_one) {
    while (next < users.size() && !engine::stop_requested()) {
        const auto i = next++;
        observer.user_started(users[i]);
        results[i] = co_await run_one(i);
        ++done;
        observer.user_finished(results[i], done, users.size());
    }
    while (next < users.size()) {
        auto& r = results[next];
        r.user = users[next++].dest_user;
        r.status = decltype(r.status)::failed;
        r.error = engine::interrupted_reason;
    }
}

}  // namespace arrival::pim
