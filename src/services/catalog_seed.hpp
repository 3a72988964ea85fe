#pragma once
// `flaskcart seed-demo [--products N]`: a realistic demo catalog. Names are deterministic, so
// running it again updates the same categories and products (matched by name) instead of adding
// copies; stock of an existing product is left as the shop has it.

#include <string>
#include <vector>

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

// Creates the catalog indexes, upserts the demo categories, then `product_count` products,
// drawing a progress bar on stderr when there are many. Returns the process exit code.
int seed_demo_catalog(db::Db& db, int product_count);

}  // namespace flaskcart::services
