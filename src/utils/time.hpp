#pragma once
// Timestamps as the API shows them. Pure functions; thread-safe.

#include <cstdint>
#include <string>

namespace flaskcart::time_format {

// "2023-11-14T22:13:20.123Z" for milliseconds since the epoch.
std::string iso8601_utc(std::int64_t epoch_ms);

}  // namespace flaskcart::time_format
