#pragma once
// The account rules: registration, profile changes (a new password needs the current one) and
// role changes (the last-admin guard, which spans more than one document). Requests arrive
// validated in form (lengths, syntax); the rules here are the ones that need the stored state.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "models/user_model.hpp"
#include "services/password_hasher.hpp"

namespace flaskcart::services {

// Limits of the account fields, in characters.
inline constexpr std::size_t kMaxUserNameLength = 100;
inline constexpr std::size_t kMaxEmailLength = 254;
inline constexpr std::size_t kMaxPhoneLength = 32;
inline constexpr std::size_t kMaxAddressLength = 500;
inline constexpr std::size_t kMinPasswordLength = 8;
inline constexpr std::size_t kMaxPasswordLength = 128;

// The user records the account rules read and write; the seam AccountService's unit tests fake.
class AccountStore {
  public:
    virtual ~AccountStore() = default;
    // std::nullopt when the email is already registered.
    virtual std::optional<models::User> create(const models::NewUser& user) = 0;
    virtual std::optional<models::User> find_by_id(std::string_view id) = 0;
    // The updated user, or std::nullopt when it no longer exists.
    virtual std::optional<models::User> update_profile(std::string_view id,
                                                       const models::ProfileChanges& changes) = 0;
    virtual std::optional<models::User> set_role(std::string_view id, std::string_view role) = 0;
    // from → to, only if the user's role is still `from`. True if applied.
    virtual bool set_role_if(std::string_view id, std::string_view from, std::string_view to) = 0;
    virtual std::int64_t count_admins() = 0;
};

// AccountStore over the `users` collection.
class StoredAccounts final : public AccountStore {
  public:
    explicit StoredAccounts(models::UserStore& users) : users_(users) {}
    std::optional<models::User> create(const models::NewUser& user) override {
        return users_.create(user);
    }
    std::optional<models::User> find_by_id(std::string_view id) override {
        return users_.find_by_id(id);
    }
    std::optional<models::User> update_profile(std::string_view id,
                                               const models::ProfileChanges& changes) override {
        return users_.update_profile(id, changes);
    }
    std::optional<models::User> set_role(std::string_view id, std::string_view role) override {
        return users_.set_role(id, role);
    }
    bool set_role_if(std::string_view id, std::string_view from, std::string_view to) override {
        return users_.set_role_if(id, from, to);
    }
    std::int64_t count_admins() override { return users_.count_admins(); }

  private:
    models::UserStore& users_;
};

struct Registration {
    std::string name;
    std::string email;  // normalized
    std::string password;
    std::string phone;
    std::string address;
};

struct ProfileUpdate {
    std::optional<std::string> name;
    std::optional<std::string> phone;
    std::optional<std::string> address;
    std::optional<std::string> new_password;
    std::string current_password;  // checked only with new_password
};

// Thread-safe when its store and hasher are; safe across instances sharing one database (see
// change_role). Refusals are DomainErrors.
class AccountService {
  public:
    AccountService(AccountStore& users, PasswordHasher& passwords)
        : users_(users), passwords_(passwords) {}

    // A new customer account. Conflict (field email) when the email is already registered.
    models::User register_account(const Registration& registration);
    // Not found when the account does not exist (any more).
    models::User find(const std::string& user_id);
    // Applies the changes; a new password needs the current one: forbidden (field
    // current_password) when it does not match — a well-formed request whose proof of identity
    // fails, not a bad token.
    models::User update_profile(const std::string& user_id, const ProfileUpdate& update);
    // Sets the role of `user_id` (customer or admin, validated by the caller) and returns the
    // user. Not found for an unknown user, conflict when demoting would leave no admin — also
    // when two admins demote each other at the same moment: at most one of them succeeds, and
    // at least one admin always remains.
    models::User change_role(const std::string& user_id, std::string_view role);

  private:
    AccountStore& users_;
    PasswordHasher& passwords_;
};

}  // namespace flaskcart::services
