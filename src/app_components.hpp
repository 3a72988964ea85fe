#pragma once
// Everything the application builds on a database handle — the stores, the read models and the
// services — in dependency order, and the API routes onto a router with them behind. The
// composition root (App) owns one; the OpenAPI test builds one too and checks the contract
// against the very router the service serves, without an App (no network, no worker pool, no
// background threads: nothing here contacts the database or starts a thread when built).

#include <atomic>
#include <functional>

#include "config.hpp"
#include "http/router.hpp"
#include "models/cart_model.hpp"
#include "models/category_model.hpp"
#include "models/change_model.hpp"
#include "models/checkout_claim_model.hpp"
#include "models/image_model.hpp"
#include "models/inventory_model.hpp"
#include "models/lease_model.hpp"
#include "models/order_model.hpp"
#include "models/product_model.hpp"
#include "models/user_model.hpp"
#include "services/access_cache.hpp"
#include "services/auth_service.hpp"
#include "services/cart_service.hpp"
#include "services/catalog_read_model.hpp"
#include "services/change_feed.hpp"
#include "services/checkout_service.hpp"
#include "services/writer_lease.hpp"

namespace flaskcart {

namespace db {
class Db;
}
namespace metrics {
class Registry;
}

struct AppComponents {
    AppComponents(db::Db& db, const Config& config);
    AppComponents(const AppComponents&) = delete;
    AppComponents& operator=(const AppComponents&) = delete;

    // Every API route (app_routes.hpp) onto `router`; `ping_database` answers GET /ready.
    void register_routes(http::Router& router, const Config& config,
                         std::function<bool()> ping_database,
                         const std::atomic<bool>& indexes_ready, const metrics::Registry& metrics);

    models::UserStore users;
    models::RevokedTokenStore revoked_tokens;
    services::AuthService auth;
    models::CategoryStore categories;
    models::ProductStore products;
    models::ImageStore images;
    models::CartStore cart;
    models::OrderStore orders;
    models::ProductStockLedger ledger;
    models::CheckoutClaimStore checkout_claims;
    // Before product_lookup, which keeps a reference to it.
    services::CatalogReadModel catalog;
    services::CatalogProductLookup product_lookup;
    services::CartService cart_service;
    services::CheckoutService checkout;
    models::LeaseStore leases;
    services::WriterRole writer_role;
    models::ChangeLogStore changes;
    services::AccessCache access;
    services::ChangeFeed feed;
};

}  // namespace flaskcart
