#pragma once
// The layout of earlier versions, read once by the start-up migration
// (CheckoutService::migrate_legacy_documents): collection `checkout_claims` ({_id: user_id,
// token, order_id?, claimed_at}: a checkout's claim on the cart, now `checkout` in the cart
// document) and collection `cart` (one document per line {_id, user_id, product_id, quantity,
// added_at}, now the lines of the cart document). `migrations` {_id: "carts-v1"} records that
// the migration is done.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flaskcart::db {
class Db;
}

namespace flaskcart::models {

struct CartLine;

struct CheckoutClaim {
    std::string user_id;
    std::string token;                    // random, names the checkout holding the claim
    std::optional<std::string> order_id;  // set once that checkout has inserted its order
    std::int64_t claimed_at_ms = 0;
};

// Thread-safe. Ids are 24-hex strings validated by the caller.
class CheckoutClaimStore {
  public:
    explicit CheckoutClaimStore(db::Db& db) : db_(db) {}
    static void ensure_indexes(db::Db& db);  // none any more (kept for App)

    // Deletes the claim only if it is still exactly as read (same token, same order or still
    // none), so a takeover never frees a claim that moved on meanwhile. True if deleted.
    bool release(const CheckoutClaim& claim);
    // Claims taken before `claimed_before_ms`, oldest first.
    std::vector<CheckoutClaim> find_stale(std::int64_t claimed_before_ms, std::int64_t limit);

    // False once the migration is recorded as done (one find by _id).
    bool has_legacy_documents();
    void record_migrated();
    // Every line of the old `cart` collection, then their removal.
    std::vector<CartLine> legacy_cart_lines();
    void drop_legacy_cart_lines();
    void remove_legacy_cart_lines(const std::string& user_id,
                                  const std::vector<std::string>& product_ids);

  private:
    db::Db& db_;
};

}  // namespace flaskcart::models
