#include "engine/public_plan.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>


namespace arrival::engine {

namespace {

std::string describe(const std::vector<namespace_info>& all) {
    std::string out;
    for (const auto& ns : all) {
        if (!out.empty()) out += ", ";
        out += fmt::format("'{}'", ns.prefix);
    }
    return out;
}

// Every namespace that is not the side's own: other users' and the shared ones (RFC 2342 §4).
std::vector<namespace_info> not_personal(const side_view& s) {
    auto out = s.other_users;
    for (const auto& ns : s.shared) out.push_back(ns);
    return out;
}

folder_plan plan_personal(const side_view& source, const side_view* dest, const folder_filter& filter) {
    const auto src_boxes = outside_namespaces(source.boxes, not_personal(source));
    if (!dest) return plan_folders(src_boxes, source.personal, {}, source.personal, filter);
    const auto dst_boxes = outside_namespaces(dest->boxes, not_personal(*dest));
    // The destination's profile renames what it would refuse (engine/dest_profile.hpp).
    return plan_folders(src_boxes, source.personal, dst_boxes, dest->personal, filter, true, dest->profile);
}

}  // namespace

folder_plan plan_personal_onto(imap_session& source, const namespace_info& dest_ns, dest_profile_kind profile,
                               const folder_filter& filter) {
    const auto src = read_side(source);
    const auto src_boxes = outside_namespaces(src.boxes, not_personal(src));
    return plan_folders(src_boxes, src.personal, {}, dest_ns, filter, true, profile);
}

namespace {

folder_plan plan_shared(const side_view& source, const side_view* dest, const folder_filter& filter) {
    const auto& src_shared = source.shared;
    if (src_shared.empty()) {
        throw std::runtime_error("--public: the source server has no shared namespace (NAMESPACE lists none): no public folders to migrate");
    }
    // The first shared namespace is the public one on every server we know (Dovecot, Cyrus, Zimbra); more
    // than one is reported rather than merged, since two trees landing in one could collide.
    const auto& src_ns = src_shared.front();
    const auto& boxes = source.boxes;
    folder_plan plan;
    if (!dest) {
        plan = plan_public_folders(boxes, src_ns, {}, src_ns, filter);
    } else {
        const auto& dst_shared = dest->shared;
        if (dst_shared.empty()) {
            throw std::runtime_error(fmt::format("--public: the destination server has no shared namespace (NAMESPACE lists none): "
                                                 "the source's public folders under '{}' have nowhere to go",
                                                 src_ns.prefix));
        }
        plan = plan_public_folders(boxes, src_ns, dest->boxes, dst_shared.front(), filter);
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

folder_plan plan_scope(imap_session& source, imap_session* dest, const folder_filter& filter, folder_scope scope) {
    const auto src = read_side(source);
    if (!dest) return plan_scope(src, nullptr, filter, scope);
    const auto dst = read_side(*dest);
    return plan_scope(src, &dst, filter, scope);
}

side_view read_side(imap_session& s) {
    side_view v;
    v.personal = s.personal_namespace();
    v.shared = s.shared_namespaces();
    v.other_users = s.other_users_namespaces();
    v.boxes = s.list();
    v.profile = s.profile().kind;
    return v;
}

// One command after the other: with NAMESPACE and LIST in flight together, protocol/connection.cpp (at
// 1bfedd7) failed the NAMESPACE with "tagged reply for a tag we never sent or already completed".
boost::asio::awaitable<side_view> read_side(async_session& s) {
    side_view v;
    v.personal = co_await s.personal_namespace();
    v.shared = co_await s.shared_namespaces();
    v.other_users = co_await s.other_users_namespaces();
    v.boxes = co_await s.list();
    v.profile = s.profile().kind;
    co_return v;
}

}  // namespace arrival::engine
