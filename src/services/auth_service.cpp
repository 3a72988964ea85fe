#include "services/auth_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "models/user_model.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"

namespace flaskcart::services {

using http::ApiError;

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
            throw ApiError::too_many_requests(wait, "too many failed sign-ins; try again later");
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
            throw ApiError::unavailable("too many sign-ins at once; retry shortly", 1);
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
                         std::chrono::seconds(config.register_window_seconds)),
      trusted_proxies_(http::TrustedProxies::parse(config.trusted_proxies)) {
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

std::string AuthService::client_address(const http::Request& request) const {
    return trusted_proxies_.client_address(request.remote_address,
                                           request.header("x-forwarded-for"));
}

void AuthService::admit_registration(const http::Request& request) {
    const std::string client = client_address(request);
    // begin_attempt() admits and counts in one critical section, so concurrent registrations
    // cannot pass the limit together; every admitted one counts (see the header).
    if (const int wait = register_throttle_.begin_attempt(client); wait > 0) {
        throw ApiError::too_many_requests(
            wait, "too many registrations from this address; try again later");
    }
    register_throttle_.finish_attempt(client, LoginThrottle::Outcome::kFailed);
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

LoginResult AuthService::login(const std::string& email, const std::string& password,
                               const std::string& client_address) {
    ThrottledAttempt by_email(email_throttle_, email);
    ThrottledAttempt by_address(address_throttle_, client_address);
    auto user = users_.find_by_email(email);
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
        throw ApiError(401, "invalid-credentials", "Unauthorized", "invalid email or password", {},
                       {{"WWW-Authenticate", "Bearer realm=\"flaskcart\""}});
    }
    by_email.finish(LoginThrottle::Outcome::kSucceeded);
    // A success does not forgive the address the guesses it made at other accounts.
    by_address.finish(LoginThrottle::Outcome::kNeutral);
    IssuedToken token = issue_token(user->id, user->role);
    return {std::move(*user), std::move(token)};
}

http::Principal AuthService::verify_token(const std::string& token) {
    auto claims = crypto::verify_jwt_hs256(token, secret_);
    if (!claims) throw ApiError::unauthorized("the token is invalid");
    if (claims->issuer != config_.jwt_issuer) throw ApiError::unauthorized("the token is invalid");
    const std::int64_t now = db::now_ms() / 1000;
    if (claims->expires_at <= now) throw ApiError::unauthorized("the token has expired");
    // This service never issues a token that lives longer than the TTL or was issued in the
    // future; allowing for clock skew between instances, anything else was not minted here
    // (and an unbounded exp would overflow the revocation's expiry in milliseconds).
    if (claims->expires_at > now + config_.token_ttl_seconds + kClockLeewaySeconds ||
        claims->issued_at > now + kClockLeewaySeconds) {
        throw ApiError::unauthorized("the token is invalid");
    }
    // No leeway: this service never sets nbf, so a token that has one says exactly when it
    // starts (RFC 7519 §4.1.5).
    if (claims->not_before && *claims->not_before > now) {
        throw ApiError::unauthorized("the token is not valid yet");
    }
    return {claims->subject, claims->role, claims->token_id, claims->expires_at};
}

http::Principal AuthService::require_user(http::RequestContext& ctx) {
    if (ctx.principal) return *ctx.principal;
    const auto header = ctx.header("authorization");
    if (!header) throw ApiError::unauthorized();
    constexpr std::string_view kScheme = "bearer ";
    if (header->size() <= kScheme.size() ||
        !std::equal(kScheme.begin(), kScheme.end(), header->begin(), [](char a, char b) {
            return a == std::tolower(static_cast<unsigned char>(b));
        })) {
        throw ApiError::unauthorized("use the Bearer scheme");
    }
    http::Principal principal = verify_token(std::string(header->substr(kScheme.size())));
    // The database (or the directory that mirrors it), not the token, says who the caller is
    // now: a revoked token, a deleted user's token and a demoted admin's rights stop working.
    const bool is_revoked = directory_ != nullptr ? directory_->is_revoked(principal.token_id)
                                                  : revoked_.is_revoked(principal.token_id);
    if (is_revoked) throw ApiError::unauthorized("the token has been revoked");
    std::optional<std::string> role;
    if (directory_ != nullptr) {
        role = directory_->current_role(principal.user_id);
    } else if (auto user = users_.find_by_id(principal.user_id)) {
        role = user->role;
    }
    if (!role) throw ApiError::unauthorized("the account no longer exists");
    principal.role = std::move(*role);
    ctx.principal = principal;
    return principal;
}

http::Principal AuthService::require_admin(http::RequestContext& ctx) {
    http::Principal principal = require_user(ctx);
    if (!principal.is_admin()) throw ApiError::forbidden("this needs the admin role");
    return principal;
}

http::Principal AuthService::require_self_or_admin(http::RequestContext& ctx,
                                                   const std::string& user_id) {
    http::Principal principal = require_user(ctx);
    if (!principal.is_admin() && principal.user_id != user_id) {
        throw ApiError::forbidden("you may only reach your own data");
    }
    return principal;
}

void AuthService::revoke(const http::Principal& principal) {
    // verify_token() bounds expires_at to now + TTL + leeway, so the product cannot overflow;
    // the clamp keeps that true for any principal built elsewhere.
    constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1000;
    revoked_.revoke(principal.token_id,
                    std::clamp<std::int64_t>(principal.expires_at, 0, kMaxSeconds) * 1000);
}

}  // namespace flaskcart::services
