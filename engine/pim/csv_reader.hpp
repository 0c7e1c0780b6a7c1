// Contact exports as a table: protocol/csv.hpp's records (RFC 4180: quoted fields with "" escapes and
// embedded newlines, CRLF/LF/CR line ends), `,` `;` or TAB delimiters (detected from the header line), any
// encoding text_decode knows; the first record is the header, blank lines are not records.
// Strict where data would be lost: a quoted field that never closes is reported with the line it opened on,
// only that record is dropped, and reading resumes on the next line.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/pim/text_decode.hpp"

namespace arrival::pim {

struct csv_issue {
    std::size_t line = 0;  // 1-based line in the file where the record starts
    std::string message;
};

struct csv_record {
    std::size_t line = 0;
    std::vector<std::string> fields;
};

struct csv_table {
    text_encoding encoding = text_encoding::utf8;
    char delimiter = ',';
    std::vector<std::string> header;
    std::vector<csv_record> rows;  // blank lines are not records
    std::vector<csv_issue> issues;
};

// Parses already-decoded UTF-8 text with the given delimiter; the first record becomes the header.
[[nodiscard]] csv_table parse_csv(std::string_view utf8, char delimiter);

// Decodes, detects the delimiter (csv::detect_delimiter) and parses.
[[nodiscard]] csv_table read_csv(std::string_view bytes);

}  // namespace arrival::pim
