#include "engine/mail/delta_sync.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "protocol/imap/connection.hpp"
#include "protocol/imap/sequence_set.hpp"

namespace arrival::engine {

namespace net = boost::asio;
using boost::system::error_code;

namespace {

// Collects UID and FLAGS of each FETCH; no body items are asked for. Unsolicited FETCHes without a UID (another
// client's flag change announced in passing) are not part of the answer.
class flags_sink final : public imap::fetch_handler {
public:
    explicit flags_sink(std::vector<source_flags>& out) : out_(out) {}
    error_code on_body_begin(const imap::fetch_part&, std::uint64_t) override { return {}; }
    error_code on_body_chunk(std::string_view) override { return {}; }
    error_code on_body_end() override { return {}; }
    error_code on_fetch(const imap::fetch_record& rec) override {
        if (!rec.uid || !rec.has_flags) return {};
        source_flags f;
        f.uid = *rec.uid;
        for (auto x : rec.flags) {
            if (x != "\\Recent") f.flags.emplace_back(x);
        }
        out_.push_back(std::move(f));
        return {};
    }

private:
    std::vector<source_flags>& out_;
};

}  // namespace

net::awaitable<error_code> read_source_changes(imap::connection& c, const std::string& folder, std::uint64_t since,
                                               std::uint32_t max_uid, bool want_present, source_changes& out) {
    error_code ec;
    const bool condstore = c.has_capability("CONDSTORE");
    if (condstore) {
        const std::string_view items[] = {"HIGHESTMODSEQ"};
        const auto st = co_await c.async_status(folder, items, ec);
        if (ec) co_return ec;
        out.highestmodseq = st.highestmodseq.value_or(0);
        if (max_uid == 0) co_return ec;
        if (since != 0 && out.highestmodseq == since) {
            out.unchanged = true;
            if (!want_present) co_return ec;
        }
    } else if (max_uid == 0) {
        co_return ec;
    }
    // RFC 7162 §3.2.6: VANISHED needs QRESYNC enabled (ENABLE belongs before a mailbox is selected, but servers
    // need not check: a refusal only costs the VANISHED path).
    bool qresync = condstore && since != 0 && !want_present && c.has_capability("QRESYNC");
    if (qresync && !c.session().is_enabled("QRESYNC")) {
        const std::string_view cap[] = {"QRESYNC"};
        (void)co_await c.async_enable(cap, ec);
        if (ec && (imap::is_fatal(ec) || imap::is_transient(ec))) co_return ec;
        ec = {};
        qresync = c.session().is_enabled("QRESYNC");
    }
    (void)co_await c.async_select(folder, true, ec);
    if (ec) co_return ec;
    const auto range = imap::encode_range(1, max_uid);
    flags_sink sink(out.changed);
    if (qresync) {
        std::vector<imap::seq_range> gone;
        co_await c.async_uid_fetch_changedsince(range, "(UID FLAGS)", since, sink, ec, &gone);
        if (ec) co_return ec;
        std::vector<std::uint32_t> uids;
        for (const auto& r : gone) {
            for (std::uint64_t u = r.first; u <= std::min(r.last, max_uid); ++u) uids.push_back(static_cast<std::uint32_t>(u));
        }
        out.expunges.vanished = std::move(uids);
        out.via = expunge_source::vanished;
    } else if (condstore && since != 0) {
        if (!out.unchanged) co_await c.async_uid_fetch_changedsince(range, "(UID FLAGS)", since, sink, ec);
        if (ec) co_return ec;
        const auto criteria = "UID " + range;
        out.expunges.present = co_await c.async_uid_search(criteria, ec);
        out.via = expunge_source::search;
    } else {
        // No CONDSTORE (or no HIGHESTMODSEQ from the last run): every flag, compared with the snapshot.
        co_await c.async_uid_fetch(range, "(UID FLAGS)", sink, ec);
        std::vector<std::uint32_t> uids;
        uids.reserve(out.changed.size());
        for (const auto& m : out.changed) uids.push_back(m.uid);
        out.expunges.present = std::move(uids);
        out.via = expunge_source::full_read;
    }
    co_return ec;
}

net::awaitable<error_code> apply_delta_plan(imap::connection& c, const std::string& dest_folder, const delta_plan& p, delta_applied& out) {
    error_code ec;
    if (p.stores.empty() && p.expunge_dst.empty()) co_return ec;
    (void)co_await c.async_select(dest_folder, false, ec);
    if (ec) co_return ec;
    for (const auto& s : p.stores) {
        std::vector<std::string_view> flags(s.flags.begin(), s.flags.end());
        const auto set = s.uid_set();
        co_await c.async_uid_store(set, s.add ? "+FLAGS.SILENT" : "-FLAGS.SILENT", flags, ec);
        if (ec) co_return ec;
        ++out.stores;
    }
    if (p.expunge_dst.empty()) co_return ec;
    if (!c.has_capability("UIDPLUS")) {
        out.expunge_refused = true;
        co_return ec;
    }
    const auto set = imap::encode_sequence_set(p.expunge_dst);
    const std::string_view deleted[] = {"\\Deleted"};
    co_await c.async_uid_store(set, "+FLAGS.SILENT", deleted, ec);
    if (ec) co_return ec;
    co_await c.async_uid_expunge(set, ec);
    if (ec) co_return ec;
    out.expunged = p.expunge_dst.size();
    co_return ec;
}

void record_map_gaps(state_store& state, const std::string& account, const std::string& source_folder,
                     const std::vector<source_message>& source, const std::vector<source_message>& dest) {
    const auto map = state.load_map(account, source_folder);
    state.add_map(account, source_folder, fill_map_gaps(map, source, dest), true);
}

net::awaitable<void> sync_folder_changes(async_session& source, async_session& dest, const std::string& source_folder,
                                         const std::string& dest_folder, delta_settings s, state_store& state, const std::string& account,
                                         folder_report& report) {
    const auto saved = state.load(account, source_folder);
    auto map = state.load_map(account, source_folder);
    std::erase_if(map, [](const mapped_message& m) { return m.dst_uid == 0; });   // not mapped (yet): nothing to change
    std::uint32_t max_uid = 0;
    for (const auto& m : map) max_uid = std::max(max_uid, m.src_uid);
    if (!s.sync_flags && !s.sync_deletes) max_uid = 0;   // only HIGHESTMODSEQ is kept up to date

    source_changes ch;
    const std::uint64_t since = saved ? saved->highestmodseq : 0;
    const bool want_present = s.sync_deletes && saved && saved->vanished > 0;
    if (const auto ec = co_await read_source_changes(source.connection(), source_folder, since, max_uid, want_present, ch)) {
        source.throw_error(ec, fmt::format("reading the changes of '{}'", source_folder));
    }
    report.changes_read_by = to_string(ch.via);
    const bool asked = ch.expunges.present || ch.expunges.vanished;
    if (ch.changed.empty() && !asked) {
        if (!s.dry_run && ch.highestmodseq && ch.highestmodseq != since) state.apply_delta(account, source_folder, {}, {}, ch.highestmodseq);
        co_return;
    }
    // PERMANENTFLAGS decide which keywords the destination takes; only flag changes need them.
    permanent_flags dest_flags;
    if (!ch.changed.empty()) {
        const auto sel = co_await dest.select(dest_folder);
        dest_flags = permanent_flags(sel.permanent_flags, dest.profile().kind);
    }
    delta_options o;
    o.sync_flags = s.sync_flags;
    o.sync_deletes = s.sync_deletes;
    o.profile = dest.profile().kind;
    o.dest_mailbox = dest_folder;
    const auto plan = plan_delta(map, ch.changed, ch.expunges, dest_flags, o);
    report.flags_updated = plan.flags_updated;
    for (const auto& c : plan.flag_changes) ++report.flags_changed[{c.from, c.to, c.reason}];
    report.vanished = plan.vanished_src.size();
    std::vector<folder_report::deletion> deletions;
    for (const auto& m : map) {
        if (m.ours && std::binary_search(plan.expunge_dst.begin(), plan.expunge_dst.end(), m.dst_uid)) deletions.push_back({m.src_uid, m.dst_uid});
    }
    if (s.dry_run) {
        report.deletions = std::move(deletions);   // what would be deleted; `deleted` stays 0
        co_return;
    }
    delta_applied done;
    if (const auto ec = co_await apply_delta_plan(dest.connection(), dest_folder, plan, done)) {
        dest.throw_error(ec, fmt::format("applying the changes to '{}'", dest_folder));
    }
    report.deleted = done.expunged;
    std::vector<std::uint32_t> forget = plan.forget_src;
    if (done.expunge_refused) {
        forget.clear();
        report.note += fmt::format("{}{} message(s) expunged on the source kept: the destination has no UIDPLUS (UID EXPUNGE)",
                                   report.note.empty() ? "" : "; ", plan.expunge_dst.size());
    } else {
        report.deletions = std::move(deletions);
    }
    if (plan.vanished_not_ours && s.sync_deletes) {
        report.note += fmt::format("{}{} message(s) expunged on the source were not deleted: arrival did not put their destination copy there",
                                   report.note.empty() ? "" : "; ", plan.vanished_not_ours);
    }
    // Expunged on the source, still mapped (kept on the destination): a later --sync-deletes run looks for them
    // with a UID SEARCH. VANISHED names only what went since the last run, so the earlier ones are added.
    std::optional<std::uint64_t> kept;
    if (asked) kept = plan.vanished_src.size() - forget.size();
    if (kept && ch.via == expunge_source::vanished && saved) *kept += saved->vanished;
    state.apply_delta(account, source_folder, plan.snapshot, forget,
                      ch.highestmodseq ? std::optional<std::uint64_t>(ch.highestmodseq) : std::nullopt, kept);
}

std::string_view to_string(expunge_source s) noexcept {
    switch (s) {
        case expunge_source::none: return "";
        case expunge_source::vanished: return "vanished";
        case expunge_source::search: return "search";
        case expunge_source::full_read: return "full_read";
    }
    return "";
}

namespace {

std::set<std::string> listed_names(const folder_plan& plan) {
    std::set<std::string> listed(plan.excluded.begin(), plan.excluded.end());
    for (const auto& e : plan.entries) {
        if (!e.source_name.empty()) listed.insert(e.source_name);
    }
    return listed;
}

std::string with_note(const std::string& note, const std::string& more) { return note.empty() ? more : note + "; " + more; }

// A gone folder's destination copy, deleted only when every message in it is one arrival put there.
net::awaitable<void> delete_if_only_ours(async_session& dest, state_store& state, const std::string& account, known_folder f,
                                         folder_report& fr) {
    std::set<std::uint32_t> ours;
    for (const auto& m : state.load_map(account, f.name)) {
        if (m.ours && m.dst_uid) ours.insert(m.dst_uid);
    }
    auto& c = dest.connection();
    error_code ec;
    (void)co_await c.async_select(f.dest_folder, true, ec);
    std::vector<std::uint32_t> there;
    if (!ec) there = co_await c.async_uid_search("ALL", ec);
    if (ec) {
        if (imap::is_fatal(ec) || imap::is_transient(ec)) dest.throw_error(ec, fmt::format("reading '{}'", f.dest_folder));
        state.forget_folder(account, f.name);   // not on the destination either
        fr.note = with_note(fr.note, "not on the destination either");
        co_return;
    }
    const auto foreign = std::count_if(there.begin(), there.end(), [&](std::uint32_t u) { return !ours.count(u); });
    if (foreign > 0) {
        fr.note = with_note(fr.note, fmt::format("kept on the destination: it holds {} message(s) arrival did not copy", foreign));
        co_return;
    }
    // Nothing may stay selected in a mailbox that is being deleted.
    (void)co_await c.async_select("INBOX", true, ec);
    co_await c.async_delete(f.dest_folder, ec);
    if (ec) dest.throw_error(ec, fmt::format("DELETE '{}'", f.dest_folder));
    fr.deleted = there.size();
    state.forget_folder(account, f.name);
    fr.note = with_note(fr.note, "deleted on the destination too (--sync-deletes)");
}

}  // namespace

bool state_has_unlisted_folders(const std::vector<std::pair<std::string, folder_state>>& known, const folder_plan& plan) {
    const auto listed = listed_names(plan);
    for (const auto& [name, st] : known) {
        if (!listed.count(name)) return true;
    }
    return false;
}

net::awaitable<folder_sync_result> sync_folders(async_session& source, async_session& dest, folder_plan& plan, delta_settings s,
                                                state_store& state, const std::string& account) {
    folder_sync_result out;
    const auto listed = listed_names(plan);
    std::vector<known_folder> missing;
    std::set<std::string> known;
    for (const auto& [name, st] : state.load_account(account)) {
        known.insert(name);
        if (!listed.count(name)) missing.push_back({name, st.uidvalidity, st.dest_folder});
    }
    if (missing.empty()) co_return out;
    std::vector<std::string> names;
    std::vector<folder_plan_entry*> entries;
    for (auto& e : plan.entries) {
        if (e.source_name.empty() || !e.copy_messages || known.count(e.source_name)) continue;
        names.push_back(e.source_name);
        entries.push_back(&e);
    }
    std::vector<folder_status> status;
    if (!names.empty()) status = co_await source.status(names);
    std::vector<known_folder> unknown;
    for (std::size_t i = 0; i < names.size(); ++i) unknown.push_back({names[i], status[i].uidvalidity, entries[i]->dest_name});
    const auto changes = plan_folder_changes(missing, unknown);

    for (const auto& r : changes.renames) {
        out.renamed_from[r.to.name] = r.from.name;
        if (s.dry_run) continue;
        if (r.from.dest_folder != r.to.dest_folder) {
            auto& c = dest.connection();
            error_code ec;
            co_await c.async_rename(r.from.dest_folder, r.to.dest_folder, ec);
            if (ec) {
                if (imap::is_fatal(ec) || imap::is_transient(ec)) dest.throw_error(ec, fmt::format("RENAME '{}' to '{}'", r.from.dest_folder, r.to.dest_folder));
                const std::string why = c.diag().to_string();
                // Its parent's RENAME already moved it (Dovecot renames the children with the parent).
                const auto list = co_await dest.list();
                if (std::none_of(list.begin(), list.end(), [&](const mailbox_entry& m) { return m.name == r.to.dest_folder; })) {
                    throw session_error(error_kind::refused, fmt::format("RENAME '{}' to '{}' failed: {}", r.from.dest_folder, r.to.dest_folder, why));
                }
            }
        }
        state.rename_folder(account, r.from.name, r.to.name, r.to.dest_folder);
        for (auto* e : entries) {
            if (e->source_name == r.to.name) e->create = false;
        }
    }
    for (const auto& g : changes.gone) {
        folder_report fr;
        fr.source_folder = g.name;
        fr.dest_folder = g.dest_folder;
        fr.deleted_on_source = true;
        fr.note = "gone from the source";
        if (s.sync_deletes && !s.dry_run) {
            co_await delete_if_only_ours(dest, state, account, g, fr);
        } else {
            fr.note = with_note(fr.note, "kept on the destination (--sync-deletes deletes it when it holds only what arrival copied)");
        }
        out.gone.push_back(std::move(fr));
    }
    co_return out;
}

}  // namespace arrival::engine
