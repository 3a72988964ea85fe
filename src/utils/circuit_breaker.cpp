#include "utils/circuit_breaker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace flaskcart::utils {

CircuitBreaker::CircuitBreaker(Options options) : options_(options) {
    options_.failure_threshold = std::max(1, options_.failure_threshold);
}

void CircuitBreaker::record_success() {
    if (is_clean_.load(std::memory_order_acquire)) return;
    std::lock_guard lock(mutex_);
    if (state_ != State::kClosed) spdlog::info("database circuit closed: the database answers");
    state_ = State::kClosed;
    consecutive_failures_ = 0;
    is_closed_.store(true, std::memory_order_release);
    is_clean_.store(true, std::memory_order_release);
}

void CircuitBreaker::record_failure(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    is_clean_.store(false, std::memory_order_release);
    if (state_ == State::kClosed) {
        if (++consecutive_failures_ < options_.failure_threshold) return;
        spdlog::warn(
            "database circuit open after {} consecutive failures: database calls answer 503 at "
            "once until a probe reaches the database",
            consecutive_failures_);
        is_closed_.store(false, std::memory_order_release);
        next_probe_at_ = now + options_.probe_interval;
    }
    // A failed probe, or a call that was already in flight when the circuit opened: either way
    // the next probe waits a whole interval from now.
    state_ = State::kOpen;
    next_probe_at_ = std::max(next_probe_at_, now + options_.probe_interval);
}

bool CircuitBreaker::begin_probe(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (state_ != State::kOpen || now < next_probe_at_) return false;
    state_ = State::kHalfOpen;
    return true;
}

CircuitBreaker::Clock::time_point CircuitBreaker::next_probe_at() const {
    std::lock_guard lock(mutex_);
    return next_probe_at_;
}

CircuitBreaker::State CircuitBreaker::state() const {
    std::lock_guard lock(mutex_);
    return state_;
}

int CircuitBreaker::retry_after_seconds(Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    if (state_ == State::kClosed || next_probe_at_ <= now) return 1;
    const auto wait = std::chrono::ceil<std::chrono::seconds>(next_probe_at_ - now);
    return std::max(1, static_cast<int>(wait.count()));
}

}  // namespace flaskcart::utils
