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

// The cart lines CartService works on; the seam its unit tests replace with a fake.
class CartLineStore {
  public:
    virtual ~CartLineStore() = default;

    virtual std::vector<CartLine> lines_for(const std::string& user_id) = 0;
    virtual std::optional<CartLine> find_line(const std::string& user_id,
                                              const std::string& product_id) = 0;
    struct AddResult {
        std::optional<CartLine> line;  // empty when the line would exceed max_total
        bool created = false;
        std::int64_t previous_quantity = 0;  // when refused: what the line held
    };
    // Adds `quantity` to the line, creating it if needed, unless the line would then hold more
    // than `max_total`. Check and write are one conditional write, so concurrent adds cannot
    // pass the limit together.
    virtual AddResult add(const std::string& user_id, const std::string& product_id,
                          std::int64_t quantity, std::int64_t max_total) = 0;
    // std::nullopt when the user has no such line.
    virtual std::optional<CartLine> set_quantity(const std::string& user_id,
                                                 const std::string& product_id,
                                                 std::int64_t quantity) = 0;
    virtual bool remove(const std::string& user_id, const std::string& product_id) = 0;
};

// The stored shape of a line ({_id, user_id, product_id, quantity, added_at}, what add()'s
// upsert produces); throws std::invalid_argument when an id is not an ObjectId.
db::Bson to_bson(const CartLine& line);
// Throws std::runtime_error for a document of the wrong shape (ids not ObjectIds, quantity not
// an integer).
CartLine cart_line_from_bson(const db::BsonView& doc);

// Data access for `cart`. Thread-safe. Ids are 24-hex strings validated by the caller.
class CartStore final : public CartLineStore {
  public:
    explicit CartStore(db::Db& db) : db_(db) {}
    static void ensure_indexes(db::Db& db);

    std::vector<CartLine> lines_for(const std::string& user_id) override;
    std::optional<CartLine> find_line(const std::string& user_id,
                                      const std::string& product_id) override;
    // {user, product, quantity ≤ max_total − quantity} → $inc, else an insert under the unique
    // (user_id, product_id) index. On FerretDB the update is serialized per line in-process;
    // the lock covers that one write only.
    AddResult add(const std::string& user_id, const std::string& product_id, std::int64_t quantity,
                  std::int64_t max_total) override;
    std::optional<CartLine> set_quantity(const std::string& user_id, const std::string& product_id,
                                         std::int64_t quantity) override;
    bool remove(const std::string& user_id, const std::string& product_id) override;
    // The cart lines of `product_ids` (the ordered ones) — delete_many.
    std::int64_t remove_products(const std::string& user_id,
                                 const std::vector<std::string>& product_ids);

  private:
    db::Db& db_;
};

}  // namespace flaskcart::models
