#include "protocol/imap/fetch_decoder.hpp"
#include "protocol/imap/number.hpp"

namespace arrival::imap {
namespace {

using detail::parse_u32;
using detail::parse_u64;

bool starts_with_ci(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// msg-att-static body items: BODY[section]<origin>, BINARY[section]<origin>, RFC822, RFC822.HEADER, RFC822.TEXT.
// BINARY.SIZE[...] is a number, BODY without "[" is BODYSTRUCTURE's short form: neither carries bytes.
bool is_body_item(std::string_view name) noexcept {
    return starts_with_ci(name, "BODY[") || starts_with_ci(name, "BODY.PEEK[") || starts_with_ci(name, "BINARY[") ||
           starts_with_ci(name, "BINARY.PEEK[") || iequals(name, "RFC822") || iequals(name, "RFC822.HEADER") ||
           iequals(name, "RFC822.TEXT");
}

}  // namespace

void fetch_record::clear() noexcept {
    seq = 0;
    uid.reset();
    has_flags = false;
    flags.clear();
    internaldate.reset();
    rfc822_size.reset();
    modseq.reset();
    body_parts = 0;
}

void fetch_decoder::reset() noexcept {
    rec_.clear();
    state_ = state::open;
    next_ = item_ = list_start_ = skip_depth_ = 0;
    flags_first_ = flags_count_ = 0;
    streaming_ = streaming_body_ = false;
}

void fetch_decoder::make_part(const response& r, fetch_part& part) const {
    part.seq = r.number.value_or(0);
    part.uid = rec_.uid;
    part.item = r.args[item_].text;
    const std::string_view item = part.item;
    const std::size_t open = item.find('[');
    const std::size_t close = item.rfind(']');
    if (open != std::string_view::npos && close != std::string_view::npos && close > open)
        part.section = item.substr(open + 1, close - open - 1);
    if (close != std::string_view::npos && close + 1 < item.size() && item[close + 1] == '<' && item.back() == '>') {
        std::uint32_t o = 0;
        if (parse_u32(item.substr(close + 2, item.size() - close - 3), o)) part.origin = o;
    }
}

error_code fetch_decoder::deliver_inline(const response& r, const token& t, fetch_handler& h) {
    fetch_part part;
    make_part(r, part);
    part.nil = t.type == token_type::nil;
    if (auto ec = h.on_body_begin(part, t.type == token_type::nil ? 0 : t.text.size())) return ec;
    if (!part.nil && !t.text.empty())
        if (auto ec = h.on_body_chunk(t.text)) return ec;
    ++rec_.body_parts;
    return h.on_body_end();
}

error_code fetch_decoder::on_scalar(const response& r, std::size_t i, fetch_handler& h) {
    const std::string_view name = r.args[item_].text;
    const token& t = r.args[i];
    if (is_body_item(name)) {
        switch (t.type) {
        case token_type::streamed_literal: return {};  // delivered while it streamed
        case token_type::quoted:
        case token_type::literal:
        case token_type::nil: return deliver_inline(r, t, h);
        default: return errc::bad_syntax;
        }
    }
    if (iequals(name, "UID")) {
        std::uint32_t u = 0;
        if (t.type != token_type::atom || !parse_u32(t.text, u) || u == 0) return errc::bad_syntax;
        rec_.uid = u;
    } else if (iequals(name, "RFC822.SIZE")) {
        std::uint64_t n = 0;
        if (t.type != token_type::atom || !parse_u64(t.text, n)) return errc::bad_syntax;
        rec_.rfc822_size = n;
    } else if (iequals(name, "INTERNALDATE")) {
        internal_date d;
        if (t.type != token_type::quoted) return errc::bad_syntax;
        if (auto ec = parse_internal_date(t.text, d)) return ec;
        rec_.internaldate = d;
    } else if (iequals(name, "FLAGS") || iequals(name, "MODSEQ")) {
        return errc::bad_syntax;  // both take a list
    }
    // Anything else (ENVELOPE as NIL, X-GM-MSGID, EMAILID ...) is skipped.
    return {};
}

error_code fetch_decoder::on_list(const response& r, std::size_t first, std::size_t last) {
    const std::string_view name = r.args[item_].text;
    if (is_body_item(name)) return errc::bad_syntax;
    if (iequals(name, "FLAGS")) {
        for (std::size_t i = first + 1; i < last; ++i)
            if (r.args[i].type != token_type::atom) return errc::bad_syntax;
        rec_.has_flags = true;
        flags_first_ = first + 1;
        flags_count_ = last - first - 1;
    } else if (iequals(name, "MODSEQ")) {
        std::uint64_t n = 0;
        if (last != first + 2 || r.args[first + 1].type != token_type::atom || !parse_u64(r.args[first + 1].text, n))
            return errc::bad_syntax;
        rec_.modseq = n;
    } else if (iequals(name, "UID") || iequals(name, "RFC822.SIZE") || iequals(name, "INTERNALDATE")) {
        return errc::bad_syntax;
    }
    return {};  // ENVELOPE, BODYSTRUCTURE, BODY, unknown lists: skipped
}

error_code fetch_decoder::walk(const response& r, std::size_t end, fetch_handler& h) {
    for (std::size_t i = next_; i < end; ++i) {
        const token& t = r.args[i];
        switch (state_) {
        case state::open:
            if (t.type != token_type::list_begin) return errc::bad_syntax;
            state_ = state::name;
            break;
        case state::name:
            if (t.type == token_type::list_end) {
                state_ = state::done;
            } else if (t.type == token_type::atom) {
                item_ = i;
                state_ = state::value;
            } else {
                return errc::bad_syntax;
            }
            break;
        case state::value:
            if (t.type == token_type::list_begin) {
                list_start_ = i;
                skip_depth_ = 1;
                state_ = state::skip;
            } else if (t.type == token_type::list_end) {
                return errc::bad_syntax;
            } else {
                if (auto ec = on_scalar(r, i, h)) return ec;
                state_ = state::name;
            }
            break;
        case state::skip:
            if (t.type == token_type::list_begin) {
                ++skip_depth_;
            } else if (t.type == token_type::list_end && --skip_depth_ == 0) {
                if (auto ec = on_list(r, list_start_, i)) return ec;
                state_ = state::name;
            }
            break;
        case state::done:
            return errc::bad_syntax;  // bytes after the closing ")"
        }
    }
    next_ = end;
    return {};
}

error_code fetch_decoder::on_literal_begin(const response& partial, std::uint64_t size, fetch_handler& h) {
    if (!partial.number || partial.kind != response_kind::untagged) return errc::unexpected_response;
    if (auto ec = walk(partial, partial.args.size(), h)) {
        reset();  // the parser stops here; a decoder reused on a new connection must start clean
        return ec;
    }
    streaming_ = true;
    streaming_body_ = false;
    if (state_ == state::skip) return {};  // a big string inside ENVELOPE or similar: dropped
    if (state_ != state::value || !is_body_item(partial.args[item_].text)) {
        // A literal where an item name belongs, or as the value of UID/FLAGS: not FETCH syntax.
        if (state_ != state::value || iequals(partial.args[item_].text, "UID") ||
            iequals(partial.args[item_].text, "FLAGS") || iequals(partial.args[item_].text, "RFC822.SIZE") ||
            iequals(partial.args[item_].text, "INTERNALDATE"))
            return errc::bad_syntax;
        return {};
    }
    streaming_body_ = true;
    fetch_part part;
    make_part(partial, part);
    return h.on_body_begin(part, size);
}

error_code fetch_decoder::on_literal_chunk(std::string_view bytes, fetch_handler& h) {
    if (!streaming_) return errc::unexpected_response;
    return streaming_body_ ? h.on_body_chunk(bytes) : error_code{};
}

error_code fetch_decoder::on_literal_end(fetch_handler& h) {
    if (!streaming_) return errc::unexpected_response;
    streaming_ = false;
    if (!streaming_body_) return {};
    streaming_body_ = false;
    ++rec_.body_parts;
    return h.on_body_end();
}

error_code fetch_decoder::on_response(const response& r, fetch_handler& h) {
    error_code ec;
    if (!r.number || *r.number == 0 || r.kind != response_kind::untagged) {
        ec = errc::unexpected_response;
    } else {
        ec = walk(r, r.args.size(), h);
        if (!ec && state_ != state::done) ec = errc::bad_syntax;
    }
    if (!ec) {
        rec_.seq = *r.number;
        rec_.flags.clear();
        for (std::size_t i = 0; i < flags_count_; ++i) rec_.flags.push_back(r.args[flags_first_ + i].text);
        ec = h.on_fetch(rec_);
    }
    reset();
    return ec;
}

error_code fetch_response_handler::on_response(const response& r) {
    if (r.kind == response_kind::untagged && r.is("FETCH")) return decoder_.on_response(r, fetch_);
    if (other_) return other_->on_response(r);
    return errc::unexpected_response;
}

error_code fetch_response_handler::on_literal_begin(const response& partial, std::uint64_t size) {
    fetch_literal_ = partial.kind == response_kind::untagged && partial.is("FETCH");
    if (fetch_literal_) return decoder_.on_literal_begin(partial, size, fetch_);
    if (other_) return other_->on_literal_begin(partial, size);
    return errc::literal_too_big;
}

error_code fetch_response_handler::on_literal_chunk(std::string_view bytes) {
    if (fetch_literal_) return decoder_.on_literal_chunk(bytes, fetch_);
    return other_ ? other_->on_literal_chunk(bytes) : error_code{};
}

error_code fetch_response_handler::on_literal_end() {
    if (fetch_literal_) return decoder_.on_literal_end(fetch_);
    return other_ ? other_->on_literal_end() : error_code{};
}

}  // namespace arrival::imap
