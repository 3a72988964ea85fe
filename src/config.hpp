#pragma once
// All settings, from flags and FLASKCART_* environment variables (the assignment's config.py).
// Loaded and validated once at start-up; read-only afterwards.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flaskcart {

enum class Command { kServe, kCreateAdmin, kSeedDemo };

struct Config {
    Command command = Command::kServe;

    std::string bind_address = "127.0.0.1";
    int port = 8080;
    std::string mongodb_uri = "mongodb://127.0.0.1:27017";
    std::string database = "flaskcart";
    int worker_threads = 16;
    int max_in_flight = 256;
    // Open client connections; beyond it a new connection gets 503 and is closed at once. Also
    // lowered at start-up to what the file-descriptor limit allows.
    int max_connections = 10'000;
    // Threads that run the HTTP sessions (and the handlers that never touch the database);
    // 0: one per core.
    int network_threads = 0;
    // Origins (scheme://host[:port]) allowed to call the API from a browser; empty: CORS off.
    std::vector<std::string> cors_allowed_origins;
    std::size_t max_body_bytes = std::size_t{1024} * 1024;
    std::size_t max_image_bytes = std::size_t{5} * 1024 * 1024;
    int header_timeout_ms = 10'000;
    int body_timeout_ms = 30'000;
    int idle_timeout_ms = 60'000;
    std::string log_level = "info";
    std::string log_format = "text";

    bool is_production = false;
    std::string jwt_secret;  // generated in dev mode when empty
    std::string jwt_issuer = "flaskcart";
    int token_ttl_seconds = 3600;
    std::uint64_t argon2_memlimit_kib = std::uint64_t{19} * 1024;
    std::uint64_t argon2_opslimit = 2;
    int max_concurrent_hashes = 2;
    int login_max_failures_per_email = 5;
    int login_max_failures_per_address = 20;
    int login_lockout_seconds = 900;
    int register_max_per_address = 10;
    int register_window_seconds = 600;
    // Comma-separated addresses/networks of reverse proxies whose X-Forwarded-For names the
    // client for the per-address limits; empty (the default): the TCP peer is the client.
    std::string trusted_proxies;

    // Serve reads only; every data-changing request is 503. On FerretDB (one writer per
    // database) this is how a second instance may run beside the writer.
    bool read_only = false;

    int maintenance_interval_seconds = 30;
    // How often the read models publish this instance's writes and poll for other instances'.
    int sync_interval_ms = 200;
    int checkout_recovery_after_seconds = 60;
    // Dev mode only: load the demo catalog at start-up when the catalog is empty, so a first
    // `scripts/run` shows a populated storefront. Never in production.
    bool demo_catalog_on_empty = true;
    // Where the product search index lives: "disk" (a private temporary directory; the page
    // cache holds it) or "memory" (the heap: faster first-time searches, ≈ 1.9 KB per product).
    std::string search_index = "disk";

    // create-admin
    std::string admin_email;
    std::string admin_name;
    // seed-demo
    int seed_products = 48;
};

// Parses argv and the environment. On --help prints usage and returns std::nullopt with
// exit_code 0; on a bad value prints a one-line error and returns std::nullopt with exit_code 2.
std::optional<Config> load_config(int argc, char** argv, int& exit_code);

}  // namespace flaskcart
