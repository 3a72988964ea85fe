#pragma once
// Checkout and everything after it that moves stock: placing an order from the cart, status
// changes (cancelling returns stock), and the recovery sweep.
//
// There are no multi-document transactions (standalone MongoDB, FerretDB), so checkout is a
// sequence of single-document writes, each safe to repeat, ordered so that a crash between any
// two of them leaves a state the sweep (recover()) completes or undoes:
//
//   1. insert the order as `reserving`, with copies of names and prices and its
//      Idempotency-Key under a unique (user_id, idempotency_key) index;
//   2. for each line: products {_id, stock ≥ q} → $inc stock −q, $push stock_holds: order
//      (reserve; the hold marker records in the same write which order took the units);
//      on a failure, release what was reserved (conditional on the marker) → 409;
//   3. order reserving → pending (conditional): the point of no return;
//   4. for each line: $pull the hold marker (commit_hold);
//   5. delete the ordered lines from the cart.
//
// Recovery, run at start-up and every maintenance interval:
//   - `reserving` orders older than --checkout-recovery-after → `failed` (conditional, so a
//     checkout still running loses step 3 and undoes its own holds);
//   - `failed` orders: release every line's hold (a no-op where none is left), delete;
//   - products still holding markers of settled orders: drop the markers (step 4 redone);
//   - cancelled orders not restocked --checkout-recovery-after seconds after the cancel:
//     return their stock (see change_status);
//   - return markers of orders restocked more than 10 minutes ago: drop them.
// Invariant after recovery: stock + units in settled, non-cancelled orders = stock ever set.
//
// Cancelling: order → cancelled (conditional, so of two racing cancels one wins), then for
// each line $inc stock +q guarded by {stock_returns ≠ order} with $push stock_returns: order
// (once per product, however often repeated), then order.restocked = true. The markers are
// dropped only ten minutes later: a sweep that read the order before it was restocked (another
// instance, or a slow one) finds the marker still there and returns nothing twice.
//
// Within one process, writes to one document are serialized (Db::update_if) because FerretDB
// does not make them atomic; across instances the guarantees hold on MongoDB.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "http/context.hpp"
#include "models/inventory_model.hpp"
#include "models/order_model.hpp"

namespace flaskcart::models {
class ProductStore;
class CartStore;
}  // namespace flaskcart::models

namespace flaskcart::services {

struct ReservationFailure {
    std::size_t line_index = 0;
    models::ReserveResult reason = models::ReserveResult::kInsufficientStock;
};

// Step 2: reserves every line for `order_id` in order, all or nothing. On the first failure it
// releases what it had reserved and reports the failing line; if a release itself throws, the
// holds stay marked and the sweep releases them.
std::optional<ReservationFailure> reserve_all(models::StockLedger& ledger,
                                              const std::string& order_id,
                                              const std::vector<models::OrderLine>& lines);

struct PlaceOrderRequest {
    std::string user_id;
    std::optional<std::string> idempotency_key;
    std::string fingerprint;  // of the request body, to refuse a key reused for another request
};

struct PlaceOrderResult {
    models::Order order;
    bool is_replay = false;
};

struct RecoveryReport {
    int orders_failed = 0;
    int orders_cleaned = 0;
    int holds_committed = 0;
    int cancellations_restocked = 0;
    int returns_forgotten = 0;
};

class CheckoutService {
  public:
    CheckoutService(const Config& config, models::ProductStore& products, models::CartStore& cart,
                    models::OrderStore& orders, models::StockLedger& ledger);

    // Throws http::ApiError: 422 empty cart or key reused with another body, 409 a line that
    // is short or gone (named) or the same key still in progress, 503 when recovery overtook
    // a checkout that took too long.
    PlaceOrderResult place_order(const PlaceOrderRequest& request);
    // Applies the state machine (services/order_rules.hpp) for `actor`; cancelling restocks.
    // Throws 404 (absent or another customer's order), 403, 409 naming the current status.
    models::Order change_status(const std::string& order_id, const std::string& status,
                                const http::Principal& actor);
    RecoveryReport recover(std::int64_t now_ms);

  private:
    std::optional<PlaceOrderResult> replay(const models::Order& existing,
                                           const std::string& fingerprint);
    void release_all(const models::Order& order);
    void restock(const models::Order& order);

    const Config& config_;
    models::ProductStore& products_;
    models::CartStore& cart_;
    models::OrderStore& orders_;
    models::StockLedger& ledger_;
};

}  // namespace flaskcart::services
