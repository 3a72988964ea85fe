#include "services/order_rules.hpp"

#include <array>
#include <utility>

#include "models/order_model.hpp"

namespace flaskcart::services {

namespace os = models::order_status;

namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kTransitions{{
    {os::kPending, os::kPaid},
    {os::kPaid, os::kShipped},
    {os::kShipped, os::kDelivered},
    {os::kPending, os::kCancelled},
    {os::kPaid, os::kCancelled},
}};

}  // namespace

bool is_client_status(std::string_view status) {
    return status == os::kPending || status == os::kPaid || status == os::kShipped ||
           status == os::kDelivered || status == os::kCancelled;
}

bool can_transition(std::string_view from, std::string_view to) {
    for (const auto& [a, b] : kTransitions) {
        if (a == from && b == to) return true;
    }
    return false;
}

std::vector<std::string> next_statuses(std::string_view from) {
    std::vector<std::string> out;
    for (const auto& [a, b] : kTransitions) {
        if (a == from) out.emplace_back(b);
    }
    return out;
}

bool customer_may_set(std::string_view from, std::string_view to) {
    return from == os::kPending && to == os::kCancelled;
}

bool is_settled(std::string_view status) {
    return is_client_status(status);
}

bool may_see(const models::Order& order, const Actor& actor) {
    return is_settled(order.status) && (actor.is_admin || order.user_id == actor.user_id);
}

DomainError short_of_stock(const std::string& product_id, const std::string& name,
                           std::int64_t available) {
    return DomainError::conflict(
        "not enough stock for " + name,
        {{product_id, "only " + std::to_string(available) + " available"}});
}

DomainError product_gone(const std::string& product_id) {
    return DomainError::conflict("a product in the cart no longer exists",
                                 {{product_id, "no longer exists"}});
}

}  // namespace flaskcart::services
