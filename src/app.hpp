#pragma once
// Composition root: owns the driver, the database pool, the network io_context, the worker
// pool, the stores and services, and the router; wires the routes; handles signals.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "config.hpp"
#include "http/router.hpp"

namespace flaskcart {

struct AppComponents;
namespace db {
class Db;
}
namespace models {
class UserStore;
}
namespace services {
class AuthService;
}

class App {
  public:
    explicit App(Config config);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    // Serves until SIGINT/SIGTERM, then drains in-flight requests. Returns the exit code.
    int run();

    db::Db& db() noexcept;
    models::UserStore& users() noexcept;
    services::AuthService& auth() noexcept;
    const http::Router& router() const noexcept { return router_; }
    // Creates the indexes every store declares; safe to repeat. Throws db::DbError.
    void ensure_indexes();
    // For the CLI commands: begin_writes() before a catalog write (services::ChangeFeed::
    // begin_writing); publish_changes() tells running instances what this process wrote (change
    // feed) and closes the writer session.
    void begin_writes();
    void publish_changes();
    void announce_catalog_replaced();

  private:
    // The driver's lifetime and the database pool, kept out of this header (no libmongoc here).
    struct Database;
    void register_routes();
    // Refuses a change (503) while this instance may not write; the router's guard.
    void guard_writes(const http::Request& request) const;
    // Once the port is open: starts the maintenance and writer-role threads and the change
    // feed, runs the network threads until the server stops, then stops the rest in order.
    // `stop_serving` is what the writer role calls when this instance must stop (exit code 2).
    void serve_until_stopped(const std::function<void()>& stop_serving);
    void stop_background_work(std::thread& maintenance, std::thread& writer_role);
    void run_maintenance_loop();
    void run_maintenance_once();
    // Before the port opens: what may this instance write (FerretDB: take the writer lease)?
    // False when another instance is the writer, so this one must not start.
    bool start_writer_role();
    // Keeps the role current (renews the lease) until stopped; calls `stop_serving` when this
    // instance turns out not to be the writer after all.
    void run_writer_role_loop(std::chrono::milliseconds first_wait,
                              const std::function<void()>& stop_serving);
    void report_not_writer() const;
    void load_demo_catalog_if_empty();

    Config config_;
    std::unique_ptr<Database> database_;
    std::unique_ptr<AppComponents> components_;
    http::Router router_;
    // Run by config_.network_threads threads (one per core by default); see http::Server.
    boost::asio::io_context io_;
    boost::asio::thread_pool workers_;

    std::mutex maintenance_mutex_;
    std::condition_variable maintenance_wakeup_;
    bool stopping_ = false;
    // Set once every index exists and the read models are loaded; /ready stays 503 until then,
    // so a load balancer sends no traffic to an instance whose unique indexes are not yet
    // guarding writes or whose catalog is still empty.
    std::atomic<bool> indexes_ready_{false};

    std::mutex role_mutex_;
    std::condition_variable role_wakeup_;
    bool role_stopping_ = false;
    std::chrono::milliseconds first_role_wait_{0};
    int exit_code_ = 0;  // set on the network thread
};

// Sets up logging, then runs the subcommand the config names (serve, create-admin, seed-demo).
int run_command(const Config& config);

}  // namespace flaskcart
