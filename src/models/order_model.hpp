#pragma once
// Collection `orders`: {_id, user_id, products: [{product_id, name, quantity, price_cents}],
// total_price_cents, status, status_history: [{status, at}], idempotency_key,
// request_fingerprint, restocked, restocked_at, created_at, updated_at}. Names and prices are
// copies taken at checkout. Money is int64 cents. Status changes are conditional single-document
// writes (Db::update_if), so two racing changes cannot both apply.

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

// Stored status names. `reserving` and `failed` (earlier versions) and `abandoned` (the
// tombstone recovery inserts under the order id of a checkout it undid) are checkout's internal
// states (see services/checkout_service.hpp) and never shown to clients.
namespace order_status {
inline constexpr const char* kReserving = "reserving";
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kAbandoned = "abandoned";
inline constexpr const char* kPending = "pending";
inline constexpr const char* kPaid = "paid";
inline constexpr const char* kShipped = "shipped";
inline constexpr const char* kDelivered = "delivered";
inline constexpr const char* kCancelled = "cancelled";
}  // namespace order_status

struct OrderLine {
    std::string product_id;
    std::string name;
    std::int64_t quantity = 0;
    std::int64_t price_cents = 0;
};

struct StatusChange {
    std::string status;
    std::int64_t at_ms = 0;
};

struct Order {
    std::string id;
    std::string user_id;
    std::vector<OrderLine> lines;
    std::int64_t total_cents = 0;
    std::string status;
    std::vector<StatusChange> history;
    std::string idempotency_key;
    std::string request_fingerprint;
    bool restocked = false;
    std::int64_t restocked_at_ms = 0;
    std::int64_t created_at_ms = 0;
    std::int64_t updated_at_ms = 0;
};

// The stored document of `order` (see the top of this file); throws std::invalid_argument when
// order.id, user_id or a line's product_id is not an ObjectId.
db::Bson to_bson(const Order& order);
// Throws std::runtime_error for a document of the wrong shape: _id/user_id not ObjectIds, no
// string status or integer total, `products` not an array of well-formed lines, or
// `status_history` present but not an array of documents.
Order order_from_bson(const db::BsonView& doc);

class OrderStore {
  public:
    explicit OrderStore(db::Db& db) : db_(db) {}
    static void ensure_indexes(db::Db& db);

    // Inserts `order` under its own _id (a fresh one when order.id is empty, set into
    // `order`). False when that _id — or, in databases of earlier versions, the (user_id,
    // idempotency_key) pair — is taken.
    bool insert(Order& order);
    std::optional<Order> find_by_id(const std::string& id);
    // The orders of `user_id` among `ids` that exist, in the order of `ids` (one command). The
    // user's id is part of the filter: MongoDB finds them through the (user_id, ...) index, and
    // FerretDB's PostgreSQL backend pushes the equality down to SQL, so only the user's own
    // orders are decoded (an `_id: {$in}` alone makes it decode the whole collection in Go).
    std::vector<Order> find_of_user(const std::string& user_id,
                                    const std::vector<std::string>& ids);
    // For the start-up migration: every order (a scan; never on a request path).
    std::vector<Order> find_all();
    // from → to, only if the status is still `from`; appends to the history. True if applied.
    bool transition(const std::string& id, const std::string& from, const std::string& to);
    bool mark_restocked(const std::string& id);
    // Deletes a failed order (its key becomes reusable). True if deleted.
    bool delete_failed(const std::string& id);
    // For recovery: orders in `status`, created before `created_before_ms` (0 = any time).
    std::vector<Order> find_by_status(const std::string& status, std::int64_t created_before_ms,
                                      std::int64_t limit);
    // Cancelled orders not restocked, whose cancellation is older than `cancelled_before_ms`.
    std::vector<Order> find_unrestocked_cancellations(std::int64_t cancelled_before_ms,
                                                      std::int64_t limit);

  private:
    db::Db& db_;
};

}  // namespace flaskcart::models
