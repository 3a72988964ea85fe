#pragma once
// Checkout and everything after it that moves stock: placing an order from the cart, status
// changes (cancelling returns stock), the recovery sweep and the start-up migration.
//
// There are no multi-document transactions (standalone MongoDB, FerretDB), so checkout is a
// sequence of single-document writes, each safe to repeat, ordered so that a crash between any
// two of them leaves a state that recovery completes or undoes. Every document a checkout
// touches is reached by _id; it costs lines + 3 commands:
//
//   1. claim the cart: one findAndModify on the user's cart document (models/cart_model.hpp)
//      sets `checkout` {token, order_id, claimed_at, key digest, fingerprint} only if no
//      checkout holds it (atomic on MongoDB; on FerretDB serialized in-process, with one writer
//      per database), and returns the lines. The order's _id is chosen here, before anything is
//      reserved. A second checkout of the cart gets 409 (or 422 for an Idempotency-Key reused
//      with another body); a claim older than --checkout-recovery-after is settled (below) and
//      taken over. While the claim is there, cart writes are refused (409), so the lines stay
//      what was claimed. A key already in the cart's `keys` replays its order (the claim is
//      dropped, nothing is reserved);
//   2. price the lines from the catalog read model (no command): "no longer exists", "only N
//      available" → 409 and the claim is dropped;
//   3. for each line: products {_id, stock ≥ q, stock_holds ≠ order} → $inc stock −q, $push
//      stock_holds: order (the marker records in the same write which order took the units);
//      on a refusal, release what was reserved (conditional on the marker) and drop the claim
//      → 409. An error of unknown outcome keeps the claim: its settlement releases the holds;
//   4. the point of no return: insert the order (status pending) under the claim's order id.
//      The unique _id makes the insert the arbiter between the checkout and a recovery that
//      judged it abandoned: whichever inserts first owns the id. A duplicate whose document is
//      recovery's tombstone (status `abandoned`) → recovery took over: release the holds, 503;
//   5. finish the cart: the ordered lines go, the order id joins `order_ids` (the history GET
//      /orders reads), its key joins `keys`, the claim goes — one write, conditional on the
//      token and the version.
// The hold markers are committed (dropped) later, off the request path: by the maintenance
// sweep from an in-process queue (one write per product for all its orders), and by the full
// pass (below) for any a crash left.
//
// Settling a claim (a checkout that crashed or stalled past --checkout-recovery-after):
//   - revoke it (claims of earlier versions could still record their order in the claim; the
//     revocation stops that, as it did then);
//   - insert a tombstone under its order id ({status: abandoned}, never shown to anyone);
//   - inserted → the checkout can no longer place: release every line's hold (a no-op where
//     none is), then drop the claim. A duplicate → the order is in: redo step 5 with it;
//   - claims of earlier versions that recorded their order in the claim: insert that order (a
//     duplicate is fine) and redo step 5.
// Tombstones stay: they are rare (a crash or a stall mid-checkout), small, and a checkout
// stalled for any length of time must still find one.
//
// Recovery. The periodic sweep touches only work this process knows is pending: hold markers
// to commit, return markers due to be dropped, claims of its checkouts that stalled or failed
// with an unknown outcome, restocks that failed. With nothing pending it issues no command.
// The full pass — at start-up (where it repairs whatever it finds, of any age), after any error
// of unknown outcome, while it finds work not yet due, and hourly — scans for what a crash (of
// this or another instance) left:
//   - carts held by claims older than --checkout-recovery-after: settle them;
//   - cancelled orders not restocked --checkout-recovery-after seconds after the cancel:
//     return their stock (see change_status);
//   - products holding markers of placed orders: drop them; return markers of orders restocked
//     more than 10 minutes ago: drop them;
//   - `reserving` / `failed` orders of earlier versions: fail them, release their holds,
//     delete them.
// Invariants after recovery: stock + units in settled, non-cancelled orders = stock ever set;
// no claim is left; a cart is placed as at most one order per claim.
//
// Cancelling: order → cancelled (conditional, so of two racing cancels one wins), then for
// each line $inc stock +q guarded by {stock_returns ≠ order} with $push stock_returns: order
// (once per product, however often repeated), then order.restocked = true. The markers are
// dropped only ten minutes later: a pass that read the order before it was restocked finds the
// marker still there and returns nothing twice.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config.hpp"
#include "models/cart_model.hpp"
#include "models/checkout_claim_model.hpp"
#include "models/inventory_model.hpp"
#include "models/order_model.hpp"
#include "services/cart_service.hpp"
#include "services/order_rules.hpp"

namespace flaskcart::services {

struct ReservationFailure {
    std::size_t line_index = 0;
    models::ReserveResult reason = models::ReserveResult::kInsufficientStock;
};

// Step 3: reserves every line for `order_id` in order, all or nothing. On the first refusal
// it releases what it had reserved and reports the failing line; if a call throws, the holds
// made stay marked and the claim's settlement releases them.
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

struct OrderPage {
    std::vector<models::Order> orders;  // newest first
    std::int64_t total = 0;
};

struct RecoveryReport {
    bool full_pass = false;
    int orders_cleaned = 0;  // reserving/failed orders of earlier versions
    int holds_committed = 0;
    int cancellations_restocked = 0;
    int returns_forgotten = 0;
    int claims_settled = 0;
    int total() const {
        return orders_cleaned + holds_committed + cancellations_restocked + returns_forgotten +
               claims_settled;
    }
};

class CheckoutService {
  public:
    CheckoutService(const Config& config, ProductLookup& catalog, models::CartStore& cart,
                    models::OrderStore& orders, models::StockLedger& ledger,
                    models::CheckoutClaimStore& legacy_claims);

    // Throws DomainError: conflict for an empty cart, a line short or gone (named), another
    // checkout of this cart in progress (Retry-After); invalid-as-conflict (422) for a key
    // reused with another body; unavailable when recovery overtook a checkout that took too
    // long.
    PlaceOrderResult place_order(const PlaceOrderRequest& request);
    // The customer's visible orders, newest first: the cart's history, then the page's orders
    // by _id (2 commands).
    OrderPage orders_of(const std::string& user_id, std::int64_t skip, std::int64_t limit);
    // The order if `actor` may see it (order_rules' may_see), else not_found.
    models::Order order_for(const std::string& order_id, const Actor& actor);
    // Applies the state machine (services/order_rules.hpp) for `actor`; cancelling restocks.
    // Throws not_found (absent or another customer's order), forbidden, conflict naming the
    // current status.
    models::Order change_status(const std::string& order_id, const std::string& status,
                                const Actor& actor);
    RecoveryReport recover(std::int64_t now_ms);
    // Start-up: brings carts, claims, keys and history of earlier versions into today's shapes
    // (idempotent; a no-op once recorded as done). Returns true when it migrated anything.
    bool migrate_legacy_documents();

  private:
    class ClaimGuard;
    struct ClaimedCart;
    ClaimedCart claim_cart(const PlaceOrderRequest& request);
    [[noreturn]] void refuse_held_claim(const PlaceOrderRequest& request,
                                        const models::CartClaim& held);
    PlaceOrderResult replay(const std::string& order_id, const std::string& fingerprint);
    models::Order price_lines(const PlaceOrderRequest& request, const models::Cart& cart,
                              const std::string& order_id);
    void reserve_or_fail(ClaimGuard& claim, const models::Order& order);
    void place(ClaimGuard& claim, const models::Order& order, const models::Cart& claimed);
    // Finishes or undoes the checkout behind a claim. True when this call ended the claim.
    bool settle(const models::Cart& cart);
    // Step 5 for a claim whose order is in (or recorded in the claim by an earlier version).
    bool finish_placed(const models::Cart& cart, const models::Order& order);
    static models::Order abandoned_order(const std::string& user_id, const std::string& order_id);
    void release_all(const std::string& order_id, const std::vector<models::OrderLine>& lines);
    void restock(const models::Order& order);

    // The periodic sweep's work, known in-process.
    void run_pending(std::int64_t now_ms, RecoveryReport& report);
    void settle_stale_claims(std::int64_t cutoff_ms, bool full, RecoveryReport& report);
    void full_pass(std::int64_t now_ms, RecoveryReport& report);
    void commit_markers(std::int64_t now_ms, RecoveryReport& report);
    void restock_cancellations(std::int64_t cutoff_ms, RecoveryReport& report);
    void clean_legacy_orders(std::int64_t cutoff_ms, RecoveryReport& report);
    void settle_legacy_claims();
    void migrate_legacy_cart_lines();
    void migrate_order_history();
    std::int64_t cutoff(std::int64_t now_ms) const;

    struct HeldMarker {
        std::string product_id;
        std::string order_id;
    };
    struct DueReturn {
        std::string product_id;
        std::string order_id;
        std::int64_t due_ms = 0;
    };
    // Pending work, shared by request threads and the maintenance thread.
    struct PendingWork {
        std::mutex mutex;
        std::vector<HeldMarker> holds_to_commit;
        std::vector<DueReturn> returns_to_forget;
        std::map<std::string, std::int64_t> claims;  // user id → claimed at: running or left
        bool full_pass_due = true;                   // start-up
        std::int64_t next_hourly_pass_ms = 0;
    };
    void note_unknown_outcome();

    const Config& config_;
    ProductLookup& catalog_;
    models::CartStore& cart_;
    models::OrderStore& orders_;
    models::StockLedger& ledger_;
    models::CheckoutClaimStore& legacy_claims_;
    PendingWork pending_;
    // Maintenance thread only: the first full pass (start-up) has run; the migration is done.
    bool started_ = false;
    bool migrated_ = false;
};

}  // namespace flaskcart::services
