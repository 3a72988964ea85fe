// The account rules (services/account_service): registration, profile changes and the
// last-admin guard, driven through an in-memory fake of the user records: no database.
#include "services/account_service.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "services/auth_service.hpp"
#include "utils/errors.hpp"

namespace flaskcart::services {
namespace {

class FakeAccounts : public AccountStore {
  public:
    std::optional<models::User> create(const models::NewUser& user) override {
        for (const auto& [id, existing] : users) {
            if (existing.email == user.email) return std::nullopt;
        }
        models::User created;
        created.id = "u" + std::to_string(users.size() + 1);
        created.name = user.name;
        created.email = user.email;
        created.password_hash = user.password_hash;
        created.phone = user.phone;
        created.address = user.address;
        created.role = user.role;
        users[created.id] = created;
        return created;
    }
    std::optional<models::User> find_by_id(std::string_view id) override {
        auto it = users.find(std::string(id));
        if (it == users.end()) return std::nullopt;
        return it->second;
    }
    std::optional<models::User> update_profile(std::string_view id,
                                               const models::ProfileChanges& changes) override {
        auto it = users.find(std::string(id));
        if (it == users.end()) return std::nullopt;
        if (changes.name) it->second.name = *changes.name;
        if (changes.phone) it->second.phone = *changes.phone;
        if (changes.address) it->second.address = *changes.address;
        if (changes.password_hash) it->second.password_hash = *changes.password_hash;
        return it->second;
    }
    std::optional<models::User> set_role(std::string_view id, std::string_view role) override {
        auto it = users.find(std::string(id));
        if (it == users.end()) return std::nullopt;
        it->second.role = role;
        return it->second;
    }
    bool set_role_if(std::string_view id, std::string_view from, std::string_view to) override {
        auto it = users.find(std::string(id));
        if (it == users.end() || it->second.role != from) return false;
        it->second.role = to;
        ++conditional_writes;
        // What another instance does between this write and the count that follows it.
        if (after_conditional_write) std::exchange(after_conditional_write, nullptr)();
        return true;
    }
    std::int64_t count_admins() override {
        std::int64_t n = 0;
        for (const auto& [id, user] : users) n += user.role == models::kRoleAdmin ? 1 : 0;
        return n;
    }

    void put(const std::string& id, std::string_view role) {
        models::User user;
        user.id = id;
        user.email = id + "@example.com";
        user.password_hash = "hash:secret-password";
        user.role = role;
        users[id] = user;
    }
    std::string role_of(const std::string& id) const { return users.at(id).role; }

    std::map<std::string, models::User> users;
    std::function<void()> after_conditional_write;
    int conditional_writes = 0;
};

// "hash:" + the password: enough to tell which password a hash was made from.
class FakeHasher : public PasswordHasher {
  public:
    std::string hash_password(const std::string& password) override { return "hash:" + password; }
    bool verify_password(const std::string& hash, const std::string& password) override {
        return hash == "hash:" + password;
    }
};

template <typename Call>
DomainError error_of(Call&& call) {
    try {
        call();
    } catch (const DomainError& error) {
        return error;
    }
    ADD_FAILURE() << "no DomainError was thrown";
    return DomainError(ErrorKind::kInvalid, "none");
}

class AccountServiceTest : public ::testing::Test {
  protected:
    FakeAccounts users;
    FakeHasher hasher;
    AccountService accounts{users, hasher};
};

TEST_F(AccountServiceTest, RegistrationStoresAHashNeverThePassword) {
    const auto user = accounts.register_account(
        {.name = "Ann", .email = "ann@example.com", .password = "correct horse", .phone = "1"});
    EXPECT_EQ(user.password_hash, "hash:correct horse");
    EXPECT_EQ(user.role, models::kRoleCustomer);
    EXPECT_EQ(users.users.at(user.id).phone, "1");
}

TEST_F(AccountServiceTest, ARegisteredEmailIsAConflictNamingTheField) {
    accounts.register_account({.name = "Ann", .email = "ann@example.com", .password = "p1"});
    const auto error = error_of([&] {
        accounts.register_account({.name = "Bob", .email = "ann@example.com", .password = "p2"});
    });
    EXPECT_EQ(error.kind(), ErrorKind::kConflict);
    ASSERT_EQ(error.fields().size(), 1U);
    EXPECT_EQ(error.fields()[0].first, "email");
    EXPECT_EQ(users.users.size(), 1U);
}

TEST_F(AccountServiceTest, ANewPasswordNeedsTheCurrentOne) {
    users.put("u1", models::kRoleCustomer);
    const auto error = error_of([&] {
        accounts.update_profile("u1", {.new_password = "new password", .current_password = "x"});
    });
    EXPECT_EQ(error.kind(), ErrorKind::kForbidden);
    ASSERT_EQ(error.fields().size(), 1U);
    EXPECT_EQ(error.fields()[0].first, "current_password");
    EXPECT_EQ(users.users.at("u1").password_hash, "hash:secret-password");

    const auto updated = accounts.update_profile(
        "u1",
        {.name = "Ann", .new_password = "new password", .current_password = "secret-password"});
    EXPECT_EQ(updated.password_hash, "hash:new password");
    EXPECT_EQ(updated.name, "Ann");
}

TEST_F(AccountServiceTest, ProfileChangesWithoutAPasswordNeedNoProof) {
    users.put("u1", models::kRoleCustomer);
    const auto updated = accounts.update_profile("u1", {.phone = "555"});
    EXPECT_EQ(updated.phone, "555");
    EXPECT_EQ(updated.password_hash, "hash:secret-password");
}

TEST_F(AccountServiceTest, AMissingAccountIsNotFound) {
    EXPECT_EQ(error_of([&] { accounts.find("nobody"); }).kind(), ErrorKind::kNotFound);
    EXPECT_EQ(error_of([&] { accounts.update_profile("nobody", {.name = "X"}); }).kind(),
              ErrorKind::kNotFound);
    EXPECT_EQ(error_of([&] { accounts.change_role("nobody", models::kRoleAdmin); }).kind(),
              ErrorKind::kNotFound);
    EXPECT_EQ(error_of([&] { accounts.change_role("nobody", models::kRoleCustomer); }).kind(),
              ErrorKind::kNotFound);
}

TEST_F(AccountServiceTest, TheLastAdminCannotBeDemotedAndNothingIsWritten) {
    users.put("admin", models::kRoleAdmin);
    users.put("customer", models::kRoleCustomer);
    const auto error = error_of([&] { accounts.change_role("admin", models::kRoleCustomer); });
    EXPECT_EQ(error.kind(), ErrorKind::kConflict);
    ASSERT_EQ(error.fields().size(), 1U);
    EXPECT_EQ(error.fields()[0].first, "role");
    EXPECT_EQ(users.role_of("admin"), models::kRoleAdmin);
    EXPECT_EQ(users.conditional_writes, 0);
}

TEST_F(AccountServiceTest, OneOfTwoAdminsMayBeDemotedThenTheOtherIsTheLast) {
    users.put("a1", models::kRoleAdmin);
    users.put("a2", models::kRoleAdmin);
    EXPECT_EQ(accounts.change_role("a1", models::kRoleCustomer).role, models::kRoleCustomer);
    EXPECT_EQ(error_of([&] { accounts.change_role("a2", models::kRoleCustomer); }).kind(),
              ErrorKind::kConflict);
    EXPECT_EQ(users.role_of("a2"), models::kRoleAdmin);
}

TEST_F(AccountServiceTest, ADemotionThatRacedAnotherIsUndone) {
    users.put("a1", models::kRoleAdmin);
    users.put("a2", models::kRoleAdmin);
    // Both demotions counted two admins; the other one lands between this demotion and its
    // recount, so this one sees no admin left and must put its admin back.
    users.after_conditional_write = [this] { users.users.at("a2").role = models::kRoleCustomer; };
    const auto error = error_of([&] { accounts.change_role("a1", models::kRoleCustomer); });
    EXPECT_EQ(error.kind(), ErrorKind::kConflict);
    EXPECT_EQ(users.role_of("a1"), models::kRoleAdmin);
    EXPECT_EQ(users.count_admins(), 1);
}

TEST_F(AccountServiceTest, PromotingAndDemotingACustomerNeedNoCount) {
    users.put("admin", models::kRoleAdmin);
    users.put("c1", models::kRoleCustomer);
    EXPECT_EQ(accounts.change_role("c1", models::kRoleCustomer).role, models::kRoleCustomer);
    EXPECT_EQ(accounts.change_role("c1", models::kRoleAdmin).role, models::kRoleAdmin);
    EXPECT_EQ(users.conditional_writes, 0);
}

TEST(Authorization, AdminOnlyAndSelfOrAdminRules) {
    const Principal admin{.user_id = "a", .role = "admin"};
    const Principal customer{.user_id = "c", .role = "customer"};
    EXPECT_NO_THROW(AuthService::require_admin(admin));
    EXPECT_EQ(error_of([&] { AuthService::require_admin(customer); }).kind(),
              ErrorKind::kForbidden);
    EXPECT_NO_THROW(AuthService::require_self_or_admin(customer, "c"));
    EXPECT_NO_THROW(AuthService::require_self_or_admin(admin, "c"));
    EXPECT_EQ(error_of([&] { AuthService::require_self_or_admin(customer, "a"); }).kind(),
              ErrorKind::kForbidden);
}

}  // namespace
}  // namespace flaskcart::services
