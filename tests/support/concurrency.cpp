#include "support/concurrency.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <exception>
#include <latch>
#include <string>
#include <thread>
#include <vector>

namespace flaskcart::testing {

namespace {

void report_on_this_thread(const ::testing::TestPartResult& result, int worker) {
    const char* file = result.file_name() != nullptr ? result.file_name() : "(worker thread)";
    const int line = result.line_number() >= 0 ? result.line_number() : 0;
    const std::string message = "[worker " + std::to_string(worker) + "] " + result.message();
    if (result.fatally_failed()) {
        // GTEST_FAIL_AT returns; the lambda keeps the loop going so every failure is shown.
        [&] { GTEST_FAIL_AT(file, line) << message; }();
    } else if (result.nonfatally_failed()) {
        ADD_FAILURE_AT(file, line) << message;
    }
}

}  // namespace

void run_concurrently(int workers, const std::function<void(int)>& body) {
    std::vector<::testing::TestPartResultArray> results(static_cast<std::size_t>(workers));
    std::latch start(workers);
    std::vector<std::thread> threads;
    threads.reserve(results.size());
    for (int i = 0; i < workers; ++i) {
        threads.emplace_back([&, i] {
            ::testing::ScopedFakeTestPartResultReporter capture(
                ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD,
                &results[static_cast<std::size_t>(i)]);
            start.arrive_and_wait();
            try {
                body(i);
            } catch (const std::exception& error) {
                ADD_FAILURE() << "threw " << error.what();
            } catch (...) {
                ADD_FAILURE() << "threw a non-standard exception";
            }
        });
    }
    for (auto& thread : threads) thread.join();
    for (int i = 0; i < workers; ++i) {
        const auto& captured = results[static_cast<std::size_t>(i)];
        for (int j = 0; j < captured.size(); ++j)
            report_on_this_thread(captured.GetTestPartResult(j), i);
    }
}

}  // namespace flaskcart::testing
