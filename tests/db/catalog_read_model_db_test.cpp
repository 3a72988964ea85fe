// The in-memory catalog against the database query it replaces: the same catalog, generated into
// FerretDB (or MONGODB_URI) through ProductStore, queried both ways — same items, same order,
// same totals. Also the change log's publish/read round trip.
#include <gtest/gtest.h>

#include <random>

#include "models/catalog_snapshot_model.hpp"
#include "models/category_model.hpp"
#include "models/change_model.hpp"
#include "models/product_model.hpp"
#include "models/user_model.hpp"
#include "services/access_cache.hpp"
#include "services/catalog_read_model.hpp"
#include "services/change_feed.hpp"
#include "support/database.hpp"
#include "utils/db.hpp"

namespace flaskcart {
namespace {

class CatalogReadModelDb : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = std::make_unique<db::Db>(db::DbOptions{.uri = testing::shared_database_uri(),
                                                     .database = testing::unique_database_name()});
    }
    void TearDown() override {
        if (db_) db_->drop_database();
    }
    std::unique_ptr<db::Db> db_;
};

TEST_F(CatalogReadModelDb, GivesTheDatabaseQuerysAnswersOnAGeneratedCatalog) {
    models::CategoryStore categories(*db_);
    models::ProductStore products(*db_);
    std::vector<std::string> category_ids;
    for (const char* name : {"Kitchen", "garden", "Études"}) {
        category_ids.push_back(categories.create(name, "")->id);
    }
    static const std::vector<std::string> kWords = {"Steel", "steel", "Lamp",  "ÉCLAIR", "éclair",
                                                    "Mug",   "Tea",   "Ωmega", "кофе",   "КОФЕ",
                                                    "50%",   "a.b",   "(x)",   "Zebra",  "zebra"};
    std::mt19937 rng(20261128);
    for (int i = 0; i < 150; ++i) {
        products.create({
            .name = kWords[rng() % kWords.size()] + " " + kWords[rng() % kWords.size()],
            .description = rng() % 3 == 0 ? "" : kWords[rng() % kWords.size()] + " thing",
            .price_cents = static_cast<std::int64_t>(rng() % 30) * 100 + (rng() % 2 ? 99 : 0),
            .category_id = rng() % 4 == 0 ? "" : category_ids[rng() % category_ids.size()],
            .stock = static_cast<std::int64_t>(rng() % 3),
        });
    }
    services::CatalogReadModel model;
    model.replace_all(products.list_all(), categories.list());

    // Filters, sorts, pages and totals; `q` is left out: the read model searches words (its
    // own tests), the database's listing matches a literal substring.
    for (int i = 0; i < 80; ++i) {
        models::ProductQuery query;
        if (rng() % 3 == 0) query.category_id = category_ids[rng() % category_ids.size()];
        if (rng() % 4 == 0) query.min_price_cents = static_cast<std::int64_t>(rng() % 2000);
        if (rng() % 4 == 0) query.max_price_cents = static_cast<std::int64_t>(1000 + rng() % 2000);
        query.in_stock_only = rng() % 3 == 0;
        query.sort_key = static_cast<models::ProductSortKey>(rng() % 3);
        query.descending = rng() % 2 == 0;
        query.limit = 1 + static_cast<std::int64_t>(rng() % 40);
        query.page = 1 + static_cast<std::int64_t>(rng() % 4);
        const auto want = products.list(query);
        const auto got = model.list(query);
        const std::string context = "query " + std::to_string(i);
        EXPECT_EQ(got.total, want.total) << context;
        ASSERT_EQ(got.items.size(), want.items.size()) << context;
        for (std::size_t k = 0; k < got.items.size(); ++k) {
            EXPECT_EQ(got.items[k].id, want.items[k].id) << context << " item " << k;
            EXPECT_EQ(got.items[k].name, want.items[k].name) << context << " item " << k;
        }
    }
    const auto counts = products.count_by_category();
    for (const auto& item : model.categories()) {
        const auto it = counts.find(item.category.id);
        EXPECT_EQ(item.product_count, it == counts.end() ? 0 : it->second) << item.category.name;
    }
    const auto listed = categories.list();
    const auto from_model = model.categories();
    ASSERT_EQ(listed.size(), from_model.size());
    for (std::size_t i = 0; i < listed.size(); ++i) {
        EXPECT_EQ(listed[i].id, from_model[i].category.id);
    }
}

TEST_F(CatalogReadModelDb, TheChangeLogNumbersBatchesAndReadsThemBack) {
    models::ChangeLogStore log(*db_);
    EXPECT_EQ(log.last_seq(), 0);
    const auto first = log.publish("a", {{'p', "p1", 0}, {'t', "jti", 1234}});
    const auto second = log.publish("b", {{'u', "u1", 0}});
    EXPECT_EQ(first, 1);
    EXPECT_EQ(second, 2);
    EXPECT_EQ(log.last_seq(), 2);
    const auto batches = log.read(0, 2);
    ASSERT_EQ(batches.size(), 2U);
    EXPECT_EQ(batches[0].origin, "a");
    ASSERT_EQ(batches[0].items.size(), 2U);
    EXPECT_EQ(batches[0].items[1].kind, 't');
    EXPECT_EQ(batches[0].items[1].expires_at_ms, 1234);
    EXPECT_EQ(log.read(1, 2).size(), 1U);
    EXPECT_EQ(log.purge_older_than(db::now_ms() + 1000), 2);
    EXPECT_TRUE(log.read(0, 2).empty());
    EXPECT_EQ(log.last_seq(), 2);  // numbers are never reused
}

TEST_F(CatalogReadModelDb, TheSnapshotKeepsOneWholeGenerationOrNone) {
    models::CatalogSnapshotStore store(*db_);
    EXPECT_FALSE(store.read().has_value());
    std::vector<models::Product> products;
    products.reserve(50);
    for (int i = 0; i < 50; ++i) {
        products.push_back({.id = db::oid_to_string(db::new_oid()),
                            .name = "P" + std::to_string(i),
                            .price_cents = 100 + i});
    }
    store.write(7, models::pack_products(products, 1024), products.size());
    store.write(9, models::pack_products(products, 512), products.size());
    auto snapshot = store.read();
    ASSERT_TRUE(snapshot.has_value());
    EXPECT_EQ(snapshot->seq, 9);
    ASSERT_EQ(snapshot->products.size(), 50U);
    EXPECT_EQ(snapshot->products[49].name, "P49");
    // The older generation is gone; a missing chunk makes the whole snapshot unusable.
    db_->collection("catalog_snapshot")
        .delete_one(db::Bson(BCON_NEW("_id", "{", "$regex", BCON_UTF8("-3$"), "}")));
    EXPECT_FALSE(store.read().has_value());
}

// The stores and read models of one instance's change feed.
struct FeedInstance {
    explicit FeedInstance(db::Db& db)
        : products(db),
          categories(db),
          users(db),
          revoked(db),
          changes(db),
          feed(db, {products, categories, users, revoked, changes}, catalog, access, {}) {
        products.set_listener(&feed);
    }
    models::ProductStore products;
    models::CategoryStore categories;
    models::UserStore users;
    models::RevokedTokenStore revoked;
    models::ChangeLogStore changes;
    services::CatalogReadModel catalog;
    services::AccessCache access;
    services::ChangeFeed feed;
};

TEST_F(CatalogReadModelDb, StartUpReadsTheSnapshotAndReplaysTheChangesPublishedAfterIt) {
    std::vector<std::string> ids;
    {
        FeedInstance first(*db_);
        for (int i = 0; i < 30; ++i) {
            ids.push_back(
                first.products
                    .create({.name = "Item " + std::to_string(i), .price_cents = 100, .stock = 5})
                    .id);
        }
        first.feed.publish_pending();
    }
    {  // No snapshot yet: the collection; the writer then stores one.
        FeedInstance start(*db_);
        start.feed.load(true);
        EXPECT_FALSE(start.feed.loaded_from_snapshot());
        EXPECT_EQ(start.catalog.product_count(), 30U);
        start.feed.write_pending_snapshot();
        start.feed.stop_writing_cleanly();
    }
    {  // Another instance renames one product after the snapshot and publishes it.
        FeedInstance writer(*db_);
        writer.feed.load(true);
        EXPECT_TRUE(writer.feed.loaded_from_snapshot());
        ASSERT_TRUE(writer.products.update(ids[0], {.name = "Renamed"}).has_value());
        writer.feed.stop_writing_cleanly();
    }
    {  // The snapshot plus the replayed batch.
        FeedInstance restart(*db_);
        restart.feed.load(true);
        EXPECT_TRUE(restart.feed.loaded_from_snapshot());
        EXPECT_EQ(restart.catalog.product_count(), 30U);
        EXPECT_EQ(restart.catalog.find_product(ids[0])->name, "Renamed");
        EXPECT_EQ(restart.catalog.find_product(ids[1])->name, "Item 1");
        restart.feed.stop_writing_cleanly();
    }
    // A batch after the snapshot was purged: the snapshot cannot be brought up to date.
    models::ChangeLogStore(*db_).purge_older_than(db::now_ms() + 1000);
    {
        FeedInstance writer(*db_);
        ASSERT_TRUE(writer.products.update(ids[1], {.name = "Renamed too"}).has_value());
        writer.feed.publish_pending();
    }
    FeedInstance late(*db_);
    late.feed.load(true);
    EXPECT_FALSE(late.feed.loaded_from_snapshot());
    EXPECT_EQ(late.catalog.find_product(ids[0])->name, "Renamed");
    EXPECT_EQ(late.catalog.find_product(ids[1])->name, "Renamed too");
}

// A writer killed (SIGKILL, crash) between a write and publishing its change notice: that
// change is in no batch, so the snapshot plus the batches would miss it. Without a clean stop
// of every earlier writer, start-up reads the collection; once a sole writer has stored a fresh
// snapshot and stopped cleanly, the snapshot is trusted again.
TEST_F(CatalogReadModelDb, StartUpReadsTheCollectionAfterAWriterStoppedUncleanly) {
    std::vector<std::string> ids;
    {
        FeedInstance first(*db_);
        for (int i = 0; i < 10; ++i) {
            ids.push_back(
                first.products
                    .create({.name = "Item " + std::to_string(i), .price_cents = 100, .stock = 5})
                    .id);
        }
        first.feed.publish_pending();
    }
    {
        FeedInstance start(*db_);
        start.feed.load(true);
        EXPECT_FALSE(start.feed.loaded_from_snapshot());
        start.feed.write_pending_snapshot(true);
        start.feed.stop_writing_cleanly();
    }
    {  // Starts from the snapshot, writes, and dies before publishing (no stop_writing_cleanly).
        FeedInstance killed(*db_);
        killed.feed.load(true);
        EXPECT_TRUE(killed.feed.loaded_from_snapshot());
        ASSERT_TRUE(killed.products.update(ids[0], {.name = "Unpublished", .price_cents = 250})
                        .has_value());
    }
    // The snapshot and the batches alone do not know about that write.
    const auto snapshot = models::CatalogSnapshotStore(*db_).read();
    ASSERT_TRUE(snapshot.has_value());
    EXPECT_EQ(models::ChangeLogStore(*db_).last_seq(), snapshot->seq);
    {
        FeedInstance after_kill(*db_);
        after_kill.feed.load(true);
        EXPECT_FALSE(after_kill.feed.loaded_from_snapshot());
        const auto product = after_kill.catalog.find_product(ids[0]);
        ASSERT_TRUE(product.has_value());
        EXPECT_EQ(product->name, "Unpublished");
        EXPECT_EQ(product->price_cents, 250);
        // Not the sole writer (MongoDB, no lease): the dead writer's session stays open.
        after_kill.feed.write_pending_snapshot(false);
        after_kill.feed.stop_writing_cleanly();
    }
    {
        FeedInstance next(*db_);
        next.feed.load(true);
        EXPECT_FALSE(next.feed.loaded_from_snapshot());
        // The lease holder's fresh snapshot covers the dead writer's writes: its session is closed.
        next.feed.write_pending_snapshot(true);
        next.feed.stop_writing_cleanly();
    }
    FeedInstance after_clean_stop(*db_);
    after_clean_stop.feed.load(true);
    EXPECT_TRUE(after_clean_stop.feed.loaded_from_snapshot());
    const auto product = after_clean_stop.catalog.find_product(ids[0]);
    ASSERT_TRUE(product.has_value());
    EXPECT_EQ(product->name, "Unpublished");
    EXPECT_EQ(product->price_cents, 250);
    EXPECT_EQ(after_clean_stop.catalog.find_product(ids[1])->name, "Item 1");
}

}  // namespace
}  // namespace flaskcart
