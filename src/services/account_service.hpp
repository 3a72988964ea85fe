#pragma once
// Account rules that span more than one document: the last-admin guard on role changes.

#include <string>
#include <string_view>

#include "models/user_model.hpp"

namespace flaskcart::services {

// Thread-safe; safe across instances sharing one database (see change_role).
class AccountService {
  public:
    explicit AccountService(models::UserStore& users) : users_(users) {}

    // Sets the role of `user_id` (customer or admin, validated by the caller) and returns the
    // user. Throws http::ApiError 404 for an unknown user, 409 when demoting would leave no
    // admin — also when two admins demote each other at the same moment: at most one of
    // them succeeds, and at least one admin always remains.
    models::User change_role(const std::string& user_id, std::string_view role);

  private:
    models::UserStore& users_;
};

}  // namespace flaskcart::services
