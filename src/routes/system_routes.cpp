// Operational endpoints: liveness, readiness (database ping) and the API contract.
#include <boost/json.hpp>

#include "http/context.hpp"
#include "routes/routes.hpp"
#include "utils/metrics.hpp"

namespace flaskcart::routes {

void register_system_routes(http::Router& router, const std::function<bool()>& ping_database,
                            const std::atomic<bool>& indexes_ready, std::string_view openapi_json) {
    // Liveness and the contract never touch the database: they answer from the network thread
    // even while database work fills the worker pool.
    router.add("GET", "/health",
               [](http::RequestContext&) {
                   return http::Response::json(200, {{"status", "ok"}});
               },
               {.runs_on_network_thread = true});
    router.add("GET", "/ready", [ping_database, &indexes_ready](http::RequestContext&) {
        if (!ping_database()) throw http::ApiError::unavailable("the database is unreachable", 2);
        if (!indexes_ready.load()) {
            throw http::ApiError::unavailable("the database indexes are being created", 1);
        }
        return http::Response::json(200, {{"status", "ready"}, {"database", "ok"}});
    });
    router.add("GET", "/openapi.json",
               [openapi_json](http::RequestContext&) {
                   http::Response response;
                   response.body = std::string(openapi_json);
                   response.headers.emplace_back("Cache-Control", "public, max-age=300");
                   return response;
               },
               {.runs_on_network_thread = true});
}

void register_metrics_route(http::Router& router, const metrics::Registry& registry) {
    router.add("GET", "/metrics",
               [&registry](http::RequestContext&) {
                   http::Response response;
                   response.content_type = "text/plain; version=0.0.4; charset=utf-8";
                   response.body = registry.render();
                   response.headers.emplace_back("Cache-Control", "no-store");
                   return response;
               },
               {.runs_on_network_thread = true});
}

}  // namespace flaskcart::routes
