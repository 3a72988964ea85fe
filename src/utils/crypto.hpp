#pragma once
// Security primitives from maintained libraries: libsodium (argon2id, random bytes, BLAKE2b) and
// libjwt (HS256 signing and verification). Thread-safe; call sodium_ready() once at start-up.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flaskcart::crypto {

// Initialises libsodium; throws std::runtime_error when it cannot.
void sodium_ready();

struct Argon2Params {
    std::uint64_t opslimit = 2;
    std::uint64_t memlimit_kib = std::uint64_t{19} * 1024;
};

// A PHC string "$argon2id$v=19$m=...,t=...,p=1$salt$hash". Throws std::runtime_error when out of
// memory.
std::string hash_password(std::string_view password, const Argon2Params& params);
// Constant-time verification of a password against a PHC string.
bool verify_password(std::string_view phc_hash, std::string_view password);

std::string random_hex(std::size_t bytes);
// BLAKE2b-256 of `data`, hex-encoded: request fingerprints, ETags.
std::string digest_hex(std::string_view data);

struct JwtClaims {
    std::string subject;
    std::string role;
    std::string token_id;
    std::string issuer;
    std::int64_t issued_at = 0;
    std::int64_t expires_at = 0;
    std::optional<std::int64_t> not_before;  // `nbf`, when the token has one
};

std::string sign_jwt_hs256(const JwtClaims& claims, std::string_view secret);
// The claims when the token is a well-formed HS256 JWT signed with `secret`, with string sub,
// role, jti and iss, integer iat and exp, and an integer nbf if there is one; std::nullopt
// otherwise. Times (exp, nbf, iat) and issuer are checked by the caller. Any `alg` other than
// HS256 (including "none") is refused.
std::optional<JwtClaims> verify_jwt_hs256(const std::string& token, std::string_view secret);

}  // namespace flaskcart::crypto
