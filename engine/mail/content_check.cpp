#include "engine/mail/content_check.hpp"

#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace arrival::engine {
namespace {

struct md_ctx_free {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

scanned_body scan_one(std::uint32_t uid, const body_buffer& body) {
    scanned_body out;
    out.uid = uid;
    out.size = body.size();
    const std::unique_ptr<EVP_MD_CTX, md_ctx_free> md(EVP_MD_CTX_new());
    if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) throw std::runtime_error("SHA-256 is not available (OpenSSL)");
    content_scanner scanner;
    body.for_each_chunk([&](std::string_view chunk) {
        scanner.feed(chunk);
        EVP_DigestUpdate(md.get(), chunk.data(), chunk.size());
    });
    unsigned int n = 0;
    EVP_DigestFinal_ex(md.get(), out.digest.data(), &n);
    out.findings = scanner.finish();
    return out;
}

}  // namespace

boost::asio::awaitable<void> scan_bodies(async_session& session, const std::vector<std::pair<std::uint32_t, std::uint64_t>>& messages,
                                         const body_batch_limits& limits, const std::function<void(scanned_body&&)>& each) {
    for (std::size_t i = 0; i < messages.size();) {
        // One batch: at least one message, then while both limits hold.
        std::vector<std::uint32_t> uids;
        std::uint64_t bytes = 0;
        while (i < messages.size() && (uids.empty() || (uids.size() < limits.batch_messages && bytes + messages[i].second <= limits.batch_bytes))) {
            uids.push_back(messages[i].first);
            bytes += messages[i].second;
            ++i;
        }
        // UID -> its buffer, in the order the server delivers them (a UID that vanished is never asked for).
        std::map<std::uint32_t, body_buffer> bodies;
        // Named: g++ 12 destroys a temporary in a co_await expression twice.
        const async_session::body_target into_bodies = [&](std::uint32_t uid, std::uint64_t size) -> body_buffer& {
            auto [it, fresh] = bodies.try_emplace(uid, limits.spill_threshold, limits.spill_dir);
            if (!fresh) it->second = body_buffer(limits.spill_threshold, limits.spill_dir);   // sent twice: the last copy counts
            it->second.begin(size);   // a body past the threshold goes straight to its spill file
            return it->second;
        };
        co_await session.fetch_bodies(uids, into_bodies);
        for (auto& [uid, body] : bodies) each(scan_one(uid, body));
    }
}

void folder_content::add(std::uint32_t uid, const content_findings& f) {
    ++scanned;
    if (f.clean()) return;
    ++with_traits;
    for (const content_trait t : all_content_traits) {
        if (f.has(t)) uids[t].push_back(uid);
    }
    if (examples.size() < examples_per_folder) examples.push_back({uid, f.describe()});
}

nlohmann::json to_json(const folder_content& c) {
    nlohmann::json traits = nlohmann::json::object();
    for (const auto& [t, uids] : c.uids) traits[std::string(to_string(t))] = {{"count", uids.size()}, {"uids", uids}};
    nlohmann::json examples = nlohmann::json::array();
    for (const auto& e : c.examples) examples.push_back({{"uid", e.uid}, {"detail", e.detail}});
    return {{"account", c.account}, {"folder", c.folder},       {"scanned", c.scanned},
            {"with_traits", c.with_traits}, {"traits", std::move(traits)}, {"examples", std::move(examples)}};
}

nlohmann::json content_totals(const std::vector<const folder_content*>& folders) {
    std::uint64_t scanned = 0, with_traits = 0;
    std::map<content_trait, std::uint64_t> counts;
    for (const auto* f : folders) {
        scanned += f->scanned;
        with_traits += f->with_traits;
        for (const auto& [t, uids] : f->uids) counts[t] += uids.size();
    }
    nlohmann::json traits = nlohmann::json::object();
    for (const content_trait t : all_content_traits) traits[std::string(to_string(t))] = counts[t];
    return {{"scanned", scanned}, {"with_traits", with_traits}, {"traits", std::move(traits)}};
}

std::string describe(const folder_content& c, std::string_view indent) {
    if (c.clean()) return {};
    constexpr std::size_t shown = 10;
    std::string out = fmt::format("{}{} '{}': {} of {} message(s):", indent, c.account, c.folder, c.with_traits, c.scanned);
    bool first = true;
    for (const auto& [t, uids] : c.uids) {
        std::string list;
        for (std::size_t i = 0; i < uids.size() && i < shown; ++i) list += fmt::format("{}{}", i ? ", " : "", uids[i]);
        if (uids.size() > shown) list += fmt::format(" and {} more", uids.size() - shown);
        out += fmt::format("{} {} {} (UID{} {})", first ? "" : ",", uids.size(), to_string(t), uids.size() == 1 ? "" : "s", list);
        first = false;
    }
    out += '\n';
    for (const auto& e : c.examples) out += fmt::format("{}  e.g. UID {}: {}\n", indent, e.uid, e.detail);
    return out;
}

}  // namespace arrival::engine
