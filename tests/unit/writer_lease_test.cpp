// The writer-lease protocol against an in-memory lease chain and a hand-driven clock: who may
// claim, when a holder stops writing, and — over many random schedules with failing and lost
// database replies — that two instances never may write at the same moment.
#include "services/writer_lease.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <map>
#include <memory>
#include <random>

#include "models/lease_model.hpp"
#include "utils/db.hpp"

namespace flaskcart::services {
namespace {

using namespace std::chrono_literals;
using models::LeaseInsertResult;
using models::LeaseTerm;

// The chain as FerretDB keeps it: insert-only documents under a unique term. Can fail the next
// call outright, or apply the next insert and then lose its reply.
class FakeLeaseStorage : public models::LeaseStorage {
  public:
    std::optional<LeaseTerm> latest() override {
        fail_if_asked();
        if (terms_.empty()) return std::nullopt;
        return terms_.rbegin()->second;
    }
    std::optional<LeaseTerm> find(std::int64_t term) override {
        fail_if_asked();
        auto it = terms_.find(term);
        if (it == terms_.end()) return std::nullopt;
        return it->second;
    }
    LeaseInsertResult insert(const LeaseTerm& term) override {
        fail_if_asked();
        if (before_next_insert_) std::exchange(before_next_insert_, nullptr)();
        if (!terms_.emplace(term.term, term).second) return LeaseInsertResult::kTermTaken;
        if (lose_next_reply_) {
            lose_next_reply_ = false;
            throw unavailable();
        }
        return LeaseInsertResult::kInserted;
    }
    void prune_below(std::int64_t term) override {
        fail_if_asked();
        terms_.erase(terms_.begin(), terms_.lower_bound(term));
    }

    void fail_next_call() { fail_next_ = true; }
    void lose_next_reply() { lose_next_reply_ = true; }
    // Runs `change` between the caller's last read and its next insert (a stalled process).
    void before_next_insert(std::function<void()> change) {
        before_next_insert_ = std::move(change);
    }
    // Another process writing the chain directly.
    void put(LeaseTerm term) { terms_[term.term] = std::move(term); }
    std::optional<LeaseTerm> top() const {
        if (terms_.empty()) return std::nullopt;
        return terms_.rbegin()->second;
    }

  private:
    static db::DbError unavailable() {
        return db::DbError(db::DbErrorKind::kUnavailable, 0, 0, "fake: database unreachable");
    }
    void fail_if_asked() {
        if (fail_next_) {
            fail_next_ = false;
            throw unavailable();
        }
    }

    std::map<std::int64_t, LeaseTerm> terms_;
    bool fail_next_ = false;
    bool lose_next_reply_ = false;
    std::function<void()> before_next_insert_;
};

LeaseTerm process(const std::string& id, std::int64_t pid) {
    return LeaseTerm{.holder_id = id, .host = "host-" + id, .pid = pid, .started_at_ms = 0};
}

LeaseTerm term_of(const std::string& id, std::int64_t pid, std::int64_t term,
                  bool released = false) {
    LeaseTerm t = process(id, pid);
    t.term = term;
    t.released = released;
    return t;
}

const LeaseTiming kTiming{};
const LeaseClock::time_point kStart = LeaseClock::time_point{} + 1000h;

TEST(WriterLease, AnEmptyChainIsClaimedAtOnce) {
    FakeLeaseStorage storage;
    WriterLease lease(storage, process("a", 1), kTiming);
    EXPECT_EQ(lease.try_acquire(kStart), WriterLease::Acquire::kClaimed);
    EXPECT_EQ(lease.term(), 1);
    ASSERT_TRUE(storage.top());
    EXPECT_EQ(storage.top()->holder_id, "a");
    EXPECT_TRUE(lease.can_write(kStart));
    EXPECT_TRUE(lease.can_write(kStart + kTiming.write_window - 1ms));
    EXPECT_FALSE(lease.can_write(kStart + kTiming.write_window));
}

TEST(WriterLease, AReleasedLeaseIsClaimedAtOnce) {
    FakeLeaseStorage storage;
    storage.put(term_of("old", 7, 41, /*released=*/true));
    WriterLease lease(storage, process("a", 1), kTiming);
    EXPECT_EQ(lease.try_acquire(kStart), WriterLease::Acquire::kClaimed);
    EXPECT_EQ(lease.term(), 42);
}

TEST(WriterLease, ALiveHolderIsRecognisedByItsRenewalAndNamed) {
    FakeLeaseStorage storage;
    storage.put(term_of("holder", 4242, 3));
    WriterLease lease(storage, process("b", 2), kTiming);
    EXPECT_EQ(lease.try_acquire(kStart), WriterLease::Acquire::kWait);
    EXPECT_FALSE(lease.can_write(kStart));
    EXPECT_EQ(lease.try_acquire(kStart + 250ms), WriterLease::Acquire::kWait);
    storage.put(term_of("holder", 4242, 4));  // the holder renews
    EXPECT_EQ(lease.try_acquire(kStart + 500ms), WriterLease::Acquire::kHeldByOther);
    EXPECT_EQ(lease.other_holder().pid, 4242);
    EXPECT_EQ(lease.other_holder().host, "host-holder");
    EXPECT_FALSE(lease.can_write(kStart + 500ms));
    EXPECT_EQ(storage.top()->holder_id, "holder");
}

TEST(WriterLease, AnUnrenewedTermIsTakenOverOnlyAfterTheLeaseTime) {
    FakeLeaseStorage storage;
    storage.put(term_of("dead", 9, 3));
    WriterLease lease(storage, process("b", 2), kTiming);
    EXPECT_EQ(lease.try_acquire(kStart), WriterLease::Acquire::kWait);
    EXPECT_EQ(lease.try_acquire(kStart + kTiming.lease_time - 1ms), WriterLease::Acquire::kWait);
    EXPECT_EQ(storage.top()->holder_id, "dead");
    EXPECT_EQ(lease.try_acquire(kStart + kTiming.lease_time), WriterLease::Acquire::kClaimed);
    EXPECT_EQ(lease.term(), 4);
    EXPECT_EQ(storage.top()->holder_id, "b");
}

TEST(WriterLease, OfTwoContendersForAnExpiredTermExactlyOneWins) {
    FakeLeaseStorage storage;
    storage.put(term_of("dead", 9, 3));
    WriterLease first(storage, process("b", 2), kTiming);
    WriterLease second(storage, process("c", 3), kTiming);
    EXPECT_EQ(first.try_acquire(kStart), WriterLease::Acquire::kWait);
    EXPECT_EQ(second.try_acquire(kStart), WriterLease::Acquire::kWait);
    const auto later = kStart + kTiming.lease_time;
    EXPECT_EQ(first.try_acquire(later), WriterLease::Acquire::kClaimed);
    EXPECT_EQ(second.try_acquire(later), WriterLease::Acquire::kHeldByOther);
    EXPECT_EQ(second.other_holder().holder_id, "b");
    EXPECT_TRUE(first.can_write(later));
    EXPECT_FALSE(second.can_write(later));
}

TEST(WriterLease, TheHolderStopsWritingWhenRenewalsFailAndResumesWhenOneSucceeds) {
    FakeLeaseStorage storage;
    WriterLease lease(storage, process("a", 1), kTiming);
    ASSERT_EQ(lease.try_acquire(kStart), WriterLease::Acquire::kClaimed);
    storage.fail_next_call();
    EXPECT_EQ(lease.renew(kStart + 1s), WriterLease::Renewal::kRetry);
    storage.fail_next_call();
    EXPECT_EQ(lease.renew(kStart + 2s), WriterLease::Renewal::kRetry);
    EXPECT_TRUE(lease.can_write(kStart + kTiming.write_window - 1ms));
    EXPECT_FALSE(lease.can_write(kStart + kTiming.write_window));
    const auto back = kStart + 10s;
    EXPECT_EQ(lease.renew(back), WriterLease::Renewal::kRenewed);
    EXPECT_EQ(lease.term(), 2);
    EXPECT_TRUE(lease.can_write(back + kTiming.write_window - 1ms));
}

TEST(WriterLease, ARenewalWhoseReplyWasLostCountsFromItsFirstAttempt) {
    FakeLeaseStorage storage;
    WriterLease lease(storage, process("a", 1), kTiming);
    ASSERT_EQ(lease.try_acquire(kStart), WriterLease::Acquire::kClaimed);
    storage.lose_next_reply();
    EXPECT_EQ(lease.renew(kStart + 1s), WriterLease::Renewal::kRetry);
    EXPECT_EQ(storage.top()->term, 2);  // it landed
    EXPECT_EQ(lease.renew(kStart + 2s), WriterLease::Renewal::kRenewed);
    EXPECT_EQ(lease.term(), 2);
    // Term 2 may have appeared as early as the first attempt (kStart + 1s).
    EXPECT_TRUE(lease.can_write(kStart + 1s + kTiming.write_window - 1ms));
    EXPECT_FALSE(lease.can_write(kStart + 1s + kTiming.write_window));
}

TEST(WriterLease, AHolderWhoseTermWasTakenOverLosesAtOnce) {
    FakeLeaseStorage storage;
    WriterLease lease(storage, process("a", 1), kTiming);
    ASSERT_EQ(lease.try_acquire(kStart), WriterLease::Acquire::kClaimed);
    storage.put(term_of("b", 77, 2));  // a contender that saw term 1 unchanged for lease_time
    EXPECT_EQ(lease.renew(kStart + 1s), WriterLease::Renewal::kLost);
    EXPECT_FALSE(lease.can_write(kStart + 1s));
    EXPECT_EQ(lease.other_holder().pid, 77);
}

// Live instance "a" moved from term 2 to 5 and pruned the terms below 4.
void move_on_and_prune(FakeLeaseStorage& storage) {
    for (std::int64_t term = 2; term <= 5; ++term) storage.put(term_of("a", 1, term));
    storage.prune_below(4);
}

TEST(WriterLease, AContenderThatStalledBeforeItsInsertDoesNotWinAPrunedTerm) {
    FakeLeaseStorage storage;
    storage.put(term_of("dead", 9, 1));
    WriterLease stalled(storage, process("b", 2), kTiming);
    ASSERT_EQ(stalled.try_acquire(kStart), WriterLease::Acquire::kWait);
    storage.before_next_insert([&] { move_on_and_prune(storage); });
    // It saw term 1 expire, then stalled; by its insert term 2 was pruned, so the insert works.
    EXPECT_EQ(stalled.try_acquire(kStart + kTiming.lease_time), WriterLease::Acquire::kHeldByOther);
    EXPECT_EQ(stalled.other_holder().holder_id, "a");
    EXPECT_FALSE(stalled.can_write(kStart + kTiming.lease_time));
}

TEST(WriterLease, AHolderThatStalledPastATakeOverDoesNotRenewIntoAPrunedTerm) {
    FakeLeaseStorage storage;
    WriterLease holder(storage, process("old", 3), kTiming);
    ASSERT_EQ(holder.try_acquire(kStart), WriterLease::Acquire::kClaimed);
    move_on_and_prune(storage);  // "a" took over at term 2 while it stalled
    EXPECT_EQ(holder.renew(kStart + 30s), WriterLease::Renewal::kLost);
    EXPECT_EQ(holder.other_holder().holder_id, "a");
    EXPECT_FALSE(holder.can_write(kStart + 30s));
}

TEST(WriterLease, ReleaseStopsWritesAndLetsASuccessorClaimAtOnce) {
    FakeLeaseStorage storage;
    WriterLease holder(storage, process("a", 1), kTiming);
    ASSERT_EQ(holder.try_acquire(kStart), WriterLease::Acquire::kClaimed);
    ASSERT_EQ(holder.renew(kStart + 1s), WriterLease::Renewal::kRenewed);
    EXPECT_TRUE(holder.release());
    EXPECT_FALSE(holder.can_write(kStart + 1s));
    ASSERT_TRUE(storage.top()->released);
    WriterLease successor(storage, process("b", 2), kTiming);
    EXPECT_EQ(successor.try_acquire(kStart + 1s), WriterLease::Acquire::kClaimed);
    EXPECT_EQ(successor.term(), 4);
}

TEST(WriterLease, ReleaseAfterALostRenewalReplyGoesAfterThatTerm) {
    FakeLeaseStorage storage;
    WriterLease holder(storage, process("a", 1), kTiming);
    ASSERT_EQ(holder.try_acquire(kStart), WriterLease::Acquire::kClaimed);
    storage.lose_next_reply();
    EXPECT_EQ(holder.renew(kStart + 1s), WriterLease::Renewal::kRetry);
    EXPECT_TRUE(holder.release());
    EXPECT_EQ(storage.top()->term, 3);
    EXPECT_TRUE(storage.top()->released);
}

struct ScheduleOutcome {
    bool two_writers = false;  // at some instant two instances could write
    int claims = 0;
};

// Three instances step in random order at random times; the database fails some calls and
// loses some replies after applying the insert; holders sometimes stall. Refused and beaten
// instances are replaced by fresh processes.
// Keeps the thousands of expected "renewal failed" warnings out of the test output.
class QuietLogs {
  public:
    QuietLogs() : level_(spdlog::get_level()) { spdlog::set_level(spdlog::level::err); }
    ~QuietLogs() { spdlog::set_level(level_); }
    QuietLogs(const QuietLogs&) = delete;
    QuietLogs& operator=(const QuietLogs&) = delete;

  private:
    spdlog::level::level_enum level_;
};

ScheduleOutcome run_random_schedule(unsigned seed, const LeaseTiming& timing) {
    const QuietLogs quiet;
    std::mt19937 rng(seed);
    FakeLeaseStorage storage;
    std::vector<std::unique_ptr<WriterLease>> instances;
    std::vector<bool> holding;
    auto fresh = [&](const std::string& id, std::int64_t pid) {
        return std::make_unique<WriterLease>(storage, process(id, pid), timing);
    };
    for (int i = 0; i < 3; ++i) {
        instances.push_back(fresh(std::string(1, static_cast<char>('a' + i)), i + 1));
        holding.push_back(false);
    }
    ScheduleOutcome outcome;
    auto now = kStart;
    for (int step = 0; step < 400 && !outcome.two_writers; ++step) {
        now += std::chrono::milliseconds(rng() % 900);
        const std::size_t who = rng() % instances.size();
        const unsigned fault = rng() % 10;
        if (fault == 0) storage.fail_next_call();
        if (fault == 1) storage.lose_next_reply();
        WriterLease& lease = *instances[who];
        try {
            if (holding[who]) {
                // A holder that stalls (fault 2) skips renewals, as a stopped process would.
                if (fault != 2 && lease.renew(now) == WriterLease::Renewal::kLost) {
                    holding[who] = false;
                    instances[who] = fresh(std::to_string(seed * 1000 + step), 100 + step);
                }
            } else {
                const auto result = lease.try_acquire(now);
                if (result == WriterLease::Acquire::kClaimed) {
                    holding[who] = true;
                    ++outcome.claims;
                } else if (result == WriterLease::Acquire::kHeldByOther) {
                    instances[who] = fresh(std::to_string(seed * 1000 + step), 100 + step);
                }
            }
        } catch (const db::DbError&) {
            // Unreachable database: the instance tries again on its next step.
        }
        int writers = 0;
        for (const auto& instance : instances) writers += instance->can_write(now) ? 1 : 0;
        outcome.two_writers = writers > 1;
    }
    return outcome;
}

TEST(WriterLease, NoTwoInstancesMayWriteAtOnceOverRandomSchedules) {
    int takeovers = 0;
    for (unsigned seed = 1; seed <= 300; ++seed) {
        const auto outcome = run_random_schedule(seed, kTiming);
        ASSERT_FALSE(outcome.two_writers) << "seed " << seed;
        EXPECT_GT(outcome.claims, 0) << "seed " << seed;
        takeovers += outcome.claims - 1;
    }
    // The schedules do exercise take-overs, not just one holder renewing.
    EXPECT_GT(takeovers, 300);
}

// The check above is sharp: a holder allowed to write longer than a contender waits is caught.
TEST(WriterLease, RandomSchedulesCatchAWriteWindowLongerThanTheLeaseTime) {
    LeaseTiming broken = kTiming;
    broken.write_window = broken.lease_time + 3s;
    bool caught = false;
    for (unsigned seed = 1; seed <= 300 && !caught; ++seed) {
        caught = run_random_schedule(seed, broken).two_writers;
    }
    EXPECT_TRUE(caught);
}

TEST(WriterRole, OnMongoDbThereIsNoLeaseAndWritesAreAllowed) {
    FakeLeaseStorage storage;
    WriterRole role([] { return models::ServerKind::kAtomicUpdates; }, storage, process("a", 1),
                    kTiming, false);
    role.step(kStart);
    EXPECT_EQ(role.state(), WriterRole::State::kUnrestricted);
    EXPECT_EQ(role.refusal(kStart + 1h), WriteRefusal::kNone);
    EXPECT_FALSE(storage.top());  // no lease document
}

TEST(WriterRole, OnFerretDbTheLeaseDecides) {
    FakeLeaseStorage storage;
    WriterRole role([] { return models::ServerKind::kFerretDb; }, storage, process("a", 1), kTiming,
                    false);
    role.step(kStart);
    EXPECT_EQ(role.state(), WriterRole::State::kWriter);
    EXPECT_EQ(role.refusal(kStart), WriteRefusal::kNone);
    EXPECT_EQ(role.refusal(kStart + kTiming.write_window), WriteRefusal::kLeaseNotHeld);
    role.release();
    EXPECT_EQ(role.state(), WriterRole::State::kReleased);
    EXPECT_EQ(role.refusal(kStart), WriteRefusal::kLeaseNotHeld);
    EXPECT_TRUE(storage.top()->released);
}

TEST(WriterRole, ReadOnlyNeverAsksTheDatabaseAndRefusesChanges) {
    FakeLeaseStorage storage;
    bool asked = false;
    WriterRole role(
        [&] {
            asked = true;
            return models::ServerKind::kFerretDb;
        },
        storage, process("a", 1), kTiming, true);
    role.step(kStart);
    EXPECT_FALSE(asked);
    EXPECT_EQ(role.state(), WriterRole::State::kReadOnly);
    EXPECT_EQ(role.refusal(kStart), WriteRefusal::kReadOnly);
    EXPECT_FALSE(storage.top());
}

TEST(WriterRole, AnUnreachableDatabaseLeavesTheRoleUndecided) {
    FakeLeaseStorage storage;
    WriterRole role(
        []() -> models::ServerKind {
            throw db::DbError(db::DbErrorKind::kUnavailable, 0, 0, "no server");
        },
        storage, process("a", 1), kTiming, false);
    role.step(kStart);
    EXPECT_FALSE(role.last_step_reached_database());
    EXPECT_EQ(role.state(), WriterRole::State::kUndecided);
    EXPECT_EQ(role.refusal(kStart), WriteRefusal::kNotYetWriter);
}

TEST(WriterRole, ChangesAreEveryMethodButReadsAndLogin) {
    EXPECT_FALSE(changes_data("GET", "/products"));
    EXPECT_FALSE(changes_data("HEAD", "/categories"));
    EXPECT_FALSE(changes_data("POST", "/login"));
    EXPECT_TRUE(changes_data("POST", "/register"));
    EXPECT_TRUE(changes_data("POST", "/logout"));
    EXPECT_TRUE(changes_data("POST", "/order"));
    EXPECT_TRUE(changes_data("PUT", "/profile"));
    EXPECT_TRUE(changes_data("DELETE", "/cart/remove"));
    EXPECT_TRUE(changes_data("PATCH", "/login"));
}

TEST(ServerKind, FerretDbIsToldFromItsBuildInfoReply) {
    // As FerretDB v1.24.2 (the binary in .local/bin) answers buildInfo.
    db::Bson ferretdb(BCON_NEW("version", BCON_UTF8("7.0.42"), "ferretdbVersion",
                               BCON_UTF8("unknown"), "ferretdbFeatures", "{", "}", "ok",
                               BCON_DOUBLE(1.0)));
    EXPECT_EQ(models::classify_build_info(ferretdb.view()), models::ServerKind::kFerretDb);
    db::Bson mongodb(BCON_NEW("version", BCON_UTF8("7.0.14"), "gitVersion", BCON_UTF8("ce59cfc"),
                              "modules", "[", "]", "ok", BCON_DOUBLE(1.0)));
    EXPECT_EQ(models::classify_build_info(mongodb.view()), models::ServerKind::kAtomicUpdates);
}

}  // namespace
}  // namespace flaskcart::services
