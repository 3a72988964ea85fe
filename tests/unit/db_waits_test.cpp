// Every wait in utils/db is bounded: a document lock held elsewhere and an exhausted client
// pool turn into DbError(kBusy) — the router's 503 + Retry-After — after the configured wait,
// never a hang or a null client; and unrelated documents never wait for each other. No
// database is needed: locks are in-process and pooled clients connect lazily.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "utils/db.hpp"

namespace flaskcart::db {
namespace {

using namespace std::chrono_literals;

DbErrorKind kind_of_failure(const std::function<void()>& call) {
    try {
        call();
    } catch (const DbError& error) {
        return error.kind();
    }
    ADD_FAILURE() << "no DbError was thrown";
    return DbErrorKind::kOther;
}

// Holds the lock on `key` in another thread until `release` is counted down.
class HeldElsewhere {
  public:
    HeldElsewhere(DocumentLocks& locks, std::string key)
        : thread_([this, &locks, key] {
              auto guard = locks.lock("products", key);
              held_.count_down();
              release_.wait();
          }) {
        held_.wait();
    }
    ~HeldElsewhere() {
        release_.count_down();
        thread_.join();
    }

  private:
    std::latch held_{1};
    std::latch release_{1};
    std::thread thread_;
};

TEST(DocumentLocks, AWaitForALockHeldElsewhereIsBoundedAndBusy) {
    DocumentLocks locks(50ms);
    HeldElsewhere holder(locks, "hot");
    EXPECT_EQ(kind_of_failure([&] { auto guard = locks.lock("products", "hot"); }),
              DbErrorKind::kBusy);
}

TEST(DocumentLocks, UnrelatedDocumentsNeverShareALock) {
    // With a fixed set of lock stripes some of a thousand documents would share one with the
    // held document (or with each other) and wait; here none waits at all.
    DocumentLocks locks(std::chrono::milliseconds(0));
    HeldElsewhere holder(locks, "hot");
    std::vector<DocumentLocks::Guard> guards;
    for (int i = 0; i < 1000; ++i) {
        guards.push_back(locks.lock("products", "doc-" + std::to_string(i)));
    }
    // The same key in another collection is another document.
    guards.push_back(locks.lock("orders", "hot"));
    EXPECT_EQ(guards.size(), 1001U);
}

TEST(DocumentLocks, ALockIsFreeAgainOnceItsGuardIsGone) {
    DocumentLocks locks(std::chrono::milliseconds(0));
    { auto guard = locks.lock("cart", "line"); }
    auto again = locks.lock("cart", "line");
    auto moved = std::move(again);
    EXPECT_EQ(kind_of_failure([&] { auto guard = locks.lock("cart", "line"); }), DbErrorKind::kBusy)
        << "a moved guard still holds the lock";
}

TEST(DocumentLocks, WritersOfOneDocumentTakeTurns) {
    DocumentLocks locks(10s);
    int counter = 0;  // guarded only by the document lock: without it increments are lost
    constexpr int kThreads = 8;
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            start.arrive_and_wait();
            for (int i = 0; i < 200; ++i) {
                auto guard = locks.lock("products", "shared");
                const int seen = counter;
                std::this_thread::yield();
                counter = seen + 1;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(counter, kThreads * 200);
}

TEST(DbPool, AnExhaustedPoolIsBusyAfterTheWaitNotANullClient) {
    // Nothing listens on port 1; clients are only created here, never connected.
    Db db({.uri = "mongodb://127.0.0.1:1/", .max_pool_size = 1, .pool_wait_timeout_ms = 50});
    {
        Collection held = db.collection("products");
        EXPECT_EQ(kind_of_failure([&] { db.collection("orders"); }), DbErrorKind::kBusy);
        EXPECT_FALSE(db.ping()) << "a ping that gets no client reports the database unready";
    }
    EXPECT_NO_THROW(db.collection("orders")) << "the client is back in the pool";
}

TEST(DbPool, EveryCallReturnsItsClientWhenItFailsOrIsMoved) {
    // Nothing listens on port 1: each command fails after the short selection timeout. With a
    // pool of one client, any call that kept its client would make the next one busy.
    Db db({.uri = "mongodb://127.0.0.1:1/",
           .max_pool_size = 1,
           .server_selection_timeout_ms = 100,
           .pool_wait_timeout_ms = 50});
    EXPECT_NE(kind_of_failure([&] { db.drop_database(); }), DbErrorKind::kBusy);
    EXPECT_NE(kind_of_failure([&] { db.build_info(); }), DbErrorKind::kBusy);
    EXPECT_FALSE(db.ping());
    EXPECT_NE(kind_of_failure([&] { db.collection("orders").count(Bson()); }),
              DbErrorKind::kBusy);
    {
        Collection first = db.collection("products");
        const Collection moved(std::move(first));
        EXPECT_EQ(kind_of_failure([&] { db.collection("orders"); }), DbErrorKind::kBusy);
    }
    EXPECT_NO_THROW(db.collection("orders")) << "the moved collection gave its client back once";
}

TEST(DbError, BusyIsAnsweredAsUnavailable) {
    EXPECT_TRUE(DbError(DbErrorKind::kBusy, 0, 0, "lock wait").is_unavailable());
}

}  // namespace
}  // namespace flaskcart::db
