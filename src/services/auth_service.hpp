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
#include "http/client_address.hpp"
#include "http/context.hpp"
#include "models/user_model.hpp"
#include "services/login_throttle.hpp"
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

class AuthService {
  public:
    AuthService(const Config& config, models::UserStore& users, models::RevokedTokenStore& revoked);
    ~AuthService();

    // argon2id with the configured cost; at most max_concurrent_hashes run at once (others
    // wait up to a few seconds, then 503) so a login flood cannot starve other routes.
    std::string hash_password(const std::string& password);
    bool verify_password(const std::string& hash, const std::string& password);
    // Spends the same time as a real verification, for unknown emails.
    void burn_verification_time(const std::string& password);

    IssuedToken issue_token(const std::string& user_id, const std::string& role);

    // Checks a password sign-in under the failed-login limits of the (normalized) email and
    // of the client's address: each guess is counted before it is checked (LoginThrottle), so
    // concurrent guesses cannot pass the limits. Throws http::ApiError 429 (Retry-After)
    // when a limit is reached, 401 for an unknown email or a wrong password (one answer).
    LoginResult login(const std::string& email, const std::string& password,
                      const std::string& client_address);

    // The caller from `Authorization: Bearer`, or 401 (WWW-Authenticate: Bearer). Refuses
    // revoked tokens and tokens of deleted users. Sets ctx.principal.
    http::Principal require_user(http::RequestContext& ctx);
    // require_user() plus the *current* role in the database must be admin (else 403).
    http::Principal require_admin(http::RequestContext& ctx);
    // Admin, or the user whose id is `user_id` (else 403).
    http::Principal require_self_or_admin(http::RequestContext& ctx, const std::string& user_id);

    void revoke(const http::Principal& principal);
    // From now on the token check asks `directory` instead of the database. Call before serving.
    void use_directory(AccountDirectory* directory) noexcept { directory_ = directory; }

    LoginThrottle& email_throttle() noexcept { return email_throttle_; }
    LoginThrottle& address_throttle() noexcept { return address_throttle_; }
    // Counts a registration attempt from the request's client address, or throws 429 (with
    // Retry-After) when that address has used up its registrations for the window. Every
    // valid attempt counts, accepted or not: each costs a password hash, and a 409 tells
    // whether an email is registered. Check and count are one step.
    void admit_registration(const http::Request& request);

    // The address per-address limits key on: the peer, or the client a trusted proxy forwards
    // (see http::TrustedProxies).
    std::string client_address(const http::Request& request) const;

  private:
    http::Principal verify_token(const std::string& token);
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
    http::TrustedProxies trusted_proxies_;
};

}  // namespace flaskcart::services
