#pragma once
// The catalog held in memory: every product and category, the product count of each category,
// and ordered indexes for the three sort keys (over all products and within each category), so
// GET /products, /products/{id} and /categories[/{id}] are answered without the database.
// The database stays the source of truth: services/change_feed.* fills this model at start-up
// and applies every write after it has reached the database.
//
// Query semantics are the database query's (models::ProductStore::list): `q` is a literal,
// case-insensitive substring of the name or the description; category, price range and
// in_stock are exact filters; sorting is by (key, _id), both in the requested direction.
//
// Thread-safe: reads take a shared lock for as long as they copy their answer out (no
// database, no I/O under it); writes take it exclusively for an in-memory update.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "models/category_model.hpp"
#include "models/product_model.hpp"

namespace flaskcart::services {

// Case folding for search, matching the database's case-insensitive regular expressions for
// ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters (one code point to one).
std::string fold_case(std::string_view utf8);

struct CategoryWithCount {
    models::Category category;
    std::int64_t product_count = 0;
};

// A product as the API shows it (JSON text). Kept per product, so a listing is a concatenation.
using ProductRenderer = std::function<std::string(const models::Product&)>;

struct RenderedPage {
    std::vector<std::string> items;  // rendered products
    std::int64_t total = 0;
};

class CatalogReadModel {
  public:
    explicit CatalogReadModel(ProductRenderer renderer = {}) : renderer_(std::move(renderer)) {}
    CatalogReadModel(const CatalogReadModel&) = delete;
    CatalogReadModel& operator=(const CatalogReadModel&) = delete;

    // Replaces the whole catalog and marks the model loaded.
    void replace_all(std::vector<models::Product> products,
                     std::vector<models::Category> categories);
    // False until the first replace_all(): routes answer 503 rather than an empty catalog.
    bool is_loaded() const;

    void upsert_product(const models::Product& product);
    void remove_product(std::string_view id);
    // stock += delta; false when the product is not in the model.
    bool adjust_stock(std::string_view id, std::int64_t delta);
    void upsert_category(const models::Category& category);
    void remove_category(std::string_view id);

    models::ProductPage list(const models::ProductQuery& query) const;
    // list() with each product already rendered; empty strings without a renderer.
    RenderedPage list_rendered(const models::ProductQuery& query) const;
    std::optional<models::Product> find_product(std::string_view id) const;
    std::optional<std::string> find_rendered(std::string_view id) const;
    std::optional<models::Category> find_category(std::string_view id) const;
    bool has_category(std::string_view id) const;
    std::int64_t count_in_category(std::string_view category_id) const;
    // Sorted by name key (models::category_name_key), like the database listing.
    std::vector<CategoryWithCount> categories() const;

    std::size_t product_count() const;
    std::size_t category_count() const;

  private:
    struct Entry {
        models::Product product;
        std::string json;
        std::string name_lower;
        std::string folded_name;
        std::string folded_description;
    };
    struct ByName {
        bool operator()(const Entry* a, const Entry* b) const;
    };
    struct ByPrice {
        bool operator()(const Entry* a, const Entry* b) const;
    };
    struct ByCreatedAt {
        bool operator()(const Entry* a, const Entry* b) const;
    };
    struct Indexes {
        std::set<const Entry*, ByName> by_name;
        std::set<const Entry*, ByPrice> by_price;
        std::set<const Entry*, ByCreatedAt> by_created_at;
        void insert(const Entry* entry);
        void erase(const Entry* entry);
        std::size_t size() const { return by_name.size(); }
    };

    void index(const Entry& entry);
    void unindex(const Entry& entry);
    static bool matches(const Entry& entry, const models::ProductQuery& query,
                        const std::string& folded_text);
    Entry make_entry(models::Product product) const;
    // Calls take(entry) for each product of the requested page, in order; returns the total.
    template <typename Take>
    std::int64_t walk_page(const models::ProductQuery& query, Take&& take) const;

    ProductRenderer renderer_;
    mutable std::shared_mutex mutex_;
    bool loaded_ = false;
    std::unordered_map<std::string, Entry> products_;  // elements never move: indexes point in
    Indexes all_;
    std::unordered_map<std::string, Indexes> by_category_;
    std::unordered_map<std::string, models::Category> categories_;
};

}  // namespace flaskcart::services
