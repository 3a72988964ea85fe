#pragma once
// One register_<module>_routes() per module; app.cpp calls them explicitly, in order.

#include <atomic>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "http/router.hpp"
#include "services/catalog_read_model.hpp"

namespace flaskcart {
namespace services {
class AuthService;
struct Principal;
class CartService;
class CheckoutService;
}  // namespace services
namespace models {
class UserStore;
class ProductStore;
class CategoryStore;
class ImageStore;
class CartStore;
class OrderStore;
struct Product;
}  // namespace models
struct Config;
namespace metrics {
class Registry;
}

namespace routes {

// GET /health, GET /ready (`ping_database` answers whether the database is reachable; it may
// block, so /ready runs on the worker pool) and GET /openapi.json.
void register_system_routes(http::Router& router, const std::function<bool()>& ping_database,
                            const std::atomic<bool>& indexes_ready, std::string_view openapi_json);
// GET /metrics: the registry in Prometheus text format.
void register_metrics_route(http::Router& router, const metrics::Registry& registry);
// `config` names the trusted proxies (the client address that per-address limits key on).
void register_user_routes(http::Router& router, models::UserStore& users,
                          services::AuthService& auth, const Config& config);
// Catalog reads are answered from `catalog` (no database); writes go to the stores.
void register_category_routes(http::Router& router, models::CategoryStore& categories,
                              models::ProductStore& products,
                              const services::CatalogReadModel& catalog,
                              services::AuthService& auth);
void register_product_routes(http::Router& router, models::ProductStore& products,
                             models::ImageStore& images, const services::CatalogReadModel& catalog,
                             services::AuthService& auth, const Config& config);
void register_cart_routes(http::Router& router, services::CartService& cart,
                          services::AuthService& auth);
void register_order_routes(http::Router& router, services::CheckoutService& checkout,
                           services::AuthService& auth);

// A product as GET /products/{id} shows it (the catalog read model keeps it rendered).
std::string render_product_json(const models::Product& product);
// The categories facet of GET /products (the read model keeps the whole catalog's rendered).
std::string render_category_facets_json(
    const std::vector<services::ListingFacets::CategoryCount>& categories);

// Sets a strong ETag computed from the body; a matching If-None-Match turns the response into
// a 304 without a body.
http::Response with_etag(http::Response response, const http::RequestContext& ctx);
// 503 until the in-memory catalog has been loaded.
void require_loaded(const services::CatalogReadModel& catalog);

// The HTTP side of authentication: reads `Authorization: Bearer`, asks services::AuthService
// who the token names and keeps the caller on the request (ctx.principal), so a second check in
// the same request is free. Domain refusals come back as 401/403 through http::to_api_error.
class RequestAuth {
  public:
    explicit RequestAuth(services::AuthService& auth) : auth_(auth) {}

    // The caller, or 401 (WWW-Authenticate: Bearer).
    services::Principal require_user(http::RequestContext& ctx) const;
    // The caller, who must be an admin now (else 403).
    services::Principal require_admin(http::RequestContext& ctx) const;
    // The caller, an admin or the user whose id is `user_id` (else 403).
    services::Principal require_self_or_admin(http::RequestContext& ctx,
                                              const std::string& user_id) const;
    services::AuthService& service() const noexcept { return auth_; }

  private:
    services::AuthService& auth_;
};

// Adapts a member function of a handlers object (shared by its routes) to a Handler.
template <typename Handlers>
http::Handler bind_handler(const std::shared_ptr<Handlers>& handlers,
                           http::Response (Handlers::*method)(http::RequestContext&)) {
    return [handlers, method](http::RequestContext& ctx) { return ((*handlers).*method)(ctx); };
}

}  // namespace routes
}  // namespace flaskcart
