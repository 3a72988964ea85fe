#pragma once
// Real concurrent clients for API tests, with GoogleTest assertions that work inside them.
//
// A failure recorded on a worker thread is invisible to ASSERT_NO_FATAL_FAILURE on the test's
// thread, an ASSERT_* there only leaves the worker, and an exception escaping a std::thread
// aborts the whole run. run_concurrently() captures each worker's failures and exceptions and
// reports them again on the calling thread, so
//     ASSERT_NO_FATAL_FAILURE(run_concurrently(n, body));
// stops the test when any worker's ASSERT_* failed.

#include <functional>

namespace flaskcart::testing {

// Runs body(0) … body(workers − 1), each on its own thread, released together by a latch so
// the requests really overlap; returns when all have finished.
void run_concurrently(int workers, const std::function<void(int)>& body);

}  // namespace flaskcart::testing
