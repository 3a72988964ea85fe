#pragma once
// Checkout and everything after it that moves stock: placing an order from the cart, status
// changes (cancelling returns stock), and the recovery sweep.
//
// There are no multi-document transactions (standalone MongoDB, FerretDB), so checkout is a
// sequence of single-document writes, each safe to repeat, ordered so that a crash between any
// two of them leaves a state the sweep (recover()) completes or undoes:
//
//   0. claim the user's cart: insert checkout_claims {_id: user_id, token} (the unique _id lets
//      one checkout of a cart run at a time, on every instance; a second one gets 409, or 422
//      once the first has emptied the cart). A claim older than --checkout-recovery-after is
//      settled (see below) and taken over. With an Idempotency-Key, a finished request under
//      that key is replayed before claiming and looked up again once claimed;
//   1. insert the order as `reserving`, with copies of names and prices and its
//      Idempotency-Key under a unique (user_id, idempotency_key) index; then record its id in
//      the claim (conditional on the token, and on no order recorded yet): if the claim was
//      taken over meanwhile, fail the order and answer 503;
//   2. for each line: products {_id, stock ≥ q} → $inc stock −q, $push stock_holds: order
//      (reserve; the hold marker records in the same write which order took the units);
//      on a failure, release what was reserved (conditional on the marker) → 409;
//   3. order reserving → pending (conditional): the point of no return;
//   4. for each line: $pull the hold marker (commit_hold);
//   5. delete the ordered lines from the cart;
//   6. release the claim (conditional on the token). On a failure before step 3 the claim is
//      released as well; an error with an unknown outcome from step 3 to step 5 keeps it, so
//      that only its settlement (below) finishes the cart.
//
// Settling a claim (a checkout that crashed or stalled past --checkout-recovery-after):
//   no order recorded → delete the claim if still so (a late step-1 record then fails);
//   order `reserving` → `failed` (conditional, so a checkout still running loses step 3),
//   then as for `failed`; order `failed` → release its holds, delete it; order placed → redo
//   step 5; then delete the claim, conditional on it being unchanged since it was read.
//
// Recovery, run at start-up and every maintenance interval:
//   - `reserving` orders older than --checkout-recovery-after → `failed` (conditional, so a
//     checkout still running loses step 3 and undoes its own holds);
//   - `failed` orders: release every line's hold (a no-op where none is left), delete;
//   - claims older than --checkout-recovery-after: settle them (above);
//   - products still holding markers of settled orders: drop the markers (step 4 redone);
//   - cancelled orders not restocked --checkout-recovery-after seconds after the cancel:
//     return their stock (see change_status);
//   - return markers of orders restocked more than 10 minutes ago: drop them.
// Invariants after recovery: stock + units in settled, non-cancelled orders = stock ever set;
// no claim is left; a cart is placed as at most one order per claim, so concurrent checkouts
// of one cart create exactly one order.
//
// Cancelling: order → cancelled (conditional, so of two racing cancels one wins), then for
// each line $inc stock +q guarded by {stock_returns ≠ order} with $push stock_returns: order
// (once per product, however often repeated), then order.restocked = true. The markers are
// dropped only ten minutes later: a sweep that read the order before it was restocked (another
// instance, or a slow one) finds the marker still there and returns nothing twice.
//
// Within one process, writes to one document are serialized (Db::update_if) because FerretDB
// does not make them atomic; across instances the guarantees hold on MongoDB. The claim's
// insert is atomic on both, so a cart is bought once on FerretDB with one instance as well.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "http/context.hpp"
#include "models/checkout_claim_model.hpp"
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
    int claims_settled = 0;
};

class CheckoutService {
  public:
    CheckoutService(const Config& config, models::ProductStore& products, models::CartStore& cart,
                    models::OrderStore& orders, models::StockLedger& ledger,
                    models::CheckoutClaimStore& claims);

    // Throws http::ApiError: 422 empty cart or key reused with another body, 409 a line that
    // is short or gone (named), the same key still in progress, or another checkout of this
    // cart in progress (with Retry-After), 503 when recovery overtook a checkout that took
    // too long.
    PlaceOrderResult place_order(const PlaceOrderRequest& request);
    // Applies the state machine (services/order_rules.hpp) for `actor`; cancelling restocks.
    // Throws 404 (absent or another customer's order), 403, 409 naming the current status.
    models::Order change_status(const std::string& order_id, const std::string& status,
                                const http::Principal& actor);
    RecoveryReport recover(std::int64_t now_ms);

  private:
    std::optional<PlaceOrderResult> replay(const models::Order& existing,
                                           const std::string& fingerprint);
    class ClaimGuard;
    ClaimGuard claim_cart(const std::string& user_id);
    // Finishes or undoes the checkout behind an abandoned claim, then frees the cart. True
    // when this call deleted the claim.
    bool settle(const models::CheckoutClaim& claim);
    void release_all(const models::Order& order);
    void restock(const models::Order& order);

    const Config& config_;
    models::ProductStore& products_;
    models::CartStore& cart_;
    models::OrderStore& orders_;
    models::StockLedger& ledger_;
    models::CheckoutClaimStore& claims_;
};

}  // namespace flaskcart::services
