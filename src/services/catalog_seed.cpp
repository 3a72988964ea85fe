#include "services/catalog_seed.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include "models/category_model.hpp"
#include "models/product_model.hpp"
#include "utils/db.hpp"
#include "utils/text.hpp"

namespace flaskcart::services {

namespace {

struct DemoCategory {
    const char* name;
    const char* description;
    std::array<const char*, 8> items;
};

constexpr std::array<DemoCategory, 5> kCategories{{
    {"Electronics",
     "Gadgets, audio and accessories",
     {"Wireless Earbuds", "Bluetooth Speaker", "USB-C Charger", "Mechanical Keyboard",
      "Wireless Mouse", "Portable SSD", "Smart Watch", "Noise-Cancelling Headphones"}},
    {"Books",
     "Fiction, non-fiction and technical titles",
     {"Field Guide to Birds", "Modern C++ Handbook", "Mystery Novel", "Cookbook of the Seasons",
      "World Atlas", "Poetry Anthology", "Graphic Novel", "Travel Journal"}},
    {"Home & Kitchen",
     "Cookware, storage and everyday home goods",
     {"Chef's Knife", "Cast Iron Skillet", "French Press", "Cutting Board", "Glass Storage Set",
      "Electric Kettle", "Linen Tablecloth", "Ceramic Mug Set"}},
    {"Sports & Outdoors",
     "Gear for training, hiking and camping",
     {"Yoga Mat", "Trail Running Shoes", "Insulated Water Bottle", "Camping Lantern",
      "Hiking Backpack", "Resistance Bands", "Cycling Gloves", "Two-Person Tent"}},
    {"Toys & Games",
     "Board games, puzzles and toys for all ages",
     {"Strategy Board Game", "1000-Piece Puzzle", "Building Blocks Set", "Card Game",
      "Remote Control Car", "Plush Bear", "Chess Set", "Science Kit"}},
}};

constexpr std::array<const char*, 12> kEditions{"Classic",   "Deluxe",  "Compact", "Pro",
                                                "Essential", "Premium", "Eco",     "Travel",
                                                "Family",    "Mini",    "Ultra",   "Signature"};

constexpr int kItemsPerEdition = 5 * 8;
constexpr int kNamedProducts = kItemsPerEdition * static_cast<int>(kEditions.size());

// Draws "[#####.....] 45% (450/1000)" on stderr, rewritten in place.
void draw_progress(int done, int total) {
    constexpr int kWidth = 40;
    const int filled = total == 0 ? kWidth : done * kWidth / total;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\rseeding products [%s] %3d%% (%d/%d)", bar.c_str(),
                 total == 0 ? 100 : done * 100 / total, done, total);
    if (done == total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
}

}  // namespace

std::vector<std::string> demo_category_names() {
    std::vector<std::string> names;
    names.reserve(std::size(kCategories));
    for (const auto& category : kCategories) names.emplace_back(category.name);
    return names;
}

DemoProduct demo_product(int index) {
    const auto& category = kCategories[static_cast<std::size_t>(index % 5)];
    const char* item = category.items[static_cast<std::size_t>((index / 5) % 8)];
    const char* edition = kEditions[static_cast<std::size_t>((index / kItemsPerEdition) % 12)];
    DemoProduct product;
    product.name = std::string(edition) + " " + item;
    if (index >= kNamedProducts)
        product.name += " No. " + std::to_string(index / kNamedProducts + 1);
    product.description = "The " + text::to_lower_ascii(edition) + " " + item + " from our " +
                          category.name + " range.";
    product.category = category.name;
    // Deterministic, shop-like prices (4.99 .. 249.99) and stock, some of it sold out.
    product.price_cents = 499 + static_cast<long long>((index * 7919L) % 245) * 100;
    product.stock = (index * 37L) % 11 == 0 ? 0 : (index * 13L) % 200 + 1;
    return product;
}

std::string demo_object_id(int n) {
    std::string id = std::to_string(n);
    return std::string(24 - id.size(), '0') + id;
}

DemoCatalog demo_catalog(int product_count) {
    DemoCatalog catalog;
    const auto names = demo_category_names();
    for (std::size_t i = 0; i < names.size(); ++i) {
        catalog.categories.push_back(
            {.id = demo_object_id(900000 + static_cast<int>(i)), .name = names[i]});
    }
    catalog.products.reserve(static_cast<std::size_t>(std::max(product_count, 0)));
    for (int i = 0; i < product_count; ++i) {
        DemoProduct demo = demo_product(i);
        std::string category_id;
        for (std::size_t c = 0; c < names.size(); ++c) {
            if (names[c] == demo.category) category_id = catalog.categories[c].id;
        }
        catalog.products.push_back({.id = demo_object_id(i + 1),
                                    .name = std::move(demo.name),
                                    .description = std::move(demo.description),
                                    .price_cents = demo.price_cents,
                                    .category_id = std::move(category_id),
                                    .stock = demo.stock,
                                    .created_at_ms = 1'700'000'000'000 + i});
    }
    return catalog;
}

int seed_demo_catalog(db::Db& db, int product_count) {
    try {
        models::CategoryStore::ensure_indexes(db);
        models::ProductStore::ensure_indexes(db);
        models::CategoryStore categories(db);
        models::ProductStore products(db);

        std::map<std::string, std::string> category_ids;
        for (const auto& demo : kCategories) {
            auto category = categories.find_by_name(demo.name);
            if (!category) category = categories.create(demo.name, demo.description);
            // A concurrent seeder created it between the two calls.
            if (!category) category = categories.find_by_name(demo.name);
            if (!category) throw std::runtime_error(std::string("cannot create ") + demo.name);
            category_ids[demo.name] = category->id;
        }

        const bool show_progress = product_count >= 500 || isatty(STDERR_FILENO) != 0;
        const int step = std::max(1, product_count / 200);
        auto existing = products.ids_by_lower_name();
        int inserted = 0;
        int refreshed = 0;
        for (int i = 0; i < product_count; ++i) {
            const DemoProduct demo = demo_product(i);
            const models::NewProduct product{.name = demo.name,
                                             .description = demo.description,
                                             .price_cents = demo.price_cents,
                                             .category_id = category_ids.at(demo.category),
                                             .stock = demo.stock};
            const auto found = existing.find(text::to_lower_ascii(demo.name));
            if (found != existing.end()) {
                products.refresh(found->second, product);
                ++refreshed;
            } else {
                products.create(product);
                ++inserted;
            }
            if (show_progress && ((i + 1) % step == 0 || i + 1 == product_count)) {
                draw_progress(i + 1, product_count);
            }
        }
        spdlog::info("seed-demo: {} categories, {} products inserted, {} refreshed",
                     kCategories.size(), inserted, refreshed);
        return 0;
    } catch (const std::exception& error) {
        spdlog::error("seed-demo failed: {}", error.what());
        return 1;
    }
}

}  // namespace flaskcart::services
