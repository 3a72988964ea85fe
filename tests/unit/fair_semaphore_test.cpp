#include "utils/fair_semaphore.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace flaskcart::utils {
namespace {

using namespace std::chrono_literals;

TEST(FairSemaphore, NeverAdmitsMoreThanItsSlots) {
    FairSemaphore slots(2);
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                ASSERT_TRUE(slots.try_acquire_for(5s));
                const int now = ++inside;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                std::this_thread::yield();
                --inside;
                slots.release();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_LE(most.load(), 2);
    EXPECT_GE(most.load(), 1);
}

TEST(FairSemaphore, AdmitsWaitersInArrivalOrder) {
    FairSemaphore slots(1);
    ASSERT_TRUE(slots.try_acquire_for(0ms));
    std::mutex order_mutex;
    std::vector<int> order;
    std::vector<std::thread> waiters;
    for (int i = 0; i < 4; ++i) {
        waiters.emplace_back([&, i] {
            ASSERT_TRUE(slots.try_acquire_for(5s));
            {
                std::lock_guard lock(order_mutex);
                order.push_back(i);
            }
            slots.release();
        });
        // Waiter i is in the queue before waiter i + 1 starts.
        while (slots.waiting() < static_cast<std::size_t>(i + 1)) std::this_thread::yield();
    }
    slots.release();
    for (auto& waiter : waiters) waiter.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(FairSemaphore, TimesOutAndLeavesTheQueue) {
    FairSemaphore slots(1);
    ASSERT_TRUE(slots.try_acquire_for(0ms));
    EXPECT_FALSE(slots.try_acquire_for(50ms));
    slots.release();
    // The timed-out waiter is gone: the next one is admitted at once.
    EXPECT_TRUE(slots.try_acquire_for(0ms));
}

}  // namespace
}  // namespace flaskcart::utils
