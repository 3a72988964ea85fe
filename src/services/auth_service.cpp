#include "services/auth_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "models/user_model.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"
#include "utils/errors.hpp"
#include "utils/text.hpp"

namespace flaskcart::services {

namespace {
// Clock skew tolerated between the instance that issued a token and the one checking it.
constexpr std::int64_t kClockLeewaySeconds = 60;

// Admits one guess under `throttle` for its lifetime; if the guess is never judged (an error
// before or during the check) it counts neither way.
class ThrottledAttempt {
  public:
    ThrottledAttempt(LoginThrottle& throttle, const std::string& key)
        : throttle_(throttle), key_(key) {
        if (const int wait = throttle_.begin_attempt(key_); wait > 0) {
            throw DomainError::rate_limited(wait, "too many failed sign-ins; try again later");
        }
    }
    ~ThrottledAttempt() {
        if (!finished_) throttle_.finish_attempt(key_, LoginThrottle::Outcome::kNeutral);
    }
    ThrottledAttempt(const ThrottledAttempt&) = delete;
    ThrottledAttempt& operator=(const ThrottledAttempt&) = delete;
    void finish(LoginThrottle::Outcome outcome) {
        finished_ = true;
        throttle_.finish_attempt(key_, outcome);
    }

  private:
    LoginThrottle& throttle_;
    std::string key_;
    bool finished_ = false;
};

}  // namespace

// --- AuthService ------------------------------------------------------------------------------

// Holds one of the bounded password-hashing slots for its lifetime.
class AuthService::HashPermit {
  public:
    explicit HashPermit(utils::FairSemaphore& slots) : slots_(slots) {
        if (!slots_.try_acquire_for(std::chrono::seconds(5))) {
            throw DomainError::unavailable("too many sign-ins at once; retry shortly", 1);
        }
    }
    ~HashPermit() { slots_.release(); }
    HashPermit(const HashPermit&) = delete;
    HashPermit& operator=(const HashPermit&) = delete;

  private:
    utils::FairSemaphore& slots_;
};

AuthService::AuthService(const Config& config, models::UserStore& users,
                         models::RevokedTokenStore& revoked)
    : config_(config),
      users_(users),
      revoked_(revoked),
      secret_(config.jwt_secret),
      hash_slots_(config.max_concurrent_hashes),
      email_throttle_(config.login_max_failures_per_email,
                      std::chrono::seconds(config.login_lockout_seconds)),
      address_throttle_(config.login_max_failures_per_address,
                        std::chrono::seconds(config.login_lockout_seconds)),
      register_throttle_(config.register_max_per_address,
                         std::chrono::seconds(config.register_window_seconds)) {
    crypto::sodium_ready();
    if (secret_.empty()) {
        secret_ = crypto::random_hex(32);
        spdlog::warn(
            "dev mode: no FLASKCART_JWT_SECRET set, using a random one; tokens will not "
            "survive a restart or work across instances");
    }
    dummy_hash_ = crypto::hash_password(crypto::random_hex(16),
                                        {config_.argon2_opslimit, config_.argon2_memlimit_kib});
}

AuthService::~AuthService() = default;

std::string AuthService::hash_password(const std::string& password) {
    HashPermit permit(hash_slots_);
    return crypto::hash_password(password, {config_.argon2_opslimit, config_.argon2_memlimit_kib});
}

bool AuthService::verify_password(const std::string& hash, const std::string& password) {
    HashPermit permit(hash_slots_);
    return crypto::verify_password(hash, password);
}

void AuthService::burn_verification_time(const std::string& password) {
    HashPermit permit(hash_slots_);
    (void)crypto::verify_password(dummy_hash_, password);
}

void AuthService::admit_registration(const std::string& client_address) {
    // begin_attempt() admits and counts in one critical section, so concurrent registrations
    // cannot pass the limit together; every admitted one counts (see the header).
    if (const int wait = register_throttle_.begin_attempt(client_address); wait > 0) {
        throw DomainError::rate_limited(
            wait, "too many registrations from this address; try again later");
    }
    register_throttle_.finish_attempt(client_address, LoginThrottle::Outcome::kFailed);
}

IssuedToken AuthService::issue_token(const std::string& user_id, const std::string& role) {
    const std::int64_t now = db::now_ms() / 1000;
    crypto::JwtClaims claims;
    claims.subject = user_id;
    claims.role = role;
    claims.token_id = crypto::random_hex(16);
    claims.issuer = config_.jwt_issuer;
    claims.issued_at = now;
    claims.expires_at = now + config_.token_ttl_seconds;
    return {crypto::sign_jwt_hs256(claims, secret_), config_.token_ttl_seconds};
}

std::optional<LoginResult> AuthService::login(const std::string& email, const std::string& password,
                                              const std::string& client_address) {
    const std::string normalized_email = text::to_lower_ascii(email);
    ThrottledAttempt by_email(email_throttle_, normalized_email);
    ThrottledAttempt by_address(address_throttle_, client_address);
    auto user = users_.find_by_email(normalized_email);
    bool ok = false;
    if (user) {
        ok = verify_password(user->password_hash, password);
    } else {
        burn_verification_time(password);
    }
    if (!ok) {
        by_email.finish(LoginThrottle::Outcome::kFailed);
        by_address.finish(LoginThrottle::Outcome::kFailed);
        // One answer for an unknown email and a wrong password: no account enumeration.
        return std::nullopt;
    }
    by_email.finish(LoginThrottle::Outcome::kSucceeded);
    // A success does not forgive the address the guesses it made at other accounts.
    by_address.finish(LoginThrottle::Outcome::kNeutral);
    IssuedToken token = issue_token(user->id, user->role);
    return LoginResult{std::move(*user), std::move(token)};
}

Principal AuthService::verify_token(const std::string& token) {
    auto claims = crypto::verify_jwt_hs256(token, secret_);
    if (!claims) throw DomainError::unauthenticated("the token is invalid");
    if (claims->issuer != config_.jwt_issuer)
        throw DomainError::unauthenticated("the token is invalid");
    const std::int64_t now = db::now_ms() / 1000;
    if (claims->expires_at <= now) throw DomainError::unauthenticated("the token has expired");
    // This service never issues a token that lives longer than the TTL or was issued in the
    // future; allowing for clock skew between instances, anything else was not minted here
    // (and an unbounded exp would overflow the revocation's expiry in milliseconds).
    if (claims->expires_at > now + config_.token_ttl_seconds + kClockLeewaySeconds ||
        claims->issued_at > now + kClockLeewaySeconds) {
        throw DomainError::unauthenticated("the token is invalid");
    }
    // No leeway: this service never sets nbf, so a token that has one says exactly when it
    // starts (RFC 7519 §4.1.5).
    if (claims->not_before && *claims->not_before > now) {
        throw DomainError::unauthenticated("the token is not valid yet");
    }
    return {claims->subject, claims->role, claims->token_id, claims->expires_at};
}

Principal AuthService::authenticate(const std::string& bearer_token) {
    Principal principal = verify_token(bearer_token);
    // The database (or the directory that mirrors it), not the token, says who the caller is
    // now: a revoked token, a deleted user's token and a demoted admin's rights stop working.
    const bool is_revoked = directory_ != nullptr ? directory_->is_revoked(principal.token_id)
                                                  : revoked_.is_revoked(principal.token_id);
    if (is_revoked) throw DomainError::unauthenticated("the token has been revoked");
    std::optional<std::string> role;
    if (directory_ != nullptr) {
        role = directory_->current_role(principal.user_id);
    } else if (auto user = users_.find_by_id(principal.user_id)) {
        role = user->role;
    }
    if (!role) throw DomainError::unauthenticated("the account no longer exists");
    principal.role = std::move(*role);
    return principal;
}

void AuthService::require_admin(const Principal& caller) {
    if (!caller.is_admin()) throw DomainError::forbidden("this needs the admin role");
}

void AuthService::require_self_or_admin(const Principal& caller, const std::string& user_id) {
    if (!caller.is_admin() && caller.user_id != user_id) {
        throw DomainError::forbidden("you may only reach your own data");
    }
}

void AuthService::revoke(const Principal& principal) {
    // verify_token() bounds expires_at to now + TTL + leeway, so the product cannot overflow;
    // the clamp keeps that true for any principal built elsewhere.
    constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1000;
    revoked_.revoke(principal.token_id,
                    std::clamp<std::int64_t>(principal.expires_at, 0, kMaxSeconds) * 1000);
}

}  // namespace flaskcart::services
