#include "utils/time.hpp"

#include <chrono>
#include <cstdio>

namespace flaskcart::time_format {

std::string iso8601_utc(std::int64_t epoch_ms) {
    // Calendar arithmetic from <chrono>: floor, not truncation, so instants before 1970 (negative
    // milliseconds) keep a millisecond field in 000..999 and land on the right day.
    using namespace std::chrono;
    const sys_time<milliseconds> instant{milliseconds(epoch_ms)};
    const auto day = std::chrono::floor<days>(instant);
    const year_month_day date{day};
    const hh_mm_ss time{instant - day};
    char buffer[96];
    const int length = std::snprintf(
        buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
        static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
        static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
    return std::string(buffer, static_cast<std::size_t>(length));
}

}  // namespace flaskcart::time_format
