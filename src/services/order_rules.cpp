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

}  // namespace flaskcart::services
