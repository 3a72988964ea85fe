// The test support's run_concurrently(): failures inside worker threads reach the test that
// started them (an ASSERT_* in a plain std::thread is invisible to ASSERT_NO_FATAL_FAILURE, and
// an exception escaping one aborts the run).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "support/concurrency.hpp"

namespace flaskcart::testing {
namespace {

TEST(RunConcurrently, RunsEveryWorkerOnce) {
    std::atomic<int> calls{0};
    std::atomic<int> index_sum{0};
    run_concurrently(8, [&](int i) {
        ++calls;
        index_sum += i;
    });
    EXPECT_EQ(calls.load(), 8);
    EXPECT_EQ(index_sum.load(), 0 + 1 + 2 + 3 + 4 + 5 + 6 + 7);
}

TEST(RunConcurrently, AWorkersFailedAssertIsAFatalFailureOfTheTest) {
    EXPECT_FATAL_FAILURE(
        run_concurrently(3, [](int i) { ASSERT_NE(i, 1) << "worker-assert-marker"; }),
        "worker-assert-marker");
}

TEST(RunConcurrently, AWorkersFailedExpectIsANonFatalFailureOfTheTest) {
    EXPECT_NONFATAL_FAILURE(
        run_concurrently(2, [](int i) { EXPECT_EQ(i, 0) << "worker-expect-marker"; }),
        "worker-expect-marker");
}

TEST(RunConcurrently, AnExceptionInAWorkerIsAFailureNotAnAbort) {
    EXPECT_NONFATAL_FAILURE(run_concurrently(2,
                                             [](int i) {
                                                 if (i == 1) throw std::runtime_error("boom-42");
                                             }),
                            "boom-42");
}

}  // namespace
}  // namespace flaskcart::testing
