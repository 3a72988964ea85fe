#pragma once
// A counting semaphore that admits waiters in arrival order. std::counting_semaphore makes no
// such promise: under a login flood some requests waited out their whole timeout while later
// ones were served (bench/README.md). Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>

namespace flaskcart::utils {

class FairSemaphore {
  public:
    explicit FairSemaphore(int slots) : free_(slots) {}

    // True when a slot was taken within `timeout`; the caller must then release() it.
    bool try_acquire_for(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        const std::uint64_t ticket = next_ticket_++;
        auto position = waiting_.insert(waiting_.end(), ticket);
        const bool admitted = changed_.wait_for(
            lock, timeout, [&] { return free_ > 0 && waiting_.front() == ticket; });
        waiting_.erase(position);
        if (admitted) --free_;
        // The head of the queue changed either way: let the next waiter look.
        changed_.notify_all();
        return admitted;
    }

    // Callers waiting for a slot now (a queue depth for tests and metrics).
    std::size_t waiting() const {
        std::lock_guard lock(mutex_);
        return waiting_.size();
    }

    void release() {
        {
            std::lock_guard lock(mutex_);
            ++free_;
        }
        changed_.notify_all();
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::list<std::uint64_t> waiting_;
    std::uint64_t next_ticket_ = 0;
    int free_;
};

}  // namespace flaskcart::utils
