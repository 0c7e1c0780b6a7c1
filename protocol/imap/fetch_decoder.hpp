// FETCH responses (RFC 3501 §7.4.2) turned into records and body streams.
//
//   message-data = nz-number SP "FETCH" SP msg-att
//   msg-att      = "(" (msg-att-dynamic / msg-att-static) *(SP ...) ")"
//
// Items decoded: UID, FLAGS, INTERNALDATE, RFC822.SIZE, MODSEQ (RFC 7162), and every body item — BODY[...],
// BODY[...]<origin>, BINARY[...] (RFC 3516), RFC822, RFC822.HEADER, RFC822.TEXT — whose bytes go to the handler's
// body callbacks. ENVELOPE, BODYSTRUCTURE, BODY (no section), X-GM-* and any unknown item are skipped whatever
// their shape (nested lists, literals, NIL), so servers may add items without breaking us.
//
// Why a push interface: the server chooses the order of items, and Dovecot may send UID after the body, so the
// consumer cannot be told the UID before the first body byte. Body bytes are therefore delivered as they come
// (on_body_begin / on_body_chunk* / on_body_end, in wire order, inline and streamed literals alike), and the
// complete record {seq, uid, flags, internaldate, rfc822_size} is handed over once, at the end of the response,
// by on_fetch(). A consumer that needs the UID to place the body writes it to a temporary sink and files it
// when on_fetch() arrives; fetch_part::uid is set when the UID happened to come first (Dovecot does so when UID
// is requested first).
//
// Calling order, inside the connection's response_handler:
//     on_response(r):              if (r.is("FETCH")) return fetch.on_response(r, h);
//     on_literal_begin(p, size):   if (p.is("FETCH")) return fetch.on_literal_begin(p, size, h);
//     on_literal_chunk(bytes):     return fetch.on_literal_chunk(bytes, h);
//     on_literal_end():            return fetch.on_literal_end(h);
// or use fetch_response_handler, which does exactly this and refuses any other response.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/imap/errc.hpp"
#include "protocol/imap/internal_date.hpp"
#include "protocol/imap/response.hpp"
#include "protocol/imap/response_parser.hpp"

namespace arrival::imap {

// One body item of a FETCH response as it starts.
struct fetch_part {
    std::uint32_t seq = 0;
    std::optional<std::uint32_t> uid;   // only when UID preceded this item in the response
    std::string_view item;              // as sent: "BODY[]", "BODY[HEADER.FIELDS (MESSAGE-ID)]", "BINARY[]", "RFC822"
    std::string_view section;           // between the brackets: "", "HEADER.FIELDS (MESSAGE-ID)", "1.2" ("" for RFC822*)
    std::optional<std::uint32_t> origin;  // BODY[]<origin> partial fetch
    bool nil = false;                   // the server sent NIL: no bytes follow, on_body_end comes right away
};

struct fetch_record {
    std::uint32_t seq = 0;
    std::optional<std::uint32_t> uid;
    bool has_flags = false;
    std::vector<std::string_view> flags;          // views valid during on_fetch() only
    std::optional<internal_date> internaldate;
    std::optional<std::uint64_t> rfc822_size;
    std::optional<std::uint64_t> modseq;
    unsigned body_parts = 0;                      // how many body items were delivered

    void clear() noexcept;
};

class fetch_handler {
public:
    virtual ~fetch_handler() = default;
    // Size is the literal size (0 for NIL or ""). Views in `part` are valid during the call only.
    [[nodiscard]] virtual error_code on_body_begin(const fetch_part& part, std::uint64_t size) = 0;
    [[nodiscard]] virtual error_code on_body_chunk(std::string_view bytes) = 0;
    [[nodiscard]] virtual error_code on_body_end() = 0;
    // The whole response was read; every body item of it has ended.
    [[nodiscard]] virtual error_code on_fetch(const fetch_record& rec) = 0;
};

class fetch_decoder {
public:
    [[nodiscard]] error_code on_response(const response& r, fetch_handler& h);
    [[nodiscard]] error_code on_literal_begin(const response& partial, std::uint64_t size, fetch_handler& h);
    [[nodiscard]] error_code on_literal_chunk(std::string_view bytes, fetch_handler& h);
    [[nodiscard]] error_code on_literal_end(fetch_handler& h);
    // Forget a half-decoded response (after an error or on a new connection).
    void reset() noexcept;

private:
    enum class state : std::uint8_t { open, name, value, skip, done };
    // Walks args[next_, end) of the (possibly partial) response, delivering inline body items and picking up
    // UID/RFC822.SIZE/...; state survives between the partial walks of one response. Only indexes are kept
    // across calls: the parser's buffer may move between them, so views are resolved from the final response.
    [[nodiscard]] error_code walk(const response& r, std::size_t end, fetch_handler& h);
    [[nodiscard]] error_code on_scalar(const response& r, std::size_t i, fetch_handler& h);
    [[nodiscard]] error_code on_list(const response& r, std::size_t first, std::size_t last);
    [[nodiscard]] error_code deliver_inline(const response& r, const token& t, fetch_handler& h);
    void make_part(const response& r, fetch_part& part) const;

    fetch_record rec_;
    state state_ = state::open;
    std::size_t next_ = 0;        // first args index not yet walked
    std::size_t item_ = 0;        // index of the current item's name
    std::size_t list_start_ = 0;  // index of the "(" of the value being skipped
    std::size_t skip_depth_ = 0;
    std::size_t flags_first_ = 0, flags_count_ = 0;
    bool streaming_ = false;       // between on_literal_begin and on_literal_end
    bool streaming_body_ = false;  // ... and the bytes are a body item's (else they are dropped)
};

// A response_handler that decodes FETCH responses and hands every other untagged response and every tagged
// one to `other` (which may be null: they are then refused with errc::unexpected_response). For tests, fuzzing
// and simple consumers.
class fetch_response_handler : public response_handler {
public:
    fetch_response_handler(fetch_handler& fetch, response_handler* other) : fetch_(fetch), other_(other) {}
    [[nodiscard]] error_code on_response(const response& r) override;
    [[nodiscard]] error_code on_literal_begin(const response& partial, std::uint64_t size) override;
    [[nodiscard]] error_code on_literal_chunk(std::string_view bytes) override;
    [[nodiscard]] error_code on_literal_end() override;
    fetch_decoder& decoder() noexcept { return decoder_; }

private:
    fetch_handler& fetch_;
    response_handler* other_;
    fetch_decoder decoder_;
    bool fetch_literal_ = false;
};

}  // namespace arrival::imap
