// Checkout's pure rules: the order state machine and the all-or-nothing reservation with its
// compensation path, driven through a fake stock ledger (no database).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "models/order_model.hpp"
#include "services/checkout_service.hpp"
#include "services/order_rules.hpp"

namespace flaskcart::services {
namespace {

using models::ReserveResult;

// Keeps stock in memory and fails (insufficient stock) on the N-th reservation, 1-based.
class FailingLedger : public models::StockLedger {
  public:
    explicit FailingLedger(int fail_on_call) : fail_on_call_(fail_on_call) {}

    ReserveResult reserve(const std::string& product_id, std::int64_t quantity,
                          const std::string& order_id) override {
        ++reserve_calls;
        if (reserve_calls == fail_on_call_) return ReserveResult::kInsufficientStock;
        stock[product_id] -= quantity;
        holds[product_id].push_back(order_id);
        log.push_back("reserve " + product_id);
        return ReserveResult::kReserved;
    }
    void release_hold(const std::string& product_id, std::int64_t quantity,
                      const std::string& order_id) override {
        auto& list = holds[product_id];
        auto it = std::find(list.begin(), list.end(), order_id);
        if (it == list.end()) return;
        list.erase(it);
        stock[product_id] += quantity;
        log.push_back("release " + product_id);
    }
    void commit_holds(const std::string&, const std::vector<std::string>&) override {}
    void return_stock(const std::string&, std::int64_t, const std::string&) override {}
    void forget_return(const std::string&, const std::string&) override {}
    std::vector<models::ProductMarkers> products_with_holds(std::int64_t) override { return {}; }
    std::vector<models::ProductMarkers> products_with_returns(std::int64_t) override { return {}; }

    std::map<std::string, std::int64_t> stock;
    std::map<std::string, std::vector<std::string>> holds;
    std::vector<std::string> log;
    int reserve_calls = 0;

  private:
    int fail_on_call_;
};

std::vector<models::OrderLine> four_lines() {
    return {{"a", "A", 1, 100}, {"b", "B", 2, 200}, {"c", "C", 3, 300}, {"d", "D", 4, 400}};
}

TEST(ReserveAll, ReservesEveryLineWhenNothingFails) {
    FailingLedger ledger(0);
    EXPECT_FALSE(reserve_all(ledger, "o1", four_lines()));
    EXPECT_EQ(ledger.stock["a"], -1);
    EXPECT_EQ(ledger.stock["d"], -4);
    EXPECT_EQ(ledger.holds["c"], std::vector<std::string>{"o1"});
}

TEST(ReserveAll, FailureOnTheNthReservationReleasesExactlyWhatWasReserved) {
    for (int n = 1; n <= 4; ++n) {
        FailingLedger ledger(n);
        auto failure = reserve_all(ledger, "o1", four_lines());
        ASSERT_TRUE(failure) << "n=" << n;
        EXPECT_EQ(failure->line_index, static_cast<std::size_t>(n - 1));
        EXPECT_EQ(failure->reason, ReserveResult::kInsufficientStock);
        // Every unit is back and no hold remains.
        for (const char* id : {"a", "b", "c", "d"}) {
            EXPECT_EQ(ledger.stock[id], 0) << "n=" << n << " product " << id;
            EXPECT_TRUE(ledger.holds[id].empty()) << "n=" << n << " product " << id;
        }
        // Nothing after the failing line was attempted; releases run newest first.
        EXPECT_EQ(ledger.reserve_calls, n);
        std::vector<std::string> expected;
        const std::vector<std::string> ids{"a", "b", "c", "d"};
        for (int i = 0; i < n - 1; ++i) expected.push_back("reserve " + ids[i]);
        for (int i = n - 2; i >= 0; --i) expected.push_back("release " + ids[i]);
        EXPECT_EQ(ledger.log, expected) << "n=" << n;
    }
}

TEST(ReserveAll, ReportsAMissingProduct) {
    class MissingLedger : public FailingLedger {
      public:
        MissingLedger() : FailingLedger(0) {}
        ReserveResult reserve(const std::string& product_id, std::int64_t quantity,
                              const std::string& order_id) override {
            if (product_id == "b") return ReserveResult::kNotFound;
            return FailingLedger::reserve(product_id, quantity, order_id);
        }
    } ledger;
    auto failure = reserve_all(ledger, "o1", four_lines());
    ASSERT_TRUE(failure);
    EXPECT_EQ(failure->line_index, 1U);
    EXPECT_EQ(failure->reason, ReserveResult::kNotFound);
    EXPECT_EQ(ledger.stock["a"], 0);
}

TEST(OrderRules, AllowsOnlyTheDocumentedTransitions) {
    namespace os = models::order_status;
    const std::vector<std::string> all{os::kPending, os::kPaid, os::kShipped, os::kDelivered,
                                       os::kCancelled};
    const std::set<std::pair<std::string, std::string>> allowed{{os::kPending, os::kPaid},
                                                                {os::kPaid, os::kShipped},
                                                                {os::kShipped, os::kDelivered},
                                                                {os::kPending, os::kCancelled},
                                                                {os::kPaid, os::kCancelled}};
    for (const auto& from : all) {
        for (const auto& to : all) {
            EXPECT_EQ(can_transition(from, to), allowed.count({from, to}) == 1)
                << from << "→" << to;
        }
    }
    EXPECT_FALSE(can_transition(os::kReserving, os::kPending));
    EXPECT_FALSE(can_transition(os::kFailed, os::kPending));
    EXPECT_EQ(next_statuses(os::kPaid), (std::vector<std::string>{os::kShipped, os::kCancelled}));
    EXPECT_TRUE(next_statuses(os::kDelivered).empty());
}

TEST(OrderRules, CustomersMayOnlyCancelPendingOrders) {
    namespace os = models::order_status;
    EXPECT_TRUE(customer_may_set(os::kPending, os::kCancelled));
    EXPECT_FALSE(customer_may_set(os::kPaid, os::kCancelled));
    EXPECT_FALSE(customer_may_set(os::kPending, os::kPaid));
    EXPECT_TRUE(is_client_status(os::kShipped));
    EXPECT_FALSE(is_client_status(os::kReserving));
    EXPECT_FALSE(is_client_status("PENDING"));
    EXPECT_FALSE(is_settled(os::kFailed));
}

}  // namespace
}  // namespace flaskcart::services
