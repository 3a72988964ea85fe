#pragma once
// Authentication and authorization: password hashing (argon2id), JWT issue/verify (HS256,
// pinned), token revocation shared through the database, and the failed-login limiter.
// Thread-safe: one instance is shared by all workers.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config.hpp"
#include "models/user_model.hpp"
#include "services/login_throttle.hpp"
#include "services/password_hasher.hpp"
#include "services/principal.hpp"
#include "utils/fair_semaphore.hpp"

namespace flaskcart::services {

// Answers the token check's two questions without a database round trip in steady state
// (services::ChangeFeed). Thread-safe.
class AccountDirectory {
  public:
    virtual ~AccountDirectory() = default;
    virtual bool is_revoked(const std::string& token_id) = 0;
    // The user's current role; std::nullopt when the account no longer exists.
    virtual std::optional<std::string> current_role(const std::string& user_id) = 0;
};

struct IssuedToken {
    std::string token;
    std::int64_t expires_in = 0;
};

struct LoginResult {
    models::User user;
    IssuedToken token;
};

class AuthService final : public PasswordHasher {
  public:
    AuthService(const Config& config, models::UserStore& users, models::RevokedTokenStore& revoked);
    ~AuthService() override;

    // argon2id with the configured cost; at most max_concurrent_hashes run at once (others
    // wait up to a few seconds, then DomainError unavailable) so a login flood cannot starve
    // other routes.
    std::string hash_password(const std::string& password) override;
    bool verify_password(const std::string& hash, const std::string& password) override;
    // Spends the same time as a real verification, for unknown emails.
    void burn_verification_time(const std::string& password);

    IssuedToken issue_token(const std::string& user_id, const std::string& role);

    // Checks a password sign-in under the failed-login limits of the email (normalized here:
    // ASCII lower-cased) and of the client's address: each guess is counted before it is
    // checked (LoginThrottle), so concurrent guesses cannot pass the limits. std::nullopt for an
    // unknown email or a wrong password (one answer: no account enumeration); DomainError
    // rate_limited when a limit is reached.
    std::optional<LoginResult> login(const std::string& email, const std::string& password,
                                     const std::string& client_address);

    // The caller a bearer token names, or DomainError unauthenticated. Refuses revoked tokens
    // and tokens of deleted users; the role is the one the database gives the user now, not the
    // token's (a demoted admin's rights stop at once).
    Principal authenticate(const std::string& bearer_token);
    // DomainError forbidden unless the caller is an admin.
    static void require_admin(const Principal& caller);
    // DomainError forbidden unless the caller is an admin or the user whose id is `user_id`.
    static void require_self_or_admin(const Principal& caller, const std::string& user_id);

    void revoke(const Principal& principal);
    // From now on the token check asks `directory` instead of the database. Call before serving.
    void use_directory(AccountDirectory* directory) noexcept { directory_ = directory; }

    LoginThrottle& email_throttle() noexcept { return email_throttle_; }
    LoginThrottle& address_throttle() noexcept { return address_throttle_; }
    // Counts a registration attempt from `client_address`, or throws DomainError rate_limited
    // (with the seconds to wait) when that address has used up its registrations for the
    // window. Every valid attempt counts, accepted or not: each costs a password hash, and a
    // conflict tells whether an email is registered. Check and count are one step.
    void admit_registration(const std::string& client_address);

  private:
    Principal verify_token(const std::string& token);
    class HashPermit;

    const Config& config_;
    models::UserStore& users_;
    models::RevokedTokenStore& revoked_;
    AccountDirectory* directory_ = nullptr;
    std::string secret_;
    std::string dummy_hash_;
    utils::FairSemaphore hash_slots_;
    LoginThrottle email_throttle_;
    LoginThrottle address_throttle_;
    LoginThrottle register_throttle_;
};

}  // namespace flaskcart::services
