#pragma once
// Collection `cart`: one document per (user, product) line, {_id, user_id, product_id,
// quantity, added_at, updated_at}, under a unique index on (user_id, product_id).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flaskcart::db {
class Db;
class Bson;
class BsonView;
}  // namespace flaskcart::db

namespace flaskcart::models {

struct CartLine {
    std::string id;
    std::string user_id;
    std::string product_id;
    std::int64_t quantity = 0;
    std::int64_t added_at_ms = 0;
};

// The stored shape of a line ({_id, user_id, product_id, quantity, added_at}, what add()'s
// upsert produces); throws std::invalid_argument when an id is not an ObjectId.
db::Bson to_bson(const CartLine& line);
// Throws std::runtime_error for a document of the wrong shape (ids not ObjectIds, quantity not
// an integer).
CartLine cart_line_from_bson(const db::BsonView& doc);

// Data access for `cart`. Thread-safe. Ids are 24-hex strings validated by the caller.
class CartStore {
  public:
    explicit CartStore(db::Db& db) : db_(db) {}
    static void ensure_indexes(db::Db& db);

    std::vector<CartLine> lines_for(const std::string& user_id);
    std::optional<CartLine> find_line(const std::string& user_id, const std::string& product_id);
    struct AddResult {
        std::optional<CartLine> line;  // empty when the line would exceed max_total
        bool created = false;
        std::int64_t previous_quantity = 0;
    };
    // Adds `quantity` to the line, creating it if needed, with one upsert ($inc/$setOnInsert),
    // unless the line would then hold more than `max_total`. The check and the write happen
    // under the line's in-process lock, so concurrent adds cannot pass the limit together.
    AddResult add(const std::string& user_id, const std::string& product_id, std::int64_t quantity,
                  std::int64_t max_total);
    // std::nullopt when the user has no such line.
    std::optional<CartLine> set_quantity(const std::string& user_id, const std::string& product_id,
                                         std::int64_t quantity);
    bool remove(const std::string& user_id, const std::string& product_id);
    // The cart lines of `product_ids` (the ordered ones) — delete_many.
    std::int64_t remove_products(const std::string& user_id,
                                 const std::vector<std::string>& product_ids);

  private:
    db::Db& db_;
};

}  // namespace flaskcart::models
