#pragma once
// The catalog held in memory: every product and category, the product count of each category,
// and ordered indexes for the three sort keys (over all products and within each category), so
// GET /products, /products/{id} and /categories[/{id}] are answered without the database.
// The database stays the source of truth: services/change_feed.* fills this model at start-up
// and applies every write after it has reached the database.
//
// Query semantics: `q` is full-text search (services/search_index.*: folded, stemmed, the last
// word completed, typos tolerated, every word in the name or the description); category, price
// range and in_stock are exact filters; sorting is by relevance (best first, then name, then
// _id) or by (key, _id), both in the requested direction. Every listing carries facets of its
// matches.
//
// Thread-safe: reads take a shared lock for as long as they copy their answer out (no
// database, no I/O under it); writes take it exclusively for an in-memory update.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "models/category_model.hpp"
#include "models/product_model.hpp"
#include "services/search_index.hpp"

namespace flaskcart::services {

struct CategoryWithCount {
    models::Category category;
    std::int64_t product_count = 0;
};

// A product as the API shows it (JSON text). Kept per product, so a listing is a concatenation.
using ProductRenderer = std::function<std::string(const models::Product&)>;

// What the matches of a listing hold, for a shop's filter panel. Category counts ignore the
// category filter (so a shopper can switch category); price and in_stock honour every filter.
struct ListingFacets {
    struct CategoryCount {
        std::string id;
        std::string name;
        std::int64_t count = 0;
    };
    std::vector<CategoryCount> categories;        // most products first, then by name; none empty
    std::optional<std::int64_t> min_price_cents;  // unset when nothing matches
    std::optional<std::int64_t> max_price_cents;
    std::int64_t in_stock = 0;
    // The categories facet as JSON text, kept rendered by the model for listings with no text,
    // price or stock filter (from list_rendered(), with a renderer); `categories` is then empty.
    std::shared_ptr<const std::string> categories_json;
};

// The categories facet as the API shows it (JSON text).
using CategoryFacetsRenderer =
    std::function<std::string(const std::vector<ListingFacets::CategoryCount>&)>;

template <typename Item>
struct Listing {
    std::vector<Item> items;
    std::int64_t total = 0;
    ListingFacets facets;
};
using ProductListing = Listing<models::Product>;
using RenderedPage = Listing<std::string>;  // rendered products

struct Suggestion {
    std::string id;
    std::string name;
};

class CatalogReadModel {
  public:
    explicit CatalogReadModel(ProductRenderer renderer = {},
                              CategoryFacetsRenderer category_facets_renderer = {},
                              SearchStorage search_storage = SearchStorage::kDisk)
        : renderer_(std::move(renderer)),
          category_facets_renderer_(std::move(category_facets_renderer)),
          search_(search_storage) {}
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

    ProductListing list(const models::ProductQuery& query) const;
    // list() with each product already rendered; empty strings without a renderer.
    RenderedPage list_rendered(const models::ProductQuery& query) const;
    // Product names completing `text` (search on names alone), best first, at most `limit`.
    std::vector<Suggestion> suggest(std::string_view text, std::size_t limit) const;
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
        SearchDocId doc_id = 0;
    };
    struct Match {
        const Entry* entry = nullptr;
        double weight = 0;
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
        std::int64_t in_stock = 0;
        void insert(const Entry* entry);
        void erase(const Entry* entry);
        std::size_t size() const { return by_name.size(); }
    };

    void index(const Entry& entry);
    void unindex(const Entry& entry);
    static bool passes_filters(const models::Product& product, const models::ProductQuery& query);
    Entry make_entry(models::Product product) const;
    void add_to_search(Entry& entry);
    void remove_from_search(const Entry& entry);
    // The matches of `text`, ranked by Xapian without the catalog lock (so readers waiting for
    // the index never hold writers off), then mapped to entries under `lock` (shared, taken
    // here); retried when a replace_all() came in between.
    // best = 0: every match; otherwise only the best `best` (see SearchIndex::best_matches).
    std::vector<Match> search_matches(std::string_view text, SearchFields fields,
                                      std::shared_lock<std::shared_mutex>& lock,
                                      std::size_t best = 0) const;
    // The requested page of entries, in order, with the total and the facets; takes `lock`.
    // rendered: the categories facet may come as categories_json alone.
    Listing<const Entry*> select(const models::ProductQuery& query,
                                 std::shared_lock<std::shared_mutex>& lock, bool rendered) const;
    Listing<const Entry*> select_unfiltered(const models::ProductQuery& query, bool rendered) const;
    Listing<const Entry*> select_filtered(const models::ProductQuery& query) const;
    Listing<const Entry*> select_searched(const models::ProductQuery& query,
                                          std::shared_lock<std::shared_mutex>& lock) const;
    std::vector<ListingFacets::CategoryCount> category_facets(
        const std::unordered_map<std::string, std::int64_t>& counts) const;
    // Recomputes the categories facet of the whole catalog; after every write that changes a
    // category's name or product count (most browsing asks for exactly that facet).
    void refresh_all_category_facets();

    ProductRenderer renderer_;
    CategoryFacetsRenderer category_facets_renderer_;
    mutable std::shared_mutex mutex_;
    bool loaded_ = false;
    std::unordered_map<std::string, Entry> products_;  // elements never move: indexes point in
    Indexes all_;
    std::unordered_map<std::string, Indexes> by_category_;
    std::unordered_map<std::string, models::Category> categories_;
    std::vector<ListingFacets::CategoryCount> all_category_facets_;
    std::shared_ptr<const std::string> all_category_facets_json_;  // null without a renderer
    SearchIndex search_;
    std::uint64_t search_generation_ = 0;  // of search_, for the ids in by_doc_id_
    std::vector<const Entry*> by_doc_id_;  // index: SearchDocId; null once removed
};

}  // namespace flaskcart::services
