#include "provision/ldif_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "provision/ldif_reader.hpp"

namespace arrival::provision {
namespace {

// Whole stream into a string, in chunks (istreambuf_iterator trips g++ 12's -Wnull-dereference at -O3).
std::string slurp(std::istream& in) {
    std::string out;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) out.append(buf, static_cast<std::size_t>(in.gcount()));
    return out;
}

}  // namespace

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    std::string s = slurp(in);
    if (in.bad()) throw std::runtime_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    return s;
}

load_stats load_ldif_stream(std::istream& in, const std::string& name, const std::string& base_dir,
                            directory_model& model, std::vector<problem>& problems) {
    load_stats st;
    const std::uint32_t file_index = model.add_file(name);
    ldif_reader reader;
    ldif_record rec;
    ldif_error err;
    std::string chunk(1u << 20, '\0');
    auto report = [&](std::uint32_t line, std::string dn, std::string code, std::string message) {
        problem p;
        p.code = std::move(code);
        p.file = name;
        p.line = line;
        p.dn = std::move(dn);
        p.message = std::move(message);
        problems.push_back(std::move(p));
        ++st.errors;
    };
    for (;;) {
        const auto status = reader.next(rec, err);
        if (status == read_status::end) break;
        if (status == read_status::need_more) {
            in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
            const auto got = in.gcount();
            if (got > 0) reader.feed(std::string_view(chunk.data(), static_cast<std::size_t>(got)));
            if (in.bad()) {
                report(0, {}, "io_error", fmt::format("read error: {}", std::strerror(errno)));
                break;
            }
            if (in.eof()) reader.finish();
            continue;
        }
        ++st.records;
        if (status == read_status::error) {
            std::string msg = err.ec.message();
            if (!err.detail.empty()) msg += " (" + err.detail + ")";
            report(static_cast<std::uint32_t>(err.line), {}, "ldif_syntax", std::move(msg));
            continue;
        }
        if (rec.name.empty()) {
            report(static_cast<std::uint32_t>(rec.line), {}, "root_entry", "the root DSE (dn: \"\") cannot be provisioned");
            continue;
        }
        // `:<` values: read relative to the LDIF's directory (also inside modify records).
        auto resolve = [&](ldif_value& v) {
            if (v.kind != value_kind::url) return true;
            std::filesystem::path p(v.value);
            if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
            std::ifstream f(p, std::ios::binary);
            if (!f) {
                report(static_cast<std::uint32_t>(v.line), rec.dn_text, "url_unreadable",
                       fmt::format("{}: cannot read {}: {}", v.type, p.string(), std::strerror(errno)));
                return false;
            }
            v.value = slurp(f);
            v.kind = value_kind::text;
            return true;
        };
        if (rec.change != change_type::none && rec.change != change_type::add) {
            // Applied to the plan in file order once every record is read (changes.hpp).
            change_record c;
            c.type = rec.change;
            c.dn = rec.name.str();
            c.ndn = rec.name.normalized();
            c.loc = {file_index, static_cast<std::uint32_t>(rec.line)};
            bool ok = true;
            for (auto& m : rec.mods) {
                for (auto& v : m.values) ok = resolve(v) && ok;
            }
            if (!ok) continue;
            c.mods = std::move(rec.mods);
            c.new_rdn = std::move(rec.new_rdn);
            c.delete_old_rdn = rec.delete_old_rdn;
            c.new_superior = std::move(rec.new_superior);
            model.changes().push_back(std::move(c));
            ++st.changes;
            continue;
        }
        entry e;
        e.set_dn(rec.name.str(), rec.name.normalized());
        e.loc = {file_index, static_cast<std::uint32_t>(rec.line)};
        bool ok = true;
        for (auto& v : rec.attrs) {
            if (!resolve(v)) {
                ok = false;
                continue;
            }
            e.add(v.type, v.value);
        }
        if (!ok) continue;
        if (classify(e) == entry_kind::account) {
            std::string_view a = e.first("zimbraMailDeliveryAddress");
            if (a.empty()) a = e.first("mail");
            e.source_address = to_lower(a);
        }
        e.shrink_to_fit();
        model.add(std::move(e));
        ++st.entries;
    }
    return st;
}

load_stats load_ldif_file(const std::string& path, directory_model& model, std::vector<problem>& problems) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        problem p;
        p.code = "io_error";
        p.file = path;
        p.message = fmt::format("cannot open: {}", std::strerror(errno));
        problems.push_back(std::move(p));
        model.add_file(path);
        return {0, 0, 1};
    }
    const auto dir = std::filesystem::path(path).parent_path().string();
    return load_ldif_stream(in, path, dir, model, problems);
}

}  // namespace arrival::provision
