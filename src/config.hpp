#pragma once
// All settings, from flags and FLASKCART_* environment variables (the assignment's config.py).
// Loaded and validated once at start-up; read-only afterwards.

#include <cstdint>
#include <optional>
#include <string>

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
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_image_bytes = 5 * 1024 * 1024;
    int header_timeout_ms = 10'000;
    int body_timeout_ms = 30'000;
    int idle_timeout_ms = 60'000;
    std::string log_level = "info";
    std::string log_format = "text";

    bool is_production = false;
    std::string jwt_secret;  // generated in dev mode when empty
    std::string jwt_issuer = "flaskcart";
    int token_ttl_seconds = 3600;
    std::uint64_t argon2_memlimit_kib = 19 * 1024;
    std::uint64_t argon2_opslimit = 2;
    int max_concurrent_hashes = 2;
    int login_max_failures_per_email = 5;
    int login_max_failures_per_address = 20;
    int login_lockout_seconds = 900;

    int maintenance_interval_seconds = 30;
    // How often the read models publish this instance's writes and poll for other instances'.
    int sync_interval_ms = 200;
    int checkout_recovery_after_seconds = 60;

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
