// The catalog snapshot's packing: products as BSON documents back to back, in chunks.
#include <gtest/gtest.h>

#include <stdexcept>

#include "models/catalog_snapshot_model.hpp"
#include "utils/db.hpp"

namespace flaskcart {
namespace {

models::Product product(int i) {
    models::Product p;
    p.id = db::oid_to_string(db::new_oid());
    p.name = "Product é " + std::to_string(i);
    p.description = i % 2 == 0 ? "" : "a thing";
    p.price_cents = 100 + i;
    p.category_id = i % 3 == 0 ? "" : db::oid_to_string(db::new_oid());
    p.stock = i;
    p.image_url = i % 4 == 0 ? "/images/x" : "";
    p.created_at_ms = 1'700'000'000'000 + i;
    p.updated_at_ms = 1'700'000'500'000 + i;
    return p;
}

void expect_same(const models::Product& a, const models::Product& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.description, b.description);
    EXPECT_EQ(a.price_cents, b.price_cents);
    EXPECT_EQ(a.category_id, b.category_id);
    EXPECT_EQ(a.stock, b.stock);
    EXPECT_EQ(a.image_url, b.image_url);
    EXPECT_EQ(a.created_at_ms, b.created_at_ms);
    EXPECT_EQ(a.updated_at_ms, b.updated_at_ms);
}

TEST(CatalogSnapshotPacking, RoundTripsEveryFieldAcrossChunks) {
    std::vector<models::Product> products;
    for (int i = 0; i < 300; ++i) products.push_back(product(i));
    const auto chunks = models::pack_products(products, 4096);
    EXPECT_GT(chunks.size(), 5U);
    for (const auto& chunk : chunks) EXPECT_LE(chunk.size(), 4096U);
    const auto unpacked = models::unpack_products(chunks);
    ASSERT_EQ(unpacked.size(), products.size());
    for (std::size_t i = 0; i < products.size(); ++i) expect_same(unpacked[i], products[i]);
}

TEST(CatalogSnapshotPacking, AnEmptyCatalogIsNoChunks) {
    EXPECT_TRUE(models::pack_products({}).empty());
    EXPECT_TRUE(models::unpack_products({}).empty());
}

TEST(CatalogSnapshotPacking, ADamagedChunkIsRefused) {
    auto chunks = models::pack_products({product(1), product(2)});
    ASSERT_EQ(chunks.size(), 1U);
    std::string truncated = chunks[0].substr(0, chunks[0].size() - 3);
    EXPECT_THROW(models::unpack_products({truncated}), std::runtime_error);
    std::string garbage = chunks[0];
    garbage[0] = '\x7f';  // a length beyond the chunk
    garbage[3] = '\x7f';
    EXPECT_THROW(models::unpack_products({garbage}), std::runtime_error);
    EXPECT_THROW(models::unpack_products({std::string("\x05\x00", 2)}), std::runtime_error);
}

}  // namespace
}  // namespace flaskcart
