#pragma once
// `flaskcart seed-demo [--products N]`: a realistic demo catalog. Names are deterministic, so
// running it again updates the same categories and products (matched by name) instead of adding
// copies; stock of an existing product is left as the shop has it.

#include <string>
#include <vector>

#include "models/category_model.hpp"
#include "models/product_model.hpp"

namespace flaskcart::db {
class Db;
}

namespace flaskcart::services {

struct DemoProduct {
    std::string name;
    std::string description;
    std::string category;  // a demo category name
    long long price_cents = 0;
    long long stock = 0;
};

// The i-th demo product (0-based); names are unique for every i.
DemoProduct demo_product(int index);
std::vector<std::string> demo_category_names();

// The first `product_count` demo products and every demo category as the catalog read model
// takes them, without a database: for tests and tools. Ids are demo_object_id(): products 1..N,
// categories from 900,000.
struct DemoCatalog {
    std::vector<models::Product> products;
    std::vector<models::Category> categories;
};
DemoCatalog demo_catalog(int product_count);
// A made-up 24-digit object id for n.
std::string demo_object_id(int n);

// Creates the catalog indexes, upserts the demo categories, then `product_count` products,
// drawing a progress bar on stderr when there are many. Returns the process exit code.
int seed_demo_catalog(db::Db& db, int product_count);

}  // namespace flaskcart::services
