#include "services/checkout_service.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <utility>

#include "http/problem.hpp"
#include "models/cart_model.hpp"
#include "models/product_model.hpp"
#include "services/order_rules.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"

namespace flaskcart::services {

using http::ApiError;
namespace os = models::order_status;

constexpr std::int64_t kSweepBatch = 200;
// How long a cancelled order's return markers outlive its restock (see restock()).
constexpr std::int64_t kReturnMarkerGrace = 10 * 60 * 1000;

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

// Holds the user's checkout claim and releases it when destroyed, except while a step whose
// outcome is unknown is under way: an error there leaves the claim for settle() to finish.
class CheckoutService::ClaimGuard {
  public:
    ClaimGuard(models::CheckoutClaimStore& claims, std::string user_id, std::string token)
        : claims_(&claims), user_id_(std::move(user_id)), token_(std::move(token)) {}
    ClaimGuard(ClaimGuard&& other) noexcept
        : claims_(std::exchange(other.claims_, nullptr)),
          user_id_(std::move(other.user_id_)),
          token_(std::move(other.token_)),
          keep_(other.keep_) {}
    ClaimGuard& operator=(ClaimGuard&&) = delete;
    ClaimGuard(const ClaimGuard&) = delete;
    ClaimGuard& operator=(const ClaimGuard&) = delete;
    ~ClaimGuard() {
        if (claims_ == nullptr || keep_) return;
        try {
            claims_->release_own(user_id_, token_);
        } catch (const std::exception& error) {
            // The claim expires: recovery settles it after --checkout-recovery-after.
            spdlog::warn("could not release the checkout claim of user {}: {}", user_id_,
                         error.what());
        }
    }
    const std::string& token() const noexcept { return token_; }
    void keep_if_interrupted(bool keep) noexcept { keep_ = keep; }

  private:
    models::CheckoutClaimStore* claims_;
    std::string user_id_;
    std::string token_;
    bool keep_ = false;
};

CheckoutService::CheckoutService(const Config& config, models::ProductStore& products,
                                 models::CartStore& cart, models::OrderStore& orders,
                                 models::StockLedger& ledger, models::CheckoutClaimStore& claims)
    : config_(config),
      products_(products),
      cart_(cart),
      orders_(orders),
      ledger_(ledger),
      claims_(claims) {}

CheckoutService::ClaimGuard CheckoutService::claim_cart(const std::string& user_id) {
    const std::int64_t recovery_after_ms =
        std::int64_t{config_.checkout_recovery_after_seconds} * 1000;
    for (int attempt = 0; attempt < 3; ++attempt) {
        std::string token = crypto::random_hex(16);
        const std::int64_t now = db::now_ms();
        if (claims_.try_claim(user_id, token, now)) {
            return ClaimGuard(claims_, user_id, std::move(token));
        }
        auto held = claims_.find(user_id);
        if (!held) continue;  // released between the insert and the read
        if (held->claimed_at_ms >= now - recovery_after_ms) break;
        // Left by a checkout that crashed or stalled: finish or undo it, then claim again.
        spdlog::warn("taking over the checkout claim of user {} taken at {}", user_id,
                     held->claimed_at_ms);
        settle(*held);
    }
    throw ApiError(409, "conflict", "Conflict",
                   "a checkout of this cart is already in progress; retry when it has finished",
                   {{"cart", "is being checked out by another request"}}, {{"Retry-After", "1"}});
}

bool CheckoutService::settle(const models::CheckoutClaim& claim) {
    if (claim.order_id) {
        auto order = orders_.find_by_id(*claim.order_id);
        if (order && order->status == os::kReserving) {
            // Before step 3: fail it, so that a checkout still running cannot place it.
            orders_.transition(order->id, os::kReserving, os::kFailed);
            order = orders_.find_by_id(*claim.order_id);
        }
        if (order && order->status == os::kFailed) {
            release_all(*order);
            orders_.delete_failed(order->id);
        } else if (order && is_settled(order->status)) {
            // Placed: step 5 may not have run.
            std::vector<std::string> product_ids;
            for (const auto& line : order->lines) product_ids.push_back(line.product_id);
            cart_.remove_products(claim.user_id, product_ids);
        }
    }
    return claims_.release(claim);
}

std::optional<PlaceOrderResult> CheckoutService::replay(const models::Order& existing,
                                                        const std::string& fingerprint) {
    if (existing.request_fingerprint != fingerprint) {
        throw ApiError::unprocessable(
            "this Idempotency-Key was already used with a different request body",
            {{"Idempotency-Key", "was used with a different request"}});
    }
    if (existing.status == os::kReserving) {
        throw ApiError::conflict("a request with this Idempotency-Key is still being processed");
    }
    if (existing.status == os::kFailed) {
        // The earlier attempt placed nothing; its key may be used again.
        release_all(existing);
        orders_.delete_failed(existing.id);
        return std::nullopt;
    }
    return PlaceOrderResult{existing, true};
}

PlaceOrderResult CheckoutService::place_order(const PlaceOrderRequest& request) {
    const auto find_replay = [&]() -> std::optional<PlaceOrderResult> {
        if (!request.idempotency_key) return std::nullopt;
        auto existing = orders_.find_by_key(request.user_id, *request.idempotency_key);
        if (!existing) return std::nullopt;
        return replay(*existing, request.fingerprint);
    };
    if (auto replayed = find_replay()) return *replayed;
    ClaimGuard claim = claim_cart(request.user_id);
    // A request under the same key may have finished while this one waited for the claim.
    if (auto replayed = find_replay()) return *replayed;

    const auto cart_lines = cart_.lines_for(request.user_id);
    if (cart_lines.empty()) {
        // The request is well formed; the cart's current state refuses it.
        throw ApiError::conflict("the cart is empty", {{"cart", "is empty"}});
    }
    std::vector<std::string> product_ids;
    for (const auto& line : cart_lines) product_ids.push_back(line.product_id);
    std::map<std::string, models::Product> products;
    for (auto& product : products_.find_by_ids(product_ids)) products.emplace(product.id, product);

    // Names and prices come from the database now, never from the client.
    const std::int64_t now = db::now_ms();
    models::Order order;
    order.user_id = request.user_id;
    order.status = os::kReserving;
    order.history.push_back({os::kReserving, now});
    order.idempotency_key = request.idempotency_key.value_or("auto-" + crypto::random_hex(16));
    order.request_fingerprint = request.fingerprint;
    order.created_at_ms = now;
    order.updated_at_ms = now;
    for (const auto& line : cart_lines) {
        auto it = products.find(line.product_id);
        if (it == products.end()) {
            throw ApiError::conflict("a product in the cart no longer exists",
                                     {{line.product_id, "no longer exists"}});
        }
        if (it->second.stock < line.quantity) {
            throw ApiError::conflict(
                "not enough stock for " + it->second.name,
                {{line.product_id, "only " + std::to_string(it->second.stock) + " available"}});
        }
        order.lines.push_back(
            {line.product_id, it->second.name, line.quantity, it->second.price_cents});
        order.total_cents += line.quantity * it->second.price_cents;
    }

    if (!orders_.insert(order)) {
        // The same key was inserted a moment ago by a concurrent request.
        auto existing = orders_.find_by_key(request.user_id, order.idempotency_key);
        if (!existing)
            throw ApiError::conflict("a request with this Idempotency-Key is in progress");
        if (auto replayed = replay(*existing, request.fingerprint)) return *replayed;
        throw ApiError::conflict("a request with this Idempotency-Key is still being processed");
    }
    const auto abandon = [&] {  // nothing is reserved yet
        orders_.transition(order.id, os::kReserving, os::kFailed);
        orders_.delete_failed(order.id);
    };
    bool attached = false;
    try {
        attached = claims_.attach_order(request.user_id, claim.token(), order.id);
    } catch (const std::exception&) {
        abandon();
        throw;
    }
    if (!attached) {
        // The claim was settled and taken over while this checkout stalled.
        spdlog::warn("checkout of order {} lost its cart claim; undoing it", order.id);
        abandon();
        throw ApiError::unavailable("checkout took too long; retry", 1);
    }

    if (auto failure = reserve_all(ledger_, order.id, order.lines)) {
        const auto& line = order.lines[failure->line_index];
        orders_.transition(order.id, os::kReserving, os::kFailed);
        orders_.delete_failed(order.id);
        if (failure->reason == models::ReserveResult::kNotFound) {
            throw ApiError::conflict("a product in the cart no longer exists",
                                     {{line.product_id, "no longer exists"}});
        }
        const auto product = products_.find_by_id(line.product_id);
        throw ApiError::conflict(
            "not enough stock for " + line.name,
            {{line.product_id,
              "only " + std::to_string(product ? product->stock : 0) + " available"}});
    }

    // From the point of no return until the cart is cleared, an error of unknown outcome
    // leaves the claim to recovery, which finishes the cart; releasing it could let the
    // uncleared cart be bought again.
    claim.keep_if_interrupted(true);
    if (!orders_.transition(order.id, os::kReserving, os::kPending)) {
        // Recovery judged this checkout abandoned and failed it: undo our holds.
        claim.keep_if_interrupted(false);
        spdlog::warn("checkout of order {} overtaken by recovery; releasing its holds", order.id);
        release_all(order);
        orders_.delete_failed(order.id);
        throw ApiError::unavailable("checkout took too long; retry", 1);
    }
    for (const auto& line : order.lines) ledger_.commit_hold(line.product_id, order.id);
    cart_.remove_products(request.user_id, product_ids);
    claim.keep_if_interrupted(false);

    auto placed = orders_.find_by_id(order.id);
    if (!placed) throw std::runtime_error("order vanished right after it was placed");
    return PlaceOrderResult{*placed, false};
}

models::Order CheckoutService::change_status(const std::string& order_id, const std::string& status,
                                             const http::Principal& actor) {
    auto order = orders_.find_by_id(order_id);
    if (!order || !is_settled(order->status) ||
        (!actor.is_admin() && order->user_id != actor.user_id)) {
        throw ApiError::not_found("order");
    }
    if (!actor.is_admin() && status != os::kCancelled) {
        throw ApiError::forbidden("customers may only cancel their own pending orders");
    }
    const auto refuse = [&](const std::string& current) {
        return ApiError::conflict("the order is " + current + " and cannot become " + status,
                                  {{"status", "current status is " + current}});
    };
    if (!can_transition(order->status, status)) throw refuse(order->status);
    if (!actor.is_admin() && !customer_may_set(order->status, status)) throw refuse(order->status);
    if (!orders_.transition(order->id, order->status, status)) {
        // Another change won the race; report what it left.
        auto now = orders_.find_by_id(order_id);
        throw refuse(now ? now->status : std::string("gone"));
    }
    if (status == os::kCancelled) restock(*order);
    auto updated = orders_.find_by_id(order_id);
    if (!updated) throw ApiError::not_found("order");
    return *updated;
}

void CheckoutService::release_all(const models::Order& order) {
    for (const auto& line : order.lines) {
        ledger_.release_hold(line.product_id, line.quantity, order.id);
    }
}

void CheckoutService::restock(const models::Order& order) {
    for (const auto& line : order.lines) {
        ledger_.return_stock(line.product_id, line.quantity, order.id);
    }
    // The return markers stay for kReturnMarkerGrace: while a marker is there, a repeated
    // return_stock (a sweep acting on a stale read) is a no-op; once it is gone it would not be.
    orders_.mark_restocked(order.id);
}

RecoveryReport CheckoutService::recover(std::int64_t now_ms) {
    RecoveryReport report;
    const std::int64_t cutoff =
        now_ms - std::int64_t{config_.checkout_recovery_after_seconds} * 1000;
    for (const auto& order : orders_.find_by_status(os::kReserving, cutoff, kSweepBatch)) {
        if (orders_.transition(order.id, os::kReserving, os::kFailed)) ++report.orders_failed;
    }
    for (const auto& order : orders_.find_by_status(os::kFailed, 0, kSweepBatch)) {
        release_all(order);
        if (orders_.delete_failed(order.id)) ++report.orders_cleaned;
    }
    for (const auto& claim : claims_.find_stale(cutoff, kSweepBatch)) {
        if (settle(claim)) ++report.claims_settled;
    }
    // Only cancellations whose own restock should long be over: a live cancel restocks itself.
    for (const auto& order : orders_.find_unrestocked_cancellations(cutoff, kSweepBatch)) {
        restock(order);
        ++report.cancellations_restocked;
    }
    for (const auto& product : ledger_.products_with_holds(kSweepBatch)) {
        for (const auto& order_id : product.order_ids) {
            auto order = orders_.find_by_id(order_id);
            if (!order) {
                spdlog::error("product {} holds stock for order {}, which does not exist",
                              product.product_id, order_id);
            } else if (is_settled(order->status)) {
                ledger_.commit_hold(product.product_id, order_id);
                ++report.holds_committed;
            }
        }
    }
    for (const auto& product : ledger_.products_with_returns(kSweepBatch)) {
        for (const auto& order_id : product.order_ids) {
            auto order = orders_.find_by_id(order_id);
            if (order && order->restocked && order->restocked_at_ms < now_ms - kReturnMarkerGrace) {
                ledger_.forget_return(product.product_id, order_id);
                ++report.returns_forgotten;
            }
        }
    }
    return report;
}

}  // namespace flaskcart::services
