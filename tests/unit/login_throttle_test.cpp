// The failed-login limiter: lockout, its window, and — the point of counting a guess when it
// starts — that concurrent guesses cannot pass the limit together. A fake clock, no sleeps.
#include "services/login_throttle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>
#include <vector>

namespace flaskcart::services {
namespace {

using namespace std::chrono_literals;
using Outcome = LoginThrottle::Outcome;

class FakeClock {
  public:
    std::chrono::steady_clock::time_point now() const { return now_; }
    void advance(std::chrono::steady_clock::duration by) { now_ += by; }
    LoginThrottle::Clock function() {
        return [this] { return now(); };
    }

  private:
    std::chrono::steady_clock::time_point now_{std::chrono::hours(1000)};
};

void fail_once(LoginThrottle& throttle, const std::string& key) {
    ASSERT_EQ(throttle.begin_attempt(key), 0);
    throttle.finish_attempt(key, Outcome::kFailed);
}

TEST(LoginThrottle, LocksOutAfterMaxFailuresForTheWindow) {
    FakeClock clock;
    LoginThrottle throttle(3, 900s, clock.function());
    for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    EXPECT_EQ(throttle.begin_attempt("ann"), 901);
    clock.advance(400s);
    EXPECT_EQ(throttle.begin_attempt("ann"), 501);
    clock.advance(499s);
    EXPECT_EQ(throttle.begin_attempt("ann"), 2) << "one second of the lockout is left";
    clock.advance(1s);
    EXPECT_EQ(throttle.begin_attempt("ann"), 0) << "the lockout is over";
}

TEST(LoginThrottle, FailuresBelowTheLimitDoNotLockOut) {
    FakeClock clock;
    LoginThrottle throttle(3, 60s, clock.function());
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    EXPECT_EQ(throttle.begin_attempt("ann"), 0);
}

TEST(LoginThrottle, FailuresOlderThanTheWindowAreForgotten) {
    FakeClock clock;
    LoginThrottle throttle(3, 60s, clock.function());
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    clock.advance(61s);
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    EXPECT_EQ(throttle.begin_attempt("ann"), 0) << "only two failures in this window";
}

TEST(LoginThrottle, ASuccessForgetsTheFailures) {
    FakeClock clock;
    LoginThrottle throttle(3, 60s, clock.function());
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    ASSERT_EQ(throttle.begin_attempt("ann"), 0);
    throttle.finish_attempt("ann", Outcome::kSucceeded);
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    EXPECT_EQ(throttle.begin_attempt("ann"), 0);
}

TEST(LoginThrottle, ANeutralOutcomeCountsNeitherWay) {
    FakeClock clock;
    LoginThrottle throttle(2, 60s, clock.function());
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(throttle.begin_attempt("ann"), 0);
        throttle.finish_attempt("ann", Outcome::kNeutral);
    }
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    EXPECT_GT(throttle.begin_attempt("ann"), 0) << "the earlier failure still counts";
}

TEST(LoginThrottle, KeysAreIndependent) {
    FakeClock clock;
    LoginThrottle throttle(1, 60s, clock.function());
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    EXPECT_GT(throttle.begin_attempt("ann"), 0);
    EXPECT_EQ(throttle.begin_attempt("bob"), 0);
}

TEST(LoginThrottle, GuessesStillBeingCheckedCountAgainstTheLimit) {
    FakeClock clock;
    LoginThrottle throttle(3, 60s, clock.function());
    ASSERT_NO_FATAL_FAILURE(fail_once(throttle, "ann"));
    ASSERT_EQ(throttle.begin_attempt("ann"), 0);
    ASSERT_EQ(throttle.begin_attempt("ann"), 0);
    EXPECT_EQ(throttle.begin_attempt("ann"), 1) << "1 failure + 2 in flight = the limit";
    throttle.finish_attempt("ann", Outcome::kNeutral);
    EXPECT_EQ(throttle.begin_attempt("ann"), 0) << "a slot came free";
    throttle.finish_attempt("ann", Outcome::kFailed);
    throttle.finish_attempt("ann", Outcome::kFailed);
    EXPECT_EQ(throttle.begin_attempt("ann"), 61) << "three failures: locked out";
}

TEST(LoginThrottle, ConcurrentGuessesNeverPassTheLimit) {
    constexpr int kLimit = 5;
    constexpr int kThreads = 32;
    for (int round = 0; round < 20; ++round) {
        LoginThrottle throttle(kLimit, 60s);
        std::atomic<int> admitted{0};
        std::latch start(kThreads);
        std::vector<std::thread> guessers;
        for (int i = 0; i < kThreads; ++i) {
            guessers.emplace_back([&] {
                start.arrive_and_wait();
                if (throttle.begin_attempt("target") == 0) {
                    ++admitted;
                    throttle.finish_attempt("target", Outcome::kFailed);
                }
            });
        }
        for (auto& guesser : guessers) guesser.join();
        // Every rejection while guesses were in flight saw kLimit counted or running, all of
        // which then failed: exactly kLimit guesses were checked.
        EXPECT_EQ(admitted.load(), kLimit) << "round " << round;
        EXPECT_GT(throttle.begin_attempt("target"), 1) << "round " << round << ": locked out";
    }
}

}  // namespace
}  // namespace flaskcart::services
