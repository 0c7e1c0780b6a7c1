// Sans-I/O RFC 2849 LDIF reader. It owns no file: the caller feeds bytes in chunks of any size and pulls
// records out, so the same code reads files, pipes, fuzz inputs and byte-split test inputs.
//
// Calling order:
//   ldif_reader r;
//   r.feed(chunk) ... ;             any number of times, chunks split anywhere (even inside a CRLF)
//   while ((st = r.next(rec, err)) == read_status::record) use(rec);
//   st == need_more -> feed more; after the last chunk call r.finish() and keep calling next()
//   st == error     -> `err` names the line; the rest of that record is skipped and next() continues with the
//                      following record, so one run reports every broken record
//   st == end       -> only after finish(), when everything has been returned
// Memory is bounded by the largest record (limits below), not by the input.
//
// `:<` values are not read here (that is I/O): the record carries value_kind::url and the file path taken
// from the URL; provision/ldif_file.hpp resolves it relative to the LDIF file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "provision/dn.hpp"
#include "provision/ldif_errc.hpp"

namespace arrival::provision {

enum class value_kind : std::uint8_t {
    text,    // `type: value`
    base64,  // `type:: …`, already decoded (may be binary)
    url,     // `type:< file:…`: `value` holds the path from the URL, percent-decoded, not yet read
};

struct ldif_value {
    std::string type;  // attribute description as written, options included ("cn;lang-de", "userCertificate;binary")
    std::string value;
    value_kind kind = value_kind::text;
    std::size_t line = 0;
};

enum class change_type : std::uint8_t { none, add, del, modify, modrdn };
enum class mod_op : std::uint8_t { add, del, replace, increment };

struct ldif_mod {
    mod_op op = mod_op::add;
    std::string type;
    std::vector<ldif_value> values;
    std::size_t line = 0;
};

struct ldif_record {
    std::string dn_text;    // the DN as written (after base64 decoding)
    dn name;                // parsed
    std::size_t line = 0;   // line of `dn:`
    change_type change = change_type::none;   // none: a content record (RFC 2849 ldif-attrval-record)
    std::vector<std::string> controls;        // raw `control:` values, in order
    std::vector<ldif_value> attrs;            // content records and changetype: add
    std::vector<ldif_mod> mods;               // changetype: modify
    std::string new_rdn;                      // changetype: modrdn / moddn
    bool delete_old_rdn = false;
    std::optional<std::string> new_superior;

    void clear();
};

struct ldif_error {
    std::error_code ec;
    std::size_t line = 0;
    std::string detail;  // what was found (attribute type, changetype word); never an attribute value
};

enum class read_status { record, need_more, end, error };

struct ldif_limits {
    std::size_t max_line = 16u << 20;    // one logical line (a base64 jpegPhoto fits)
    std::size_t max_record = 64u << 20;  // one record
};

class ldif_reader {
public:
    explicit ldif_reader(ldif_limits limits = {}) : limits_(limits) {}

    void feed(std::string_view bytes);
    void finish() noexcept { finished_ = true; }

    // Returns the next record, need_more, end, or an error (see the calling order above).
    [[nodiscard]] read_status next(ldif_record& out, ldif_error& err);

    // The `version:` the input declared (0 if none).
    int version() const noexcept { return version_; }

private:
    enum class stage : std::uint8_t {
        outside,      // between records
        after_dn,     // dn seen: control/changetype may follow
        content,      // attrval lines (content record or changetype: add)
        delete_rec,   // changetype: delete
        modify_op,    // changetype: modify, waiting for add:/delete:/replace:/increment:
        modify_vals,  // values of the current modify operation, until "-"
        modrdn,       // newrdn / deleteoldrdn / newsuperior
        skipping,     // after an error: skip to the end of the record
    };

    // The next complete physical line (CR LF or LF stripped) and where the one after it starts; false when
    // none is complete yet. Does not consume: consume(next) does.
    bool peek_physical(std::string_view& line, std::size_t& next);
    void consume(std::size_t next) noexcept { pos_ = next; ++line_no_; }
    // Handles a complete logical line. Returns true when `out` holds a finished record (only on blank lines,
    // which handle_blank covers) or when an error was produced.
    [[nodiscard]] bool handle_logical(std::string_view text, std::size_t line, ldif_record& out, ldif_error& err);
    // The pending logical line is complete: hands it to handle_logical (unless it is a comment) and clears it.
    // true on an error, as handle_logical.
    [[nodiscard]] bool complete_logical(ldif_record& out, ldif_error& err);
    [[nodiscard]] bool end_record(ldif_record& out, ldif_error& err, read_status& st);
    [[nodiscard]] bool fail(ldif_error& err, ldif_errc code, std::size_t line, std::string detail = {});
    [[nodiscard]] bool parse_attrval(std::string_view text, std::size_t line, ldif_value& v, ldif_error& err);

    ldif_limits limits_;
    std::string buf_;
    std::size_t pos_ = 0;           // start of unconsumed bytes in buf_
    std::size_t line_no_ = 0;       // physical lines consumed so far
    bool finished_ = false;
    bool discarding_ = false;       // dropping the rest of an over-long physical line

    std::string logical_;           // the logical line being assembled
    std::size_t logical_line_ = 0;  // its first physical line (0: none pending)
    bool logical_is_comment_ = false;

    stage stage_ = stage::outside;
    bool seen_anything_ = false;    // for `version:` (only valid before the first record)
    int version_ = 0;
    std::size_t record_bytes_ = 0;
    ldif_record cur_;
};

// Decodes a `:<` URL into a path: `file:///abs/path`, `file://localhost/abs/path`, or `file:rel/path`
// (relative to the LDIF file's directory; RFC 8089 §E.2 form). Anything else is unsupported_url/bad_url.
[[nodiscard]] std::error_code parse_file_url(std::string_view url, std::string& path);

}  // namespace arrival::provision
