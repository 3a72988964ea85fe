#include "services/account_service.hpp"

#include "http/problem.hpp"

namespace flaskcart::services {

using http::ApiError;

namespace {

ApiError last_admin() {
    return ApiError::conflict("this is the last admin; promote another user first",
                              {{"role", "at least one admin must remain"}});
}

}  // namespace

models::User AccountService::change_role(const std::string& user_id, std::string_view role) {
    if (role != models::kRoleCustomer) {
        auto user = users_.set_role(user_id, role);
        if (!user) throw ApiError::not_found("user");
        return *user;
    }
    auto target = users_.find_by_id(user_id);
    if (!target) throw ApiError::not_found("user");
    if (target->role != models::kRoleAdmin) {
        auto user = users_.set_role(user_id, role);
        if (!user) throw ApiError::not_found("user");
        return *user;
    }
    // The common refusal, without a write.
    if (users_.count_admins() <= 1) throw last_admin();
    // Counting and then demoting is two steps: concurrent demotions (of this instance or
    // another) could each count the other admin and leave none. So demote first (conditional:
    // only if still an admin), then count what is left, and undo the demotion if none is.
    // Of concurrent demotions, the last one to count sees every other demotion, so the last
    // admins standing are never all removed; each write is a single-document update.
    if (users_.set_role_if(user_id, models::kRoleAdmin, models::kRoleCustomer) &&
        users_.count_admins() == 0) {
        users_.set_role_if(user_id, models::kRoleCustomer, models::kRoleAdmin);
        throw last_admin();
    }
    auto user = users_.find_by_id(user_id);
    if (!user) throw ApiError::not_found("user");
    return *user;
}

}  // namespace flaskcart::services
