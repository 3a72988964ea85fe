#pragma once
// Collection `products`. Money is exact: the price is stored as integer minor units (cents) in
// the int64 field `price_cents`, never as a double; the API shows major units (19.99).
// Document: {_id: ObjectId, name, name_lower, description, price_cents: int64,
// category_id: ObjectId (absent = none), stock: int64, image_url (absent = none),
// created_at: date, updated_at: date}. Checkout adds `stock_holds` and `stock_returns`; this store
// never writes whole documents, so it never loses them, and every update goes through
// Db::update_by_id (the per-document write primitive).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flaskcart::db {
class Db;
class Bson;
class BsonView;
}  // namespace flaskcart::db

namespace flaskcart::models {

class WriteListener;

inline constexpr std::int64_t kMaxStock = 1'000'000'000;
inline constexpr std::size_t kMaxProductNameLength = 200;
inline constexpr std::size_t kMaxDescriptionLength = 5000;
inline constexpr std::size_t kMaxSearchLength = 200;

struct Product {
    std::string id;
    std::string name;
    std::string description;
    std::int64_t price_cents = 0;
    std::string category_id;  // empty = none
    std::int64_t stock = 0;
    std::string image_url;  // empty = none
    std::int64_t created_at_ms = 0;
    std::int64_t updated_at_ms = 0;
};

// The stored catalog fields of `product` (see the top of this file; not the checkout arrays);
// throws std::invalid_argument when product.id is not an ObjectId. An empty or invalid
// category_id and an empty image_url are left out.
db::Bson to_bson(const Product& product);
// Throws std::runtime_error for a document of the wrong shape (no ObjectId _id, string name or
// integer price_cents).
Product product_from_bson(const db::BsonView& doc);

struct NewProduct {
    std::string name;
    std::string description;
    std::int64_t price_cents = 0;
    std::string category_id;  // empty = none; must name an existing category (checked by caller)
    std::int64_t stock = 0;
    std::string image_url;
};

// A partial update; unset members are left alone. An empty category_id or image_url clears it.
struct ProductChanges {
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::optional<std::int64_t> price_cents;
    std::optional<std::string> category_id;
    std::optional<std::int64_t> stock;
    std::optional<std::string> image_url;
    bool is_empty() const noexcept {
        return !name && !description && !price_cents && !category_id && !stock && !image_url;
    }
};

// kRelevance ranks search matches best first (the read model's search index); without a search
// text, and in the database's own listing, it orders like kCreatedAt.
enum class ProductSortKey { kName, kPrice, kCreatedAt, kRelevance };

// GET /products filters; every member is optional except the page window.
struct ProductQuery {
    std::string text;         // search text (the database's listing: a literal substring)
    std::string category_id;  // a valid ObjectId text, or empty
    std::optional<std::int64_t> min_price_cents;
    std::optional<std::int64_t> max_price_cents;
    bool in_stock_only = false;
    ProductSortKey sort_key = ProductSortKey::kCreatedAt;
    bool descending = true;
    std::int64_t page = 1;
    std::int64_t limit = 20;
};

struct ProductPage {
    std::vector<Product> items;
    std::int64_t total = 0;
};

struct DeleteProductResult {
    bool deleted = false;
    std::int64_t cart_items_removed = 0;
};

// Data access for `products`. Thread-safe (each call borrows its own pooled client). Throws
// db::DbError when the database fails.
class ProductStore {
  public:
    explicit ProductStore(db::Db& db) : db_(db) {}
    // Creates the indexes listed (and justified) in product_model.cpp; idempotent.
    static void ensure_indexes(db::Db& db);
    // Told about every write after it reached the database; set before serving.
    void set_listener(WriteListener* listener) noexcept { listener_ = listener; }

    Product create(const NewProduct& product);
    // std::nullopt for a missing product and for text that is not an ObjectId.
    std::optional<Product> find_by_id(std::string_view id);
    // The products that exist among `ids`, in no particular order; invalid ids are skipped.
    std::vector<Product> find_by_ids(const std::vector<std::string>& ids);
    ProductPage list(const ProductQuery& query);
    // Every product (the read model's load).
    std::vector<Product> list_all();
    // The updated product, or std::nullopt when it does not exist.
    std::optional<Product> update(std::string_view id, const ProductChanges& changes);
    // Deletes the product, then its cart lines (collection `cart`) and its image.
    DeleteProductResult remove(std::string_view id);
    // False when the product does not exist.
    bool set_image_url(std::string_view id, const std::string& image_url);

    std::int64_t count_in_category(std::string_view category_id);
    // category id → number of products, by aggregate ($match/$group/$sum).
    std::map<std::string, std::int64_t> count_by_category();

    // seed-demo: the lower-cased names already present, then insert or refresh by name.
    std::map<std::string, std::string> ids_by_lower_name();
    void refresh(std::string_view id, const NewProduct& product);

  private:
    db::Db& db_;
    WriteListener* listener_ = nullptr;
};

}  // namespace flaskcart::models
