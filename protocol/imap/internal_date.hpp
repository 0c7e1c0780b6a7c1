// INTERNALDATE / APPEND date-time (RFC 3501 §9):
//   date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
//   date-day-fixed = (SP DIGIT) / 2DIGIT     e.g. "17-Jul-1996 02:44:25 -0700", " 7-Jul-1996 ..."
// parse accepts the value without the quotes (the parser already removed them) and, leniently, a day written
// with one digit ("7-Jul-1996") as some servers send.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/imap/errc.hpp"

namespace arrival::imap {

struct internal_date {
    int year = 1970;
    int month = 1;        // 1..12
    int day = 1;          // 1..31 (checked against the month, leap years included)
    int hour = 0, minute = 0, second = 0;  // second 0..60 (leap second)
    int zone_minutes = 0;  // -0700 -> -420

    // Seconds since 1970-01-01T00:00:00Z.
    [[nodiscard]] std::int64_t to_unix() const noexcept;
    // The moment `t` expressed in zone `zone_minutes`.
    [[nodiscard]] static internal_date from_unix(std::int64_t t, int zone_minutes = 0) noexcept;
    friend bool operator==(const internal_date&, const internal_date&) = default;
};

[[nodiscard]] error_code parse_internal_date(std::string_view s, internal_date& out) noexcept;
// "17-Jul-1996 02:44:25 -0700", "07-Jul-2022 07:07:07 +0000" (no quotes; the day is two digits, the 2DIGIT
// form of date-day-fixed, as Dovecot sends it: no leading space in reports, and every server reads it).
// The one formatter: APPEND dates, the dates migrate reports and compares.
[[nodiscard]] std::string format_internal_date(const internal_date& d);

}  // namespace arrival::imap
