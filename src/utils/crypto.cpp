#include "utils/crypto.hpp"

#include <jwt.h>
#include <sodium.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

namespace flaskcart::crypto {

namespace {

struct JwtDeleter {
    void operator()(jwt_t* jwt) const noexcept { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

struct MallocDeleter {
    void operator()(char* text) const noexcept { std::free(text); }
};
using MallocString = std::unique_ptr<char, MallocDeleter>;

std::string to_hex(const unsigned char* data, std::size_t length) {
    std::string out(length * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), data, length);
    out.pop_back();
    return out;
}

std::optional<std::string> string_grant(jwt_t* jwt, const char* name) {
    const char* value = jwt_get_grant(jwt, name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

std::optional<std::int64_t> int_grant(jwt_t* jwt, const char* name) {
    errno = 0;
    const long value = jwt_get_grant_int(jwt, name);
    if (errno != 0) return std::nullopt;
    return static_cast<std::int64_t>(value);
}

// An optional integer claim: {value}, or {std::nullopt} when absent; std::nullopt when present
// but not an integer. libjwt 1.10 tells neither a mistyped grant from a missing one (errno) nor
// dumps a scalar grant on its own (json_dumps without JSON_ENCODE_ANY), so the claims object is
// read whole.
std::optional<std::optional<std::int64_t>> optional_int_grant(jwt_t* jwt, const char* name) {
    const MallocString json(jwt_get_grants_json(jwt, nullptr));
    if (!json) return std::nullopt;
    boost::system::error_code ec;
    const boost::json::value grants = boost::json::parse(json.get(), ec);
    if (ec || !grants.is_object()) return std::nullopt;
    const boost::json::value* value = grants.as_object().if_contains(name);
    if (value == nullptr) return std::optional<std::int64_t>();
    if (!value->is_int64()) return std::nullopt;
    return std::optional<std::int64_t>(value->as_int64());
}

}  // namespace

void sodium_ready() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string hash_password(std::string_view password, const Argon2Params& params) {
    std::vector<char> out(crypto_pwhash_STRBYTES);
    if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), params.opslimit,
                              static_cast<std::size_t>(params.memlimit_kib) * 1024U,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error("argon2id hashing failed (out of memory)");
    }
    return std::string(out.data());
}

bool verify_password(std::string_view phc_hash, std::string_view password) {
    const std::string terminated(phc_hash);
    return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> buffer(bytes);
    randombytes_buf(buffer.data(), buffer.size());
    return to_hex(buffer.data(), buffer.size());
}

std::string digest_hex(std::string_view data) {
    unsigned char hash[32];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size(), nullptr, 0);
    return to_hex(hash, sizeof hash);
}

std::string sign_jwt_hs256(const JwtClaims& claims, std::string_view secret) {
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
    JwtPtr jwt(raw);
    int rc = 0;
    rc |= jwt_add_grant(jwt.get(), "sub", claims.subject.c_str());
    rc |= jwt_add_grant(jwt.get(), "role", claims.role.c_str());
    rc |= jwt_add_grant(jwt.get(), "jti", claims.token_id.c_str());
    rc |= jwt_add_grant(jwt.get(), "iss", claims.issuer.c_str());
    rc |= jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(claims.issued_at));
    rc |= jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(claims.expires_at));
    rc |=
        jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                    static_cast<int>(secret.size()));
    if (rc != 0) throw std::runtime_error("building the JWT failed");
    MallocString encoded(jwt_encode_str(jwt.get()));
    if (!encoded) throw std::runtime_error("encoding the JWT failed");
    return std::string(encoded.get());
}

std::optional<JwtClaims> verify_jwt_hs256(const std::string& token, std::string_view secret) {
    if (token.empty() || token.size() > 4096) return std::nullopt;
    jwt_t* raw = nullptr;
    if (jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                   static_cast<int>(secret.size())) != 0) {
        if (raw != nullptr) jwt_free(raw);
        return std::nullopt;
    }
    JwtPtr jwt(raw);
    // libjwt 1.10 accepts "alg": "none" without checking any signature, and any HMAC variant
    // with the same key: the algorithm is pinned here.
    if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return std::nullopt;
    JwtClaims claims;
    auto subject = string_grant(jwt.get(), "sub");
    auto role = string_grant(jwt.get(), "role");
    auto token_id = string_grant(jwt.get(), "jti");
    auto issuer = string_grant(jwt.get(), "iss");
    auto issued_at = int_grant(jwt.get(), "iat");
    auto expires_at = int_grant(jwt.get(), "exp");
    auto not_before = optional_int_grant(jwt.get(), "nbf");
    if (!subject || !role || !token_id || !issuer || !issued_at || !expires_at || !not_before) {
        return std::nullopt;
    }
    claims.not_before = *not_before;
    claims.subject = std::move(*subject);
    claims.role = std::move(*role);
    claims.token_id = std::move(*token_id);
    claims.issuer = std::move(*issuer);
    claims.issued_at = *issued_at;
    claims.expires_at = *expires_at;
    return claims;
}

}  // namespace flaskcart::crypto
