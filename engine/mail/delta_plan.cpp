#include "engine/mail/delta_plan.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "engine/mail/dest_profile.hpp"
#include "protocol/imap/sequence_set.hpp"

namespace arrival::engine {

std::string flag_store::uid_set() const { return imap::encode_sequence_set(dst_uids); }

namespace {

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

std::vector<std::string> minus(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::vector<std::string> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

}  // namespace

delta_plan plan_delta(const std::vector<mapped_message>& map, const std::vector<source_flags>& changed,
                      const source_expunges& expunges, const permanent_flags& dest_flags, const delta_options& o) {
    delta_plan p;
    std::unordered_map<std::uint32_t, const mapped_message*> by_src;
    by_src.reserve(map.size());
    for (const auto& m : map) by_src.emplace(m.src_uid, &m);

    if (o.sync_flags) {
        // (add, flags) -> destination UIDs: messages with the same change share one command.
        std::map<std::pair<bool, std::vector<std::string>>, std::vector<std::uint32_t>> groups;
        for (const auto& c : changed) {
            const auto it = by_src.find(c.uid);
            if (it == by_src.end()) continue;
            const auto& m = *it->second;
            auto now_raw = c.flags;
            std::erase_if(now_raw, [](const std::string& f) { return f.size() == 7 && (f == "\\Recent" || f == "\\recent"); });
            if (sorted(now_raw) == sorted(m.flags)) continue;
            std::vector<flag_change> ignored;
            const auto before = sorted(adapt_flags(o.profile, o.dest_mailbox, m.flags, dest_flags, ignored));
            const auto after = sorted(adapt_flags(o.profile, o.dest_mailbox, now_raw, dest_flags, p.flag_changes));
            const auto add = minus(after, before);
            const auto remove = minus(before, after);
            p.snapshot.push_back({c.uid, sorted(now_raw)});
            if (add.empty() && remove.empty()) continue;   // a change the destination cannot hold (dropped keyword)
            ++p.flags_updated;
            if (!add.empty()) groups[{true, add}].push_back(m.dst_uid);
            if (!remove.empty()) groups[{false, remove}].push_back(m.dst_uid);
        }
        for (auto& [k, uids] : groups) {
            std::sort(uids.begin(), uids.end());
            for (std::size_t i = 0; i < uids.size(); i += o.store_batch_uids) {
                flag_store s;
                s.add = k.first;
                s.flags = k.second;
                s.dst_uids.assign(uids.begin() + static_cast<std::ptrdiff_t>(i),
                                  uids.begin() + static_cast<std::ptrdiff_t>(std::min(uids.size(), i + o.store_batch_uids)));
                p.stores.push_back(std::move(s));
            }
        }
        // Removals first: a flag moved from one keyword to another never shows both or neither for long.
        std::stable_sort(p.stores.begin(), p.stores.end(), [](const flag_store& a, const flag_store& b) { return !a.add && b.add; });
    }

    if (expunges.present || expunges.vanished) {
        const bool by_presence = expunges.present.has_value();
        std::vector<std::uint32_t> uids = by_presence ? *expunges.present : *expunges.vanished;
        std::sort(uids.begin(), uids.end());
        for (const auto& m : map) {
            if (std::binary_search(uids.begin(), uids.end(), m.src_uid) == by_presence) continue;
            p.vanished_src.push_back(m.src_uid);
            if (!m.ours) ++p.vanished_not_ours;
            if (!o.sync_deletes) continue;
            if (m.ours) p.expunge_dst.push_back(m.dst_uid);
            p.forget_src.push_back(m.src_uid);
        }
        std::sort(p.vanished_src.begin(), p.vanished_src.end());
        std::sort(p.expunge_dst.begin(), p.expunge_dst.end());
        std::sort(p.forget_src.begin(), p.forget_src.end());
        // A vanished message's flag change is moot.
        std::erase_if(p.snapshot, [&](const source_flags& s) { return std::binary_search(p.forget_src.begin(), p.forget_src.end(), s.uid); });
    }
    return p;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> match_by_key(std::vector<keyed_uid> source, std::vector<keyed_uid> dest) {
    auto by_uid = [](const keyed_uid& a, const keyed_uid& b) { return a.uid < b.uid; };
    std::sort(source.begin(), source.end(), by_uid);
    std::sort(dest.begin(), dest.end(), by_uid);
    std::map<dedupe_key, std::vector<std::uint32_t>> free;   // key -> destination UIDs not yet paired, ascending
    for (const auto& d : dest) free[d.key].push_back(d.uid);
    std::map<dedupe_key, std::size_t> used;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
    for (const auto& s : source) {
        const auto it = free.find(s.key);
        if (it == free.end()) continue;
        auto& n = used[s.key];
        if (n >= it->second.size()) continue;
        out.emplace_back(s.uid, it->second[n++]);
    }
    return out;
}

std::vector<mapped_message> fill_map_gaps(const std::vector<mapped_message>& map, const std::vector<source_message>& source,
                                          const std::vector<source_message>& dest) {
    std::unordered_map<std::uint32_t, std::uint32_t> have;   // source UID -> destination UID (0: none yet)
    std::unordered_map<std::uint32_t, bool> ours;            // entries without a destination UID keep their `ours`
    std::vector<std::uint32_t> taken;
    for (const auto& m : map) {
        have.emplace(m.src_uid, m.dst_uid);
        if (!m.dst_uid) ours.emplace(m.src_uid, m.ours);
        if (m.dst_uid) taken.push_back(m.dst_uid);
    }
    std::sort(taken.begin(), taken.end());
    std::vector<keyed_uid> s, d;
    std::unordered_map<std::uint32_t, const source_message*> by_uid;
    for (const auto& m : source) {
        const auto it = have.find(m.uid);
        if (it != have.end() && it->second != 0) continue;
        s.push_back({m.uid, m.key});
        by_uid.emplace(m.uid, &m);
    }
    for (const auto& m : dest) {
        if (!std::binary_search(taken.begin(), taken.end(), m.uid)) d.push_back({m.uid, m.key});
    }
    std::vector<mapped_message> out;
    for (const auto& [src, dst] : match_by_key(std::move(s), std::move(d))) {
        auto flags = by_uid.at(src)->flags;
        std::erase_if(flags, [](const std::string& f) { return f == "\\Recent"; });
        const auto o = ours.find(src);
        out.push_back({src, dst, sorted(std::move(flags)), o != ours.end() && o->second});
    }
    return out;
}

std::vector<flag_difference> flag_differences(const std::vector<source_message>& source, const std::vector<source_message>& dest,
                                              const permanent_flags& dest_flags, dest_profile_kind profile, std::string_view dest_mailbox) {
    std::vector<keyed_uid> s, d;
    std::unordered_map<std::uint32_t, const source_message*> src_by_uid, dst_by_uid;
    for (const auto& m : source) {
        s.push_back({m.uid, m.key});
        src_by_uid.emplace(m.uid, &m);
    }
    for (const auto& m : dest) {
        d.push_back({m.uid, m.key});
        dst_by_uid.emplace(m.uid, &m);
    }
    auto without_recent = [](std::vector<std::string> f) {
        std::erase_if(f, [](const std::string& x) { return x == "\\Recent"; });
        return f;
    };
    std::vector<flag_difference> out;
    for (const auto& [su, du] : match_by_key(std::move(s), std::move(d))) {
        std::vector<flag_change> ignored;
        auto expected = sorted(adapt_flags(profile, dest_mailbox, without_recent(src_by_uid.at(su)->flags), dest_flags, ignored));
        auto actual = sorted(without_recent(dst_by_uid.at(du)->flags));
        if (expected != actual) out.push_back({su, du, std::move(expected), std::move(actual)});
    }
    return out;
}

folder_changes plan_folder_changes(const std::vector<known_folder>& missing, const std::vector<known_folder>& unknown) {
    folder_changes out;
    auto count = [](const std::vector<known_folder>& v, std::uint32_t uv) {
        return std::count_if(v.begin(), v.end(), [&](const known_folder& f) { return f.uidvalidity == uv; });
    };
    for (const auto& m : missing) {
        const auto it = std::find_if(unknown.begin(), unknown.end(), [&](const known_folder& f) { return f.uidvalidity == m.uidvalidity; });
        if (m.uidvalidity != 0 && it != unknown.end() && count(unknown, m.uidvalidity) == 1 && count(missing, m.uidvalidity) == 1) {
            out.renames.push_back({m, *it});
        } else {
            out.gone.push_back(m);
        }
    }
    std::stable_sort(out.renames.begin(), out.renames.end(),
                     [](const folder_rename& a, const folder_rename& b) { return a.from.name.size() < b.from.name.size(); });
    return out;
}

}  // namespace arrival::engine
