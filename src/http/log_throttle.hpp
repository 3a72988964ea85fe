#pragma once
// Lets one log message of a kind through per interval and counts the ones held back, so a
// failure that repeats a million times a second (accept() at the descriptor limit) costs a line
// every few seconds, not gigabytes. Not thread-safe: one owner (e.g. one strand).

#include <chrono>
#include <cstddef>
#include <optional>

namespace flaskcart::http {

class LogThrottle {
  public:
    using Clock = std::chrono::steady_clock;

    explicit LogThrottle(Clock::duration interval) : interval_(interval) {}

    // When a message may be logged at `now`: how many were held back since the last one
    // logged. Otherwise std::nullopt, and the message is counted.
    std::optional<std::size_t> admit(Clock::time_point now) {
        if (has_logged_ && now - last_logged_ < interval_) {
            ++held_back_;
            return std::nullopt;
        }
        has_logged_ = true;
        last_logged_ = now;
        const std::size_t held_back = held_back_;
        held_back_ = 0;
        return held_back;
    }

  private:
    Clock::duration interval_;
    Clock::time_point last_logged_{};
    bool has_logged_ = false;
    std::size_t held_back_ = 0;
};

}  // namespace flaskcart::http
