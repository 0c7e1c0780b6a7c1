#include "engine/mail/account_job.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "engine/mail/adaptive_concurrency.hpp"
#include "engine/mail/delta_sync.hpp"
#include "engine/mail/public_plan.hpp"
#include "engine/mail/when_all.hpp"
#include "engine/stop_request.hpp"

namespace arrival::engine {

namespace net = boost::asio;

namespace {

using clock_type = std::chrono::steady_clock;

double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

login_identity credentials_for(const std::string& user, const secret_string& own, const std::string& admin, const secret_string& shared) {
    login_identity c;
    c.user = user;
    if (!own.empty()) {
        c.password = own;             // the accounts file named this user's own password
    } else {
        c.admin = admin;              // admin acting for the user, or the user with the shared password
        c.password = shared;
    }
    return c;
}

server_endpoint with_host(server_endpoint e, const std::string& host) {
    if (!host.empty()) e.host = host;
    return e;
}

// What async_open_account_side needs: whom to log in as where, and how a failure reads.
struct side_login {
    bool source;
    login_identity who;
    server_endpoint where;
    std::string what() const { return source ? "source" : "destination"; }
};

side_login login_for(const account_pair& a, const job_options& o, account_side side) {
    const bool source = side == account_side::source;
    return {source,
            source ? credentials_for(a.source_user, a.source_password, o.source_admin, o.source_password)
                   : credentials_for(a.dest_user, a.dest_password, o.dest_admin, o.dest_password),
            with_host(source ? o.source : o.dest, source ? a.source_host : a.dest_host)};
}

session_error named(const side_login& l, const job_options& o, const session_error& e) {
    return session_error(e.kind(), fmt::format("{} {} as {}: {}", l.what(), l.source ? o.source.url : o.dest.url, l.who.user, e.what()));
}

// A pair's next folder, opened before its turn (job::open_before_turn): behind the last FETCH of the folder
// before (open_ahead), or while the destination's folders were created (prepare, connect_further_pair).
struct folder_ahead {
    std::size_t index = 0;                                  // the plan entry
    std::optional<async_session::examined_folder> source;   // its STATUS, EXAMINE and index
    std::optional<folder_status> dest;                      // its SELECT
    std::unique_ptr<prefetched_bodies> bodies;              // every body too: a folder of a chain (job::claim_next)
    std::uint64_t dest_select = 0;                          // its SELECT's number (connection_pair::dest_selects)
    std::exception_ptr failed;                              // thrown when the folder's turn comes
};

// One source and one destination connection of the job, with the slots it holds under the run's caps.
struct connection_pair {
    std::unique_ptr<async_session> source;
    std::unique_ptr<async_session> dest;
    bool has_slots = false;
    std::deque<std::size_t> upcoming;      // the plan entries this pair copies next, in order (job::claim_next)
    std::deque<folder_ahead> ahead;        // what these two sessions already answered about them
    std::uint64_t dest_selects = 0;        // SELECTs sent on `dest`: the last one's folder is the selected one

    // After an error: the sockets are closed, nothing more is said on them (the upcoming folder stays this
    // pair's, opened again in its turn).
    void drop() noexcept {
        source.reset();
        dest.reset();
        ahead.clear();
    }
};

// A folder being copied on a pair (job::folder_worker): a coroutine of its own, so the pair's next folder can
// start while this one's last batches are appended.
struct folder_task {
    std::size_t index = 0;      // the plan entry
    bool source_done = false;   // every body read and the next folder opened: the source is free
    bool finished = false;
    std::exception_ptr error;   // how it ended, when it did not finish its folder
};

class job {
public:
    job(const account_pair& a, const job_options& o) : a_(a), o_(o) {}

    net::awaitable<account_outcome> run() {
        account_outcome out;
        auto& r = out.report;
        r.source_user = a_.source_user;
        r.dest_user = a_.dest_user;
        r.scope = a_.scope;
        const auto t0 = clock_type::now();
        if (o_.progress_sink) o_.progress_sink->account_started(job_label(a_.source_user, a_.scope));
        if (auto* m = o_.pipeline.metrics) m->account_started();
        // The job's pairs: the first one plans, each copies folders. Dry runs print the plan in order: one pair.
        pairs_.resize(o_.dry_run ? 1 : std::max<std::size_t>(1, o_.connections_per_account));
        co_await take_slots(pairs_.front());
        bool done = false;
        try {
            // An account the state knows nothing of cannot be unchanged: no source login and LIST ahead of
            // the real ones (the first run over a WAN).
            // (Named first: g++ 12 fails on a temporary with a destructor in a co_await expression.)
            std::vector<std::pair<std::string, folder_state>> known;
            if (o_.state && !o_.dry_run) known = o_.state->load_account(state_key_);
            if (!known.empty() && co_await unchanged_since_last_run(r, known)) done = true;
        } catch (const std::exception&) {
            // Whatever went wrong is met again, and reported, on the full path below.
            pairs_.front().drop();
            r.folders.clear();
        }
        if (!done) {
            // Pair 0 plans and creates the folders, then copies; the further pairs log in once the plan is known
            // (while the folders are created) and copy once the folders exist. Pair 0 does not wait for their
            // logins: over a WAN those are a few round trips its first folder would otherwise wait for.
            const auto ex = co_await net::this_coro::executor;   // named: g++ 12 and temporaries in co_await expressions
            net::steady_timer stage(ex, net::steady_timer::time_point::max());   // a condition variable: planned_, prepared
            stage_ = &stage;
            co_await for_each_concurrently(pairs_.size(), [&](std::size_t k) -> net::awaitable<void> {
                if (k == 0) {
                    prepared_ = co_await prepare(out);
                    prepare_over_ = true;
                    stage.cancel();
                    if (prepared_) co_await folder_worker(0, out);
                    co_return;
                }
                while (!planned_ && !prepare_over_) co_await wait_for(stage);
                if (planned_ && k < pairs_worth_) co_await connect_further_pair(k);
                while (!prepare_over_) co_await wait_for(stage);
                if (prepared_ && k < pairs_worth_) co_await folder_worker(k, out);
            });
            stage_ = nullptr;
        }
        if (prepared_) {
            r.folders.clear();
            for (auto& f : folders_) {
                if (f) r.folders.push_back(std::move(*f));
            }
            for (auto& g : gone_) r.folders.push_back(std::move(g));   // folders gone from the source (delta_sync)
        }
        for (auto& p : pairs_) {
            if (r.ok) {
                co_await log_out_behind(p);
            } else {
                p.drop();
                give_back_slots(p);
            }
        }
        if (r.ok && (!plan_.errors.empty() || folder_refused_)) {
            r.ok = false;
            r.error = r.errors.empty() ? "some folders were not migrated" : r.errors.front();
        }
        // Messages the destination refused ([OVERQUOTA], APPENDLIMIT, a rejected message) leave the account
        // incomplete: the contract says such an account failed, in the server's words, not "ok".
        if (r.ok && r.failed() > 0) {
            r.ok = false;
            for (const auto& f : r.folders) {
                if (f.failed.empty()) continue;
                r.error = fmt::format("{} message(s) not copied; first: folder '{}' UID {}: {}", r.failed(),
                                      f.source_folder, f.failed.front().uid, f.failed.front().reason);
                break;
            }
        }
        r.seconds = since(t0);
        if (o_.progress_sink) o_.progress_sink->account_finished(job_label(a_.source_user, a_.scope));
        if (auto* m = o_.pipeline.metrics) m->account_finished(r.ok);
        co_return out;
    }

private:
    // Slots are taken in one order everywhere (the run's window, then source, then destination), so two jobs
    // never wait on each other.
    net::awaitable<void> take_slots(connection_pair& p) {
        if (o_.concurrency) (void)co_await o_.concurrency->pairs().acquire(1);
        if (o_.source_connections) (void)co_await o_.source_connections->acquire(1);
        if (o_.dest_connections) (void)co_await o_.dest_connections->acquire(1);
        p.has_slots = true;
    }
    // A further pair only when the window and both servers have room now: it never holds up another
    // account's first pair.
    bool try_take_slots(connection_pair& p) {
        if (o_.concurrency && !o_.concurrency->pairs().try_acquire(1)) return false;
        if (o_.source_connections && !o_.source_connections->try_acquire(1)) {
            if (o_.concurrency) o_.concurrency->pairs().release(1);
            return false;
        }
        if (o_.dest_connections && !o_.dest_connections->try_acquire(1)) {
            if (o_.source_connections) o_.source_connections->release(1);
            if (o_.concurrency) o_.concurrency->pairs().release(1);
            return false;
        }
        p.has_slots = true;
        return true;
    }
    void give_back_slots(connection_pair& p) {
        if (std::exchange(p.has_slots, false)) release_slots(o_);
    }
    static void release_slots(const job_options& o) {
        if (o.dest_connections) o.dest_connections->release(1);
        if (o.source_connections) o.source_connections->release(1);
        if (o.concurrency) o.concurrency->pairs().release(1);
    }
    // LOGOUT on both sessions of a pair done with its work, awaited by nobody: over a WAN the account's result
    // (and the next account) no longer waits a round trip per pair for the server's BYE. The slots go back
    // once both have answered, so no cap is ever exceeded; the run's io_context runs until this is done.
    net::awaitable<void> log_out_behind(connection_pair& p) {
        const auto ex = co_await net::this_coro::executor;   // named: g++ 12 and temporaries in co_await expressions
        const bool slots = std::exchange(p.has_slots, false);
        net::co_spawn(ex, log_out(std::move(p.source), std::move(p.dest), slots ? &o_ : nullptr), net::detached);
        p.drop();
    }
    static net::awaitable<void> log_out(std::unique_ptr<async_session> source, std::unique_ptr<async_session> dest, const job_options* slots_of) {
        co_await for_each_concurrently(2, [&](std::size_t k) -> net::awaitable<void> {   // errors ignored (async_session::logout)
            auto& s = k == 0 ? source : dest;
            if (s) co_await s->logout();
        });
        source.reset();   // closed before the slots go back
        dest.reset();
        if (slots_of) release_slots(*slots_of);
    }
    // A transient failure of pair `p` (reset, stall, BYE, [UNAVAILABLE], [INUSE]) is the adaptive window's
    // congestion signal; the pair gives its slot back, and takes one again after the back-off, so a smaller
    // window takes effect here.
    void congested(connection_pair& p, const session_error& e) {
        if (!o_.concurrency) return;
        o_.concurrency->note_congestion(e.what());
        give_back_slots(p);
    }

    net::awaitable<std::unique_ptr<async_session>> open_side(bool source) {
        const auto t0 = clock_type::now();
        auto session = co_await async_open_account_side(a_, o_, source ? account_side::source : account_side::destination, &guard_);
        const double took = since(t0);
        if (o_.concurrency) o_.concurrency->note_open(took);   // logging in slowly is a sign of load
        if (!planned_) first_open_seconds_ = std::max(first_open_seconds_, took);   // the first pair's (pairs_worth)
        co_return session;
    }

    // Both sides at once (each login is a few round trips); the source may still be open from the rerun
    // check. When both fail, the source's error is the one thrown, as when they were opened in turn.
    net::awaitable<void> connect(connection_pair& p) {
        std::exception_ptr source_failed, dest_failed;
        co_await for_each_concurrently(2, [&](std::size_t k) -> net::awaitable<void> {
            if (k == 0) source_failed = co_await open_if_closed(p.source, true);
            else dest_failed = co_await open_if_closed(p.dest, false);
        });
        if (source_failed) std::rethrow_exception(source_failed);
        if (dest_failed) std::rethrow_exception(dest_failed);
    }
    // The failure, returned rather than thrown, so the other side's open is not cut short.
    net::awaitable<std::exception_ptr> open_if_closed(std::unique_ptr<async_session>& side, bool source) {
        std::exception_ptr failed;
        if (side) co_return failed;
        try {
            side = co_await open_side(source);
        } catch (...) {
            failed = std::current_exception();
        }
        co_return failed;
    }

    void fail_account(account_outcome& out, const std::string& what, std::optional<error_kind> kind) {
        stop_ = true;
        if (!out.report.ok) return;   // the first failure is the account's
        out.report.ok = false;
        out.report.error = what;
        out.fatal_kind = kind;
    }

    net::awaitable<void> backoff(int attempt) {
        if (auto* m = o_.pipeline.metrics) m->retried();
        co_await pause(o_.backoff * (1 << (attempt - 1)));
    }
    static net::awaitable<void> pause(std::chrono::milliseconds d) {
        const auto ex = co_await net::this_coro::executor;   // named: g++ 12 destroys temporaries in co_await expressions twice
        net::steady_timer t(ex, d);
        boost::system::error_code ec;
        co_await t.async_wait(net::redirect_error(net::use_awaitable, ec));
    }

    // A rerun with nothing new: every selectable source folder (after --include/--exclude) completed before
    // with the UIDVALIDITY and UIDNEXT it has now. Costs one login, a LIST and one pipelined round of STATUS
    // on the source, and nothing on the destination.
    // `known`: the state's folders of this account (state_store::load_account).
    net::awaitable<bool> unchanged_since_last_run(account_report& r, const std::vector<std::pair<std::string, folder_state>>& known) {
        auto& p = pairs_.front();
        p.source = co_await open_side(true);
        // Every folder the last run completed is asked for (STATUS) beside NAMESPACE and LIST, before the plan
        // says which of them it copies: an unchanged account costs one round trip after its login, not two.
        // A name the source no longer has is answered NO, a change like any other (the full path deals with it).
        std::vector<std::string> asked;
        std::vector<const folder_state*> asked_state;
        for (const auto& [name, s] : known) {
            if (s.completed_uidnext == 0) continue;
            asked.push_back(name);
            asked_state.push_back(&s);
        }
        side_view view;
        std::vector<folder_status> answers;
        bool all_answered = true;
        co_await for_each_concurrently(asked.empty() ? 1 : 2, [&](std::size_t k) -> net::awaitable<void> {
            if (k == 0) {
                view = co_await read_side(*p.source);
                co_return;
            }
            try {
                answers = co_await p.source->status(asked);
            } catch (const session_error& e) {
                if (e.kind() != error_kind::refused) throw;
                all_answered = false;
            }
        });
        if (!all_answered) co_return false;
        const auto plan = plan_scope(view, nullptr, o_.filter, a_.scope);   // only the selection matters here
        if (!plan.errors.empty() || state_has_unlisted_folders(known, plan)) co_return false;
        std::vector<std::string> names;
        std::vector<folder_state> saved;
        std::vector<folder_status> now;
        for (const auto& e : plan.entries) {
            if (e.source_name.empty() || !e.copy_messages) continue;
            // Not asked: the state has no completed folder of that name.
            const auto at = std::find(asked.begin(), asked.end(), e.source_name);
            if (at == asked.end()) co_return false;
            const auto i = static_cast<std::size_t>(at - asked.begin());
            if (asked_state[i]->dest_folder.empty() || !asked_state[i]->has_map) co_return false;
            names.push_back(e.source_name);
            saved.push_back(*asked_state[i]);
            now.push_back(answers[i]);
        }
        std::vector<folder_report> folders;
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (now[i].uidvalidity != saved[i].uidvalidity || now[i].uidnext != saved[i].completed_uidnext) co_return false;
            // Flag changes and expunges: HIGHESTMODSEQ moved (CONDSTORE), or unknowable from STATUS (without it).
            if ((o_.sync_flags || o_.sync_deletes) && (now[i].highestmodseq == 0 || now[i].highestmodseq != saved[i].highestmodseq)) co_return false;
            if (o_.sync_deletes && saved[i].vanished > 0) co_return false;   // expunges an earlier run left for --sync-deletes
            folder_report f;
            f.source_folder = names[i];
            f.dest_folder = saved[i].dest_folder;
            f.note = "unchanged since the last run";
            folders.push_back(std::move(f));
        }
        r.folders = std::move(folders);
        co_return true;
    }

    // Pair k (1..) once the plan is known, when it is worth its logins (pairs_worth) and the window and the
    // run's caps have room now: it logs in and opens its first folder (or chain), on the source while the
    // destination's folders are still being created, on the destination once they exist (prepare). A failure
    // to connect is left to the pair's worker, which connects again and reports it; so is a pair without room
    // now. A failure to open the folder is kept for its turn, as open_before_turn does.
    net::awaitable<void> connect_further_pair(std::size_t k) {
        auto& q = pairs_[k];
        if (!q.has_slots && !try_take_slots(q)) co_return;
        try {
            co_await connect(q);
        } catch (const std::exception&) {
            q.drop();
            co_return;
        }
        auto opened = claim_next(q);
        if (opened.empty()) co_return;
        co_await for_each_concurrently(2, [&](std::size_t side) -> net::awaitable<void> {
            if (side == 0) {
                co_await open_before_turn(q, opened, [](std::size_t) { return false; });
                co_return;
            }
            while (!prepare_over_) co_await wait_for(*stage_);
            if (!prepared_) co_return;
            co_await for_each_concurrently(opened.size(), [&](std::size_t i) -> net::awaitable<void> {
                if (!skip_[opened[i].index]) co_await select_before_turn(q, opened[i]);
            });
        });
        for (auto& a : opened) q.ahead.push_back(std::move(a));
    }

    // How many of the job's pairs copy, once the plan is known (pairs_worth_opening: the further ones whose
    // logins the folders' round trips repay). The round trip is the plan's NAMESPACE and LIST, the login the
    // first pair's, each on the slower side. Without the adaptive window (--fixed-concurrency) every pair the
    // flags allow opens.
    std::size_t pairs_worth(double src_round_trip, double dst_round_trip) const {
        std::size_t folders = 0;
        for (const auto& e : plan_.entries) folders += e.copy_messages && !e.source_name.empty();
        if (!o_.concurrency) return std::max<std::size_t>(1, std::min(pairs_.size(), folders));
        return pairs_worth_opening(pairs_.size(), folders, std::max(src_round_trip, dst_round_trip), first_open_seconds_);
    }

    // The first pair: connect, plan, create the destination folders in plan order (parents first). Retries
    // transient errors. False when the account failed.
    net::awaitable<bool> prepare(account_outcome& out) {
        auto& p = pairs_.front();
        for (int attempt = 0;;) {
            std::optional<session_error> transient;
            try {
                co_await connect(p);
                if (!planned_) {
                    co_await plan(out.report);
                    planned_ = true;
                    if (stage_) stage_->cancel();   // the further pairs log in now (run)
                }
                // Claimed before the next co_await, so before the further pairs woken above run (the job is one
                // strand): they start at the folders after it.
                auto first = claim_next(p);
                // The first pair opens its first folder while the folders are created: on the source now, on the
                // destination behind the CREATEs (create_folders). The source is asked the size of the folders
                // after it in the same round (fits_a_chain).
                co_await for_each_concurrently(3, [&](std::size_t k) -> net::awaitable<void> {
                    if (k == 0) co_await create_folders(p, out.report, first.empty() ? nullptr : &first.back());
                    else if (k == 1) co_await open_before_turn(p, first, [](std::size_t) { return false; });
                    else co_await read_sizes(p);
                });
                for (auto& a : first) p.ahead.push_back(std::move(a));
                co_return true;
            } catch (const session_error& e) {
                p.drop();
                if (e.kind() != error_kind::transient || ++attempt >= o_.max_attempts) {
                    fail_account(out, e.what(), e.kind());
                    co_return false;
                }
                congested(p, e);
            } catch (const std::exception& e) {
                p.drop();
                fail_account(out, e.what(), std::nullopt);
                co_return false;
            }
            co_await backoff(attempt);
            if (!p.has_slots) co_await take_slots(p);
        }
    }

    net::awaitable<void> plan(account_report& r) {
        auto& p = pairs_.front();
        side_view src, dst;
        double src_seconds = 0, dst_seconds = 0;   // NAMESPACE and LIST: one round trip each (pairs_worth)
        co_await for_each_concurrently(2, [&](std::size_t k) -> net::awaitable<void> {
            const auto t0 = clock_type::now();
            if (k == 0) src = co_await read_side(*p.source);
            else dst = co_await read_side(*p.dest);
            (k == 0 ? src_seconds : dst_seconds) = since(t0);
        });
        // The account's own folders, or the public namespace's for the --public job (engine/mail/public_plan.hpp).
        plan_ = plan_scope(src, &dst, o_.filter, a_.scope);
        for (const auto& e : plan_.errors) r.errors.push_back(e);
        r.other_users_folders = plan_.other_users;
        if (o_.state) {   // folders renamed or gone on the source since the last run (engine/mail/delta_sync.hpp)
            auto moved = co_await sync_folders(*p.source, *p.dest, plan_, delta(), *o_.state, state_key_);
            renamed_from_ = std::move(moved.renamed_from);
            gone_ = std::move(moved.gone);
        }
        pairs_worth_ = pairs_worth(src_seconds, dst_seconds);
        r.connection_pairs = pairs_worth_;
        const auto& profile = p.dest->profile();
        r.dest_profile = to_string(profile.kind);
        r.dest_profile_evidence = p.dest->profile_evidence();
        r.max_message_size = profile.max_message_size;
        folders_.assign(plan_.entries.size(), std::nullopt);
        skip_.assign(plan_.entries.size(), false);
        std::set<std::string> seen;
        for (const auto& e : plan_.entries) {
            if (!seen.insert(e.dest_name).second) shared_dest_names_.insert(e.dest_name);
        }
        if (o_.plan_out) {
            std::fprintf(o_.plan_out, "account %s -> %s: %zu folder(s), %zu excluded\n", a_.source_user.c_str(),
                         a_.dest_user.c_str(), plan_.entries.size(), plan_.excluded.size());
        }
    }

    // CREATE and SUBSCRIBE before any copy, in plan order, so a child never goes before its parent while the
    // folders are copied in parallel. `first`, when set, is the first pair's first folder, selected behind them.
    net::awaitable<void> create_folders(connection_pair& p, account_report& r, folder_ahead* first) {
        if (o_.dry_run) co_return;
        // Named, not temporaries in the co_await expressions (g++ 12).
        const auto to_create = still_to(&folder_plan_entry::create, created_);
        if (p.dest->profile().kind == dest_profile_kind::carbonio) {
            // One at a time under carbonio: its guard places NOOPs between commands by the answers before them
            // (engine/mail/dest_profile.hpp). The SUBSCRIBEs after the CREATEs: a refused folder is skipped by then.
            co_await each_folder(to_create, r, [&](std::size_t i) -> net::awaitable<void> {
                co_await p.dest->create(plan_.entries[i].dest_name, plan_.entries[i].use);
                created_.insert(plan_.entries[i].dest_name);
            });
            const auto to_subscribe = still_to(&folder_plan_entry::subscribe, subscribed_);
            co_await each_folder(to_subscribe, r, [&](std::size_t i) -> net::awaitable<void> {
                co_await p.dest->subscribe(plan_.entries[i].dest_name);
                subscribed_.insert(plan_.entries[i].dest_name);
            });
            co_return;
        }
        // Every CREATE, every SUBSCRIBE and the first folder's SELECT in one round trip: pipelined on one
        // connection, whose commands the server executes in the order sent, so a parent still comes before its
        // child and a folder exists before it is subscribed or selected. Over a WAN this was two round trips
        // per folder, then two per account, before the first message moved.
        const auto to_subscribe = still_to(&folder_plan_entry::subscribe, subscribed_);
        // Every command ends answered or refused here: any other failure is thrown by the round.
        std::vector<std::optional<session_error>> create_refused(to_create.size()), subscribe_refused(to_subscribe.size());
        const std::size_t creates = to_create.size(), subscribes = to_subscribe.size();
        co_await for_each_concurrently(creates + subscribes + (first ? 1 : 0), [&](std::size_t k) -> net::awaitable<void> {
            if (k >= creates + subscribes) {
                co_await select_before_turn(p, *first);
                co_return;
            }
            const bool create = k < creates;
            const std::size_t i = create ? to_create[k] : to_subscribe[k - creates];
            try {
                if (create) {
                    co_await p.dest->create(plan_.entries[i].dest_name, plan_.entries[i].use);
                    created_.insert(plan_.entries[i].dest_name);
                } else {
                    co_await p.dest->subscribe(plan_.entries[i].dest_name);
                }
            } catch (const session_error& e) {
                if (e.kind() != error_kind::refused) throw;
                (create ? create_refused[k] : subscribe_refused[k - creates]) = e;
            }
        });
        for (std::size_t k = 0; k < creates; ++k) {
            if (create_refused[k]) refuse_folder(to_create[k], *create_refused[k], r);
        }
        // A folder whose CREATE was refused is not left subscribed (the server may allow subscribing a name that
        // does not exist); its SUBSCRIBE's answer says nothing more about it.
        std::vector<std::string> unsubscribe;
        for (std::size_t k = 0; k < subscribes; ++k) {
            const std::size_t i = to_subscribe[k];
            if (skip_[i]) {
                if (!subscribe_refused[k]) unsubscribe.push_back(plan_.entries[i].dest_name);
            } else if (subscribe_refused[k]) {
                refuse_folder(i, *subscribe_refused[k], r);
            } else {
                subscribed_.insert(plan_.entries[i].dest_name);
            }
        }
        co_await for_each_concurrently(unsubscribe.size(), [&](std::size_t k) -> net::awaitable<void> {
            try {
                co_await p.dest->subscribe(unsubscribe[k], false);
            } catch (const session_error& e) {
                if (e.kind() != error_kind::refused) throw;
            }
        });
    }

    // The plan entries not skipped whose `wants` is set and whose destination name is not in `done`, each name
    // once, in plan order.
    std::vector<std::size_t> still_to(bool folder_plan_entry::*wants, const std::set<std::string>& done) const {
        std::vector<std::size_t> out;
        std::set<std::string> named;
        for (std::size_t i = 0; i < plan_.entries.size(); ++i) {
            const auto& e = plan_.entries[i];
            if (!skip_[i] && e.*wants && !done.count(e.dest_name) && named.insert(e.dest_name).second) out.push_back(i);
        }
        return out;
    }

    // `step` for each plan entry in `entries`, one after another. A refusal concerns that folder only: recorded
    // in the server's words, the folder skipped, the account not complete. Anything else is thrown.
    template <class Step>
    net::awaitable<void> each_folder(const std::vector<std::size_t>& entries, account_report& r, Step step) {
        for (const std::size_t i : entries) {
            std::optional<session_error> refused;
            try {
                co_await step(i);
            } catch (const session_error& e) {
                if (e.kind() != error_kind::refused) throw;
                refused = e;
            }
            if (refused) refuse_folder(i, *refused, r);
        }
    }

    void refuse_folder(std::size_t i, const session_error& e, account_report& r) {
        if (folders_[i]) folders_[i]->note = e.what();
        r.errors.push_back(fmt::format("folder '{}': {}", plan_.entries[i].source_name, e.what()));
        folder_refused_ = true;
        skip_[i] = true;
    }

    // Worker k copies folders over pair k until none is left. Pair 0 is already connected; a further pair
    // connects when it takes its first folder, once the window and the run's caps have room.
    //
    // Each folder is a task of its own on the pair, and the next one starts as soon as the current one has read
    // its last body (and opened the next one: open_ahead), where the two may share the destination connection
    // (may_overlap): over a WAN a pair then spends one round trip per folder, its FETCH while the folder before
    // is appended, not two. A connection failure ends the tasks on that pair; once both have ended, the pair
    // reconnects and copies them again (the state and the dedupe index make that safe).
    net::awaitable<void> folder_worker(std::size_t k, account_outcome& out) {
        auto& p = pairs_[k];
        const auto ex = co_await net::this_coro::executor;   // named: g++ 12 and temporaries in co_await expressions
        net::steady_timer news(ex, net::steady_timer::time_point::max());   // a condition variable, cancelled by the tasks
        std::list<folder_task> running;                      // in start order (may_join)
        std::deque<std::size_t> again;                       // this pair's folders to copy again after a failure
        std::optional<session_error> lost;                   // why the pair's connection failed
        std::exception_ptr broken;                           // anything else that ended a task
        int attempt = 0;
        while (true) {
            for (auto it = running.begin(); it != running.end();) {
                if (!it->finished) {
                    ++it;
                    continue;
                }
                if (it->error) settle(*it, out, again, lost, broken);
                it = running.erase(it);
            }
            if (lost || broken) {
                if (!running.empty()) {   // the other task ends too (same connection), or finishes its folder
                    co_await wait_for(news);
                    continue;
                }
                p.drop();
                if (broken) {
                    fail_account(out, what_of(broken), std::nullopt);
                    break;
                }
                const auto e = *std::exchange(lost, std::nullopt);
                if (e.kind() != error_kind::transient || ++attempt >= o_.max_attempts) {
                    fail_account(out, e.what(), e.kind());
                    break;
                }
                congested(p, e);
                co_await backoff(attempt);
                if (!p.has_slots) co_await take_slots(p);
                continue;
            }
            if (stop_) {
                if (running.empty()) break;
                co_await wait_for(news);
                continue;
            }
            // The next folder now: on an idle pair, or beside those still appending once their source side is done.
            const bool idle = running.empty();
            if (!idle && !(again.empty() && !p.upcoming.empty() && may_join(p, running, p.upcoming.front()))) {
                co_await wait_for(news);
                continue;
            }
            if (again.empty() && p.upcoming.empty() && next_folder_ >= plan_.entries.size() && !interrupted_) {
                if (idle) break;
                co_await wait_for(news);
                continue;
            }
            if (interrupted_ || stop_requested()) {
                if (!idle) {
                    co_await wait_for(news);
                    continue;
                }
                fail_account(out, interrupted_reason, std::nullopt);
                break;
            }
            if (!p.has_slots && !try_take_slots(p)) {
                // No room now (the window, a cap): look again shortly while folders are left, so an account
                // that started under a small window still gets its further pairs once it grows. Pairs that wait
                // in the semaphores' queues (a job's first, one back from a failure) go first.
                co_await pause(std::chrono::milliseconds(200));
                continue;
            }
            std::size_t next;
            if (!again.empty()) {
                next = again.front();
                again.pop_front();
            } else if (!p.upcoming.empty()) {
                next = p.upcoming.front();
                p.upcoming.pop_front();
            } else {
                next = next_folder_++;
            }
            if (skip_[next]) continue;
            try {
                co_await connect(p);
            } catch (const session_error& e) {
                again.push_front(next);
                lost = e;
                continue;
            } catch (const std::exception&) {
                broken = std::current_exception();
                continue;
            }
            auto& t = running.emplace_back();
            t.index = next;
            net::co_spawn(ex, run_folder(p, t, news), [&t, &news](std::exception_ptr e) {
                t.finished = true;
                t.error = e;
                news.cancel();
            });
        }
        // A pair done with its folders gives its slots back now, not when the whole account is done: another
        // pair of this account may wait for one (after a failure, under a smaller window).
        if (out.report.ok && !stop_) {
            co_await log_out_behind(p);
        } else {
            p.drop();
            give_back_slots(p);
        }
    }

    // A task's failure: a refusal concerns its folder only (the server's words go into the folder's report and
    // the other folders go on); a connection failure hands the folder back to the pair, to copy again once it
    // has reconnected; anything else fails the account.
    void settle(const folder_task& t, account_outcome& out, std::deque<std::size_t>& again, std::optional<session_error>& lost,
                std::exception_ptr& broken) {
        try {
            std::rethrow_exception(t.error);
        } catch (const session_error& e) {
            if (e.kind() == error_kind::refused) {
                refuse_folder(t.index, e, out.report);
                return;
            }
            folders_[t.index].reset();   // half-done folder reports are rebuilt when the folder is retried
            again.push_back(t.index);
            if (!lost) lost = e;
        } catch (...) {
            folders_[t.index].reset();
            if (!broken) broken = std::current_exception();
        }
    }

    static std::string what_of(const std::exception_ptr& e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            return x.what();
        } catch (...) {
            return "unknown error";
        }
    }

    static net::awaitable<void> wait_for(net::steady_timer& news) {
        boost::system::error_code ec;
        co_await news.async_wait(net::redirect_error(net::use_awaitable, ec));
    }

    net::awaitable<void> run_folder(connection_pair& p, folder_task& t, net::steady_timer& news) {
        const std::function<void()> source_done = [&t, &news] {
            t.source_done = true;
            news.cancel();
        };
        co_await migrate_folder(p, t.index, source_done);
    }

    // Whether folder `next` may start on pair `p` beside `running`: each of them has read its last body, may
    // share the destination with it (may_overlap), and a few at most (each holds batches in memory).
    bool may_join(const connection_pair& p, const std::list<folder_task>& running, std::size_t next) const {
        if (running.size() >= max_folders_per_pair) return false;
        return std::all_of(running.begin(), running.end(),
                           [&](const folder_task& t) { return t.source_done && may_overlap(p, t.index, next); });
    }
    static constexpr std::size_t max_folders_per_pair = 3;

    // Whether folder `next` may start on pair `p` while `current` still has APPENDs in flight there. Only into
    // another destination folder (the next one's dedupe index must not miss what is still being appended), with
    // UIDPLUS (without it the current one reads its destination UIDs from its selected folder afterwards), and
    // not under carbonio (its refusal policy places NOOPs by the commands before them, one batch at a time).
    bool may_overlap(const connection_pair& p, std::size_t current, std::size_t next) const {
        return !o_.dry_run && p.dest && p.dest->has_capability("UIDPLUS") && p.dest->profile().kind != dest_profile_kind::carbonio &&
               plan_.entries[current].dest_name != plan_.entries[next].dest_name;
    }

    // `source_done` is called once the folder's copy has read its last body and opened the pair's next folder
    // (open_ahead): from then on it says nothing more on the source, and only APPENDs on the destination.
    net::awaitable<void> migrate_folder(connection_pair& p, std::size_t index, const std::function<void()>& source_done) {
        const auto& e = plan_.entries[index];
        const auto t0 = clock_type::now();
        folder_report f;
        f.source_folder = e.source_name;
        f.dest_folder = e.dest_name;
        f.note = e.note;
        f.renamed = e.renamed_by_profile;
        if (const auto it = renamed_from_.find(e.source_name); it != renamed_from_.end()) f.renamed_from = it->second;
        f.created = e.create && created_.count(e.dest_name) > 0;
        const bool dest_exists = !e.create || !o_.dry_run;
        if (!e.copy_messages || e.source_name.empty()) {
            if (o_.plan_out && e.create) std::fprintf(o_.plan_out, "  create %s\n", e.dest_name.c_str());
            if (!e.source_name.empty()) folders_[index] = std::move(f);
            co_return;
        }
        folders_[index] = std::move(f);
        auto& fr = *folders_[index];

        // A folder the state has never seen (or a run without state) is copied from its first message: its
        // index is asked for behind the EXAMINE, without waiting for the answer (async_session::examine_with_index).
        const std::optional<folder_state> saved = o_.state && !o_.dry_run ? o_.state->load(state_key_, e.source_name) : std::nullopt;
        const bool first_copy = !o_.dry_run && !saved;
        // What was already asked about this folder on these sessions before its turn (open_before_turn).
        std::optional<folder_ahead> ahead = take_ahead(p, index);
        if (ahead && ahead->failed) std::rethrow_exception(ahead->failed);
        // Folders selected before their turn one after another (a chain): an earlier one is no longer selected,
        // which matters where its index must be read (it was not empty) or, without UIDPLUS, where the copies'
        // UIDs are read from it afterwards. Then it is selected again.
        if (ahead && ahead->dest && ahead->dest_select != p.dest_selects &&
            (ahead->dest->messages > 0 || !p.dest->has_capability("UIDPLUS"))) {
            ahead->dest.reset();
        }
        std::unique_ptr<prefetched_bodies> prefetched = ahead ? std::move(ahead->bodies) : nullptr;
        // The source's EXAMINE and the destination's SELECT in one round trip: over a WAN the folder's setup is
        // a chain of round trips before its first message moves. The SELECT is wasted only on a folder found
        // unchanged below, a one-command cost in the same round trip.
        folder_status st;
        std::optional<folder_status> dst;
        std::vector<source_message> src_index;
        const bool source_open = ahead && ahead->source;
        if (source_open) {
            st = std::move(ahead->source->status);
            src_index = std::move(ahead->source->index);
        }
        if (ahead && ahead->dest) dst = std::move(ahead->dest);
        co_await for_each_concurrently(2, [&](std::size_t k) -> net::awaitable<void> {
            if (k == 1) {
                if (dest_exists && !dst) {
                    ++p.dest_selects;
                    dst = co_await p.dest->select(e.dest_name);
                }
            } else if (source_open) {
                co_return;
            } else if (first_copy) {
                auto opened = co_await examine_first_copy(p, e.source_name);
                st = std::move(opened.status);
                src_index = std::move(opened.index);
            } else {
                st = co_await p.source->examine(e.source_name);
            }
        });
        if (o_.state && first_copy) {
            o_.state->begin_folder(state_key_, e.source_name, st.uidvalidity);
            // What sync_folder_changes records for a folder with nothing mapped: the HIGHESTMODSEQ the next run
            // reads changes from.
            if (st.highestmodseq) o_.state->apply_delta(state_key_, e.source_name, {}, {}, st.highestmodseq);
        } else if (o_.state && !o_.dry_run) {
            if (saved->uidvalidity == st.uidvalidity && saved->completed_uidnext != 0 && saved->completed_uidnext == st.uidnext &&
                saved->has_map) {
                // Nothing arrived since this folder was completed: no index fetch, only what changed (cheap reruns).
                ++p.dest_selects;   // it may select the folder on the destination
                co_await sync_folder_changes(*p.source, *p.dest, e.source_name, e.dest_name, delta(), *o_.state, state_key_, fr);
                fr.seconds = since(t0);
                co_return;
            }
            o_.state->begin_folder(state_key_, e.source_name, st.uidvalidity);
            // Before the index is read: the HIGHESTMODSEQ it records is not newer than the flags the copy sends.
            ++p.dest_selects;   // it may select the folder on the destination
            co_await sync_folder_changes(*p.source, *p.dest, e.source_name, e.dest_name, delta(), *o_.state, state_key_, fr);
        }
        if (o_.state && o_.dry_run && !e.create) co_await preview_changes(p, e, fr);
        // Both indexes at once, each on its own connection.
        key_multiset dest_keys;
        permanent_flags dest_flags;
        std::vector<source_message> dest_index;
        co_await for_each_concurrently(2, [&](std::size_t k) -> net::awaitable<void> {
            if (k == 0) {
                if (first_copy || !st.messages) co_return;   // read above, or nothing to read
                const auto ti = clock_type::now();
                src_index = co_await p.source->fetch_index(1, true);
                if (auto* m = o_.pipeline.metrics) m->observe(server_side::source, imap_operation::index, since(ti));
            } else if (dst) {
                // Still selected: the changes applied above (engine/mail/delta_sync.cpp) select the same folder, and
                // its PERMANENTFLAGS do not change; a folder that was empty then is empty now.
                dest_flags = permanent_flags(dst->permanent_flags, p.dest->profile().kind);
                const auto ti = clock_type::now();
                if (dst->messages) dest_index = co_await p.dest->fetch_index(1, false);
                if (auto* m = o_.pipeline.metrics; m && dst->messages) m->observe(server_side::destination, imap_operation::index, since(ti));
                for (const auto& m : dest_index) dest_keys.add(m.key);
            }
        });
        if (o_.state && !o_.dry_run) record_map_gaps(*o_.state, state_key_, e.source_name, src_index, dest_index);
        std::vector<source_message> src_index_copy;   // kept only when the destination has no UIDPLUS (see below)
        if (o_.state && !o_.dry_run && !p.dest->has_capability("UIDPLUS")) src_index_copy = src_index;
        auto plan = plan_copies(std::move(src_index), std::move(dest_keys), o_.collapse_duplicates);
        fr.skipped_duplicate = plan.skipped_duplicate;

        // What the destination profile keeps back or changes (engine/mail/dest_profile.hpp), before any body is read.
        const auto not_sent = apply_profile(p.dest->profile(), plan, fr);
        if (o_.plan_out) {
            std::fprintf(o_.plan_out, "  %s%s -> %s: %zu to copy (%s), %llu already there%s\n", e.create ? "create, " : "",
                         e.source_name.c_str(), e.dest_name.c_str(), plan.to_copy.size(), human_bytes(plan.bytes_to_copy).c_str(),
                         static_cast<unsigned long long>(plan.skipped_duplicate),
                         not_sent == 0 ? "" : fmt::format(", {} kept back by the destination profile", not_sent).c_str());
        }
        if (o_.dry_run) {
            fr.seconds = since(t0);
            co_return;
        }
        if (o_.progress_sink) o_.progress_sink->add_expected(plan.to_copy.size(), plan.bytes_to_copy);
        if (o_.state && plan.skipped_duplicate) {
            o_.state->record(state_key_, e.source_name, {.highest_uid = 0, .copied = 0, .skipped_duplicate = plan.skipped_duplicate, .failed = 0, .bytes = 0});
        }
        if (!plan.to_copy.empty()) {
            const std::function<void(const batch_outcome&)> on_batch = [&](const batch_outcome& b) {
                if (o_.state) {
                    o_.state->record(state_key_, e.source_name,
                                     {.highest_uid = b.highest_uid, .copied = b.copied, .skipped_duplicate = 0, .failed = b.failed, .bytes = b.bytes,
                                      .mapped = b.mapped});
                }
                if (o_.progress_sink) o_.progress_sink->add_done(b.copied + b.failed, b.bytes);
                if (o_.concurrency) o_.concurrency->note_work(b.bytes);
            };
            // With the last FETCH the pair's next folder is opened, and may start beside the last APPENDs (open_ahead).
            const std::function<net::awaitable<void>()> open_next = [&] { return open_ahead(p, index, source_done); };
            co_await copy_messages(*p.source, *p.dest, e.dest_name, plan.to_copy, dest_flags, o_.pipeline, fr, on_batch, open_next, prefetched.get());
        }
        // Without UIDPLUS the copies' destination UIDs come from their keys.
        if (o_.state && !plan.to_copy.empty() && !p.dest->has_capability("UIDPLUS")) {
            const auto after = co_await p.dest->fetch_index(1, false);
            record_map_gaps(*o_.state, state_key_, e.source_name, src_index_copy, after);
        }
        // Stopped mid-folder: what was appended is committed batch by batch above; the folder stays incomplete
        // for the rerun, and the account says why.
        if (stop_requested()) {
            fr.note = interrupted_reason;
            fr.seconds = since(t0);
            interrupted_ = true;
            co_return;
        }
        // A folder with refused or kept-back messages is not complete: the next run looks at them again (and
        // sends them once the destination's limit allows).
        if (o_.state && fr.failed.empty() && not_sent == 0) o_.state->complete_folder(state_key_, e.source_name, st.uidnext, e.dest_name);
        fr.seconds = since(t0);
    }

    // With folder `current`'s last FETCH (copy_messages' after_source_read): the pair claims its next folder
    // (or a chain of small ones: claim_next) and, where copied from the first message, opens them on both
    // sessions (STATUS, EXAMINE and index on the source, behind the FETCH, and a chain's bodies; SELECT on the
    // destination), so the next copy starts while `current` is still appended (folder_worker); over a WAN each
    // folder was otherwise a chain of open, fetch and append with one side idle in each. The destination's
    // SELECT only where they may share the destination with `current` (may_overlap). A failure is kept for the
    // folder's turn, so it is reported as that folder's. `source_done` then tells the worker.
    net::awaitable<void> open_ahead(connection_pair& p, std::size_t current, const std::function<void()>& source_done) {
        auto opened = claim_next(p);
        co_await open_before_turn(p, opened, [&](std::size_t next) { return may_overlap(p, current, next); });
        for (auto& a : opened) p.ahead.push_back(std::move(a));
        source_done();
    }

    // Pair `p` claims its next folders (p.upcoming), unless it has some: the plan's next folder and, while each
    // fits a chain, the ones after it, up to a batch's bytes. Returns a record for each copied from its first
    // message (no state of it), which may be opened before its turn; a chain's hold every body. A chain's folders
    // are opened together (open_before_turn): over a WAN the pair spends one round trip on the chain, not one per
    // folder (its index, then its bodies), and the corpus's accounts are mostly folders of a few dozen messages.
    std::vector<folder_ahead> claim_next(connection_pair& p) {
        std::vector<folder_ahead> out;
        if (o_.dry_run || stop_ || interrupted_ || stop_requested() || !p.upcoming.empty()) return out;
        std::uint64_t chain_bytes = 0;
        while (true) {
            while (next_folder_ < plan_.entries.size() && skip_[next_folder_]) ++next_folder_;
            if (next_folder_ >= plan_.entries.size()) break;
            const std::size_t next = next_folder_;
            const bool first = first_copy(plan_.entries[next]);   // one state read per folder claimed
            const bool chain = first && fits_a_chain(next);
            if (!p.upcoming.empty() && (!chain || chain_bytes + sizes_[next]->bytes > o_.pipeline.batch_bytes || p.upcoming.size() >= max_chain)) {
                break;
            }
            ++next_folder_;
            p.upcoming.push_back(next);
            if (first) {
                auto& a = out.emplace_back();
                a.index = next;
                if (chain) a.bodies = std::make_unique<prefetched_bodies>();
            }
            if (!chain) break;
            chain_bytes += sizes_[next]->bytes;
        }
        return out;
    }
    static constexpr std::size_t max_chain = 16;

    // Whether the folder of plan entry `e` is copied from its first message: it has messages to copy and the
    // state has nothing of it (a rerun's folders are not opened before their turn, nor read again).
    bool first_copy(const folder_plan_entry& e) const {
        return e.copy_messages && !e.source_name.empty() && !(o_.state && o_.state->load(state_key_, e.source_name));
    }

    // Whether the first copy of folder `i` may ride in a chain (claim_next), bodies and all: into a destination
    // folder no other plan entry shares (its dedupe index is read at its turn and must not miss another folder's
    // APPENDs in flight), of a known size (STATUS=SIZE, read_sizes) within a batch's messages and the spill
    // threshold's bytes (its bodies stay in memory, counted against the run's budget). Where the destination
    // already holds some of its messages, those bodies were read for nothing (at most the spill threshold's bytes
    // per folder); the dedupe still keeps them from being copied twice.
    bool fits_a_chain(std::size_t i) const {
        if (i >= sizes_.size() || !sizes_[i]) return false;
        if (sizes_[i]->messages > o_.pipeline.batch_messages || sizes_[i]->bytes > o_.pipeline.spill_threshold) return false;
        return !shared_dest_names_.count(plan_.entries[i].dest_name);
    }

    // The source's STATUS (MESSAGES SIZE) of the folders that may be chained (first copies, fits_a_chain), where
    // it has STATUS=SIZE; the first pair asks it in the round that opens its first folder (prepare). Without it
    // no folder is chained.
    net::awaitable<void> read_sizes(connection_pair& p) {
        sizes_.assign(plan_.entries.size(), std::nullopt);
        if (o_.dry_run) co_return;   // nothing is copied, nothing is chained
        std::vector<std::string> names;
        std::vector<std::size_t> entries;
        for (std::size_t i = next_folder_; i < plan_.entries.size() && names.size() < max_sizes_asked; ++i) {
            const auto& e = plan_.entries[i];
            if (shared_dest_names_.count(e.dest_name) || !first_copy(e)) continue;
            names.push_back(e.source_name);
            entries.push_back(i);
        }
        if (names.empty()) co_return;
        const auto got = co_await p.source->sizes(names);
        for (std::size_t k = 0; k < got.size(); ++k) sizes_[entries[k]] = got[k];
    }
    static constexpr std::size_t max_sizes_asked = 128;   // a bound on the STATUS round ahead of the first folder's bodies

    // Folders `opened` (claimed in this order: claim_next) opened on pair `p`'s source before their turn
    // (examine_first_copy, with every body where they are held) and, where `dest_too(plan entry)`, selected on
    // its destination; failures are kept for each folder's turn. One round trip for all: for_each_concurrently
    // starts its coroutines in order and each sends its commands before it first waits, so each folder's FETCHes
    // follow its own EXAMINE on the wire. The bodies' bytes are taken from the run's budget before anything is sent.
    template <class DestToo>
    net::awaitable<void> open_before_turn(connection_pair& p, std::vector<folder_ahead>& opened, DestToo dest_too) {
        if (opened.empty()) co_return;
        for (auto& a : opened) {
            if (!a.bodies || !o_.pipeline.budget) continue;
            const auto taken = co_await o_.pipeline.budget->acquire(sizes_[a.index]->bytes);   // named: g++ 12 (a temporary in co_await)
            a.bodies->budget = budget_hold(o_.pipeline.budget, taken);
        }
        co_await for_each_concurrently(opened.size(), [&](std::size_t i) -> net::awaitable<void> {
            auto& a = opened[i];
            const bool select_too = dest_too(a.index);
            co_await for_each_concurrently(select_too ? 2 : 1, [&](std::size_t k) -> net::awaitable<void> {
                if (k == 1) {
                    co_await select_before_turn(p, a);
                    co_return;
                }
                try {
                    a.source = co_await examine_first_copy(p, plan_.entries[a.index].source_name, a.bodies.get());
                } catch (...) {
                    if (!a.failed) a.failed = std::current_exception();
                }
            });
        });
    }

    // What pair `p` opened before its turn for folder `index`; stale records (of folders skipped since) go.
    std::optional<folder_ahead> take_ahead(connection_pair& p, std::size_t index) {
        std::optional<folder_ahead> out;
        for (auto it = p.ahead.begin(); it != p.ahead.end();) {
            if (it->index == index) {
                out = std::move(*it);
                it = p.ahead.erase(it);
            } else if (skip_[it->index]) {
                it = p.ahead.erase(it);
            } else {
                ++it;
            }
        }
        return out;
    }

    // Folder `a.index` selected on pair `p`'s destination before its turn; a failure is kept in `a`, for the
    // folder's turn.
    net::awaitable<void> select_before_turn(connection_pair& p, folder_ahead& a) {
        try {
            a.dest_select = ++p.dest_selects;
            a.dest = co_await p.dest->select(plan_.entries[a.index].dest_name);
        } catch (...) {
            if (!a.failed) a.failed = std::current_exception();
        }
    }

    // A folder copied from its first message opened on pair `p`'s source (async_session::examine_with_index),
    // timed as the folder's index read (--metrics); with `bodies`, every body read into it as well.
    net::awaitable<async_session::examined_folder> examine_first_copy(connection_pair& p, const std::string& folder,
                                                                      prefetched_bodies* bodies = nullptr) {
        const auto ti = clock_type::now();
        const async_session::body_target into = [this, bodies](std::uint32_t uid, std::uint64_t size) -> body_buffer& {
            auto& b = bodies->by_uid.try_emplace(uid, o_.pipeline.spill_threshold, o_.pipeline.spill_dir).first->second;
            b.begin(size);
            return b;
        };
        auto opened = co_await p.source->examine_with_index(folder, o_.state != nullptr, bodies ? &into : nullptr);
        if (auto* m = o_.pipeline.metrics; m && opened.status.messages) m->observe(server_side::source, imap_operation::index, since(ti));
        co_return opened;
    }

    delta_settings delta() const { return {o_.sync_flags, o_.sync_deletes, o_.dry_run}; }

    // --dry-run with a state: what a rerun would delete and update, printed before the folder's copy plan.
    net::awaitable<void> preview_changes(connection_pair& p, const folder_plan_entry& e, folder_report& fr) {
        const auto saved = o_.state->load(state_key_, e.source_name);
        if (!saved || !saved->has_map) co_return;
        ++p.dest_selects;   // it may select the folder on the destination
        co_await sync_folder_changes(*p.source, *p.dest, e.source_name, e.dest_name, delta(), *o_.state, state_key_, fr);
        if (!o_.plan_out) co_return;
        if (!fr.deletions.empty()) {
            std::string uids;
            for (const auto& d : fr.deletions) uids += fmt::format("{}{}", uids.empty() ? "" : ",", d.dest_uid);
            std::fprintf(o_.plan_out, "  delete in %s: %zu message(s) the source expunged (destination UIDs %s)\n", e.dest_name.c_str(),
                         fr.deletions.size(), uids.c_str());
        } else if (fr.vanished) {
            std::fprintf(o_.plan_out, "  %s: %llu message(s) expunged on the source stay (no --sync-deletes)\n", e.dest_name.c_str(),
                         static_cast<unsigned long long>(fr.vanished));
        }
        if (fr.flags_updated) {
            std::fprintf(o_.plan_out, "  update flags in %s: %llu message(s)\n", e.dest_name.c_str(),
                         static_cast<unsigned long long>(fr.flags_updated));
        }
    }

    // Takes out of plan.to_copy what the profile does not send (too large, empty), replaces an INTERNALDATE
    // that is unusable or that it would refuse by the message's Date field (or none: choose_append_date), and
    // reports both. Under generic, a message over the server's APPENDLIMIT also stays a
    // failure, as it always was. Returns how many messages were kept back.
    static std::size_t apply_profile(const dest_profile& profile, copy_plan& plan, folder_report& fr) {
        std::vector<source_message> send;
        std::size_t kept_back = 0;
        const std::int64_t now = std::time(nullptr);
        for (auto& m : plan.to_copy) {
            const auto d = decide_message(profile, m.size, m.internaldate);
            if (d.what != message_decision::action::send) {
                ++kept_back;
                plan.bytes_to_copy -= m.size;
                if (d.what == message_decision::action::empty) {
                    fr.empty_skipped.push_back(m.uid);
                    continue;
                }
                fr.too_large.push_back({m.uid, m.size, *profile.max_message_size});
                if (profile.kind != dest_profile_kind::carbonio) {
                    fr.failed.push_back({m.uid, fmt::format("{} bytes is over the destination's {} of {} bytes; not attempted", m.size,
                                                            profile.max_from_appendlimit ? "APPENDLIMIT" : "--max-message-size",
                                                            *profile.max_message_size)});
                }
                continue;
            }
            // issue 16: an INTERNALDATE the source lost or the destination refuses gives way to the Date field.
            if (auto when = choose_append_date(profile, m.internaldate, m.header_date, now); when.from != append_date::source::internaldate) {
                fr.date_dropped.push_back({m.uid, std::move(m.internaldate), when.from, when.date, std::move(when.reason)});
                m.internaldate = std::move(when.date);
            }
            send.push_back(std::move(m));
        }
        plan.to_copy = std::move(send);
        return kept_back;
    }

    const account_pair& a_;
    // The state's account key. The --public job's folders are its own: under the user's key they would be
    // the personal job's "folders the source no longer lists" (renamed, or gone) and the other way round.
    const std::string state_key_ = job_label(a_.source_user, a_.scope);
    const job_options& o_;
    std::vector<connection_pair> pairs_;
    folder_plan plan_;
    bool planned_ = false;
    net::steady_timer* stage_ = nullptr;   // while run() prepares: cancelled when planned_ turns true and when prepare returns
    bool prepare_over_ = false;            // prepare returned
    bool prepared_ = false;                // ... true: the folders exist and the pairs copy
    double first_open_seconds_ = 0;        // the first pair's login, the slower side (pairs_worth)
    std::size_t pairs_worth_ = 1;          // the pairs that copy, set with the plan (pairs_worth)
    std::vector<std::optional<folder_report>> folders_;   // per plan entry, in plan order
    std::map<std::string, std::string> renamed_from_;    // source folders renamed since the last run: new -> old
    std::vector<folder_report> gone_;                    // source folders gone since the last run
    std::vector<bool> skip_;                              // per plan entry: refused, not copied
    std::vector<std::optional<async_session::folder_size>> sizes_;   // per plan entry, where known (read_sizes)
    std::set<std::string> shared_dest_names_;             // destination names more than one plan entry has
    std::size_t next_folder_ = 0;                         // the next plan entry a worker takes
    std::set<std::string> created_, subscribed_;
    bool folder_refused_ = false;
    bool interrupted_ = false;                            // a folder stopped early (stop_request.hpp)
    bool stop_ = false;                                   // the account failed: workers take no more folders
    append_guard guard_;   // the destination account's refusal policy, across reconnects and pairs
};

}  // namespace

net::awaitable<account_outcome> migrate_account(const account_pair& account, const job_options& options) {
    try {
        job j(account, options);
        co_return co_await j.run();
    } catch (const std::exception& e) {   // bad_alloc and the like: still one account's problem
        account_outcome out;
        out.report.source_user = account.source_user;
        out.report.dest_user = account.dest_user;
        out.report.ok = false;
        out.report.error = e.what();
        co_return out;
    }
}

net::awaitable<std::unique_ptr<async_session>> async_open_account_side(const account_pair& a, const job_options& o, account_side side,
                                                                       append_guard* guard) {
    const auto l = login_for(a, o, side);
    std::optional<dest_options> dest;
    if (!l.source) dest = dest_options{o.dest_profile, o.max_message_size, guard};
    std::optional<session_error> failed;
    try {
        const auto ex = co_await net::this_coro::executor;
        co_return co_await async_session::open(ex, l.where, l.who, dest);
    } catch (const session_error& e) {
        failed = named(l, o, e);
    }
    throw *failed;
}

}  // namespace arrival::engine
