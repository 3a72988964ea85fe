#pragma once
// Limits password guesses per key (an email, a client address) in a sliding window. Per
// instance (documented in the README). Thread-safe.
//
// A guess is counted when it starts, not when it has failed: begin_attempt() admits it only
// while failures + guesses still being checked stay below the limit, in the same critical
// section that reads the count. So a burst of concurrent guesses cannot pass the limit
// together; at most max_failures guesses per key are ever checked before the lockout.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace flaskcart::services {

class LoginThrottle {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    enum class Outcome {
        kFailed,     // a wrong guess: counts towards the lockout
        kSucceeded,  // the right password: the key's failures are forgotten
        kNeutral,    // not judged (the check never ran), or success that forgives nothing
    };

    // Lockout after `max_failures` failed guesses within `window`, for `window`.
    LoginThrottle(int max_failures, std::chrono::seconds window,
                  Clock clock = &std::chrono::steady_clock::now);

    // 0 when a guess for `key` may be checked now (then call finish_attempt exactly once), or
    // the seconds to wait: the rest of a lockout, or 1 while the last allowed guesses are
    // still being checked.
    int begin_attempt(const std::string& key);
    void finish_attempt(const std::string& key, Outcome outcome);

  private:
    struct Entry {
        int failures = 0;
        int in_flight = 0;
        std::chrono::steady_clock::time_point window_start;
        std::chrono::steady_clock::time_point locked_until;
    };
    void forget_if_idle(std::map<std::string, Entry>::iterator it,
                        std::chrono::steady_clock::time_point now);

    int max_failures_;
    std::chrono::seconds window_;
    Clock clock_;
    std::mutex mutex_;
    std::map<std::string, Entry> entries_;
};

}  // namespace flaskcart::services
