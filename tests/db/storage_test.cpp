// The storage layer against a real FerretDB (or MONGODB_URI): the conditional-write primitive
// under real concurrent threads, error classification, and BSON mapping.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/database.hpp"
#include "support/process.hpp"
#include "utils/db.hpp"

namespace flaskcart::db {
namespace {

class StorageTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = std::make_unique<Db>(DbOptions{.uri = testing::shared_database_uri(),
                                             .database = testing::unique_database_name()});
    }
    void TearDown() override { db_->drop_database(); }
    std::unique_ptr<Db> db_;
};

TEST_F(StorageTest, ConditionalUpdateNeverOversellsUnderConcurrentThreads) {
    for (int round = 0; round < 5; ++round) {
        const bson_oid_t id = new_oid();
        db_->collection("items").insert_one(
            Bson(BCON_NEW("_id", BCON_OID(&id), "stock", BCON_INT64(10))));
        std::atomic<int> reserved{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 40; ++t) {
            threads.emplace_back([&] {
                const bool ok = db_->update_if(
                    "items", id, Bson(BCON_NEW("stock", "{", "$gte", BCON_INT64(1), "}")),
                    Bson(BCON_NEW("$inc", "{", "stock", BCON_INT64(-1), "}")));
                if (ok) ++reserved;
            });
        }
        for (auto& thread : threads) thread.join();
        auto doc = db_->collection("items").find_one(Bson(BCON_NEW("_id", BCON_OID(&id))));
        ASSERT_TRUE(doc);
        EXPECT_EQ(reserved.load(), 10) << "round " << round;
        EXPECT_EQ(doc->view().get_int64("stock"), 0) << "round " << round;
    }
}

TEST_F(StorageTest, UpdateByIdAndUpdateIfDoNotLoseEachOthersWrites) {
    // A rename racing with stock changes: on FerretDB an unserialized update would write back a
    // stale stock value.
    const bson_oid_t id = new_oid();
    db_->collection("items").insert_one(
        Bson(BCON_NEW("_id", BCON_OID(&id), "stock", BCON_INT64(1000), "name", BCON_UTF8("a"))));
    std::vector<std::thread> threads;
    for (int t = 0; t < 20; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i) {
                if (t % 2 == 0) {
                    db_->update_if("items", id,
                                   Bson(BCON_NEW("stock", "{", "$gte", BCON_INT64(1), "}")),
                                   Bson(BCON_NEW("$inc", "{", "stock", BCON_INT64(-1), "}")));
                } else {
                    const std::string name = "n" + std::to_string(t * 10 + i);
                    db_->update_by_id(
                        "items", id,
                        Bson(BCON_NEW("$set", "{", "name", BCON_UTF8(name.c_str()), "}")));
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    auto doc = db_->collection("items").find_one(Bson(BCON_NEW("_id", BCON_OID(&id))));
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->view().get_int64("stock"), 1000 - 50);
}

TEST_F(StorageTest, DuplicateKeyIsClassified) {
    auto items = db_->collection("items");
    items.create_indexes({{"sku_unique", {{"sku", 1}}, true}});
    items.insert_one(Bson(BCON_NEW("sku", BCON_UTF8("x"))));
    try {
        items.insert_one(Bson(BCON_NEW("sku", BCON_UTF8("x"))));
        FAIL() << "expected a duplicate key error";
    } catch (const DbError& error) {
        EXPECT_EQ(error.kind(), DbErrorKind::kDuplicateKey);
        EXPECT_FALSE(error.is_unavailable());
    }
    // Creating the same indexes again is a no-op, several at once included (FerretDB v1.24
    // used to drop the connection on that when sent as one command).
    const std::vector<IndexSpec> several{{"sku_unique", {{"sku", 1}}, true},
                                         {"a_b", {{"a", 1}, {"_id", 1}}, false},
                                         {"c", {{"c", -1}}, false}};
    EXPECT_NO_THROW(items.create_indexes(several));
    EXPECT_NO_THROW(items.create_indexes(several));
    EXPECT_NO_THROW(items.create_indexes(several));
}

TEST_F(StorageTest, DeadServerIsUnavailableQuickly) {
    Db dead(
        DbOptions{.uri = "mongodb://127.0.0.1:" + std::to_string(testing::find_free_port()) + "/",
                  .database = "x",
                  .server_selection_timeout_ms = 500});
    EXPECT_FALSE(dead.ping());
    const auto started = std::chrono::steady_clock::now();
    try {
        dead.collection("items").find_one(Bson());
        FAIL() << "expected an error";
    } catch (const DbError& error) {
        EXPECT_TRUE(error.is_unavailable()) << error.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(StorageTest, MapsTypedFieldsAndRejectsWrongShapes) {
    const bson_oid_t id = new_oid();
    db_->collection("items").insert_one(
        Bson(BCON_NEW("_id", BCON_OID(&id), "name", BCON_UTF8("x"), "n32", BCON_INT32(7), "when",
                      BCON_DATE_TIME(1700000000000))));
    auto doc = db_->collection("items").find_one(Bson(BCON_NEW("_id", BCON_OID(&id))));
    ASSERT_TRUE(doc);
    BsonView view = doc->view();
    EXPECT_EQ(view.get_string("name"), "x");
    EXPECT_EQ(view.get_int64("n32"), 7);
    EXPECT_EQ(view.get_date_ms("when"), 1700000000000);
    EXPECT_FALSE(view.get_int64("name"));
    EXPECT_FALSE(view.get_string("missing"));
    EXPECT_EQ(oid_to_string(*view.get_oid("_id")), oid_to_string(id));
}

TEST(ObjectIds, ParseOnlyTwentyFourHexDigits) {
    EXPECT_TRUE(parse_oid("507f1f77bcf86cd799439011"));
    EXPECT_FALSE(parse_oid("507f1f77bcf86cd79943901"));
    EXPECT_FALSE(parse_oid("507f1f77bcf86cd79943901z"));
    EXPECT_FALSE(parse_oid("{\"$ne\": null}"));
    EXPECT_FALSE(parse_oid(""));
}

}  // namespace
}  // namespace flaskcart::db
