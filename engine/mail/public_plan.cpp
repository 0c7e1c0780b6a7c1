#include "engine/mail/public_plan.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/mail/when_all.hpp"

namespace arrival::engine {

namespace {

std::string describe(const std::vector<folder_namespace>& all) {
    std::string out;
    for (const auto& ns : all) {
        if (!out.empty()) out += ", ";
        out += fmt::format("'{}'", ns.prefix);
    }
    return out;
}

// The side's namespaces as its NAMESPACE reply gives them (engine/mail/namespace_map.hpp).
namespace_map namespaces_of(const side_view& s) {
    return namespace_map({s.personal}, s.other_users, s.shared);
}

// The personal plan of `boxes` onto the destination; other users' folders are listed as theirs.
folder_plan plan_personal_boxes(const std::vector<mailbox_entry>& boxes, const namespace_map& src, const std::vector<mailbox_entry>& dst_boxes,
                                const folder_namespace& dst_ns, const folder_filter& filter, dest_profile_kind profile) {
    const namespace_place personal{namespace_kind::personal, 0};
    auto plan = plan_folders(src.entries_in(boxes, personal), src.personal(), dst_boxes, dst_ns, filter, true, profile);
    plan.other_users = src.names_in(boxes, namespace_kind::other_users);
    return plan;
}

folder_plan plan_personal(const side_view& source, const side_view* dest, const folder_filter& filter) {
    const auto src = namespaces_of(source);
    if (!dest) return plan_personal_boxes(source.boxes, src, {}, src.personal(), filter, dest_profile_kind::generic);
    const auto dst = namespaces_of(*dest);
    const auto dst_boxes = dst.entries_in(dest->boxes, {namespace_kind::personal, 0});
    // The destination's profile renames what it would refuse (engine/mail/dest_profile.hpp).
    return plan_personal_boxes(source.boxes, src, dst_boxes, dst.personal(), filter, dest->profile);
}

}  // namespace

folder_plan plan_personal_onto(const side_view& source, const folder_namespace& dest_ns, dest_profile_kind profile,
                               const folder_filter& filter) {
    return plan_personal_boxes(source.boxes, namespaces_of(source), {}, dest_ns, filter, profile);
}

namespace {

folder_plan plan_shared(const side_view& source, const side_view* dest, const folder_filter& filter) {
    const auto src = namespaces_of(source);
    const auto& src_shared = src.shared();
    if (src_shared.empty()) {
        throw std::runtime_error("--public: the source server has no shared namespace (NAMESPACE lists none): no public folders to migrate");
    }
    // The first shared namespace is the public one on every server we know (Dovecot, Cyrus, Zimbra); more
    // than one is reported rather than merged, since two trees landing in one could collide. Its prefix may
    // be empty (Cyrus's classic namespace): the classifier still tells its folders from private ones.
    const auto& src_ns = src_shared.front();
    const auto& boxes = source.boxes;
    folder_plan plan;
    if (!dest) {
        plan = plan_public_folders(boxes, src, {}, src, filter);
    } else {
        const auto dst = namespaces_of(*dest);
        if (dst.shared().empty()) {
            throw std::runtime_error(fmt::format("--public: the destination server has no shared namespace (NAMESPACE lists none): "
                                                 "the source's public folders under '{}' have nowhere to go",
                                                 src_ns.prefix));
        }
        plan = plan_public_folders(boxes, src, dest->boxes, dst, filter);
    }
    if (src_shared.size() > 1) {
        plan.errors.push_back(fmt::format("the source has {} shared namespaces ({}); only the first, '{}', is migrated",
                                          src_shared.size(), describe(src_shared), src_ns.prefix));
    }
    return plan;
}

}  // namespace

account_pair public_job_account(const std::vector<account_pair>& accounts, const std::string& acting, bool has_run_wide_passwords) {
    account_pair p;
    if (acting.empty()) {
        if (accounts.empty()) throw std::invalid_argument("--public: the accounts file lists no account to log in as; give --public-account USER");
        p = accounts.front();
    } else {
        const auto it = std::find_if(accounts.begin(), accounts.end(), [&](const account_pair& a) { return a.source_user == acting; });
        if (it != accounts.end()) {
            p = *it;
        } else if (has_run_wide_passwords) {
            p.source_user = p.dest_user = acting;
        } else {
            throw std::invalid_argument(fmt::format("--public-account {}: not in the accounts file, and no admin or shared password "
                                                    "(--source-password-file/--dest-password-file) to log in with",
                                                    acting));
        }
    }
    p.scope = folder_scope::shared;
    return p;
}

folder_plan plan_scope(const side_view& source, const side_view* dest, const folder_filter& filter, folder_scope scope) {
    return scope == folder_scope::shared ? plan_shared(source, dest, filter) : plan_personal(source, dest, filter);
}

boost::asio::awaitable<side_view> read_side(async_session& s) {
    side_view v;
    // NAMESPACE (asked once, kept by the session) and LIST in one round trip. (At 1bfedd7 the two in flight
    // together failed with "tagged reply for a tag we never sent": an io_context run by two threads, see
    // engine/mail/scheduler.cpp; each has one thread now.)
    co_await for_each_concurrently(2, [&](std::size_t k) -> boost::asio::awaitable<void> {
        if (k == 1) {
            v.boxes = co_await s.list();
            co_return;
        }
        v.personal = co_await s.personal_namespace();
        v.shared = co_await s.shared_namespaces();
        v.other_users = co_await s.other_users_namespaces();
    });
    v.profile = s.profile().kind;
    co_return v;
}

}  // namespace arrival::engine
