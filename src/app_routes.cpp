#include "app_routes.hpp"

#include "openapi_document.hpp"
#include "routes/routes.hpp"

namespace flaskcart {

void register_api_routes(http::Router& router, const ApiDependencies& deps) {
    routes::register_system_routes(router, deps.ping_database, deps.indexes_ready,
                                   kOpenApiDocument);
    routes::register_metrics_route(router, deps.metrics);
    routes::register_user_routes(router, deps.users, deps.auth, deps.config);
    routes::register_category_routes(router, deps.categories, deps.products, deps.catalog,
                                     deps.auth);
    routes::register_product_routes(router, deps.products, deps.images, deps.catalog, deps.auth,
                                    deps.config);
    routes::register_cart_routes(router, deps.cart, deps.auth);
    routes::register_order_routes(router, deps.checkout, deps.auth);
}

}  // namespace flaskcart
