#pragma once
// Every API route onto a router, given what the handlers use: the composition root calls it
// with its components, and the OpenAPI test with its own, so the contract is checked against
// the router without an App (no network, no worker pool, no background threads).

#include <atomic>
#include <functional>

#include "http/router.hpp"

namespace flaskcart {

struct Config;
namespace metrics {
class Registry;
}
namespace models {
class UserStore;
class CategoryStore;
class ProductStore;
class ImageStore;
class OrderStore;
}  // namespace models
namespace services {
class AuthService;
class CatalogReadModel;
class CartService;
class CheckoutService;
}  // namespace services

// References the handlers keep: each must outlive the router.
struct ApiDependencies {
    const Config& config;
    std::function<bool()> ping_database;  // for GET /ready; may block
    const std::atomic<bool>& indexes_ready;
    const metrics::Registry& metrics;
    models::UserStore& users;
    models::CategoryStore& categories;
    models::ProductStore& products;
    models::ImageStore& images;
    const services::CatalogReadModel& catalog;
    services::AuthService& auth;
    services::CartService& cart;
    services::CheckoutService& checkout;
};

// Registers the system, metrics, user, category, product, cart and order routes, in that order.
void register_api_routes(http::Router& router, const ApiDependencies& deps);

}  // namespace flaskcart
