// The database circuit breaker's state machine, on a hand-driven clock.
#include "utils/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace flaskcart::utils {
namespace {

using namespace std::chrono_literals;
using State = CircuitBreaker::State;

class CircuitBreakerTest : public ::testing::Test {
  protected:
    CircuitBreaker breaker_{{.failure_threshold = 3, .probe_interval = 1000ms}};
    CircuitBreaker::Clock::time_point t0_ = CircuitBreaker::Clock::now();

    void open_at(CircuitBreaker::Clock::time_point at) {
        for (int i = 0; i < 3; ++i) breaker_.record_failure(at);
        ASSERT_EQ(breaker_.state(), State::kOpen);
    }
};

TEST_F(CircuitBreakerTest, StaysClosedBelowTheThresholdAndAnAnswerResetsTheCount) {
    EXPECT_TRUE(breaker_.allow());
    breaker_.record_failure(t0_);
    breaker_.record_failure(t0_);
    EXPECT_EQ(breaker_.state(), State::kClosed);
    EXPECT_TRUE(breaker_.allow());
    breaker_.record_success();
    breaker_.record_failure(t0_);
    breaker_.record_failure(t0_);
    EXPECT_EQ(breaker_.state(), State::kClosed);
    breaker_.record_failure(t0_);
    EXPECT_EQ(breaker_.state(), State::kOpen);
    EXPECT_FALSE(breaker_.allow());
}

TEST_F(CircuitBreakerTest, OpenRefusesEveryCallAndProbesOncePerInterval) {
    open_at(t0_);
    EXPECT_FALSE(breaker_.allow());
    EXPECT_FALSE(breaker_.begin_probe(t0_));
    EXPECT_FALSE(breaker_.begin_probe(t0_ + 999ms));
    EXPECT_EQ(breaker_.next_probe_at(), t0_ + 1000ms);
    EXPECT_EQ(breaker_.retry_after_seconds(t0_), 1);
    EXPECT_TRUE(breaker_.begin_probe(t0_ + 1000ms));
    EXPECT_EQ(breaker_.state(), State::kHalfOpen);
    EXPECT_FALSE(breaker_.allow());                    // callers still never wait for the probe
    EXPECT_FALSE(breaker_.begin_probe(t0_ + 1000ms));  // one probe at a time
    EXPECT_FALSE(breaker_.begin_probe(t0_ + 5s));
}

TEST_F(CircuitBreakerTest, ASuccessfulProbeClosesTheCircuit) {
    open_at(t0_);
    ASSERT_TRUE(breaker_.begin_probe(t0_ + 1s));
    breaker_.record_success();
    EXPECT_EQ(breaker_.state(), State::kClosed);
    EXPECT_TRUE(breaker_.allow());
    EXPECT_FALSE(breaker_.begin_probe(t0_ + 10s));  // nothing to probe when closed
    // Closed again means the full threshold is needed to reopen.
    breaker_.record_failure(t0_ + 2s);
    EXPECT_EQ(breaker_.state(), State::kClosed);
}

TEST_F(CircuitBreakerTest, AFailedProbeReopensForAnotherInterval) {
    open_at(t0_);
    ASSERT_TRUE(breaker_.begin_probe(t0_ + 1s));
    breaker_.record_failure(t0_ + 3s);  // the ping took the selection timeout to fail
    EXPECT_EQ(breaker_.state(), State::kOpen);
    EXPECT_FALSE(breaker_.begin_probe(t0_ + 3500ms));
    EXPECT_EQ(breaker_.next_probe_at(), t0_ + 4s);
    EXPECT_TRUE(breaker_.begin_probe(t0_ + 4s));
}

TEST_F(CircuitBreakerTest, LateFailuresOfCallsInFlightPushTheProbeBack) {
    open_at(t0_);
    breaker_.record_failure(t0_ + 1500ms);
    EXPECT_FALSE(breaker_.begin_probe(t0_ + 2s));
    EXPECT_EQ(breaker_.retry_after_seconds(t0_ + 2s), 1);
    EXPECT_TRUE(breaker_.begin_probe(t0_ + 2500ms));
}

TEST_F(CircuitBreakerTest, AnAnswerFromACallInFlightClosesItToo) {
    open_at(t0_);
    breaker_.record_success();
    EXPECT_TRUE(breaker_.allow());
    EXPECT_EQ(breaker_.state(), State::kClosed);
}

TEST(CircuitBreakerRetryAfter, RoundsUpToWholeSeconds) {
    const auto t0 = CircuitBreaker::Clock::now();
    CircuitBreaker slow({.failure_threshold = 1, .probe_interval = 2500ms});
    EXPECT_EQ(slow.retry_after_seconds(t0), 1);
    slow.record_failure(t0);
    EXPECT_EQ(slow.retry_after_seconds(t0), 3);
    EXPECT_EQ(slow.retry_after_seconds(t0 + 2s), 1);
    EXPECT_EQ(slow.retry_after_seconds(t0 + 10s), 1);
}

TEST(CircuitBreakerConcurrency, ConcurrentFailuresOpenItOnceAndOnlyOneProbeStarts) {
    for (int round = 0; round < 50; ++round) {
        CircuitBreaker breaker({.failure_threshold = 5, .probe_interval = 1000ms});
        const auto t0 = CircuitBreaker::Clock::now();
        std::atomic<int> probes{0};
        std::vector<std::thread> failing;
        for (int i = 0; i < 8; ++i) {
            failing.emplace_back([&] {
                for (int j = 0; j < 20; ++j) breaker.record_failure(t0);
            });
        }
        for (auto& thread : failing) thread.join();
        EXPECT_EQ(breaker.next_probe_at(), t0 + 1000ms);
        std::vector<std::thread> probing;
        for (int i = 0; i < 8; ++i) {
            probing.emplace_back([&] {
                for (int j = 0; j < 100; ++j) {
                    if (breaker.begin_probe(t0 + 1500ms)) ++probes;
                }
            });
        }
        for (auto& thread : probing) thread.join();
        EXPECT_FALSE(breaker.allow()) << "round " << round;
        EXPECT_EQ(probes.load(), 1) << "round " << round;
    }
}

}  // namespace
}  // namespace flaskcart::utils
