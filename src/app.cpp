#include "app.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>
#include <iostream>

#include "app_components.hpp"
#include "commands.hpp"
#include "http/server.hpp"
#include "services/catalog_seed.hpp"
#include "utils/db.hpp"
#include "utils/metrics.hpp"
#include "utils/text.hpp"
#include "web/static_site.hpp"

namespace flaskcart {

namespace asio = boost::asio;

struct App::Database {
    explicit Database(const db::DbOptions& options) : db(options) {}
    db::DriverLifetime driver;  // first in, last out
    db::Db db;
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

int network_thread_count(const Config& config) {
    if (config.network_threads > 0) return config.network_threads;
    return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
}

// "mongodb://user:secret@host" → "mongodb://***@host": URIs are logged, passwords never.
std::string redact_credentials(const std::string& uri) {
    const auto scheme_end = uri.find("://");
    const auto at = uri.rfind('@');
    if (scheme_end == std::string::npos || at == std::string::npos || at < scheme_end) return uri;
    return uri.substr(0, scheme_end + 3) + "***" + uri.substr(at);
}

// The message with control characters and invalid bytes escaped (text::escape_for_log): every
// value in it may come from a client, and one forged newline would forge a log line.
std::string safe_message(const spdlog::details::log_msg& msg) {
    return text::escape_for_log(std::string_view(msg.payload.data(), msg.payload.size()));
}

class SafeMessageFlag : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        const std::string text = safe_message(msg);
        dest.append(text.data(), text.data() + text.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<SafeMessageFlag>();
    }
};

// The safe message as a JSON string for --log-format json (valid UTF-8, so valid JSON).
class JsonMessageFlag : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        const std::string text = boost::json::serialize(boost::json::string(safe_message(msg)));
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
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<SafeMessageFlag>('*').set_pattern(
            "%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %*");
        spdlog::set_formatter(std::move(formatter));
    }
}

}  // namespace

App::App(Config config)
    : config_(std::move(config)),
      database_(std::make_unique<Database>(db_options(config_))),
      components_(std::make_unique<AppComponents>(database_->db, config_)),
      io_(network_thread_count(config_)),
      workers_(static_cast<std::size_t>(config_.worker_threads)) {
    register_routes();
}

App::~App() {
    workers_.join();
}

db::Db& App::db() noexcept {
    return database_->db;
}
models::UserStore& App::users() noexcept {
    return components_->users;
}
services::AuthService& App::auth() noexcept {
    return components_->auth;
}

void App::begin_writes() {
    components_->feed.begin_writing();
}

void App::publish_changes() {
    try {
        components_->feed.stop_writing_cleanly();
    } catch (const std::exception& error) {
        // Running instances still see the change after their next full reload or restart.
        spdlog::warn("could not announce the change to running instances: {}", error.what());
    }
}

void App::announce_catalog_replaced() {
    components_->feed.catalog_replaced();
    publish_changes();
}

void App::guard_writes(const http::Request& request) const {
    if (!services::changes_data(request.method, request.path)) return;
    switch (components_->writer_role.refusal(services::LeaseClock::now())) {
        case services::WriteRefusal::kNone:
            return;
        case services::WriteRefusal::kReadOnly:
            throw http::ApiError(503, "read-only", "Read-Only Instance",
                                 "this instance serves reads only (--read-only); send changes "
                                 "to the writer instance");
        case services::WriteRefusal::kNotYetWriter:
            throw http::ApiError::unavailable(
                "this instance has not yet confirmed it is the only writer (FerretDB allows "
                "one writer per database); retry shortly",
                2);
        case services::WriteRefusal::kLeaseNotHeld:
            throw http::ApiError::unavailable(
                "this instance does not hold the writer lease right now (FerretDB allows one "
                "writer per database); retry shortly",
                2);
    }
}

void App::register_routes() {
    router_.set_guard([this](const http::Request& request) { guard_writes(request); });
    components_->register_routes(
        router_, config_, [this] { return db().ping(); }, indexes_ready_,
        metrics::process_registry());
}

void App::ensure_indexes() {
    models::UserStore::ensure_indexes(db());
    models::CategoryStore::ensure_indexes(db());
    models::ProductStore::ensure_indexes(db());
    models::CartStore::ensure_indexes(db());
    models::OrderStore::ensure_indexes(db());
    models::CheckoutClaimStore::ensure_indexes(db());
}

void App::run_maintenance_once() {
    // Only the writer changes data (a read-only instance, or one whose lease lapsed, does not).
    const bool may_write = components_->writer_role.refusal(services::LeaseClock::now()) ==
                           services::WriteRefusal::kNone;
    if (!indexes_ready_) {
        ensure_indexes();
        // Before this instance's first write here (tells load() whether to trust the snapshot).
        if (may_write) components_->feed.begin_writing();
        // Before /ready turns 200, so a newcomer's first page already shows the catalog.
        if (may_write && !config_.is_production && config_.demo_catalog_on_empty) {
            load_demo_catalog_if_empty();
        }
        spdlog::info("database indexes are in place");
        if (may_write) components_->checkout.migrate_legacy_documents();
        // The read models, before /ready turns 200: catalog reads are served from them.
        components_->feed.load(may_write);
        indexes_ready_ = true;
    }
    if (!may_write) return;
    components_->feed.write_pending_snapshot(components_->writer_role.state() ==
                                             services::WriterRole::State::kWriter);
    components_->feed.purge(db::now_ms());
    if (const auto purged = components_->revoked_tokens.purge_expired(db::now_ms()); purged > 0) {
        spdlog::info("purged {} expired token revocations", purged);
    }
    const auto report = components_->checkout.recover(db::now_ms());
    if (report.total() > report.holds_committed) {
        spdlog::info(
            "checkout recovery: {} orders of earlier versions released, {} holds committed, {} "
            "cancellations restocked, {} return markers dropped, {} cart claims settled",
            report.orders_cleaned, report.holds_committed, report.cancellations_restocked,
            report.returns_forgotten, report.claims_settled);
    }
}

void App::load_demo_catalog_if_empty() {
    const bool is_empty = db().collection("products").count(db::Bson()) == 0 &&
                          db().collection("categories").count(db::Bson()) == 0;
    if (!is_empty) return;
    spdlog::info(
        "dev mode and an empty catalog: loading the demo catalog "
        "(--demo-catalog-on-empty=false turns this off)");
    services::seed_demo_catalog(db(), Config{}.seed_products);
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

bool App::start_writer_role() {
    auto& role = components_->writer_role;
    // A contender watches the lease for up to its lease time before it may claim it.
    first_role_wait_ = role.step(services::LeaseClock::now());
    while (role.state() == services::WriterRole::State::kAcquiring &&
           role.last_step_reached_database()) {
        std::this_thread::sleep_for(first_role_wait_);
        first_role_wait_ = role.step(services::LeaseClock::now());
    }
    switch (role.state()) {
        case services::WriterRole::State::kRefused:
            report_not_writer();
            return false;
        case services::WriterRole::State::kUndecided:
        case services::WriterRole::State::kAcquiring:
            spdlog::warn(
                "the database did not answer: serving with every change refused (503) until it "
                "does and this instance knows it may write");
            break;
        case services::WriterRole::State::kReadOnly:
            spdlog::info("read-only: every change is refused with 503");
            break;
        default:
            break;
    }
    // A write that slipped past the route guard is stopped right before it reaches the database.
    db().set_write_fence([this] {
        if (components_->writer_role.refusal(services::LeaseClock::now()) !=
            services::WriteRefusal::kNone) {
            throw db::DbError(db::DbErrorKind::kUnavailable, 0, 0,
                              "write refused: this instance is not the writer right now");
        }
    });
    return true;
}

void App::report_not_writer() const {
    const auto& role = components_->writer_role;
    const std::string holder = services::describe_holder(role.other_holder());
    // One line on standard error, like every other start-up refusal.
    if (role.state() == services::WriterRole::State::kLost) {
        std::cerr << "flaskcart: lost the writer lease of FerretDB database \"" << config_.database
                  << "\" to another instance (" << holder
                  << "); stopping, since FerretDB allows one writer per database" << std::endl;
    } else {
        std::cerr << "flaskcart: another instance is the writer of FerretDB database \""
                  << config_.database << "\" (" << holder
                  << "); FerretDB allows one writer per database: stop that instance first, or "
                     "start this one with --read-only"
                  << std::endl;
    }
}

void App::run_writer_role_loop(std::chrono::milliseconds first_wait,
                               const std::function<void()>& stop_serving) {
    using State = services::WriterRole::State;
    auto& role = components_->writer_role;
    auto wait = first_wait;
    std::unique_lock lock(role_mutex_);
    for (;;) {
        const State state = role.state();
        if (state == State::kUnrestricted || state == State::kReadOnly) return;  // settled
        if (state == State::kRefused || state == State::kLost) {
            report_not_writer();
            stop_serving();
            return;
        }
        if (role_wakeup_.wait_for(lock, wait, [this] { return role_stopping_; })) return;
        lock.unlock();
        wait = role.step(services::LeaseClock::now());
        lock.lock();
    }
}

namespace {

http::ServerOptions server_options(const Config& config, const http::Router& router) {
    http::ServerOptions options;
    options.max_body_bytes = std::max(config.max_body_bytes, config.max_image_bytes);
    // Only image uploads may send more than a JSON body.
    options.body_limit_for = [&config](std::string_view target) {
        const std::string_view path = target.substr(0, target.find('?'));
        constexpr std::string_view kImageSuffix = "/image";
        const bool is_image = path.size() > kImageSuffix.size() &&
                              path.substr(path.size() - kImageSuffix.size()) == kImageSuffix;
        return is_image ? config.max_image_bytes : config.max_body_bytes;
    };
    options.header_timeout = std::chrono::milliseconds(config.header_timeout_ms);
    options.body_timeout = std::chrono::milliseconds(config.body_timeout_ms);
    options.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
    options.max_in_flight = static_cast<std::size_t>(config.max_in_flight);
    options.max_connections = static_cast<std::size_t>(config.max_connections);
    // The database pool's sockets, the log, the listener, the event loop and some slack.
    options.reserved_file_descriptors =
        static_cast<std::size_t>(db_options(config).max_pool_size) + 64;
    options.cors_allowed_origins = config.cors_allowed_origins;
    options.metrics = &metrics::process_registry();
    // The browser pages and assets first: their paths are disjoint from the API's (a unit test
    // checks), and they are not API operations, so they stay out of the router and openapi.json.
    // They never touch the database, so they are answered on the network thread.
    options.runs_on_network_thread = [&router](const http::Request& request) {
        return web::StaticSite::owns_path(request.path) || router.runs_on_network_thread(request);
    };
    return options;
}

}  // namespace

int App::run() {
    const web::StaticSite site;
    http::Server server(io_, workers_, server_options(config_, router_),
                        [this, &site](http::Request& request) {
                            if (auto page = site.serve(request)) return std::move(*page);
                            return router_.dispatch(request);
                        });
    // Signals are caught before the port opens, so none is lost between the two.
    asio::signal_set signals(io_, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
        if (ec) return;
        server.shutdown();
        spdlog::info("signal {} received: draining in-flight requests", signal_number);
    });
    if (!start_writer_role()) return 2;
    const auto address = asio::ip::make_address(config_.bind_address);
    server.start({address, static_cast<unsigned short>(config_.port)});
    spdlog::info(
        "flaskcart listening on http://{}:{} (database {} at {}, {} network threads, {} workers, "
        "at most {} connections)",
        config_.bind_address, server.port(), config_.database,
        redact_credentials(config_.mongodb_uri), network_thread_count(config_),
        config_.worker_threads, server.max_connections());
    // Tests and scripts wait for this line on stdout to learn the port.
    std::cout << "LISTENING " << server.port() << std::endl;
    // When this instance turns out not to be the writer, it stops serving (exit code 2) rather
    // than risk two writers.
    serve_until_stopped([this, &server, &signals] {
        asio::post(io_, [this, &server, &signals] {
            exit_code_ = 2;
            signals.cancel();  // its pending wait would keep io_.run() going
            server.shutdown();
        });
    });
    return exit_code_;
}

void App::serve_until_stopped(const std::function<void()>& stop_serving) {
    // Its first pass — indexes, the read models, then start-up recovery — begins at once;
    // /ready answers 503 until the indexes exist and the read models are loaded.
    std::thread maintenance([this] { run_maintenance_loop(); });
    // Renews the writer lease.
    std::thread writer_role(
        [this, &stop_serving] { run_writer_role_loop(first_role_wait_, stop_serving); });
    components_->feed.start();
    metrics::process_registry().add_collector(
        [this](std::string& out) { components_->feed.render_metrics(out); });

    std::vector<std::thread> network;
    for (int i = 1; i < network_thread_count(config_); ++i) {
        network.emplace_back([this] { io_.run(); });
    }
    io_.run();
    for (auto& thread : network) thread.join();
    stop_background_work(maintenance, writer_role);
}

void App::stop_background_work(std::thread& maintenance, std::thread& writer_role) {
    {
        std::lock_guard lock(role_mutex_);
        role_stopping_ = true;
    }
    role_wakeup_.notify_all();
    writer_role.join();
    {
        std::lock_guard lock(maintenance_mutex_);
        stopping_ = true;
    }
    maintenance_wakeup_.notify_all();
    maintenance.join();
    workers_.join();
    components_->feed.stop();
    try {
        // Every write is published: the next writer may start from the catalog snapshot.
        components_->feed.stop_writing_cleanly();
    } catch (const std::exception& error) {
        spdlog::warn("could not publish the last change notices: {}", error.what());
    }
    // Every request, sweep and change notice has finished: hand the lease to a successor at once.
    components_->writer_role.release();
    spdlog::info("flaskcart stopped");
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
            // A seed killed before it announces its catalog must not let a start-up trust the
            // catalog snapshot.
            app.begin_writes();
            const int code = services::seed_demo_catalog(app.db(), config.seed_products);
            if (code == 0) app.announce_catalog_replaced();
            return code;
        }
    }
    return 0;
}

}  // namespace flaskcart
