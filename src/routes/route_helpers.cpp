// Helpers the route modules share.
#include <algorithm>
#include <cctype>

#include "http/context.hpp"
#include "models/image_model.hpp"
#include "routes/routes.hpp"
#include "services/auth_service.hpp"
#include "services/catalog_read_model.hpp"

namespace flaskcart::routes {

namespace {

// FNV-1a, 64 bits: a cheap fingerprint of a response body, equal on every instance for equal
// content (not a security property: an ETag only has to change when the body does).
std::string fingerprint(std::string_view body) {
    std::uint64_t hash = 1469598103934665603ULL;
    for (char c : body) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ULL;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = kHex[hash & 0xF];
        hash >>= 4;
    }
    return out;
}

}  // namespace

http::Response with_etag(http::Response response, const http::RequestContext& ctx) {
    const std::string etag =
        "\"" + fingerprint(response.body) + "-" + std::to_string(response.body.size()) + "\"";
    response.headers.emplace_back("ETag", etag);
    const auto if_none_match = ctx.header("if-none-match");
    if (if_none_match && models::if_none_match_matches(*if_none_match, etag)) {
        response.status = 304;
        response.body.clear();
        response.content_type.clear();
    }
    return response;
}

http::Principal RequestAuth::require_user(http::RequestContext& ctx) const {
    if (ctx.principal) return *ctx.principal;
    const auto header = ctx.header("authorization");
    if (!header) throw http::ApiError::unauthorized();
    constexpr std::string_view kScheme = "bearer ";
    if (header->size() <= kScheme.size() ||
        !std::equal(kScheme.begin(), kScheme.end(), header->begin(), [](char a, char b) {
            return a == std::tolower(static_cast<unsigned char>(b));
        })) {
        throw http::ApiError::unauthorized("use the Bearer scheme");
    }
    ctx.principal = auth_.authenticate(std::string(header->substr(kScheme.size())));
    return *ctx.principal;
}

http::Principal RequestAuth::require_admin(http::RequestContext& ctx) const {
    http::Principal caller = require_user(ctx);
    services::AuthService::require_admin(caller);
    return caller;
}

http::Principal RequestAuth::require_self_or_admin(http::RequestContext& ctx,
                                                   const std::string& user_id) const {
    http::Principal caller = require_user(ctx);
    services::AuthService::require_self_or_admin(caller, user_id);
    return caller;
}

void require_loaded(const services::CatalogReadModel& catalog) {
    if (!catalog.is_loaded()) {
        throw http::ApiError::unavailable("the catalog is being loaded; retry shortly", 1);
    }
}

}  // namespace flaskcart::routes
