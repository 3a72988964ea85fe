#include "services/login_throttle.hpp"

#include <utility>

namespace flaskcart::services {

namespace {

// Bounded memory under a spray of distinct keys.
constexpr std::size_t kMaxEntries = 100'000;

}  // namespace

LoginThrottle::LoginThrottle(int max_failures, std::chrono::seconds window, Clock clock)
    : max_failures_(max_failures), window_(window), clock_(std::move(clock)) {}

int LoginThrottle::begin_attempt(const std::string& key) {
    std::lock_guard lock(mutex_);
    const auto now = clock_();
    if (entries_.size() > kMaxEntries) {
        std::erase_if(entries_, [&](const auto& item) {
            const Entry& entry = item.second;
            return entry.in_flight == 0 && entry.window_start + window_ < now &&
                   entry.locked_until < now;
        });
    }
    Entry& entry = entries_[key];
    if (entry.locked_until > now) {
        return static_cast<int>(
                   std::chrono::duration_cast<std::chrono::seconds>(entry.locked_until - now)
                       .count()) +
               1;
    }
    if (entry.window_start + window_ < now) {
        entry.failures = 0;
        entry.window_start = now;
    }
    // The guesses being checked right now may all fail: they count already.
    if (entry.failures + entry.in_flight >= max_failures_) return 1;
    ++entry.in_flight;
    return 0;
}

void LoginThrottle::finish_attempt(const std::string& key, Outcome outcome) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    Entry& entry = it->second;
    const auto now = clock_();
    if (entry.in_flight > 0) --entry.in_flight;
    switch (outcome) {
        case Outcome::kFailed:
            if (entry.window_start + window_ < now) {
                entry.failures = 0;
                entry.window_start = now;
            }
            if (++entry.failures >= max_failures_) {
                entry.locked_until = now + window_;
                entry.failures = 0;
                entry.window_start = now;
            }
            break;
        case Outcome::kSucceeded:
            entry.failures = 0;
            break;
        case Outcome::kNeutral:
            break;
    }
    forget_if_idle(it, now);
}

void LoginThrottle::forget_if_idle(std::map<std::string, Entry>::iterator it,
                                   std::chrono::steady_clock::time_point now) {
    const Entry& entry = it->second;
    if (entry.in_flight == 0 && entry.failures == 0 && entry.locked_until <= now) {
        entries_.erase(it);
    }
}

}  // namespace flaskcart::services
