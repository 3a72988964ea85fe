#pragma once
// Collection `users`: accounts. The email is stored normalized (trimmed, lower-cased) under a
// unique index, so the index — not a read-then-write — decides duplicates. `password` holds an
// argon2id PHC string, never a password, and is never mapped into API output.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flaskcart::db {
class Db;
class Bson;
class BsonView;
}  // namespace flaskcart::db

namespace flaskcart::models {

class WriteListener;

inline constexpr std::string_view kRoleCustomer = "customer";
inline constexpr std::string_view kRoleAdmin = "admin";

struct User {
    std::string id;
    std::string name;
    std::string email;
    std::string password_hash;
    std::string phone;
    std::string address;
    std::string role;
    std::int64_t created_at_ms = 0;
    std::int64_t updated_at_ms = 0;
};

// The stored document of `user` ({_id, name, email, password, phone, address, role,
// created_at, updated_at}); throws std::invalid_argument when user.id is not an ObjectId.
db::Bson to_bson(const User& user);
// Throws std::runtime_error for a document of the wrong shape (no ObjectId _id, no string email
// or password); absent optional fields read as empty (role: customer).
User user_from_bson(const db::BsonView& doc);

struct NewUser {
    std::string name;
    std::string email;  // normalized
    std::string password_hash;
    std::string phone;
    std::string address;
    std::string role{kRoleCustomer};
};

struct ProfileChanges {
    std::optional<std::string> name;
    std::optional<std::string> phone;
    std::optional<std::string> address;
    std::optional<std::string> password_hash;
};

class UserStore {
  public:
    explicit UserStore(db::Db& db) : db_(db) {}
    static void ensure_indexes(db::Db& db);
    // Told about role changes after they reached the database; set before serving.
    void set_listener(WriteListener* listener) noexcept { listener_ = listener; }

    // std::nullopt when the email is already registered (duplicate key).
    std::optional<User> create(const NewUser& user);
    std::optional<User> find_by_id(std::string_view id);
    std::optional<User> find_by_email(const std::string& normalized_email);
    std::vector<User> list(std::int64_t skip, std::int64_t limit);
    std::int64_t count();
    std::int64_t count_admins();
    // The updated user, or std::nullopt when it no longer exists.
    std::optional<User> update_profile(std::string_view id, const ProfileChanges& changes);
    std::optional<User> set_role(std::string_view id, std::string_view role);
    // from → to, only if the user's role is still `from`. True if applied.
    bool set_role_if(std::string_view id, std::string_view from, std::string_view to);

  private:
    db::Db& db_;
    WriteListener* listener_ = nullptr;
};

// Collection `revoked_tokens`: {_id: jti, expires_at}. Shared by every instance, so a logout
// holds everywhere. FerretDB has no TTL indexes: purge_expired() runs from maintenance.
class RevokedTokenStore {
  public:
    explicit RevokedTokenStore(db::Db& db) : db_(db) {}
    void set_listener(WriteListener* listener) noexcept { listener_ = listener; }
    void revoke(const std::string& token_id, std::int64_t expires_at_ms);
    bool is_revoked(const std::string& token_id);
    // (token id, expires_at_ms) of every revocation not yet expired at `now_ms`.
    std::vector<std::pair<std::string, std::int64_t>> list_unexpired(std::int64_t now_ms);
    std::int64_t purge_expired(std::int64_t now_ms);

  private:
    db::Db& db_;
    WriteListener* listener_ = nullptr;
};

}  // namespace flaskcart::models
