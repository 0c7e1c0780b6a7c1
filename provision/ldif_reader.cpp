#include "provision/ldif_reader.hpp"

#include <algorithm>

#include "protocol/ascii.hpp"
#include "protocol/base64.hpp"

namespace arrival::provision {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_keychar(char c) { return is_alpha(c) || is_digit(c) || c == '-'; }

// RFC 2849 AttributeDescription: (descr | numericoid) *(";" option), option = 1*keychar.
bool valid_description(std::string_view d) {
    const auto semi = d.find(';');
    const std::string_view type = d.substr(0, semi);
    if (type.empty()) return false;
    if (is_alpha(type[0])) {
        if (!std::all_of(type.begin(), type.end(), is_keychar)) return false;
    } else {
        bool need_digit = true;
        for (char c : type) {
            if (is_digit(c)) need_digit = false;
            else if (c == '.' && !need_digit) need_digit = true;
            else return false;
        }
        if (need_digit) return false;
    }
    if (semi == std::string_view::npos) return true;
    std::string_view opts = d.substr(semi + 1);
    for (;;) {
        const auto next = opts.find(';');
        const std::string_view opt = opts.substr(0, next);
        if (opt.empty() || !std::all_of(opt.begin(), opt.end(), is_keychar)) return false;
        if (next == std::string_view::npos) return true;
        opts.remove_prefix(next + 1);
    }
}

std::string_view trim_spaces(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

void ldif_record::clear() {
    dn_text.clear();
    name = dn{};
    line = 0;
    change = change_type::none;
    controls.clear();
    attrs.clear();
    mods.clear();
    new_rdn.clear();
    delete_old_rdn = false;
    new_superior.reset();
}

std::error_code parse_file_url(std::string_view url, std::string& path) {
    path.clear();
    if (url.size() < 5 || !ascii::iequals(url.substr(0, 5), "file:")) return ldif_errc::unsupported_url;
    std::string_view rest = url.substr(5);
    if (rest.substr(0, 3) == "///") {
        rest.remove_prefix(2);
    } else if (rest.size() > 11 && ascii::iequals(rest.substr(0, 12), "//localhost/")) {
        rest.remove_prefix(11);
    } else if (rest.substr(0, 2) == "//") {
        return ldif_errc::bad_url;  // a host other than localhost: not a local file
    }
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '%') {
            if (i + 2 >= rest.size() || hex_value(rest[i + 1]) < 0 || hex_value(rest[i + 2]) < 0) {
                return ldif_errc::bad_url;
            }
            path.push_back(static_cast<char>(hex_value(rest[i + 1]) * 16 + hex_value(rest[i + 2])));
            i += 2;
        } else {
            path.push_back(rest[i]);
        }
    }
    if (path.empty() || path.find('\0') != std::string::npos) return ldif_errc::bad_url;
    return {};
}

void ldif_reader::feed(std::string_view bytes) {
    if (pos_ > 0 && pos_ * 2 >= buf_.size()) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    buf_.append(bytes);
}

bool ldif_reader::peek_physical(std::string_view& line, std::size_t& next) {
    const auto nl = buf_.find('\n', pos_);
    if (nl == std::string::npos) {
        if (!finished_ || pos_ >= buf_.size()) return false;
        line = std::string_view(buf_).substr(pos_);
        next = buf_.size();
    } else {
        line = std::string_view(buf_).substr(pos_, nl - pos_);
        next = nl + 1;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return true;
}

bool ldif_reader::fail(ldif_error& err, ldif_errc code, std::size_t line, std::string detail) {
    err.ec = code;
    err.line = line;
    err.detail = std::move(detail);
    stage_ = stage::skipping;
    cur_.clear();
    return true;
}

read_status ldif_reader::next(ldif_record& out, ldif_error& err) {
    for (;;) {
        if (discarding_) {
            const auto nl = buf_.find('\n', pos_);
            if (nl == std::string::npos) {
                pos_ = buf_.size();
                if (!finished_) return read_status::need_more;
                discarding_ = false;
            } else {
                pos_ = nl + 1;
                discarding_ = false;
            }
            continue;
        }
        std::string_view line;
        std::size_t next_pos = 0;
        if (!peek_physical(line, next_pos)) {
            if (!finished_) {
                if (buf_.size() - pos_ > limits_.max_line) {
                    // Drop the over-long line instead of buffering it without bound.
                    discarding_ = true;
                    ++line_no_;
                    logical_line_ = 0;
                    logical_.clear();
                    (void)fail(err, ldif_errc::line_too_long, line_no_);
                    return read_status::error;
                }
                return read_status::need_more;
            }
            // End of input: complete the pending logical line, then the record.
            if (logical_line_ != 0) {
                if (complete_logical(out, err)) return read_status::error;
            }
            read_status st;
            if (end_record(out, err, st)) return st;
            return read_status::end;
        }
        if (!line.empty() && line[0] == ' ') {
            consume(next_pos);
            if (logical_line_ == 0) {
                if (stage_ == stage::skipping) continue;
                // Between records nothing is lost by skipping just this line; inside one, the record is
                // broken and is skipped as a whole.
                const bool between = stage_ == stage::outside;
                (void)fail(err, ldif_errc::unexpected_continuation, line_no_);
                if (between) stage_ = stage::outside;
                return read_status::error;
            }
            if (!logical_is_comment_) {
                logical_.append(line.substr(1));
                if (logical_.size() > limits_.max_line) {
                    logical_line_ = 0;
                    logical_.clear();
                    (void)fail(err, ldif_errc::line_too_long, line_no_);
                    return read_status::error;
                }
            }
            continue;
        }
        // This physical line starts something new, so the pending logical line is complete. Handle it
        // before consuming this line, so an error there leaves this line for the next call.
        if (logical_line_ != 0) {
            if (complete_logical(out, err)) return read_status::error;
            continue;
        }
        consume(next_pos);
        if (line.empty()) {
            read_status st;
            if (end_record(out, err, st)) return st;
            continue;
        }
        logical_line_ = line_no_;
        logical_is_comment_ = line[0] == '#';
        if (!logical_is_comment_) logical_.assign(line);
    }
}

bool ldif_reader::end_record(ldif_record& out, ldif_error& err, read_status& st) {
    switch (stage_) {
    case stage::outside:
        return false;
    case stage::skipping:
        stage_ = stage::outside;
        return false;
    case stage::after_dn:
        (void)fail(err, ldif_errc::empty_record, cur_.line);
        stage_ = stage::outside;
        st = read_status::error;
        return true;
    case stage::content:
        if (cur_.attrs.empty()) {
            (void)fail(err, ldif_errc::empty_record, cur_.line);
            stage_ = stage::outside;
            st = read_status::error;
            return true;
        }
        break;
    case stage::modify_vals:  // a missing "-" after the last operation is accepted, as ldapmodify does
    case stage::modify_op:
    case stage::delete_rec:
        break;
    case stage::modrdn:
        if (cur_.new_rdn.empty()) {
            (void)fail(err, ldif_errc::bad_modrdn, cur_.line, "newrdn missing");
            stage_ = stage::outside;
            st = read_status::error;
            return true;
        }
        break;
    }
    stage_ = stage::outside;
    out = std::move(cur_);
    cur_.clear();
    st = read_status::record;
    return true;
}

bool ldif_reader::parse_attrval(std::string_view text, std::size_t line, ldif_value& v, ldif_error& err) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return fail(err, ldif_errc::bad_line, line);
    const std::string_view desc = text.substr(0, colon);
    if (!valid_description(desc)) {
        return fail(err, ldif_errc::bad_attribute_description, line, std::string(desc.substr(0, 64)));
    }
    v.type.assign(desc);
    v.line = line;
    std::string_view rest = text.substr(colon + 1);
    if (!rest.empty() && rest[0] == ':') {
        v.kind = value_kind::base64;
        if (!base64::decode(trim_spaces(rest.substr(1)), v.value)) {
            return fail(err, ldif_errc::bad_base64, line, std::string(desc));
        }
        return false;
    }
    if (!rest.empty() && rest[0] == '<') {
        v.kind = value_kind::url;
        if (auto ec = parse_file_url(trim_spaces(rest.substr(1)), v.value)) {
            return fail(err, static_cast<ldif_errc>(ec.value()), line, std::string(desc));
        }
        return false;
    }
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    if (rest.find('\0') != std::string_view::npos) return fail(err, ldif_errc::nul_in_value, line, std::string(desc));
    v.kind = value_kind::text;
    v.value.assign(rest);
    return false;
}

bool ldif_reader::complete_logical(ldif_record& out, ldif_error& err) {
    const std::size_t ln = logical_line_;
    logical_line_ = 0;
    const std::string text = std::move(logical_);
    logical_.clear();
    return !logical_is_comment_ && handle_logical(text, ln, out, err);
}

bool ldif_reader::handle_logical(std::string_view text, std::size_t line, ldif_record& /*out*/, ldif_error& err) {
    if (stage_ == stage::skipping) return false;
    record_bytes_ += text.size();
    if (stage_ != stage::outside && record_bytes_ > limits_.max_record) {
        return fail(err, ldif_errc::record_too_big, line);
    }
    ldif_value v;
    switch (stage_) {
    case stage::skipping:
        return false;
    case stage::outside: {
        if (!seen_anything_ && text.size() >= 8 && ascii::iequals(text.substr(0, 8), "version:")) {
            seen_anything_ = true;
            if (trim_spaces(text.substr(8)) != "1") return fail(err, ldif_errc::bad_version, line);
            version_ = 1;
            return false;
        }
        seen_anything_ = true;
        if (parse_attrval(text, line, v, err)) return true;
        if (!ascii::iequals(v.type, "dn")) return fail(err, ldif_errc::missing_dn, line, v.type);
        if (v.kind == value_kind::url) return fail(err, ldif_errc::bad_dn, line);
        cur_.clear();
        if (parse_dn(v.value, cur_.name)) return fail(err, ldif_errc::bad_dn, line);
        cur_.dn_text = std::move(v.value);
        cur_.line = line;
        record_bytes_ = text.size();
        stage_ = stage::after_dn;
        return false;
    }
    case stage::after_dn:
    case stage::content: {
        if (parse_attrval(text, line, v, err)) return true;
        const bool header = stage_ == stage::after_dn;
        if (ascii::iequals(v.type, "control")) {
            if (!header || !cur_.attrs.empty()) return fail(err, ldif_errc::bad_changetype, line, "control");
            cur_.controls.push_back(std::move(v.value));
            return false;
        }
        if (ascii::iequals(v.type, "changetype")) {
            if (!header) return fail(err, ldif_errc::bad_changetype, line, "changetype");
            const std::string_view w = trim_spaces(v.value);
            if (ascii::iequals(w, "add")) { cur_.change = change_type::add; stage_ = stage::content; }
            else if (ascii::iequals(w, "delete")) { cur_.change = change_type::del; stage_ = stage::delete_rec; }
            else if (ascii::iequals(w, "modify")) { cur_.change = change_type::modify; stage_ = stage::modify_op; }
            else if (ascii::iequals(w, "modrdn") || ascii::iequals(w, "moddn")) { cur_.change = change_type::modrdn; stage_ = stage::modrdn; }
            else return fail(err, ldif_errc::bad_changetype, line, std::string(w.substr(0, 32)));
            return false;
        }
        if (header && !cur_.controls.empty()) {
            // RFC 2849: controls belong to change records only.
            return fail(err, ldif_errc::bad_changetype, line, "control without changetype");
        }
        stage_ = stage::content;
        cur_.attrs.push_back(std::move(v));
        return false;
    }
    case stage::delete_rec:
        return fail(err, ldif_errc::unexpected_line_in_delete, line);
    case stage::modify_op: {
        if (parse_attrval(text, line, v, err)) return true;
        mod_op op;
        if (ascii::iequals(v.type, "add")) op = mod_op::add;
        else if (ascii::iequals(v.type, "delete")) op = mod_op::del;
        else if (ascii::iequals(v.type, "replace")) op = mod_op::replace;
        else if (ascii::iequals(v.type, "increment")) op = mod_op::increment;
        else return fail(err, ldif_errc::bad_modify, line, v.type);
        const std::string_view attr = trim_spaces(v.value);
        if (!valid_description(attr)) return fail(err, ldif_errc::bad_attribute_description, line);
        cur_.mods.push_back(ldif_mod{op, std::string(attr), {}, line});
        stage_ = stage::modify_vals;
        return false;
    }
    case stage::modify_vals: {
        if (trim_spaces(text) == "-") {
            stage_ = stage::modify_op;
            return false;
        }
        if (parse_attrval(text, line, v, err)) return true;
        if (!ascii::iequals(v.type, cur_.mods.back().type)) return fail(err, ldif_errc::bad_modify, line, v.type);
        cur_.mods.back().values.push_back(std::move(v));
        return false;
    }
    case stage::modrdn: {
        if (parse_attrval(text, line, v, err)) return true;
        if (ascii::iequals(v.type, "newrdn")) {
            dn r;
            if (parse_dn(v.value, r) || r.depth() != 1) return fail(err, ldif_errc::bad_modrdn, line, "newrdn");
            cur_.new_rdn = std::move(v.value);
        } else if (ascii::iequals(v.type, "deleteoldrdn")) {
            const auto w = trim_spaces(v.value);
            if (w != "0" && w != "1") return fail(err, ldif_errc::bad_modrdn, line, "deleteoldrdn");
            cur_.delete_old_rdn = w == "1";
        } else if (ascii::iequals(v.type, "newsuperior")) {
            dn s;
            if (parse_dn(v.value, s)) return fail(err, ldif_errc::bad_modrdn, line, "newsuperior");
            cur_.new_superior = std::move(v.value);
        } else {
            return fail(err, ldif_errc::bad_modrdn, line, v.type);
        }
        return false;
    }
    }
    return false;
}

}  // namespace arrival::provision
