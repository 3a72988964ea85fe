#include "services/auth_service.hpp"

#include <spdlog/spdlog.h>

#include "models/user_model.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"

namespace flaskcart::services {

using http::ApiError;

// --- LoginThrottle ----------------------------------------------------------------------------

LoginThrottle::LoginThrottle(int max_failures, std::chrono::seconds window)
    : max_failures_(max_failures), window_(window) {}

int LoginThrottle::retry_after(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return 0;
    const auto now = std::chrono::steady_clock::now();
    if (it->second.locked_until > now) {
        return static_cast<int>(
                   std::chrono::duration_cast<std::chrono::seconds>(it->second.locked_until - now)
                       .count()) +
               1;
    }
    return 0;
}

void LoginThrottle::record_failure(const std::string& key) {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    // Bounded memory under a spray of distinct keys: forget entries whose window has passed.
    if (entries_.size() > 100'000) {
        std::erase_if(entries_, [&](const auto& item) {
            return item.second.window_start + window_ < now && item.second.locked_until < now;
        });
    }
    Entry& entry = entries_[key];
    if (entry.window_start + window_ < now) {
        entry.failures = 0;
        entry.window_start = now;
    }
    if (++entry.failures >= max_failures_) {
        entry.locked_until = now + window_;
        entry.failures = 0;
        entry.window_start = now;
    }
}

void LoginThrottle::reset(const std::string& key) {
    std::lock_guard lock(mutex_);
    entries_.erase(key);
}

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
                        std::chrono::seconds(config.login_lockout_seconds)) {
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

http::Principal AuthService::verify_token(const std::string& token) {
    auto claims = crypto::verify_jwt_hs256(token, secret_);
    if (!claims) throw ApiError::unauthorized("the token is invalid");
    if (claims->issuer != config_.jwt_issuer) throw ApiError::unauthorized("the token is invalid");
    if (claims->expires_at <= db::now_ms() / 1000) {
        throw ApiError::unauthorized("the token has expired");
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
    revoked_.revoke(principal.token_id, principal.expires_at * 1000);
}

}  // namespace flaskcart::services
