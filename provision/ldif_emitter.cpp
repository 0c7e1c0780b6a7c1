#include "provision/ldif_emitter.hpp"

#include <algorithm>

#include "protocol/base64.hpp"
#include "protocol/csv.hpp"

namespace arrival::provision {
namespace {

// RFC 2849 SAFE-STRING: no NUL/CR/LF, only 7-bit, and not starting with space, ':' or '<'; we also encode a
// trailing space, which some readers strip.
bool safe(std::string_view v) {
    if (v.empty()) return true;
    if (v.front() == ' ' || v.front() == ':' || v.front() == '<' || v.back() == ' ') return false;
    for (unsigned char c : v) {
        if (c == 0 || c == '\n' || c == '\r' || c >= 0x80) return false;
    }
    return true;
}

void fold(std::string_view line, std::string& out) {
    constexpr std::size_t width = 76;
    if (line.size() <= width) {
        out.append(line);
        out.push_back('\n');
        return;
    }
    out.append(line.substr(0, width));
    out.push_back('\n');
    line.remove_prefix(width);
    while (!line.empty()) {
        const auto n = std::min(line.size(), width - 1);
        out.push_back(' ');
        out.append(line.substr(0, n));
        out.push_back('\n');
        line.remove_prefix(n);
    }
}

void emit_line(std::string_view type, std::string_view value, std::string& scratch, std::string& out) {
    scratch.assign(type);
    if (safe(value)) {
        scratch.append(": ");
        scratch.append(value);
    } else {
        scratch.append(":: ");
        base64::append_encoded(value, scratch);
    }
    fold(scratch, out);
}

}  // namespace

void emit_ldif_entry(const entry& e, std::string& out) {
    std::string scratch;
    emit_line("dn", e.dn(), scratch, out);
    for (std::size_t i = 0; i < e.size(); ++i) {
        const auto av = e[i];
        emit_line(av.type, av.value, scratch, out);
    }
    out.push_back('\n');
}

void emit_ldif(const directory_model& model, const std::function<void(std::string_view)>& sink) {
    // No "version: 1" line: it is optional in RFC 2849, and slapadd 2.5 refuses it.
    std::string chunk;
    model.for_each([&](std::size_t, const entry& e) {
        emit_ldif_entry(e, chunk);
        if (chunk.size() >= (1u << 20)) {
            sink(chunk);
            chunk.clear();
        }
    });
    if (!chunk.empty()) sink(chunk);
}

void emit_ldif(const directory_model& model, std::string& out) {
    emit_ldif(model, [&](std::string_view piece) { out += piece; });
}

account_addresses addresses_of_account(const entry& e) {
    std::string dest(e.first("zimbraMailDeliveryAddress"));
    if (dest.empty()) dest = std::string(e.first("mail"));
    if (dest.empty()) return {};
    std::string src = e.source_address.empty() ? dest : e.source_address;
    return {to_lower(src), to_lower(dest)};
}

void emit_accounts_csv(const directory_model& model, std::string& out) {
    std::vector<std::pair<std::string, std::string>> rows;
    entry e;
    for (std::size_t i = 0; i < model.size(); ++i) {
        if (model.kind(i) != entry_kind::account) continue;
        model.at(i, e);
        auto a = addresses_of_account(e);
        if (a.dest.empty()) continue;
        rows.emplace_back(std::move(a.source), std::move(a.dest));
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    out += "source_user,dest_user\n";
    for (const auto& [s, d] : rows) out += csv::record({s, d}, ',', "\n");
}

}  // namespace arrival::provision
