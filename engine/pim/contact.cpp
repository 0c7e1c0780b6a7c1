#include "engine/pim/contact.hpp"

#include <algorithm>

#include "engine/pim/sha256.hpp"

namespace arrival::pim {
namespace {

std::string normalise(std::string_view s) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return out;
}

void join_nonempty(std::string& out, std::string_view part) {
    if (part.empty()) return;
    if (!out.empty()) out += ' ';
    out += part;
}

}  // namespace

std::string contact::display_name() const {
    if (!full_name.empty()) return full_name;
    std::string n;
    for (const auto* p : {&prefix, &given, &middle, &family, &suffix}) join_nonempty(n, *p);
    if (!n.empty()) return n;
    if (!nickname.empty()) return nickname;
    if (!organization.empty()) return organization;
    if (!emails.empty()) return emails.front().value;
    if (!phones.empty()) return phones.front().value;
    return {};
}

std::string contact::full_note() const {
    std::string out = note;
    for (const auto& [header, value] : extra) {
        if (!out.empty()) out += '\n';
        out += header;
        out += ": ";
        out += value;
    }
    return out;
}

bool contact::anonymous() const {
    return display_name().empty();
}

std::string contact::stable_uid() const {
    std::string key = normalise(display_name());
    std::vector<std::string> ids;
    for (const auto& e : emails) ids.push_back(normalise(e.value));
    if (ids.empty()) {
        for (const auto& p : phones) {
            std::string digits;
            for (char c : p.value) {
                if ((c >= '0' && c <= '9') || c == '+') digits += c;
            }
            ids.push_back(digits);
        }
    }
    std::sort(ids.begin(), ids.end());
    for (const auto& id : ids) {
        key += '\n';
        key += id;
    }
    return "arrival-" + sha256_hex(key, 16);
}

}  // namespace arrival::pim
