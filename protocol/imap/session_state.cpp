#include "protocol/imap/session_state.hpp"

#include "protocol/imap/response.hpp"

namespace arrival::imap {

void session_state::set_capabilities(const std::vector<std::string_view>& caps) {
    caps_.clear();
    caps_.reserve(caps.size());
    for (auto c : caps) caps_.emplace_back(c);
}

namespace {
bool contains_ignoring_case(const std::vector<std::string>& names, std::string_view name) noexcept {
    for (const auto& n : names) {
        if (iequals(n, name)) return true;
    }
    return false;
}
}  // namespace

bool session_state::has(std::string_view cap) const noexcept { return contains_ignoring_case(caps_, cap); }

bool session_state::is_enabled(std::string_view cap) const noexcept { return contains_ignoring_case(enabled_, cap); }

std::optional<std::string_view> session_state::value_of(std::string_view name) const noexcept {
    for (const auto& c : caps_) {
        const std::string_view v(c);
        if (v.size() > name.size() && v[name.size()] == '=' && iequals(v.substr(0, name.size()), name)) {
            return v.substr(name.size() + 1);
        }
    }
    return std::nullopt;
}

}  // namespace arrival::imap
