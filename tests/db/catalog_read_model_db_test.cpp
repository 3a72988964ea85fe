// The in-memory catalog against the database query it replaces: the same catalog, generated into
// FerretDB (or MONGODB_URI) through ProductStore, queried both ways — same items, same order,
// same totals. Also the change log's publish/read round trip.
#include <gtest/gtest.h>

#include <random>

#include "models/category_model.hpp"
#include "models/change_model.hpp"
#include "models/product_model.hpp"
#include "services/catalog_read_model.hpp"
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

}  // namespace
}  // namespace flaskcart
