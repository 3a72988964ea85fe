#pragma once
// The order state machine, in one place:
//   pending → paid → shipped → delivered,   pending | paid → cancelled.
// `reserving` and `failed` belong to checkout and are never reachable through the API.

#include <string>
#include <string_view>
#include <vector>

namespace flaskcart::services {

// One of the five statuses clients may see and ask for.
bool is_client_status(std::string_view status);
bool can_transition(std::string_view from, std::string_view to);
// The statuses `from` may move to, for error messages.
std::vector<std::string> next_statuses(std::string_view from);
// A customer may only cancel their own order, and only while it is pending.
bool customer_may_set(std::string_view from, std::string_view to);
// Statuses whose units count as sold (or, for cancelled, as returned): checkout is over.
bool is_settled(std::string_view status);

}  // namespace flaskcart::services
