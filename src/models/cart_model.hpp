#pragma once
// Collection `carts`: one document per customer, _id = the user's id, so every cart read and
// write is a lookup by _id:
//   {_id, version, updated_at,
//    lines: {<product id>: quantity},
//    line_ids: {<product id>: the line's ObjectId, whose timestamp is when it was added},
//    checkout?: {token, order_id, claimed_at, key?, fingerprint, revoked?, order?},
//    order_ids: [ids of the customer's placed orders, oldest first],
//    keys: {<digest of an Idempotency-Key>: order id}}
// Lines are keyed by product, so a product is one line and DELETE /products/{id} unsets its two
// fields. Each line is two scalars rather than a sub-document because FerretDB decodes the whole
// cart on every write (lines of the earlier {line_id, quantity, added_at} shape still read).
// `version` grows with every write: a write is conditional on the version it read (optimistic
// concurrency, atomic on MongoDB; serialized per document in-process on FerretDB, whose conditional
// updates are not atomic). `checkout` is the claim of the checkout running on the cart
// (services/checkout_service.hpp): while it is there the lines do not change. `order_ids` and
// `keys` are the customer's order history and Idempotency-Keys, written by the same write that
// empties the cart after a checkout.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/order_model.hpp"

namespace flaskcart::db {
class Db;
class Bson;
class BsonView;
class Collection;
}  // namespace flaskcart::db

namespace flaskcart::models {

struct CartLine {
    std::string id;  // line_id: stable while the line exists
    std::string user_id;
    std::string product_id;
    std::int64_t quantity = 0;
    std::int64_t added_at_ms = 0;  // the id's timestamp (whole seconds) for lines written now
};

// The claim a checkout holds on the cart (see services/checkout_service.hpp).
struct CartClaim {
    std::string token;     // random, names the checkout holding the claim
    std::string order_id;  // the order it is placing (chosen before anything is reserved)
    std::optional<std::string> key_digest;
    std::string fingerprint;
    std::int64_t claimed_at_ms = 0;
    bool revoked = false;  // recovery took it over
    // Earlier versions' point of no return: the order to insert, recorded in the claim. This
    // version's point of no return is the order's insert (services/checkout_service.hpp).
    std::optional<Order> placed;
};

struct Cart {
    std::string user_id;
    bool stored = false;  // a document exists
    std::int64_t version = 0;
    std::vector<CartLine> lines;  // oldest first
    std::optional<CartClaim> checkout;
    std::vector<std::string> order_ids;       // oldest first
    std::map<std::string, std::string> keys;  // key digest → order id

    const CartLine* line_for(const std::string& product_id) const;
};

// The stored shape of `cart` (see the top of this file). Throws std::invalid_argument when an
// id is not an ObjectId.
db::Bson to_bson(const Cart& cart);
// Throws std::runtime_error for a document of the wrong shape.
Cart cart_from_bson(const db::BsonView& doc);

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
    // than `max_total`. Check and write are one conditional write.
    virtual AddResult add(const std::string& user_id, const std::string& product_id,
                          std::int64_t quantity, std::int64_t max_total) = 0;
    // std::nullopt when the user has no such line.
    virtual std::optional<CartLine> set_quantity(const std::string& user_id,
                                                 const std::string& product_id,
                                                 std::int64_t quantity) = 0;
    virtual bool remove(const std::string& user_id, const std::string& product_id) = 0;
};

// Data access for `carts`. Thread-safe. Ids are 24-hex strings validated by the caller. Every
// write takes the cart's in-process document lock. Cart writes throw DomainError (conflict)
// while a checkout holds the cart.
class CartStore final : public CartLineStore {
  public:
    explicit CartStore(db::Db& db) : db_(db) {}
    // No secondary index: every read and write is by _id.
    static void ensure_indexes(db::Db&) {}

    // 1 command each.
    std::optional<Cart> find(const std::string& user_id);
    std::vector<CartLine> lines_for(const std::string& user_id) override;
    std::optional<CartLine> find_line(const std::string& user_id,
                                      const std::string& product_id) override;
    // A read and a conditional write: 2 commands (more only when a concurrent write raced); 1
    // when this process wrote the cart last (RecentCarts).
    AddResult add(const std::string& user_id, const std::string& product_id, std::int64_t quantity,
                  std::int64_t max_total) override;
    std::optional<CartLine> set_quantity(const std::string& user_id, const std::string& product_id,
                                         std::int64_t quantity) override;
    bool remove(const std::string& user_id, const std::string& product_id) override;
    // DELETE /products/{id}: the product's line leaves every cart. Returns the lines removed.
    std::int64_t remove_product_everywhere(const std::string& product_id);

    // --- checkout (services/checkout_service.hpp) ---
    // Claims the cart if no checkout holds it, in one findAndModify; returns the cart as
    // claimed, or std::nullopt when it is held or does not exist.
    std::optional<Cart> claim(const std::string& user_id, const CartClaim& claim);
    // Marks the claim taken over by recovery (a checkout of an earlier version then records no
    // order in it). False when the claim is not held by `token` any more, or an earlier
    // version's checkout already recorded its order there.
    bool revoke(const std::string& user_id, const std::string& token);
    // Ends a placed checkout: the ordered products leave the cart, the order joins the history
    // (and its key, if any), the claim goes. `known`, when given, is the cart as the caller
    // last saw it (its version saves a read). False when `token` no longer holds the claim.
    bool finish(const std::string& user_id, const std::string& token, const Order& order,
                const std::optional<std::string>& key_digest, const Cart* known);
    // Drops the claim `token` holds, lines unchanged (a checkout that placed nothing).
    bool release(const std::string& user_id, const std::string& token);
    // For the full recovery pass: carts a checkout holds (a scan; not on the periodic path).
    std::vector<Cart> find_claimed(std::int64_t limit);

    // Start-up migration from the one-document-per-line `cart` collection (and orders' keys and
    // history) of earlier versions; a no-op once done. Returns the carts written.
    std::int64_t migrate_lines(const std::string& user_id, const std::vector<CartLine>& lines);
    void add_history(const std::string& user_id, const std::vector<std::string>& order_ids,
                     const std::map<std::string, std::string>& keys);

  private:
    enum class Change { kWrite, kKeep };
    // Reads the cart, applies `change` to a copy and writes it back conditional on the version
    // read; retries when another write came between. Throws DomainError while a checkout holds
    // the cart. Returns the cart as written (or as read, for kKeep).
    template <typename ChangeFn>
    Cart modify(const std::string& user_id, ChangeFn&& change);
    bool write_if_unchanged(db::Collection& carts, const Cart& before, const Cart& after);
    // `on_matched` runs under the cart's document lock when the write matched.
    bool update_claimed(const std::string& user_id, const db::Bson& condition,
                        const db::Bson& update, const std::function<void()>& on_matched = {});

    // The carts this process wrote last, by user id: the next change of the same cart starts
    // from here instead of reading it (one command instead of two). Only a starting point: the
    // write is conditional on the version, and every other change of a cart (a checkout's
    // claim, another instance) moves the version, so a stale copy costs a failed write and a
    // read, never a wrong cart. A change that writes nothing is decided on a fresh read.
    class RecentCarts {
      public:
        std::optional<Cart> find(const std::string& user_id) const;
        void remember(const Cart& cart);
        void forget(const std::string& user_id);

      private:
        static constexpr std::size_t kCapacity = 4096;  // then it starts over
        mutable std::mutex mutex_;
        std::unordered_map<std::string, Cart> carts_;
    };

    db::Db& db_;
    RecentCarts recent_;
};

// Digest of an Idempotency-Key, as stored in `keys` (a field name whatever the key holds).
std::string idempotency_key_digest(const std::string& key);

}  // namespace flaskcart::models
