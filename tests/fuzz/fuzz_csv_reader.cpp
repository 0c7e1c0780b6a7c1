// libFuzzer target for the CSV path: decoding (BOMs, UTF-16, Windows-1252), RFC 4180 parsing, dialect
// detection and mapping, and the writers. For any input: no crash or hang; decoded text is valid UTF-8;
// a record written by write_csv_record parses back to the same fields; every contact becomes a vCard
// whose lines never exceed 75 octets.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/pim/carbonio_rest.hpp"
#include "engine/pim/csv_mapping.hpp"
#include "engine/pim/csv_reader.hpp"
#include "engine/pim/text_decode.hpp"
#include "engine/pim/vcard_writer.hpp"
#include "protocol/csv.hpp"

using namespace arrival::pim;

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    text_encoding enc{};
    const auto text = decode_to_utf8(bytes, enc);
    check(enc != text_encoding::windows1252 || is_valid_utf8(text));
    const auto table = read_csv(bytes);
    for (const auto& row : table.rows) {
        const auto line = arrival::csv::record(row.fields, table.delimiter);
        const auto back = parse_csv("h\r\n" + line, table.delimiter);
        // A record of one empty field is a blank line, which is not a record.
        if (row.fields.size() == 1 && row.fields[0].empty()) continue;
        check(back.rows.size() == 1 && back.rows[0].fields == row.fields);
    }
    const auto format = detect_csv_format(table.header).value_or(static_cast<csv_format>(size % 4));
    const auto mapped = map_contacts(table, format);
    for (const auto& c : mapped.contacts) {
        const auto card = write_vcard(c, c.stable_uid(), size % 2 ? vcard_version::v3 : vcard_version::v4);
        for (std::size_t p = 0, e; (e = card.find("\r\n", p)) != std::string::npos; p = e + 2) check(e - p <= 75);
    }
    (void)carbonio_contacts_request("fuzz@example.test", table, format, mapped);
    return 0;
}
