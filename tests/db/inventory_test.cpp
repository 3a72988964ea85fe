// The stock ledger's conditional writes against a real server: every movement is repeatable
// (the array conditions on stock_holds / stock_returns behave on FerretDB as on MongoDB).
#include <gtest/gtest.h>

#include "models/inventory_model.hpp"
#include "support/database.hpp"
#include "utils/db.hpp"

namespace flaskcart::models {
namespace {

class InventoryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = std::make_unique<db::Db>(db::DbOptions{.uri = testing::shared_database_uri(),
                                                     .database = testing::unique_database_name()});
        product_ = db::new_oid();
        db_->collection("products")
            .insert_one(db::Bson(BCON_NEW("_id", BCON_OID(&product_), "stock", BCON_INT64(10))));
        ledger_ = std::make_unique<ProductStockLedger>(*db_);
    }
    void TearDown() override { db_->drop_database(); }

    std::string product_id() const { return db::oid_to_string(product_); }
    db::BsonView product() {
        doc_ = db_->collection("products").find_one(db::Bson(BCON_NEW("_id", BCON_OID(&product_))));
        return doc_->view();
    }

    std::unique_ptr<db::Db> db_;
    std::unique_ptr<ProductStockLedger> ledger_;
    bson_oid_t product_{};
    std::optional<db::Bson> doc_;
};

TEST_F(InventoryTest, ReserveTakesStockOnceAndMarksTheOrder) {
    const std::string order = db::oid_to_string(db::new_oid());
    EXPECT_EQ(ledger_->reserve(product_id(), 4, order), ReserveResult::kReserved);
    EXPECT_EQ(product().get_int64("stock"), 6);
    EXPECT_EQ(product().get_oids("stock_holds").size(), 1U);
    // A repeated reservation for the same order is refused by the marker.
    EXPECT_EQ(ledger_->reserve(product_id(), 4, order), ReserveResult::kInsufficientStock);
    EXPECT_EQ(product().get_int64("stock"), 6);
    EXPECT_EQ(ledger_->reserve(product_id(), 7, db::oid_to_string(db::new_oid())),
              ReserveResult::kInsufficientStock);
    EXPECT_EQ(ledger_->reserve(db::oid_to_string(db::new_oid()), 1, order),
              ReserveResult::kNotFound);
}

TEST_F(InventoryTest, ReleaseAndCommitAreIdempotentAndExclusive) {
    const std::string released = db::oid_to_string(db::new_oid());
    const std::string committed = db::oid_to_string(db::new_oid());
    const std::string also_committed = db::oid_to_string(db::new_oid());
    const std::string still_held = db::oid_to_string(db::new_oid());
    ASSERT_EQ(ledger_->reserve(product_id(), 3, released), ReserveResult::kReserved);
    ASSERT_EQ(ledger_->reserve(product_id(), 2, committed), ReserveResult::kReserved);
    ASSERT_EQ(ledger_->reserve(product_id(), 1, also_committed), ReserveResult::kReserved);
    ASSERT_EQ(ledger_->reserve(product_id(), 1, still_held), ReserveResult::kReserved);
    EXPECT_EQ(product().get_int64("stock"), 3);

    ledger_->release_hold(product_id(), 3, released);
    ledger_->release_hold(product_id(), 3, released);
    EXPECT_EQ(product().get_int64("stock"), 6);

    // One write commits several orders; an order holding nothing here is skipped.
    const std::string never_held = db::oid_to_string(db::new_oid());
    ledger_->commit_holds(product_id(), {committed, also_committed, never_held});
    ledger_->commit_holds(product_id(), {committed});
    ledger_->commit_holds(product_id(), {});
    auto held = product().get_oids("stock_holds");
    ASSERT_EQ(held.size(), 1U);
    EXPECT_EQ(db::oid_to_string(held[0]), still_held);
    // Once committed, a late release (a sweep on a stale read) returns nothing.
    ledger_->release_hold(product_id(), 2, committed);
    EXPECT_EQ(product().get_int64("stock"), 6);

    ledger_->release_hold(product_id(), 1, still_held);
    EXPECT_EQ(product().get_int64("stock"), 7);
    EXPECT_TRUE(product().get_oids("stock_holds").empty());
    EXPECT_TRUE(ledger_->products_with_holds(10).empty());
}

TEST_F(InventoryTest, ReturnsHappenOncePerOrderWhileTheMarkerStays) {
    const std::string order = db::oid_to_string(db::new_oid());
    ledger_->return_stock(product_id(), 5, order);
    ledger_->return_stock(product_id(), 5, order);
    EXPECT_EQ(product().get_int64("stock"), 15);
    auto marked = ledger_->products_with_returns(10);
    ASSERT_EQ(marked.size(), 1U);
    EXPECT_EQ(marked[0].order_ids, std::vector<std::string>{order});
    ledger_->forget_return(product_id(), order);
    EXPECT_TRUE(ledger_->products_with_returns(10).empty());
}

TEST_F(InventoryTest, SweepSeesProductsWithHolds) {
    const std::string order = db::oid_to_string(db::new_oid());
    EXPECT_TRUE(ledger_->products_with_holds(10).empty());
    ASSERT_EQ(ledger_->reserve(product_id(), 1, order), ReserveResult::kReserved);
    auto held = ledger_->products_with_holds(10);
    ASSERT_EQ(held.size(), 1U);
    EXPECT_EQ(held[0].product_id, product_id());
    EXPECT_EQ(held[0].order_ids, std::vector<std::string>{order});
}

}  // namespace
}  // namespace flaskcart::models
