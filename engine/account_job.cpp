#include "engine/account_job.hpp"

#include <chrono>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "engine/public_plan.hpp"

namespace arrival::engine {

namespace {

using clock_type = std::chrono::steady_clock;

double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

struct sessions {
    std::unique_ptr<imap_session> source;
    std::unique_ptr<imap_session> dest;
    void close() noexcept {
        if (source) source->logout();
        if (dest) dest->logout();
        source.reset();
        dest.reset();
    }
};

credentials credentials_for(const std::string& user, const secret_string& own, const std::string& admin, const secret_string& shared) {
    credentials c;
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

class job {
public:
    job(const account_pair& a, const job_options& o) : a_(a), o_(o) {}

    account_outcome run() {
        account_outcome out;
        auto& r = out.report;
        r.source_user = a_.source_user;
        r.dest_user = a_.dest_user;
        r.scope = a_.scope;
        const auto t0 = clock_type::now();
        if (o_.progress_sink) o_.progress_sink->account_started(job_label(a_.source_user, a_.scope));
        int attempt = 0;
        std::size_t resume_at = 0;   // index in the folder plan to continue from after a reconnect
        bool planned = false;
        try {
            if (o_.state && !o_.dry_run && unchanged_since_last_run(r)) {
                s_.close();
                r.seconds = since(t0);
                if (o_.progress_sink) o_.progress_sink->account_finished(job_label(a_.source_user, a_.scope));
                return out;
            }
        } catch (const std::exception&) {
            // Whatever went wrong is met again, and reported, on the full path below.
            s_.close();
            r.folders.clear();
        }
        while (true) {
            try {
                connect();
                if (!planned) {
                    plan(r);
                    planned = true;
                }
                for (; resume_at < plan_.entries.size(); ++resume_at) {
                    try {
                        migrate_folder(plan_.entries[resume_at], r);
                    } catch (const session_error& e) {
                        if (e.kind() != error_kind::refused) throw;
                        // The server refused something about this folder only (CREATE, SELECT): record it in
                        // its words and go on with the other folders; the account is not complete.
                        if (current_folder_open_) {
                            r.folders.back().note = e.what();
                            current_folder_open_ = false;
                        }
                        r.errors.push_back(fmt::format("folder '{}': {}", plan_.entries[resume_at].source_name, e.what()));
                        folder_refused_ = true;
                    }
                }
                break;
            } catch (const session_error& e) {
                s_.close();
                // Half-done folder reports are rebuilt when the folder is retried.
                if (!r.folders.empty() && current_folder_open_) {
                    r.folders.pop_back();
                    current_folder_open_ = false;
                }
                if (e.kind() == error_kind::transient && ++attempt < o_.max_attempts) {
                    std::this_thread::sleep_for(o_.backoff * (1 << (attempt - 1)));
                    continue;
                }
                r.ok = false;
                r.error = e.what();
                out.fatal_kind = e.kind();
                break;
            } catch (const std::exception& e) {
                s_.close();
                r.ok = false;
                r.error = e.what();
                break;
            }
        }
        s_.close();
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
        return out;
    }

private:
    void connect() {
        if (!s_.source) s_.source = open_side(true);   // may still be open from the rerun check
        if (!s_.dest) s_.dest = open_side(false);
    }

    // A rerun with nothing new: every selectable source folder (after --include/--exclude) completed before
    // with the UIDVALIDITY and UIDNEXT it has now. Costs one login, a LIST and one pipelined round of STATUS
    // on the source, and nothing on the destination.
    bool unchanged_since_last_run(account_report& r) {
        s_.source = open_side(true);
        const auto p = plan_scope(*s_.source, nullptr, o_.filter, a_.scope);   // only the selection matters here
        if (!p.errors.empty()) return false;
        std::vector<std::string> names;
        std::vector<folder_state> saved;
        for (const auto& e : p.entries) {
            if (e.source_name.empty() || !e.copy_messages) continue;
            auto s = o_.state->load(a_.source_user, e.source_name);
            if (!s || s->completed_uidnext == 0 || s->dest_folder.empty()) return false;
            names.push_back(e.source_name);
            saved.push_back(std::move(*s));
        }
        // Every STATUS in one round trip: on a WAN this is the whole cost of an unchanged account.
        const auto now = s_.source->status(names);
        std::vector<folder_report> folders;
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (now[i].uidvalidity != saved[i].uidvalidity || now[i].uidnext != saved[i].completed_uidnext) return false;
            folder_report f;
            f.source_folder = names[i];
            f.dest_folder = saved[i].dest_folder;
            f.note = "unchanged since the last run";
            folders.push_back(std::move(f));
        }
        r.folders = std::move(folders);
        return true;
    }

    std::unique_ptr<imap_session> open_side(bool source) {
        return open_account_side(a_, o_, source ? account_side::source : account_side::destination, &guard_);
    }

    void plan(account_report& r) {
        // The account's own folders, or the public namespace's for the --public job (engine/public_plan.hpp).
        plan_ = plan_scope(*s_.source, s_.dest.get(), o_.filter, a_.scope);
        for (const auto& e : plan_.errors) r.errors.push_back(e);
        r.other_users_folders = plan_.other_users;
        const auto& profile = s_.dest->profile();
        r.dest_profile = to_string(profile.kind);
        r.dest_profile_evidence = s_.dest->profile_evidence();
        r.max_message_size = profile.max_message_size;
        if (o_.plan_out) {
            std::fprintf(o_.plan_out, "account %s -> %s: %zu folder(s), %zu excluded\n", a_.source_user.c_str(),
                         a_.dest_user.c_str(), plan_.entries.size(), plan_.excluded.size());
        }
    }

    void migrate_folder(const folder_plan_entry& e, account_report& r) {
        const auto t0 = clock_type::now();
        folder_report f;
        f.source_folder = e.source_name;
        f.dest_folder = e.dest_name;
        f.note = e.note;
        f.renamed = e.renamed_by_profile;
        bool dest_exists = !e.create;
        if (e.create) {
            if (!o_.dry_run && !created_.count(e.dest_name)) {
                s_.dest->create(e.dest_name, e.use);
                created_.insert(e.dest_name);
                f.created = true;
            }
            dest_exists = !o_.dry_run;
        }
        if (e.subscribe && !o_.dry_run) s_.dest->subscribe(e.dest_name);
        if (!e.copy_messages || e.source_name.empty()) {
            if (o_.plan_out && e.create) std::fprintf(o_.plan_out, "  create %s\n", e.dest_name.c_str());
            if (!e.source_name.empty()) r.folders.push_back(std::move(f));
            return;
        }
        r.folders.push_back(std::move(f));
        current_folder_open_ = true;
        auto& fr = r.folders.back();

        const auto st = s_.source->examine(e.source_name);
        if (o_.state && !o_.dry_run) {
            const auto saved = o_.state->load(a_.source_user, e.source_name);
            if (saved && saved->uidvalidity == st.uidvalidity && saved->completed_uidnext != 0 &&
                saved->completed_uidnext == st.uidnext) {
                // Nothing arrived since this folder was completed: no fetch at all (cheap reruns).
                fr.seconds = since(t0);
                current_folder_open_ = false;
                return;
            }
            o_.state->begin_folder(a_.source_user, e.source_name, st.uidvalidity);
        }
        auto src_index = st.messages ? s_.source->fetch_index(1, true) : std::vector<source_message>{};
        key_multiset dest_keys;
        permanent_flags dest_flags;
        if (dest_exists) {
            const auto dst = s_.dest->select(e.dest_name);
            dest_flags = permanent_flags(dst.permanent_flags);
            if (dst.messages) {
                for (const auto& m : s_.dest->fetch_index(1, false)) dest_keys.add(m.key);
            }
        }
        auto plan = plan_copies(std::move(src_index), std::move(dest_keys), o_.collapse_duplicates);
        fr.skipped_duplicate = plan.skipped_duplicate;

        // What the destination profile keeps back or changes (engine/dest_profile.hpp), before any body is read.
        const auto not_sent = apply_profile(s_.dest->profile(), plan, fr);
        if (o_.plan_out) {
            std::fprintf(o_.plan_out, "  %s%s -> %s: %zu to copy (%s), %llu already there%s\n", e.create ? "create, " : "",
                         e.source_name.c_str(), e.dest_name.c_str(), plan.to_copy.size(), human_bytes(plan.bytes_to_copy).c_str(),
                         static_cast<unsigned long long>(plan.skipped_duplicate),
                         not_sent == 0 ? "" : fmt::format(", {} kept back by the destination profile", not_sent).c_str());
        }
        if (o_.dry_run) {
            current_folder_open_ = false;
            fr.seconds = since(t0);
            return;
        }
        if (o_.progress_sink) o_.progress_sink->add_expected(plan.to_copy.size(), plan.bytes_to_copy);
        if (o_.state && plan.skipped_duplicate) {
            o_.state->record(a_.source_user, e.source_name, {.highest_uid = 0, .copied = 0, .skipped_duplicate = plan.skipped_duplicate, .failed = 0, .bytes = 0});
        }
        if (!plan.to_copy.empty()) {
            if (!dest_exists) s_.dest->select(e.dest_name);
            run_message_pipeline(*s_.source, *s_.dest, e.dest_name, plan.to_copy, dest_flags, o_.pipeline, fr,
                                 [&](const batch_outcome& b) {
                                     if (o_.state) {
                                         o_.state->record(a_.source_user, e.source_name,
                                                          {.highest_uid = b.highest_uid, .copied = b.copied, .skipped_duplicate = 0,
                                                           .failed = b.failed, .bytes = b.bytes});
                                     }
                                     if (o_.progress_sink) o_.progress_sink->add_done(b.copied + b.failed, b.bytes);
                                 });
        }
        // A folder with refused or kept-back messages is not complete: the next run looks at them again (and
        // sends them once the destination's limit allows).
        if (o_.state && fr.failed.empty() && not_sent == 0) o_.state->complete_folder(a_.source_user, e.source_name, st.uidnext, e.dest_name);
        fr.seconds = since(t0);
        current_folder_open_ = false;
    }

    // Takes out of plan.to_copy what the profile does not send (too large, empty), strips the INTERNALDATE
    // it would refuse, and reports both. Under generic, a message over the server's APPENDLIMIT also stays a
    // failure, as it always was. Returns how many messages were kept back.
    static std::size_t apply_profile(const dest_profile& profile, copy_plan& plan, folder_report& fr) {
        std::vector<source_message> send;
        std::size_t kept_back = 0;
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
                if (profile.kind == dest_profile_kind::generic) {
                    fr.failed.push_back({m.uid, fmt::format("{} bytes is over the destination's {} of {} bytes; not attempted", m.size,
                                                            profile.max_from_appendlimit ? "APPENDLIMIT" : "--max-message-size",
                                                            *profile.max_message_size)});
                }
                continue;
            }
            if (d.drop_internaldate) {
                fr.date_dropped.push_back({m.uid, m.internaldate});
                m.internaldate.clear();
            }
            send.push_back(std::move(m));
        }
        plan.to_copy = std::move(send);
        return kept_back;
    }

    const account_pair& a_;
    const job_options& o_;
    sessions s_;
    folder_plan plan_;
    std::set<std::string> created_;
    bool current_folder_open_ = false;
    bool folder_refused_ = false;
    append_guard guard_;   // the destination account's refusal policy, across reconnects
};

}  // namespace

account_outcome run_account_outcome(const account_pair& account, const job_options& options) noexcept {
    try {
        return job(account, options).run();
    } catch (const std::exception& e) {   // bad_alloc and the like: still one account's problem
        account_outcome out;
        out.report.source_user = account.source_user;
        out.report.dest_user = account.dest_user;
        out.report.ok = false;
        out.report.error = e.what();
        return out;
    }
}

account_report run_account(const account_pair& account, const job_options& options) noexcept {
    return run_account_outcome(account, options).report;
}

std::unique_ptr<imap_session> open_account_side(const account_pair& a, const job_options& o, account_side side, append_guard* guard) {
    const bool source = side == account_side::source;
    const auto& user = source ? a.source_user : a.dest_user;
    const auto c = source ? credentials_for(a.source_user, a.source_password, o.source_admin, o.source_password)
                          : credentials_for(a.dest_user, a.dest_password, o.dest_admin, o.dest_password);
    const auto& ep = source ? o.source : o.dest;
    try {
        const dest_options dest{o.dest_profile, o.max_message_size, guard};
        return imap_session::open(with_host(ep, source ? a.source_host : a.dest_host), c, source ? nullptr : &dest);
    } catch (const session_error& e) {
        throw session_error(e.kind(), fmt::format("{} {} as {}: {}", source ? "source" : "destination", ep.url, user, e.what()));
    }
}

}  // namespace arrival::engine
