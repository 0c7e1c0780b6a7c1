#include "engine/pim/ics_file.hpp"

#include <fmt/format.h>

namespace arrival::pim {

bool ics_file::open(const std::string& path, std::error_code& ec, std::string& error) {
    path_ = path;
    in_.open(path, std::ios::binary);
    if (!in_) {
        ec = std::error_code(errno, std::generic_category());
        error = fmt::format("cannot open {}: {}", path, ec.message());
        return false;
    }
    index_ = {};
    extents_.clear();
    const ics_component_fn keep_identity = [this](ics_component&& c, std::uint64_t offset, std::uint64_t length) {
        c.text.clear();
        c.text.shrink_to_fit();
        c.tzid_refs.clear();
        index_.components.push_back(std::move(c));
        extents_.push_back({offset, length});
    };
    auto head = read_ics(in_, keep_identity);
    if (in_.bad()) {
        ec = std::make_error_code(std::errc::io_error);
        error = fmt::format("cannot read {}", path);
        return false;
    }
    size_ = extents_.empty() ? 0 : extents_.back().offset + extents_.back().length;
    in_.clear();
    in_.seekg(0, std::ios::end);
    if (const auto end = in_.tellg(); end >= 0) size_ = static_cast<std::uint64_t>(end);
    part_ = std::move(head);
    groups_ = group_by_uid(index_);
    return true;
}

std::vector<ics_issue> ics_file::issues() const {
    auto out = part_.issues;
    out.insert(out.end(), groups_.issues.begin(), groups_.issues.end());
    return out;
}

std::uint64_t ics_file::object_bytes(std::size_t object) const {
    std::uint64_t n = 0;
    for (auto i : groups_.objects.at(object).components) n += extents_[i].length;
    return n;
}

const ics_calendar* ics_file::load(std::size_t object, calendar_object& obj, std::string& error) {
    const auto& wanted = groups_.objects.at(object);
    part_.components.clear();
    obj = {wanted.uid, {}, wanted.line};
    for (auto i : wanted.components) {
        const auto& e = extents_[i];
        slice_.resize(static_cast<std::size_t>(e.length));
        in_.clear();
        in_.seekg(static_cast<std::streamoff>(e.offset));
        in_.read(slice_.data(), static_cast<std::streamsize>(e.length));
        if (static_cast<std::uint64_t>(in_.gcount()) != e.length) {
            error = fmt::format("cannot read {} again at byte {} (changed while importing?)", path_, e.offset);
            return nullptr;
        }
        auto again = read_ics(slice_, index_.components[i].line);
        // The range held exactly this component when pass 1 read it; anything else means the file changed.
        if (again.components.size() != 1 || again.components[0].uid != index_.components[i].uid) {
            error = fmt::format("{}:{}: the file changed while importing", path_, index_.components[i].line);
            return nullptr;
        }
        obj.components.push_back(part_.components.size());
        part_.components.push_back(std::move(again.components[0]));
    }
    return &part_;
}

}  // namespace arrival::pim
