#include "utils/time.hpp"

#include <cstdio>
#include <ctime>

namespace flaskcart::time_format {

std::string iso8601_utc(std::int64_t epoch_ms) {
    const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[32];
    const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(epoch_ms % 1000));
    return std::string(buffer, n) + millis;
}

}  // namespace flaskcart::time_format
