#pragma once
// The order state machine, in one place:
//   pending → paid → shipped → delivered,   pending | paid → cancelled.
// `reserving` and `failed` belong to checkout (earlier versions stored them) and are never
// reachable through the API. Also here, written once: who may see an order, and the refusals
// the cart and checkout share ("only N available", "no longer exists").

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "utils/errors.hpp"

namespace flaskcart::models {
struct Order;
}

namespace flaskcart::services {

// Who is acting on orders: the caller's id and whether they are an admin.
struct Actor {
    std::string user_id;
    bool is_admin = false;
};

// One of the five statuses clients may see and ask for.
bool is_client_status(std::string_view status);
bool can_transition(std::string_view from, std::string_view to);
// The statuses `from` may move to, for error messages.
std::vector<std::string> next_statuses(std::string_view from);
// A customer may only cancel their own order, and only while it is pending.
bool customer_may_set(std::string_view from, std::string_view to);
// Statuses whose units count as sold (or, for cancelled, as returned): checkout is over.
bool is_settled(std::string_view status);
// An order is visible to its customer and to admins, once checkout is over; to anyone else it
// does not exist (404, so ids are not disclosed).
bool may_see(const models::Order& order, const Actor& actor);

// 409 naming the product: the stock cannot cover the line.
DomainError short_of_stock(const std::string& product_id, const std::string& name,
                           std::int64_t available);
// 409 naming the product: it was deleted since it was put in the cart.
DomainError product_gone(const std::string& product_id);

}  // namespace flaskcart::services
