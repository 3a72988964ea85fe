#include "app_components.hpp"

#include <unistd.h>

#include "app_routes.hpp"
#include "routes/routes.hpp"
#include "utils/db.hpp"
#include "utils/metrics.hpp"

namespace flaskcart {

namespace {

// Who this process is, as the writer lease names it to operators.
models::LeaseTerm this_process() {
    models::LeaseTerm self;
    char host[256] = {};
    self.host = gethostname(host, sizeof host - 1) == 0 ? host : "unknown-host";
    self.pid = getpid();
    self.started_at_ms = db::now_ms();
    self.holder_id = db::oid_to_string(db::new_oid());
    return self;
}

}  // namespace

AppComponents::AppComponents(db::Db& db, const Config& config)
    : users(db),
      revoked_tokens(db),
      auth(config, users, revoked_tokens),
      categories(db),
      products(db),
      images(db),
      cart(db),
      orders(db),
      ledger(db),
      checkout_claims(db),
      catalog(&routes::render_product_json, &routes::render_category_facets_json,
              config.search_index == "memory" ? services::SearchStorage::kMemory
                                              : services::SearchStorage::kDisk),
      product_lookup(catalog),
      cart_service(cart, product_lookup),
      checkout(config, product_lookup, cart, orders, ledger, checkout_claims),
      leases(db),
      writer_role([&db] { return models::detect_server_kind(db); }, leases, this_process(),
                  services::LeaseTiming{}, config.read_only),
      changes(db),
      feed(db, {products, categories, users, revoked_tokens, changes}, catalog, access,
           {.interval = std::chrono::milliseconds(config.sync_interval_ms)}) {
    // Every write reaches the read models of this instance as soon as it is in the
    // database, and the token check reads them instead of the database.
    users.set_listener(&feed);
    revoked_tokens.set_listener(&feed);
    categories.set_listener(&feed);
    products.set_listener(&feed);
    ledger.set_listener(&feed);
    auth.use_directory(&feed);
}

void AppComponents::register_routes(http::Router& router, const Config& config,
                                    std::function<bool()> ping_database,
                                    const std::atomic<bool>& indexes_ready,
                                    const metrics::Registry& metrics) {
    register_api_routes(router, {.config = config,
                                 .ping_database = std::move(ping_database),
                                 .indexes_ready = indexes_ready,
                                 .metrics = metrics,
                                 .users = users,
                                 .categories = categories,
                                 .products = products,
                                 .images = images,
                                 .catalog = catalog,
                                 .auth = auth,
                                 .cart = cart_service,
                                 .checkout = checkout});
}

}  // namespace flaskcart
