#pragma once
// A circuit breaker for calls to one dependency (the database). Closed: every call goes through.
// After `failure_threshold` consecutive unavailability failures it opens: calls are refused at
// once. A single prober (not a caller: no request ever waits for a dead server) checks the
// dependency once per `probe_interval` (half-open while its check runs); the first answer
// closes the circuit again. Thread-safe; time is passed in, so the state machine is testable
// without waiting.

#include <atomic>
#include <chrono>
#include <mutex>

namespace flaskcart::utils {

class CircuitBreaker {
  public:
    using Clock = std::chrono::steady_clock;
    enum class State { kClosed, kOpen, kHalfOpen };

    struct Options {
        int failure_threshold = 3;
        std::chrono::milliseconds probe_interval{1000};
    };

    explicit CircuitBreaker(Options options);

    // May a call reach the dependency now? False while open or half-open.
    bool allow() const noexcept { return is_closed_.load(std::memory_order_acquire); }
    // The dependency answered (even with an error of its own, such as a duplicate key).
    void record_success();
    // The dependency could not be reached or did not answer in time.
    void record_failure(Clock::time_point now);

    // For the prober: true (and half-open) when the circuit is open and a probe is due at `now`;
    // the prober must then report record_success() or record_failure().
    bool begin_probe(Clock::time_point now);
    // When the next probe is due (meaningful while not closed).
    Clock::time_point next_probe_at() const;

    State state() const;
    // Whole seconds (at least 1) until the next probe: the Retry-After of a refused call.
    int retry_after_seconds(Clock::time_point now) const;

  private:
    Options options_;
    std::atomic<bool> is_closed_{true};
    // Fast path: a closed breaker with no recent failure takes no lock on success.
    std::atomic<bool> is_clean_{true};
    mutable std::mutex mutex_;
    State state_ = State::kClosed;
    int consecutive_failures_ = 0;
    Clock::time_point next_probe_at_{};
};

}  // namespace flaskcart::utils
