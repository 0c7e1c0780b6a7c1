#include "protocol/imap/internal_date.hpp"

#include <fmt/format.h>

namespace arrival::imap {
namespace {

constexpr const char* month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr bool leap(int y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
constexpr int days_in_month(int y, int m) noexcept {
    constexpr int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

// Howard Hinnant's days_from_civil: proleptic Gregorian, valid for every year we can parse.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

}  // namespace

std::int64_t internal_date::to_unix() const noexcept {
    const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return days * 86400 + hour * 3600 + minute * 60 + second - std::int64_t{zone_minutes} * 60;
}

internal_date internal_date::from_unix(std::int64_t t, int zone) noexcept {
    t += std::int64_t{zone} * 60;
    std::int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    std::int64_t secs = t - days * 86400;
    // civil_from_days
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    internal_date r;
    r.year = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
    r.month = static_cast<int>(m);
    r.day = static_cast<int>(d);
    r.hour = static_cast<int>(secs / 3600);
    r.minute = static_cast<int>(secs / 60 % 60);
    r.second = static_cast<int>(secs % 60);
    r.zone_minutes = zone;
    return r;
}

// date-day-fixed "-" date-month "-" date-year SP time SP zone
error_code parse_internal_date(std::string_view s, internal_date& out) noexcept {
    internal_date d;
    std::size_t p = 0;
    if (s.size() >= 2 && s[0] == ' ') {  // " 7-Jul-..."
        if (!digits(s, 1, 1, d.day)) return errc::bad_date;
        p = 2;
    } else if (s.size() >= 2 && s[1] == '-') {  // "7-Jul-..." (lenient)
        if (!digits(s, 0, 1, d.day)) return errc::bad_date;
        p = 1;
    } else {
        if (!digits(s, 0, 2, d.day)) return errc::bad_date;
        p = 2;
    }
    if (p + 5 > s.size() || s[p] != '-' || s[p + 4] != '-') return errc::bad_date;
    const std::string_view mon = s.substr(p + 1, 3);
    d.month = 0;
    for (int i = 0; i < 12; ++i)
        {
            const char* n = month_names[i];
            bool eq = true;
            for (int k = 0; k < 3; ++k)
                if ((mon[static_cast<std::size_t>(k)] | 0x20) != (n[k] | 0x20)) eq = false;
            if (eq) {
                d.month = i + 1;
                break;
            }
        }
    if (d.month == 0) return errc::bad_date;
    p += 5;
    // "1996 02:44:25 -0700"
    if (s.size() != p + 19) return errc::bad_date;
    if (!digits(s, p, 4, d.year) || s[p + 4] != ' ' || !digits(s, p + 5, 2, d.hour) || s[p + 7] != ':' ||
        !digits(s, p + 8, 2, d.minute) || s[p + 10] != ':' || !digits(s, p + 11, 2, d.second) || s[p + 13] != ' ')
        return errc::bad_date;
    const char sign = s[p + 14];
    int zh = 0, zm = 0;
    if ((sign != '+' && sign != '-') || !digits(s, p + 15, 2, zh) || !digits(s, p + 17, 2, zm)) return errc::bad_date;
    if (d.day < 1 || d.day > days_in_month(d.year, d.month) || d.hour > 23 || d.minute > 59 || d.second > 60 ||
        zh > 23 || zm > 59)
        return errc::bad_date;
    d.zone_minutes = (sign == '-' ? -1 : 1) * (zh * 60 + zm);
    out = d;
    return {};
}

std::string format_internal_date(const internal_date& d) {
    const int z = d.zone_minutes < 0 ? -d.zone_minutes : d.zone_minutes;
    const int m = d.month >= 1 && d.month <= 12 ? d.month : 1;
    return fmt::format("{:02d}-{}-{:04d} {:02d}:{:02d}:{:02d} {}{:02d}{:02d}", d.day, month_names[m - 1], d.year, d.hour,
                       d.minute, d.second, d.zone_minutes < 0 ? '-' : '+', z / 60, z % 60);
}

}  // namespace arrival::imap
