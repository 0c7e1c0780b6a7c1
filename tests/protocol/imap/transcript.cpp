#include "tests/protocol/imap/transcript.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace arrival::test {

using namespace arrival::imap;

std::string render(const response& r) {
    std::string s;
    switch (r.kind) {
    case response_kind::continuation: return fmt::format("+ {}", r.text);
    case response_kind::tagged: s = std::string(r.tag); break;
    case response_kind::untagged: s = "*"; break;
    }
    if (r.number) s += fmt::format(" {}", *r.number);
    if (r.is_status()) {
        s += fmt::format(" {}", to_string(r.status));
        if (!r.code.name.empty()) s += fmt::format(" [{}|{}]", r.code.name, r.code.args);
        s += fmt::format(" {}", r.text);
        return s;
    }
    s += fmt::format(" {}", r.name);
    for (const token& t : r.args) {
        switch (t.type) {
        case token_type::atom: s += fmt::format(" {}", t.text); break;
        case token_type::quoted: s += fmt::format(" \"{}\"", t.text); break;
        case token_type::literal: s += fmt::format(" {}{{{}}}{}", t.binary ? "~" : "", t.size, t.text); break;
        case token_type::streamed_literal: s += fmt::format(" {}{{{}*}}", t.binary ? "~" : "", t.size); break;
        case token_type::nil: s += " NIL"; break;
        case token_type::list_begin: s += " ("; break;
        case token_type::list_end: s += " )"; break;
        }
    }
    return s;
}

error_code transcript_handler::on_response(const response& r) {
    out += render(r);
    out += '\n';
    return {};
}

error_code transcript_handler::on_literal_begin(const response& partial, std::uint64_t size) {
    out += fmt::format("<literal {} after: {}>", size, render(partial));
    literal_.clear();
    return {};
}

error_code transcript_handler::on_literal_chunk(std::string_view bytes) {
    literal_ += bytes;
    return {};
}

error_code transcript_handler::on_literal_end() {
    out += fmt::format("<{}>\n", literal_);
    return {};
}

std::string parse_transcript(const std::vector<std::string_view>& chunks, response_parser::limits limits) {
    response_parser p(limits);
    transcript_handler h;
    for (auto c : chunks) {
        if (auto ec = p.feed(c, h)) {
            h.out += fmt::format("error: {} ({})", ec.message(), p.diag().client_message());
            return h.out;
        }
    }
    if (p.has_partial()) h.out += "partial";
    return h.out;
}

error_code fetch_transcript::on_body_begin(const fetch_part& part, std::uint64_t size) {
    if (in_body_) return errc::unexpected_response;  // nested begin: a decoder bug
    in_body_ = true;
    body_.clear();
    out += fmt::format("body seq={} uid={} item={} section={} origin={} nil={} size={}: ", part.seq,
                       part.uid ? fmt::format("{}", *part.uid) : "?", part.item, part.section,
                       part.origin ? fmt::format("{}", *part.origin) : "-", part.nil, size);
    return {};
}

error_code fetch_transcript::on_body_chunk(std::string_view bytes) {
    if (!in_body_) return errc::unexpected_response;
    body_ += bytes;
    return {};
}

error_code fetch_transcript::on_body_end() {
    if (!in_body_) return errc::unexpected_response;
    in_body_ = false;
    out += body_.size() <= 64 ? body_ : fmt::format("[{} bytes, ends {}]", body_.size(), body_.substr(body_.size() - 16));
    out += '\n';
    return {};
}

error_code fetch_transcript::on_fetch(const fetch_record& rec) {
    if (in_body_) return errc::unexpected_response;
    out += fmt::format("fetch seq={} uid={}", rec.seq, rec.uid ? fmt::format("{}", *rec.uid) : "?");
    if (rec.has_flags) out += fmt::format(" flags=({})", fmt::join(rec.flags, " "));
    if (rec.internaldate) out += fmt::format(" date={}", format_internal_date(*rec.internaldate));
    if (rec.rfc822_size) out += fmt::format(" size={}", *rec.rfc822_size);
    if (rec.modseq) out += fmt::format(" modseq={}", *rec.modseq);
    out += fmt::format(" parts={}\n", rec.body_parts);
    return {};
}

namespace {
class other_handler : public response_handler {
public:
    explicit other_handler(std::string& out) : out_(out) {}
    error_code on_response(const response& r) override {
        out_ += render(r);
        out_ += '\n';
        return {};
    }

private:
    std::string& out_;
};
}  // namespace

std::string fetch_transcript_of(const std::vector<std::string_view>& chunks, response_parser::limits limits) {
    response_parser p(limits);
    fetch_transcript f;
    other_handler o(f.out);
    fetch_response_handler h(f, &o);
    for (auto c : chunks) {
        if (auto ec = p.feed(c, h)) {
            f.out += fmt::format("error: {}", ec.message());
            return f.out;
        }
    }
    if (p.has_partial()) f.out += "partial";
    return f.out;
}

void with_response(std::string_view bytes, const std::function<void(const response&)>& check) {
    struct one : response_handler {
        const std::function<void(const response&)>* f;
        int n = 0;
        error_code on_response(const response& r) override {
            ++n;
            (*f)(r);
            return {};
        }
    } h;
    h.f = &check;
    response_parser p;
    ASSERT_FALSE(p.feed(bytes, h)) << p.diag().client_message();
    ASSERT_EQ(h.n, 1);
}

}  // namespace arrival::test
