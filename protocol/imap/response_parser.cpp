#include "protocol/imap/response_parser.hpp"

#include <cstring>

#include <fmt/format.h>

#include "protocol/imap/charclass.hpp"

namespace arrival::imap {

using detail::is_ctl;
using detail::is_digit;
using detail::is_lenient_atom_char;

error_code response_handler::on_literal_begin(const response&, std::uint64_t) { return errc::literal_too_big; }
error_code response_handler::on_literal_chunk(std::string_view) { return {}; }
error_code response_handler::on_literal_end() { return {}; }

response_parser::response_parser(limits l) : limits_(l) {}

void response_parser::reset_response() noexcept {
    mode_ = mode::line;
    buf_.clear();  // keeps capacity: steady-state parsing allocates nothing
    seg_begin_ = 0;
    toks_.clear();
    depth_ = 0;
    head_done_ = false;
    kind_ = response_kind::untagged;
    status_ = response_status::none;
    number_.reset();
    tag_off_ = tag_len_ = name_off_ = name_len_ = 0;
    text_off_ = text_len_ = code_off_ = code_len_ = cargs_off_ = cargs_len_ = 0;
    literal_pending_ = false;
    literal_binary_ = false;
    literal_size_ = 0;
    literal_left_ = 0;
}

void response_parser::reset() noexcept {
    reset_response();
    failed_.clear();
    diag_.clear();
    line_no_ = 0;
}

bool response_parser::has_partial() const noexcept { return !buf_.empty() || mode_ == mode::literal_stream; }

error_code response_parser::fail(errc e, std::string_view what) {
    diag_.set_client_message(fmt::format("response line {}: {}", line_no_ + 1, what));
    failed_ = e;
    mode_ = mode::failed;
    return failed_;
}

error_code response_parser::feed(std::string_view in, response_handler& h) {
    if (failed_) return failed_;
    while (!in.empty()) {
        switch (mode_) {
        case mode::line: {
            const void* lf = std::memchr(in.data(), '\n', in.size());
            const std::size_t take = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - in.data()) + 1 : in.size();
            if (buf_.size() - seg_begin_ + take > limits_.max_line + 2)
                return fail(errc::line_too_long, fmt::format("line longer than {} bytes", limits_.max_line));
            // Many short lines joined by small literals must not grow one response without bound either.
            if (buf_.size() + take > limits_.max_inline_total)
                return fail(errc::line_too_long, fmt::format("response longer than {} bytes", limits_.max_inline_total));
            buf_.append(in.data(), take);
            in.remove_prefix(take);
            if (lf) {
                const error_code ec = on_line_end(h);
                ++line_no_;
                if (ec) {
                    if (!failed_) {  // the handler refused: stop here too, the stream position is lost
                        failed_ = ec;
                        mode_ = mode::failed;
                    }
                    return ec;
                }
            }
            break;
        }
        case mode::literal_inline: {
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(literal_left_, in.size()));
            buf_.append(in.data(), take);
            in.remove_prefix(take);
            literal_left_ -= take;
            if (literal_left_ == 0) {
                mode_ = mode::line;
                seg_begin_ = buf_.size();
            }
            break;
        }
        case mode::literal_stream: {
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(literal_left_, in.size()));
            error_code ec = h.on_literal_chunk(in.substr(0, take));
            in.remove_prefix(take);
            literal_left_ -= take;
            if (!ec && literal_left_ == 0) {
                ec = h.on_literal_end();
                mode_ = mode::line;
                seg_begin_ = buf_.size();
            }
            if (ec) {
                failed_ = ec;
                mode_ = mode::failed;
                return ec;
            }
            break;
        }
        case mode::failed:
            return failed_;
        }
    }
    return {};
}

error_code response_parser::on_line_end(response_handler& h) {
    std::size_t end = buf_.size() - 1;  // the LF
    if (end > seg_begin_ && buf_[end - 1] == '\r') --end;
    std::size_t p = seg_begin_;
    if (!head_done_) {
        bool complete = false;
        if (auto ec = parse_head(end, complete)) return ec;
        head_done_ = true;
        if (complete) return finish_response(h);
        p = name_off_ + name_len_;
    }
    if (auto ec = tokenize(p, end)) return ec;
    if (!literal_pending_) return finish_response(h);

    literal_pending_ = false;
    if (literal_size_ > limits_.max_literal)
        return fail(errc::literal_too_big, fmt::format("literal of {} bytes exceeds the limit of {}", literal_size_,
                                                       limits_.max_literal));
    if (literal_size_ <= limits_.max_inline_literal) {
        if (buf_.size() + literal_size_ > limits_.max_inline_total)
            return fail(errc::literal_too_big, "response larger than the inline limit");
        toks_.push_back({token_type::literal, literal_binary_, buf_.size(), static_cast<std::size_t>(literal_size_),
                         literal_size_});
        literal_left_ = literal_size_;
        if (literal_left_ == 0) {
            seg_begin_ = buf_.size();
        } else {
            mode_ = mode::literal_inline;
        }
        return {};
    }
    // Large literal: the caller gets the response so far, then the payload straight from its own buffer.
    response partial;
    build_view(partial, toks_.size());
    toks_.push_back({token_type::streamed_literal, literal_binary_, buf_.size(), 0, literal_size_});
    literal_left_ = literal_size_;
    mode_ = mode::literal_stream;
    return h.on_literal_begin(partial, literal_size_);
}

// Reads "+ text", "* [number] name", "* OK [code] text", "tag OK [code] text".
error_code response_parser::parse_head(std::size_t end, bool& complete) {
    const char* b = buf_.data();
    std::size_t p = seg_begin_;
    if (p == end) return fail(errc::bad_syntax, "empty line");
    if (b[p] == '+') {
        kind_ = response_kind::continuation;
        ++p;
        if (p < end && b[p] == ' ') ++p;
        for (std::size_t i = p; i < end; ++i)
            if (b[i] == '\0' || b[i] == '\r') return fail(errc::bad_syntax, "NUL or CR in a continuation request");
        text_off_ = p;
        text_len_ = end - p;
        complete = true;
        return {};
    }
    if (b[p] == '*') {
        kind_ = response_kind::untagged;
        ++p;
    } else {
        kind_ = response_kind::tagged;
        const std::size_t t = p;
        while (p < end && b[p] != ' ' && !is_ctl(static_cast<unsigned char>(b[p])) && b[p] != '(' && b[p] != ')' &&
               b[p] != '{' && b[p] != '"')
            ++p;
        if (p == t) return fail(errc::bad_syntax, "missing tag");
        tag_off_ = t;
        tag_len_ = p - t;
    }
    if (p >= end || b[p] != ' ') return fail(errc::bad_syntax, "missing space after the tag");
    ++p;
    if (kind_ == response_kind::untagged && p < end && is_digit(static_cast<unsigned char>(b[p]))) {
        std::uint64_t n = 0;
        while (p < end && is_digit(static_cast<unsigned char>(b[p]))) {
            n = n * 10 + static_cast<unsigned>(b[p] - '0');
            if (n > 0xFFFFFFFFu) return fail(errc::bad_syntax, "message number out of range");
            ++p;
        }
        number_ = static_cast<std::uint32_t>(n);
        if (p >= end || b[p] != ' ') return fail(errc::bad_syntax, "missing space after the message number");
        ++p;
    }
    const std::size_t n0 = p;
    while (p < end && is_lenient_atom_char(static_cast<unsigned char>(b[p])) && b[p] != '[') ++p;
    if (p == n0) return fail(errc::bad_syntax, "missing response name");
    name_off_ = n0;
    name_len_ = p - n0;
    const std::string_view name(b + n0, p - n0);
    if (!number_) {
        if (iequals(name, "OK")) status_ = response_status::ok;
        else if (iequals(name, "NO")) status_ = response_status::no;
        else if (iequals(name, "BAD")) status_ = response_status::bad;
        else if (kind_ == response_kind::untagged && iequals(name, "PREAUTH")) status_ = response_status::preauth;
        else if (kind_ == response_kind::untagged && iequals(name, "BYE")) status_ = response_status::bye;
    }
    if (kind_ == response_kind::tagged && status_ == response_status::none)
        return fail(errc::bad_syntax, "tagged response without OK, NO or BAD");
    if (status_ == response_status::none) {
        if (p < end && b[p] != ' ') return fail(errc::bad_syntax, "missing space after the response name");
        complete = false;
        return {};
    }
    complete = true;
    return parse_resp_text(p, end);
}

// resp-text = ["[" resp-text-code "]" SP] text   (server-text mode: the text is never tokenized)
error_code response_parser::parse_resp_text(std::size_t p, std::size_t end) {
    const char* b = buf_.data();
    for (std::size_t i = p; i < end; ++i)
        if (b[i] == '\0' || b[i] == '\r') return fail(errc::bad_syntax, "NUL or CR in response text");
    if (p < end && b[p] != ' ') return fail(errc::bad_syntax, "missing space after the status");
    if (p < end) ++p;
    if (p < end && b[p] == '[') {
        const void* close = std::memchr(b + p, ']', end - p);
        if (!close) return fail(errc::bad_syntax, "response code without ']'");
        const std::size_t c = static_cast<std::size_t>(static_cast<const char*>(close) - b);
        std::size_t q = p + 1;
        while (q < c && b[q] != ' ') ++q;
        if (q == p + 1) return fail(errc::bad_syntax, "empty response code");
        code_off_ = p + 1;
        code_len_ = q - code_off_;
        if (q < c) {
            cargs_off_ = q + 1;
            cargs_len_ = c - cargs_off_;
        }
        p = c + 1;
        if (p < end && b[p] == ' ') ++p;
    }
    text_off_ = p;
    text_len_ = end - p;
    return {};
}

error_code response_parser::tokenize(std::size_t p, std::size_t end) {
    char* b = buf_.data();
    while (p < end) {
        const unsigned char c = static_cast<unsigned char>(b[p]);
        if (c == ' ') {
            ++p;
            continue;
        }
        if (c == '(') {
            if (++depth_ > limits_.max_depth)
                return fail(errc::nesting_too_deep, fmt::format("lists nested deeper than {}", limits_.max_depth));
            toks_.push_back({token_type::list_begin, false, p, 0, 0});
            ++p;
            continue;
        }
        if (c == ')') {
            if (depth_ == 0) return fail(errc::bad_syntax, "unexpected ')'");
            --depth_;
            toks_.push_back({token_type::list_end, false, p, 0, 0});
            ++p;
            continue;
        }
        if (c == '"') {
            // quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR = <TEXT-CHAR but quoted-specials> / "\" quoted-specials
            // Unescaped in place: the value only shrinks, and the bytes behind it were already read.
            const std::size_t start = ++p;
            std::size_t w = start;
            for (;;) {
                if (p >= end) return fail(errc::bad_syntax, "unterminated quoted string");
                const char q = b[p];
                if (q == '"') break;
                if (q == '\0' || q == '\r' || q == '\n') return fail(errc::bad_syntax, "NUL or CR in a quoted string");
                if (q == '\\') {
                    if (p + 1 >= end || (b[p + 1] != '"' && b[p + 1] != '\\'))
                        return fail(errc::bad_syntax, "invalid escape in a quoted string");
                    ++p;
                }
                b[w++] = b[p++];
            }
            toks_.push_back({token_type::quoted, false, start, w - start, w - start});
            ++p;  // closing quote
            continue;
        }
        if (c == '{' || (c == '~' && p + 1 < end && b[p + 1] == '{')) {
            // literal = "{" number ["+"] "}" CRLF *CHAR8 ; literal8 = "~{" number "}" CRLF *OCTET
            literal_binary_ = c == '~';
            p += literal_binary_ ? 2 : 1;
            std::uint64_t n = 0;
            const std::size_t d = p;
            while (p < end && is_digit(static_cast<unsigned char>(b[p]))) {
                if (n > (~std::uint64_t{0} - 9) / 10) return fail(errc::literal_too_big, "literal size overflows");
                n = n * 10 + static_cast<unsigned>(b[p] - '0');
                ++p;
            }
            if (p == d) return fail(errc::bad_literal, "literal without a size");
            if (p < end && b[p] == '+') ++p;  // servers should not send {n+}, but it is harmless
            if (p >= end || b[p] != '}') return fail(errc::bad_literal, "literal size not closed by '}'");
            ++p;
            if (p != end) return fail(errc::bad_literal, "literal header not at the end of the line");
            literal_pending_ = true;
            literal_size_ = n;
            return {};
        }
        if (is_ctl(c)) return fail(errc::bad_syntax, c == 0 ? "NUL in a response" : "control character in a response");
        // atom, or an item with a section such as BODY[HEADER.FIELDS (FROM TO)]<0> whose brackets hold spaces.
        const std::size_t start = p;
        while (p < end) {
            const unsigned char a = static_cast<unsigned char>(b[p]);
            if (a == '[') {
                const void* close = std::memchr(b + p, ']', end - p);
                if (!close) return fail(errc::bad_syntax, "'[' without ']'");
                const std::size_t cl = static_cast<std::size_t>(static_cast<const char*>(close) - b);
                for (std::size_t i = p; i < cl; ++i)
                    if (is_ctl(static_cast<unsigned char>(b[i]))) return fail(errc::bad_syntax, "control character in a section");
                p = cl + 1;
                continue;
            }
            if (!is_lenient_atom_char(a)) break;
            ++p;
        }
        if (p == start) return fail(errc::bad_syntax, fmt::format("unexpected character 0x{:02x}", c));
        const std::string_view atom(b + start, p - start);
        toks_.push_back({iequals(atom, "NIL") ? token_type::nil : token_type::atom, false, start, p - start, p - start});
    }
    return {};
}

void response_parser::build_view(response& r, std::size_t ntoks) {
    const char* b = buf_.data();
    r.kind = kind_;
    r.tag = std::string_view(b + tag_off_, tag_len_);
    r.status = status_;
    r.code = {std::string_view(b + code_off_, code_len_), std::string_view(b + cargs_off_, cargs_len_)};
    r.text = std::string_view(b + text_off_, text_len_);
    r.number = number_;
    r.name = kind_ == response_kind::continuation ? std::string_view{} : std::string_view(b + name_off_, name_len_);
    view_tokens_.clear();
    for (std::size_t i = 0; i < ntoks; ++i) {
        const tok& t = toks_[i];
        view_tokens_.push_back({t.type, t.binary, std::string_view(b + t.off, t.len), t.size});
    }
    r.args = std::span<const token>(view_tokens_.data(), view_tokens_.size());
}

error_code response_parser::finish_response(response_handler& h) {
    if (depth_ != 0) return fail(errc::bad_syntax, "missing ')'");
    response r;
    build_view(r, toks_.size());
    ++responses_;
    error_code ec = h.on_response(r);
    reset_response();
    return ec;
}

}  // namespace arrival::imap
