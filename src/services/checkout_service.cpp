#include "services/checkout_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <utility>

#include "utils/crypto.hpp"
#include "utils/db.hpp"
#include "utils/errors.hpp"
#include "utils/metrics.hpp"

namespace flaskcart::services {

namespace os = models::order_status;

namespace {

constexpr std::int64_t kSweepBatch = 200;
// How long a cancelled order's return markers outlive its restock (see restock()).
constexpr std::int64_t kReturnMarkerGrace = std::int64_t{10} * 60 * 1000;
// The full recovery pass runs at least this often, whatever is known to be pending.
constexpr std::int64_t kHourlyPass = std::int64_t{60} * 60 * 1000;

DomainError checkout_in_progress(const std::string& detail) {
    return {ErrorKind::kConflict, detail, {{"cart", "is being checked out by another request"}}, 1};
}

DomainError key_reused() {
    return {ErrorKind::kInvalid,
            "this Idempotency-Key was already used with a different request body",
            {{"Idempotency-Key", "was used with a different request"}}};
}

DomainError overtaken() {
    return DomainError::unavailable("checkout took too long; retry", 1);
}

}  // namespace

std::optional<ReservationFailure> reserve_all(models::StockLedger& ledger,
                                              const std::string& order_id,
                                              const std::vector<models::OrderLine>& lines) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto result = ledger.reserve(lines[i].product_id, lines[i].quantity, order_id);
        if (result == models::ReserveResult::kReserved) continue;
        for (std::size_t j = i; j-- > 0;) {
            ledger.release_hold(lines[j].product_id, lines[j].quantity, order_id);
        }
        return ReservationFailure{i, result};
    }
    return std::nullopt;
}

// Holds the user's cart claim while a checkout runs. Destroyed unarmed it drops the claim
// (nothing was placed); armed (from the first reservation on, until the cart is finished) it
// leaves the claim for settle() and tells the sweep the claim is there.
class CheckoutService::ClaimGuard {
  public:
    ClaimGuard(CheckoutService& owner, std::string user_id, std::string token)
        : owner_(&owner), user_id_(std::move(user_id)), token_(std::move(token)) {
        std::lock_guard lock(owner_->pending_.mutex);
        owner_->pending_.claims[user_id_] = db::now_ms();
    }
    ClaimGuard(ClaimGuard&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)),
          user_id_(std::move(other.user_id_)),
          token_(std::move(other.token_)),
          armed_(other.armed_) {}
    ClaimGuard& operator=(ClaimGuard&&) = delete;
    ClaimGuard(const ClaimGuard&) = delete;
    ClaimGuard& operator=(const ClaimGuard&) = delete;
    ~ClaimGuard() {
        if (owner_ == nullptr) return;
        if (armed_) {
            owner_->note_unknown_outcome();  // the claim stays; the sweep settles it
            return;
        }
        try {
            owner_->cart_.release(user_id_, token_);
        } catch (const std::exception& error) {
            spdlog::warn("could not release the checkout claim of user {}: {}", user_id_,
                         error.what());
            owner_->note_unknown_outcome();
            return;
        }
        std::lock_guard lock(owner_->pending_.mutex);
        owner_->pending_.claims.erase(user_id_);
    }
    const std::string& user_id() const noexcept { return user_id_; }
    const std::string& token() const noexcept { return token_; }
    void arm(bool armed) noexcept { armed_ = armed; }
    // The claim ended (finished or settled by someone else): nothing to release.
    void done() {
        std::lock_guard lock(owner_->pending_.mutex);
        owner_->pending_.claims.erase(user_id_);
        owner_ = nullptr;
    }

  private:
    CheckoutService* owner_;
    std::string user_id_;
    std::string token_;
    bool armed_ = false;
};

struct CheckoutService::ClaimedCart {
    ClaimGuard guard;
    models::Cart cart;
    std::string order_id;
};

CheckoutService::CheckoutService(const Config& config, ProductLookup& catalog,
                                 models::CartStore& cart, models::OrderStore& orders,
                                 models::StockLedger& ledger,
                                 models::CheckoutClaimStore& legacy_claims)
    : config_(config),
      catalog_(catalog),
      cart_(cart),
      orders_(orders),
      ledger_(ledger),
      legacy_claims_(legacy_claims) {}

std::int64_t CheckoutService::cutoff(std::int64_t now_ms) const {
    return now_ms - std::int64_t{config_.checkout_recovery_after_seconds} * 1000;
}

void CheckoutService::note_unknown_outcome() {
    std::lock_guard lock(pending_.mutex);
    pending_.full_pass_due = true;
}

// Step 1.
CheckoutService::ClaimedCart CheckoutService::claim_cart(const PlaceOrderRequest& request) {
    models::CartClaim claim;
    claim.order_id = db::oid_to_string(db::new_oid());
    if (request.idempotency_key) {
        claim.key_digest = models::idempotency_key_digest(*request.idempotency_key);
    }
    claim.fingerprint = request.fingerprint;
    for (int attempt = 0; attempt < 3; ++attempt) {
        claim.token = crypto::random_hex(16);
        claim.claimed_at_ms = db::now_ms();
        if (auto cart = cart_.claim(request.user_id, claim)) {
            return {ClaimGuard(*this, request.user_id, claim.token), std::move(*cart),
                    claim.order_id};
        }
        auto held = cart_.find(request.user_id);
        if (!held) throw DomainError::conflict("the cart is empty", {{"cart", "is empty"}});
        if (!held->checkout) continue;  // released between the two commands
        if (held->checkout->claimed_at_ms >= cutoff(db::now_ms())) {
            refuse_held_claim(request, *held->checkout);
        }
        // Left by a checkout that crashed or stalled: finish or undo it, then claim again.
        spdlog::warn("taking over the checkout claim of user {} taken at {}", request.user_id,
                     held->checkout->claimed_at_ms);
        settle(*held);
    }
    throw checkout_in_progress(
        "a checkout of this cart is already in progress; retry when it has finished");
}

void CheckoutService::refuse_held_claim(const PlaceOrderRequest& request,
                                        const models::CartClaim& held) {
    const bool same_key =
        request.idempotency_key && held.key_digest &&
        *held.key_digest == models::idempotency_key_digest(*request.idempotency_key);
    if (same_key && held.fingerprint != request.fingerprint) throw key_reused();
    if (same_key) {
        throw checkout_in_progress("a request with this Idempotency-Key is still being processed");
    }
    throw checkout_in_progress(
        "a checkout of this cart is already in progress; retry when it has finished");
}

PlaceOrderResult CheckoutService::replay(const std::string& order_id,
                                         const std::string& fingerprint) {
    auto existing = orders_.find_by_id(order_id);
    if (!existing) throw std::runtime_error("an Idempotency-Key names a missing order");
    if (existing->request_fingerprint != fingerprint) throw key_reused();
    return PlaceOrderResult{std::move(*existing), true};
}

// Step 2: names and prices come from the catalog now, never from the client.
models::Order CheckoutService::price_lines(const PlaceOrderRequest& request,
                                           const models::Cart& cart, const std::string& order_id) {
    const std::int64_t now = db::now_ms();
    models::Order order;
    order.id = order_id;
    order.user_id = request.user_id;
    order.status = os::kPending;
    order.history.push_back({os::kPending, now});
    order.idempotency_key = request.idempotency_key.value_or("auto-" + crypto::random_hex(16));
    order.request_fingerprint = request.fingerprint;
    order.created_at_ms = now;
    order.updated_at_ms = now;
    for (const auto& line : cart.lines) {
        auto product = catalog_.find_by_id(line.product_id);
        if (!product) throw product_gone(line.product_id);
        if (product->stock < line.quantity) {
            throw short_of_stock(line.product_id, product->name, product->stock);
        }
        order.lines.push_back(
            {line.product_id, product->name, line.quantity, product->price_cents});
        order.total_cents += line.quantity * product->price_cents;
    }
    return order;
}

// Step 3.
void CheckoutService::reserve_or_fail(ClaimGuard& claim, const models::Order& order) {
    claim.arm(true);  // an error of unknown outcome leaves holds only the claim can find
    const auto failure = reserve_all(ledger_, order.id, order.lines);
    claim.arm(false);
    if (!failure) return;
    const auto& line = order.lines[failure->line_index];
    if (failure->reason == models::ReserveResult::kNotFound) throw product_gone(line.product_id);
    const auto product = catalog_.find_by_id(line.product_id);
    throw short_of_stock(line.product_id, line.name, product ? product->stock : 0);
}

// Steps 4 and 5.
void CheckoutService::place(ClaimGuard& claim, const models::Order& order,
                            const models::Cart& claimed) {
    claim.arm(true);
    models::Order stored = order;
    if (!orders_.insert(stored)) {
        auto existing = orders_.find_by_id(order.id);
        if (!existing) {
            // Refused by the (user, Idempotency-Key) index, not by the _id: an order of an
            // earlier version holds the key. Nothing was placed.
            release_all(order.id, order.lines);
            claim.arm(false);
            throw key_reused();
        }
        if (existing->status == os::kAbandoned) {
            // Recovery judged this checkout abandoned and took its order id: undo our holds.
            spdlog::warn("checkout of order {} overtaken by recovery; releasing its holds",
                         order.id);
            release_all(order.id, order.lines);
            claim.done();
            throw overtaken();
        }
        // Otherwise it is this very order, inserted by an earlier attempt.
    }
    {
        std::lock_guard lock(pending_.mutex);
        for (const auto& line : order.lines) {
            pending_.holds_to_commit.push_back({line.product_id, order.id});
        }
    }
    cart_.finish(claim.user_id(), claim.token(), order, claimed.checkout->key_digest, &claimed);
    claim.done();
}

PlaceOrderResult CheckoutService::place_order(const PlaceOrderRequest& request) {
    ClaimedCart claimed = claim_cart(request);
    const auto& key_digest = claimed.cart.checkout->key_digest;
    if (key_digest) {
        if (auto it = claimed.cart.keys.find(*key_digest); it != claimed.cart.keys.end()) {
            return replay(it->second, request.fingerprint);  // the guard drops the claim
        }
    }
    if (claimed.cart.lines.empty()) {
        // The request is well formed; the cart's current state refuses it.
        throw DomainError::conflict("the cart is empty", {{"cart", "is empty"}});
    }
    const models::Order order = price_lines(request, claimed.cart, claimed.order_id);
    reserve_or_fail(claimed.guard, order);
    place(claimed.guard, order, claimed.cart);
    return PlaceOrderResult{order, false};
}

bool CheckoutService::settle(const models::Cart& cart) {
    const auto& claim = *cart.checkout;
    if (claim.placed) {
        // An earlier version's point of no return: the order recorded in the claim.
        models::Order order = *claim.placed;
        orders_.insert(order);  // false: the checkout inserted it
        return finish_placed(cart, order);
    }
    // Earlier versions' checkouts record their order in the claim unless it is revoked.
    if (!claim.revoked && !cart_.revoke(cart.user_id, claim.token)) return false;
    models::Order tombstone = abandoned_order(cart.user_id, claim.order_id);
    if (!orders_.insert(tombstone)) {
        auto existing = orders_.find_by_id(claim.order_id);
        if (existing && existing->status != os::kAbandoned) return finish_placed(cart, *existing);
        // Our tombstone, from a settlement that stopped before it was done: go on.
    }
    std::vector<models::OrderLine> lines;
    for (const auto& line : cart.lines) lines.push_back({line.product_id, "", line.quantity, 0});
    release_all(claim.order_id, lines);
    return cart_.release(cart.user_id, claim.token);
}

bool CheckoutService::finish_placed(const models::Cart& cart, const models::Order& order) {
    const auto& claim = *cart.checkout;
    const bool finished = cart_.finish(cart.user_id, claim.token, order, claim.key_digest, nullptr);
    std::lock_guard lock(pending_.mutex);
    for (const auto& line : order.lines) {
        pending_.holds_to_commit.push_back({line.product_id, order.id});
    }
    return finished;
}

models::Order CheckoutService::abandoned_order(const std::string& user_id,
                                               const std::string& order_id) {
    const std::int64_t now = db::now_ms();
    models::Order tombstone;
    tombstone.id = order_id;
    tombstone.user_id = user_id;
    tombstone.status = os::kAbandoned;
    tombstone.history.push_back({os::kAbandoned, now});
    // Unique per (user, key) like every order's key.
    tombstone.idempotency_key = "abandoned-" + order_id;
    tombstone.created_at_ms = now;
    tombstone.updated_at_ms = now;
    return tombstone;
}

OrderPage CheckoutService::orders_of(const std::string& user_id, std::int64_t skip,
                                     std::int64_t limit) {
    OrderPage page;
    auto cart = cart_.find(user_id);
    if (!cart) return page;
    const auto& ids = cart->order_ids;  // oldest first
    page.total = static_cast<std::int64_t>(ids.size());
    std::vector<std::string> wanted;
    for (std::int64_t i = page.total - 1 - skip; i >= 0 && std::ssize(wanted) < limit; --i) {
        wanted.push_back(ids[static_cast<std::size_t>(i)]);
    }
    page.orders = orders_.find_of_user(user_id, wanted);
    return page;
}

models::Order CheckoutService::order_for(const std::string& order_id, const Actor& actor) {
    auto order = orders_.find_by_id(order_id);
    if (!order || !may_see(*order, actor)) throw DomainError::not_found("order");
    return std::move(*order);
}

models::Order CheckoutService::change_status(const std::string& order_id, const std::string& status,
                                             const Actor& actor) {
    auto order = order_for(order_id, actor);
    if (!actor.is_admin && status != os::kCancelled) {
        throw DomainError::forbidden("customers may only cancel their own pending orders");
    }
    const auto refuse = [&](const std::string& current) {
        return DomainError::conflict("the order is " + current + " and cannot become " + status,
                                     {{"status", "current status is " + current}});
    };
    if (!can_transition(order.status, status)) throw refuse(order.status);
    if (!actor.is_admin && !customer_may_set(order.status, status)) throw refuse(order.status);
    if (!orders_.transition(order.id, order.status, status)) {
        // Another change won the race; report what it left.
        auto now = orders_.find_by_id(order_id);
        throw refuse(now ? now->status : std::string("gone"));
    }
    if (status == os::kCancelled) {
        try {
            restock(order);
        } catch (...) {
            note_unknown_outcome();  // the full pass restocks it
            throw;
        }
    }
    auto updated = orders_.find_by_id(order_id);
    if (!updated) throw DomainError::not_found("order");
    return *updated;
}

void CheckoutService::release_all(const std::string& order_id,
                                  const std::vector<models::OrderLine>& lines) {
    for (const auto& line : lines) ledger_.release_hold(line.product_id, line.quantity, order_id);
}

void CheckoutService::restock(const models::Order& order) {
    for (const auto& line : order.lines) {
        ledger_.return_stock(line.product_id, line.quantity, order.id);
    }
    // The return markers stay for kReturnMarkerGrace: while a marker is there, a repeated
    // return_stock (a pass acting on a stale read) is a no-op; once it is gone it would not be.
    orders_.mark_restocked(order.id);
    std::lock_guard lock(pending_.mutex);
    for (const auto& line : order.lines) {
        pending_.returns_to_forget.push_back(
            {line.product_id, order.id, db::now_ms() + kReturnMarkerGrace});
    }
}

// --- recovery ----------------------------------------------------------------------------------

RecoveryReport CheckoutService::recover(std::int64_t now_ms) {
    // Its commands are counted apart (GET /metrics: route "checkout recovery").
    metrics::RequestScope scope("checkout recovery");
    // Normally done before /ready; here when this instance could not write then.
    if (!migrated_) migrate_legacy_documents();
    RecoveryReport report;
    bool full = false;
    {
        std::lock_guard lock(pending_.mutex);
        full = pending_.full_pass_due || now_ms >= pending_.next_hourly_pass_ms;
        if (full) {
            pending_.full_pass_due = false;
            pending_.next_hourly_pass_ms = now_ms + kHourlyPass;
        }
    }
    try {
        run_pending(now_ms, report);
        if (full) full_pass(now_ms, report);
    } catch (...) {
        note_unknown_outcome();
        throw;
    }
    report.full_pass = full;
    return report;
}

void CheckoutService::run_pending(std::int64_t now_ms, RecoveryReport& report) {
    std::vector<HeldMarker> holds;
    std::vector<DueReturn> due;
    {
        std::lock_guard lock(pending_.mutex);
        holds.swap(pending_.holds_to_commit);
        auto later =
            std::partition(pending_.returns_to_forget.begin(), pending_.returns_to_forget.end(),
                           [&](const DueReturn& entry) { return entry.due_ms > now_ms; });
        due.assign(later, pending_.returns_to_forget.end());
        pending_.returns_to_forget.erase(later, pending_.returns_to_forget.end());
    }
    // One write per product, whatever number of orders hold it: at a sale, one product's
    // markers of every order since the last sweep go together.
    std::map<std::string, std::vector<std::string>> by_product;
    for (auto& marker : holds) {
        by_product[marker.product_id].push_back(std::move(marker.order_id));
    }
    for (const auto& [product_id, order_ids] : by_product) {
        ledger_.commit_holds(product_id, order_ids);
        report.holds_committed += static_cast<int>(order_ids.size());
    }
    for (const auto& entry : due) {
        ledger_.forget_return(entry.product_id, entry.order_id);
        ++report.returns_forgotten;
    }
    settle_stale_claims(cutoff(now_ms), false, report);
}

// The claims this process knows of (its checkouts, running or left behind by an error) once
// they are older than the cutoff; with `full`, every claimed cart in the database.
void CheckoutService::settle_stale_claims(std::int64_t cutoff_ms, bool full,
                                          RecoveryReport& report) {
    std::vector<models::Cart> carts;
    if (full) {
        carts = cart_.find_claimed(kSweepBatch);
    } else {
        std::vector<std::string> users;
        {
            std::lock_guard lock(pending_.mutex);
            for (const auto& [user, claimed_at] : pending_.claims) {
                if (claimed_at < cutoff_ms) users.push_back(user);
            }
        }
        for (const auto& user : users) {
            auto cart = cart_.find(user);
            if (cart && cart->checkout) {
                carts.push_back(std::move(*cart));
            } else {
                std::lock_guard lock(pending_.mutex);
                pending_.claims.erase(user);  // ended meanwhile
            }
        }
    }
    for (const auto& cart : carts) {
        if (cart.checkout->claimed_at_ms >= cutoff_ms) {
            // Too young to judge: it may be running (on another instance). Look again later.
            std::lock_guard lock(pending_.mutex);
            pending_.claims.emplace(cart.user_id, cart.checkout->claimed_at_ms);
            continue;
        }
        if (settle(cart)) ++report.claims_settled;
        std::lock_guard lock(pending_.mutex);
        pending_.claims.erase(cart.user_id);
    }
}

void CheckoutService::full_pass(std::int64_t now_ms, RecoveryReport& report) {
    // At start-up no checkout or cancel of this process is running, and on FerretDB no other
    // instance writes: whatever is half-done was left by a crash, so it is repaired whatever
    // its age. (On MongoDB with several instances that is still safe: a live checkout whose
    // claim is revoked undoes itself, and returns are guarded by their markers.)
    const bool first = !started_;
    started_ = true;
    const std::int64_t cutoff_ms = first ? now_ms + 1 : cutoff(now_ms);
    clean_legacy_orders(cutoff_ms, report);
    settle_stale_claims(cutoff_ms, true, report);
    restock_cancellations(cutoff_ms, report);
    commit_markers(now_ms, report);
}

void CheckoutService::clean_legacy_orders(std::int64_t cutoff_ms, RecoveryReport& report) {
    for (const auto& order : orders_.find_by_status(os::kReserving, cutoff_ms, kSweepBatch)) {
        orders_.transition(order.id, os::kReserving, os::kFailed);
    }
    for (const auto& order : orders_.find_by_status(os::kFailed, 0, kSweepBatch)) {
        release_all(order.id, order.lines);
        if (orders_.delete_failed(order.id)) ++report.orders_cleaned;
    }
}

void CheckoutService::restock_cancellations(std::int64_t cutoff_ms, RecoveryReport& report) {
    // Only cancellations whose own restock should long be over: a live cancel restocks itself.
    const auto unrestocked = orders_.find_unrestocked_cancellations(db::now_ms() + 1, kSweepBatch);
    for (const auto& order : unrestocked) {
        if (order.updated_at_ms >= cutoff_ms) {
            note_unknown_outcome();  // not due yet: the next pass looks again
            continue;
        }
        restock(order);
        ++report.cancellations_restocked;
    }
}

void CheckoutService::commit_markers(std::int64_t now_ms, RecoveryReport& report) {
    for (const auto& product : ledger_.products_with_holds(kSweepBatch)) {
        std::vector<std::string> settled;
        for (const auto& order_id : product.order_ids) {
            auto order = orders_.find_by_id(order_id);
            if (order && is_settled(order->status)) {
                settled.push_back(order_id);
            } else if (!order) {
                // A checkout between its reservation and its order (its claim says which).
                spdlog::info("product {} holds stock for order {}, not placed yet",
                             product.product_id, order_id);
            }
        }
        ledger_.commit_holds(product.product_id, settled);
        report.holds_committed += static_cast<int>(settled.size());
    }
    for (const auto& product : ledger_.products_with_returns(kSweepBatch)) {
        for (const auto& order_id : product.order_ids) {
            auto order = orders_.find_by_id(order_id);
            if (!order || !order->restocked) continue;
            const std::int64_t due = order->restocked_at_ms + kReturnMarkerGrace;
            if (due < now_ms) {
                ledger_.forget_return(product.product_id, order_id);
                ++report.returns_forgotten;
            } else {
                std::lock_guard lock(pending_.mutex);
                pending_.returns_to_forget.push_back({product.product_id, order_id, due});
            }
        }
    }
}

// --- migration from earlier versions ------------------------------------------------------------

bool CheckoutService::migrate_legacy_documents() {
    if (!legacy_claims_.has_legacy_documents()) {
        migrated_ = true;
        return false;
    }
    spdlog::info("migrating carts, checkout claims, keys and order history to their new shapes");
    settle_legacy_claims();
    RecoveryReport report;
    clean_legacy_orders(db::now_ms() + 1, report);  // the earlier writer is gone: fail them all
    migrate_legacy_cart_lines();
    migrate_order_history();
    legacy_claims_.record_migrated();
    migrated_ = true;
    return true;
}

// Claims of the earlier layout ({_id: user, token, order_id?} in checkout_claims): a placed
// order's lines leave the old cart; an unplaced one is failed (clean_legacy_orders releases it).
void CheckoutService::settle_legacy_claims() {
    for (const auto& claim : legacy_claims_.find_stale(db::now_ms() + 1, 1'000'000)) {
        if (claim.order_id) {
            auto order = orders_.find_by_id(*claim.order_id);
            if (order && order->status == os::kReserving) {
                orders_.transition(order->id, os::kReserving, os::kFailed);
            } else if (order && is_settled(order->status)) {
                std::vector<std::string> product_ids;
                for (const auto& line : order->lines) product_ids.push_back(line.product_id);
                legacy_claims_.remove_legacy_cart_lines(claim.user_id, product_ids);
            }
        }
        legacy_claims_.release(claim);
    }
}

void CheckoutService::migrate_legacy_cart_lines() {
    std::map<std::string, std::vector<models::CartLine>> by_user;
    for (auto& line : legacy_claims_.legacy_cart_lines()) {
        by_user[line.user_id].push_back(std::move(line));
    }
    for (const auto& [user, lines] : by_user) cart_.migrate_lines(user, lines);
    legacy_claims_.drop_legacy_cart_lines();
}

void CheckoutService::migrate_order_history() {
    struct History {
        std::vector<std::pair<std::int64_t, std::string>> placed;  // (created_at, id)
        std::map<std::string, std::string> keys;
    };
    std::map<std::string, History> by_user;
    for (const auto& order : orders_.find_all()) {
        if (!is_settled(order.status)) continue;
        auto& history = by_user[order.user_id];
        history.placed.emplace_back(order.created_at_ms, order.id);
        if (!order.idempotency_key.starts_with("auto-")) {
            history.keys.emplace(models::idempotency_key_digest(order.idempotency_key), order.id);
        }
    }
    for (auto& [user, history] : by_user) {
        std::sort(history.placed.begin(), history.placed.end());
        std::vector<std::string> ids;
        for (const auto& entry : history.placed) ids.push_back(entry.second);
        cart_.add_history(user, ids, history.keys);
    }
}

}  // namespace flaskcart::services
