// Sans-I/O incremental IMAP response parser.
//
// Calling order (the connection's read loop):
//     response_parser p{limits};
//     loop: read some bytes into your buffer -> p.feed(bytes, handler) -> check the error_code
// feed() consumes ALL the bytes it is given; a response split anywhere (one byte at a time, or in the middle of
// a literal) produces exactly the same handler calls as the whole response in one chunk. For every complete
// response, handler.on_response() is called; for every literal longer than limits::max_inline_literal the
// bytes are streamed through on_literal_begin / on_literal_chunk (zero or more) / on_literal_end BEFORE the
// response they belong to completes, straight out of the caller's chunk (no copy), so a 50 MB FETCH body
// needs only the caller's read buffer. Smaller literals and all other bytes are copied once, into the parser's
// line buffer, and handed out as views.
//
// Errors: a non-zero error_code from feed() is either a parse error (errc, see errc.hpp) or whatever a handler
// returned. The parser is then broken (every later feed() returns the same error) until reset(): after a parse
// error, drop the connection (is_fatal). diagnostics() names the line (counted from 1) and what was wrong.
//
// STARTTLS: after the tagged OK to STARTTLS no further byte may have arrived in plaintext; the connection checks
// that no response followed it in the same feed() and that has_partial() is false before the TLS handshake.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/imap/diagnostics.hpp"
#include "protocol/imap/errc.hpp"
#include "protocol/imap/response.hpp"

namespace arrival::imap {

class response_handler {
public:
    virtual ~response_handler() = default;
    // A complete response. Views are valid during the call only. A non-zero return stops feed() with it.
    [[nodiscard]] virtual error_code on_response(const response& r) = 0;
    // A literal larger than the inline limit starts. `partial` is the response so far (kind, tag, number,
    // name, and the args before this literal); its views are valid during the call only. The default refuses
    // (literal_too_big), so only handlers that expect big literals (FETCH bodies) see them.
    [[nodiscard]] virtual error_code on_literal_begin(const response& partial, std::uint64_t size);
    [[nodiscard]] virtual error_code on_literal_chunk(std::string_view bytes);
    [[nodiscard]] virtual error_code on_literal_end();
};

class response_parser {
public:
    struct limits {
        std::size_t max_line = 64 * 1024;                 // one line segment, excluding literal payloads
        std::size_t max_depth = 32;                       // parenthesised list nesting
        std::size_t max_inline_literal = 32 * 1024;       // above this, literals are streamed (Dovecot imapc)
        std::uint64_t max_literal = 4ull * 1024 * 1024 * 1024;  // hard cap on any literal (streamed too)
        std::size_t max_inline_total = 16 * 1024 * 1024;  // all inline bytes of one response (e.g. a long LIST)
    };

    response_parser() : response_parser(limits{}) {}
    explicit response_parser(limits l);

    // Consumes all of `bytes`; see the calling order above.
    [[nodiscard]] error_code feed(std::string_view bytes, response_handler& h);

    // True when bytes of an unfinished response are buffered (or a literal is half streamed).
    [[nodiscard]] bool has_partial() const noexcept;
    // After an error: what was wrong and where (client_message), never the offending bytes themselves.
    [[nodiscard]] const diagnostics& diag() const noexcept { return diag_; }
    // Responses completed since construction/reset (useful for "line N" in messages and for tests).
    [[nodiscard]] std::uint64_t responses() const noexcept { return responses_; }
    // Forgets everything buffered and any error (e.g. for a new connection).
    void reset() noexcept;

private:
    struct tok {
        token_type type;
        bool binary;
        std::size_t off;
        std::size_t len;
        std::uint64_t size;
    };
    enum class mode : std::uint8_t { line, literal_inline, literal_stream, failed };

    [[nodiscard]] error_code fail(errc e, std::string_view what);
    [[nodiscard]] error_code on_line_end(response_handler& h);
    [[nodiscard]] error_code parse_head(std::size_t end, bool& complete);
    [[nodiscard]] error_code parse_resp_text(std::size_t p, std::size_t end);
    [[nodiscard]] error_code tokenize(std::size_t p, std::size_t end);
    [[nodiscard]] error_code finish_response(response_handler& h);
    void build_view(response& r, std::size_t ntoks);
    void reset_response() noexcept;

    // permanent
    limits limits_;
    std::uint64_t responses_ = 0;
    std::uint64_t line_no_ = 0;       // physical lines completed, for messages
    diagnostics diag_;
    error_code failed_;
    std::vector<token> view_tokens_;  // reused for every response handed out

    // reset for every response (reset_response())
    mode mode_ = mode::line;
    std::string buf_;                 // the response's bytes: line segments and inline literal payloads
    std::size_t seg_begin_ = 0;       // start of the current line segment in buf_
    std::vector<tok> toks_;
    std::size_t depth_ = 0;
    bool head_done_ = false;
    response_kind kind_ = response_kind::untagged;
    response_status status_ = response_status::none;
    std::optional<std::uint32_t> number_;
    std::size_t tag_off_ = 0, tag_len_ = 0, name_off_ = 0, name_len_ = 0;
    std::size_t text_off_ = 0, text_len_ = 0, code_off_ = 0, code_len_ = 0, cargs_off_ = 0, cargs_len_ = 0;
    bool literal_pending_ = false;    // tokenize() stopped at a literal header
    bool literal_binary_ = false;
    std::uint64_t literal_size_ = 0;
    std::uint64_t literal_left_ = 0;  // payload bytes still expected
};

}  // namespace arrival::imap
