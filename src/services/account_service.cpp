#include "services/account_service.hpp"

#include "utils/errors.hpp"

namespace flaskcart::services {

namespace {

DomainError last_admin() {
    return DomainError::conflict("this is the last admin; promote another user first",
                                 {{"role", "at least one admin must remain"}});
}

}  // namespace

models::User AccountService::register_account(const Registration& registration) {
    models::NewUser user;
    user.name = registration.name;
    user.email = registration.email;
    user.password_hash = passwords_.hash_password(registration.password);
    user.phone = registration.phone;
    user.address = registration.address;
    auto created = users_.create(user);
    if (!created) {
        throw DomainError::conflict("an account with this email already exists",
                                    {{"email", "is already registered"}});
    }
    return *created;
}

models::User AccountService::find(const std::string& user_id) {
    auto user = users_.find_by_id(user_id);
    if (!user) throw DomainError::not_found("user");
    return *user;
}

models::User AccountService::update_profile(const std::string& user_id,
                                            const ProfileUpdate& update) {
    models::ProfileChanges changes;
    changes.name = update.name;
    changes.phone = update.phone;
    changes.address = update.address;
    if (update.new_password) {
        const models::User user = find(user_id);
        // Not unauthenticated, which would tell the client its token is bad.
        if (!passwords_.verify_password(user.password_hash, update.current_password)) {
            throw DomainError(ErrorKind::kForbidden, "current_password does not match",
                              {{"current_password", "does not match"}});
        }
        changes.password_hash = passwords_.hash_password(*update.new_password);
    }
    auto updated = users_.update_profile(user_id, changes);
    if (!updated) throw DomainError::not_found("user");
    return *updated;
}

models::User AccountService::change_role(const std::string& user_id, std::string_view role) {
    const auto set_role = [&]() {
        auto user = users_.set_role(user_id, role);
        if (!user) throw DomainError::not_found("user");
        return *user;
    };
    if (role != models::kRoleCustomer) return set_role();
    if (find(user_id).role != models::kRoleAdmin) return set_role();
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
    return find(user_id);
}

}  // namespace flaskcart::services
