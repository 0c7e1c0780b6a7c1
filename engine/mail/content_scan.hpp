// What in a message's bytes a strict destination may refuse or alter, found in one pass as the bytes stream
// by (a FETCH literal is fed chunk by chunk; the message is never held whole). Used by `arrival preflight
// --content` and `arrival verify --content`; nothing is ever rewritten — the report only says which
// messages carry which trait, so an admin knows before the night which ones a destination like Carbonio
// (which stores through its own MIME parser) may change or refuse.
//
// The traits (RFC 5322 §2.1, §2.3, §3.5; RFC 2045/2046):
//  - bare_lf: a LF not preceded by CR; bare_cr: a CR not followed by LF. Servers differ on what they make of
//    them (Dovecot keeps them, Zimbra/Carbonio's parser normalises line ends).
//  - nul: a NUL byte anywhere.
//  - header_8bit: a byte >= 0x80 in a header section (the message's or a MIME part's) that is not an
//    RFC 2047 encoded word. header_utf8 tells whether every such byte sequence is valid UTF-8 (RFC 6532
//    allows that where SMTPUTF8 was negotiated; anything else has no charset anywhere to declare it).
//  - long_line: a line over 998 octets without its CRLF.
//  - mime_malformed: a multipart without a boundary parameter, a multipart whose boundary never appears, or
//    one that is never closed with its "--boundary--" line (mime_problem says which, and the boundary). The
//    Content-Type values are read with mimetic's ContentType, so quoting and parameters follow its grammar.
//    A message/rfc822 part is not descended into: its own boundaries are its business, and RFC 2046 §5.1.1
//    requires a boundary not to occur inside the parts it encloses, so they cannot be confused with ours.
//
// Memory is bounded whatever the input: a header section is kept up to 64 KiB (beyond that its fields are
// not read, which is reported as mime_malformed when the header was the one that could have declared a
// multipart), a body line only up to the longest boundary it could match.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace arrival::engine {

enum class content_trait : std::uint8_t {
    bare_lf = 1 << 0,
    bare_cr = 1 << 1,
    nul = 1 << 2,
    header_8bit = 1 << 3,
    long_line = 1 << 4,
    mime_malformed = 1 << 5,
};

// The trait's name as reports and JSON spell it ("bare_lf", ...).
[[nodiscard]] std::string_view to_string(content_trait t) noexcept;
inline constexpr content_trait all_content_traits[] = {content_trait::bare_lf, content_trait::bare_cr,
                                                        content_trait::nul, content_trait::header_8bit,
                                                        content_trait::long_line, content_trait::mime_malformed};

struct content_findings {
    std::uint8_t traits = 0;            // content_trait bits
    bool header_utf8 = true;            // header_8bit only: every 8-bit sequence was valid UTF-8
    std::uint64_t longest_line = 0;     // octets, without the line end
    std::string mime_problem;           // mime_malformed only, e.g. "multipart/mixed boundary \"b1\" never closed"

    [[nodiscard]] bool has(content_trait t) const noexcept { return (traits & static_cast<std::uint8_t>(t)) != 0; }
    [[nodiscard]] bool clean() const noexcept { return traits == 0; }
    // "bare_lf, long_line (1204 octets)" — one line for a report.
    [[nodiscard]] std::string describe() const;
};

class content_scanner {
public:
    content_scanner();
    // Feed the message's bytes in order, in chunks of any size (empty ones too).
    void feed(std::string_view chunk);
    // Ends the message (a last line without line end counts as a line) and returns what was found. The
    // scanner is then reset for the next message.
    [[nodiscard]] content_findings finish();

private:
    struct multipart {
        std::string boundary;     // without the leading "--"
        std::string type;         // "multipart/mixed", for messages
        bool delimiter_seen = false;
    };
    enum class section : std::uint8_t { header, body, opaque_body };

    void on_line(std::string_view line, bool overflow, std::uint64_t length);
    void end_header();
    void note_header_bytes(std::string_view line);
    void malformed(std::string problem);
    void set(content_trait t) noexcept { found_.traits |= static_cast<std::uint8_t>(t); }

    content_findings found_;
    section section_ = section::header;
    std::vector<multipart> open_;       // the enclosing multiparts, outermost first
    std::string header_;                // the current header section, up to header_limit
    bool header_overflow_ = false;
    std::string line_;                  // the current line, up to line_keep_ octets
    std::uint64_t line_length_ = 0;     // the current line's full length so far
    bool pending_cr_ = false;           // the previous byte was a CR whose LF has not been seen yet
    std::size_t line_keep_ = 0;         // how much of a body line could still matter (a delimiter)
};

// Scans one whole message held in memory (tests, small messages).
[[nodiscard]] content_findings scan_content(std::string_view message);

}  // namespace arrival::engine
