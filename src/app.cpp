#include "app.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>
#include <iostream>

#include "commands.hpp"
#include "http/server.hpp"
#include "models/cart_model.hpp"
#include "models/category_model.hpp"
#include "models/change_model.hpp"
#include "models/image_model.hpp"
#include "models/inventory_model.hpp"
#include "models/order_model.hpp"
#include "models/product_model.hpp"
#include "models/user_model.hpp"
#include "openapi_document.hpp"
#include "routes/routes.hpp"
#include "services/access_cache.hpp"
#include "services/auth_service.hpp"
#include "services/cart_service.hpp"
#include "services/catalog_read_model.hpp"
#include "services/catalog_seed.hpp"
#include "services/change_feed.hpp"
#include "services/checkout_service.hpp"
#include "utils/metrics.hpp"

namespace flaskcart {

namespace asio = boost::asio;

// Everything built on the database handle, in dependency order.
struct App::Components {
    Components(db::Db& db, const Config& config)
        : users(db),
          revoked_tokens(db),
          auth(config, users, revoked_tokens),
          categories(db),
          products(db),
          images(db),
          cart(db),
          orders(db),
          ledger(db),
          cart_service(cart, products),
          checkout(config, products, cart, orders, ledger),
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

    models::UserStore users;
    models::RevokedTokenStore revoked_tokens;
    services::AuthService auth;
    models::CategoryStore categories;
    models::ProductStore products;
    models::ImageStore images;
    models::CartStore cart;
    models::OrderStore orders;
    models::ProductStockLedger ledger;
    services::CartService cart_service;
    services::CheckoutService checkout;
    models::ChangeLogStore changes;
    services::CatalogReadModel catalog{&routes::render_product_json};
    services::AccessCache access;
    services::ChangeFeed feed;
};

namespace {

db::DbOptions db_options(const Config& config) {
    db::DbOptions options;
    options.uri = config.mongodb_uri;
    options.database = config.database;
    // Each worker holds at most one client at a time, the maintenance thread one more.
    options.max_pool_size = config.worker_threads + 4;
    return options;
}

// "mongodb://user:secret@host" → "mongodb://***@host": URIs are logged, passwords never.
std::string redact_credentials(const std::string& uri) {
    const auto scheme_end = uri.find("://");
    const auto at = uri.rfind('@');
    if (scheme_end == std::string::npos || at == std::string::npos || at < scheme_end) return uri;
    return uri.substr(0, scheme_end + 3) + "***" + uri.substr(at);
}

// Escapes the message as a JSON string for --log-format json.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        const std::string text = boost::json::serialize(
            boost::json::string(std::string_view(msg.payload.data(), msg.payload.size())));
        dest.append(text.data(), text.data() + text.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JsonMessageFlag>();
    }
};

void configure_logging(const Config& config) {
    auto logger = spdlog::stderr_color_mt("flaskcart");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    if (config.log_format == "json") {
        auto formatter =
            std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
        formatter->add_flag<JsonMessageFlag>('*').set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"message":%*})");
        spdlog::set_formatter(std::move(formatter));
    } else {
        spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
    }
}

}  // namespace

App::App(Config config)
    : config_(std::move(config)),
      db_(db_options(config_)),
      components_(std::make_unique<Components>(db_, config_)),
      workers_(static_cast<std::size_t>(config_.worker_threads)) {
    register_routes();
}

App::~App() {
    workers_.join();
}

models::UserStore& App::users() noexcept {
    return components_->users;
}
services::AuthService& App::auth() noexcept {
    return components_->auth;
}

void App::publish_changes() {
    try {
        components_->feed.publish_pending();
    } catch (const std::exception& error) {
        // Running instances still see the change after their next full reload or restart.
        spdlog::warn("could not announce the change to running instances: {}", error.what());
    }
}

void App::announce_catalog_replaced() {
    components_->feed.catalog_replaced();
    publish_changes();
}

void App::register_routes() {
    routes::register_system_routes(router_, db_, indexes_ready_, kOpenApiDocument);
    routes::register_metrics_route(router_, metrics::process_registry());
    routes::register_user_routes(router_, components_->users, components_->auth);
    routes::register_category_routes(router_, components_->categories, components_->products,
                                     components_->catalog, components_->auth);
    routes::register_product_routes(router_, components_->products, components_->images,
                                    components_->catalog, components_->auth, config_);
    routes::register_cart_routes(router_, components_->cart_service, components_->auth);
    routes::register_order_routes(router_, components_->checkout, components_->orders,
                                  components_->auth);
}

void App::ensure_indexes() {
    models::UserStore::ensure_indexes(db_);
    models::CategoryStore::ensure_indexes(db_);
    models::ProductStore::ensure_indexes(db_);
    models::CartStore::ensure_indexes(db_);
    models::OrderStore::ensure_indexes(db_);
    models::ChangeLogStore::ensure_indexes(db_);
}

void App::run_maintenance_once() {
    if (!indexes_ready_) {
        ensure_indexes();
        spdlog::info("database indexes are in place");
        components_->feed.load();
        indexes_ready_ = true;
    }
    components_->feed.purge(db::now_ms());
    if (const auto purged = components_->revoked_tokens.purge_expired(db::now_ms()); purged > 0) {
        spdlog::info("purged {} expired token revocations", purged);
    }
    const auto report = components_->checkout.recover(db::now_ms());
    if (report.orders_failed + report.orders_cleaned + report.holds_committed +
            report.cancellations_restocked + report.returns_forgotten >
        0) {
        spdlog::info(
            "checkout recovery: {} abandoned checkouts failed, {} failed orders released, {} "
            "holds committed, {} cancellations restocked, {} return markers dropped",
            report.orders_failed, report.orders_cleaned, report.holds_committed,
            report.cancellations_restocked, report.returns_forgotten);
    }
}

void App::run_maintenance_loop() {
    std::unique_lock lock(maintenance_mutex_);
    while (!stopping_) {
        lock.unlock();
        try {
            run_maintenance_once();
        } catch (const db::DbError& error) {
            spdlog::warn("maintenance sweep failed (will retry): {}", error.what());
        } catch (const std::exception& error) {
            spdlog::error("maintenance sweep failed: {}", error.what());
        }
        lock.lock();
        // Until the indexes exist (database down at start-up), retry every second.
        const auto wait = indexes_ready_
                              ? std::chrono::seconds(config_.maintenance_interval_seconds)
                              : std::chrono::seconds(1);
        maintenance_wakeup_.wait_for(lock, wait, [this] { return stopping_; });
    }
}

int App::run() {
    http::ServerOptions options;
    options.max_body_bytes = std::max(config_.max_body_bytes, config_.max_image_bytes);
    // Only image uploads may send more than a JSON body.
    options.body_limit_for = [this](std::string_view target) {
        const std::string_view path = target.substr(0, target.find('?'));
        constexpr std::string_view kImageSuffix = "/image";
        const bool is_image = path.size() > kImageSuffix.size() &&
                              path.substr(path.size() - kImageSuffix.size()) == kImageSuffix;
        return is_image ? config_.max_image_bytes : config_.max_body_bytes;
    };
    options.header_timeout = std::chrono::milliseconds(config_.header_timeout_ms);
    options.body_timeout = std::chrono::milliseconds(config_.body_timeout_ms);
    options.idle_timeout = std::chrono::milliseconds(config_.idle_timeout_ms);
    options.max_in_flight = static_cast<std::size_t>(config_.max_in_flight);
    options.metrics = &metrics::process_registry();
    http::Server server(io_, workers_, options,
                        [this](http::Request& request) { return router_.dispatch(request); });
    // Signals are caught before the port opens, so none is lost between the two.
    asio::signal_set signals(io_, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
        if (ec) return;
        spdlog::info("signal {} received: draining in-flight requests", signal_number);
        server.shutdown();
    });
    const auto address = asio::ip::make_address(config_.bind_address);
    server.start({address, static_cast<unsigned short>(config_.port)});
    spdlog::info("flaskcart listening on http://{}:{} (database {} at {}, {} workers)",
                 config_.bind_address, server.port(), config_.database,
                 redact_credentials(config_.mongodb_uri), config_.worker_threads);
    // Tests and scripts wait for this line on stdout to learn the port.
    std::cout << "LISTENING " << server.port() << std::endl;

    // Its first pass — indexes, the read models, then start-up recovery — begins at once;
    // /ready answers 503 until the indexes exist and the read models are loaded.
    std::thread maintenance([this] { run_maintenance_loop(); });
    components_->feed.start();
    metrics::process_registry().add_collector(
        [this](std::string& out) { components_->feed.render_metrics(out); });

    io_.run();

    {
        std::lock_guard lock(maintenance_mutex_);
        stopping_ = true;
    }
    maintenance_wakeup_.notify_all();
    maintenance.join();
    workers_.join();
    components_->feed.stop();
    try {
        components_->feed.publish_pending();
    } catch (const std::exception& error) {
        spdlog::warn("could not publish the last change notices: {}", error.what());
    }
    spdlog::info("flaskcart stopped");
    return 0;
}

int run_command(const Config& config) {
    configure_logging(config);
    App app(config);
    switch (config.command) {
        case Command::kServe:
            return app.run();
        case Command::kCreateAdmin: {
            const int code = create_admin(config, app);
            app.publish_changes();
            return code;
        }
        case Command::kSeedDemo: {
            const int code = services::seed_demo_catalog(app.db(), config.seed_products);
            if (code == 0) app.announce_catalog_replaced();
            return code;
        }
    }
    return 0;
}

}  // namespace flaskcart
