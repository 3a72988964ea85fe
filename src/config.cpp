#include "config.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <iostream>
#include <stdexcept>

#include "http/client_address.hpp"

namespace flaskcart {

namespace {

void add_server_options(CLI::App& cli, Config& config) {
    cli.add_option("--bind", config.bind_address, "Address to listen on (an IPv4 or IPv6 address)")
        ->envname("FLASKCART_BIND")
        ->check([](const std::string& address) -> std::string {
            boost::system::error_code ec;
            boost::asio::ip::make_address(address, ec);
            return ec ? "must be an IP address such as 127.0.0.1 or ::1" : "";
        });
    cli.add_option("--port", config.port, "TCP port (0: any free port)")
        ->envname("FLASKCART_PORT")
        ->check(CLI::Range(0, 65535));
    cli.add_option("--mongodb-uri", config.mongodb_uri, "MongoDB connection string")
        ->envname("MONGODB_URI");
    cli.add_option("--database", config.database, "Database name")
        ->envname("FLASKCART_DATABASE")
        ->check([](const std::string& name) -> std::string {
            if (name.empty() || name.size() > 63) return "must be 1..63 characters";
            if (name.find_first_of("/\\. \"$*<>:|?") != std::string::npos) {
                return "must not contain / \\ . space \" $ * < > : | ?";
            }
            return {};
        });
    cli.add_option("--workers", config.worker_threads, "Worker threads that run handlers")
        ->envname("FLASKCART_WORKERS")
        ->check(CLI::Range(1, 512));
    cli.add_option("--max-in-flight", config.max_in_flight,
                   "Requests running or queued before new ones get 503")
        ->envname("FLASKCART_MAX_IN_FLIGHT")
        ->check(CLI::Range(1, 100000));
    cli.add_option("--max-connections", config.max_connections,
                   "Open client connections before new ones get 503 and are closed")
        ->envname("FLASKCART_MAX_CONNECTIONS")
        ->check(CLI::Range(1, 1'000'000));
    cli.add_option("--network-threads", config.network_threads,
                   "Threads serving connections (0: one per core)")
        ->envname("FLASKCART_NETWORK_THREADS")
        ->check(CLI::Range(0, 256));
    cli.add_option("--cors-allowed-origins", config.cors_allowed_origins,
                   "Comma-separated origins allowed to call the API from a browser (empty: CORS "
                   "off)")
        ->envname("FLASKCART_CORS_ALLOWED_ORIGINS")
        ->delimiter(',')
        ->check([](const std::string& origin) -> std::string {
            const bool has_scheme =
                origin.rfind("http://", 0) == 0 || origin.rfind("https://", 0) == 0;
            const auto host_start = origin.find("://") + 3;
            if (!has_scheme || origin.size() <= host_start ||
                origin.find_first_of("/?# ", host_start) != std::string::npos) {
                return "must be an origin such as https://shop.example.com (scheme://host[:port], "
                       "no path)";
            }
            return {};
        });
}

void add_request_and_log_options(CLI::App& cli, Config& config) {
    cli.add_option("--max-body-bytes", config.max_body_bytes, "Largest JSON request body")
        ->envname("FLASKCART_MAX_BODY_BYTES")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{64} * 1024 * 1024));
    cli.add_option("--max-image-bytes", config.max_image_bytes, "Largest product image upload")
        ->envname("FLASKCART_MAX_IMAGE_BYTES")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{64} * 1024 * 1024));
    cli.add_option("--header-timeout-ms", config.header_timeout_ms, "Time to read request headers")
        ->envname("FLASKCART_HEADER_TIMEOUT_MS")
        ->check(CLI::Range(100, 600000));
    cli.add_option("--body-timeout-ms", config.body_timeout_ms, "Time to read a request body")
        ->envname("FLASKCART_BODY_TIMEOUT_MS")
        ->check(CLI::Range(100, 600000));
    cli.add_option("--idle-timeout-ms", config.idle_timeout_ms, "Keep-alive idle timeout")
        ->envname("FLASKCART_IDLE_TIMEOUT_MS")
        ->check(CLI::Range(100, 3600000));
    cli.add_option("--log-level", config.log_level, "trace, debug, info, warn, error")
        ->envname("FLASKCART_LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
    cli.add_option("--log-format", config.log_format, "text or json")
        ->envname("FLASKCART_LOG_FORMAT")
        ->check(CLI::IsMember({"text", "json"}));
}

void add_auth_options(CLI::App& cli, Config& config, std::string& mode) {
    cli.add_option("--mode", mode, "dev or production (production requires --jwt-secret)")
        ->envname("FLASKCART_MODE")
        ->check(CLI::IsMember({"dev", "production"}));
    cli.add_option("--jwt-secret", config.jwt_secret,
                   "HS256 signing secret, at least 32 bytes (prefer the environment variable)")
        ->envname("FLASKCART_JWT_SECRET");
    cli.add_option("--jwt-issuer", config.jwt_issuer, "Token issuer (iss)")
        ->envname("FLASKCART_JWT_ISSUER");
    cli.add_option("--token-ttl", config.token_ttl_seconds, "Token lifetime in seconds")
        ->envname("FLASKCART_TOKEN_TTL")
        ->check(CLI::Range(60, 30 * 86400));
    cli.add_option("--argon2-memlimit-kib", config.argon2_memlimit_kib,
                   "argon2id memory cost in KiB (OWASP minimum 19456)")
        ->envname("FLASKCART_ARGON2_MEMLIMIT_KIB")
        ->check(CLI::Range(std::uint64_t{19456}, std::uint64_t{4} * 1024 * 1024));
    cli.add_option("--argon2-opslimit", config.argon2_opslimit, "argon2id passes (minimum 2)")
        ->envname("FLASKCART_ARGON2_OPSLIMIT")
        ->check(CLI::Range(std::uint64_t{2}, std::uint64_t{64}));
    cli.add_option("--max-concurrent-hashes", config.max_concurrent_hashes,
                   "Password hashes computed at once; more wait or get 503")
        ->envname("FLASKCART_MAX_CONCURRENT_HASHES")
        ->check(CLI::Range(1, 256));
}

// What this instance admits: login and registration limits, --read-only, trusted proxies.
void add_admission_options(CLI::App& cli, Config& config) {
    cli.add_option("--login-max-failures-per-email", config.login_max_failures_per_email,
                   "Failed logins for one email before 429 (per instance)")
        ->envname("FLASKCART_LOGIN_MAX_FAILURES_PER_EMAIL")
        ->check(CLI::Range(1, 100000));
    cli.add_option("--login-max-failures-per-address", config.login_max_failures_per_address,
                   "Failed logins from one client address before 429 (per instance)")
        ->envname("FLASKCART_LOGIN_MAX_FAILURES_PER_ADDRESS")
        ->check(CLI::Range(1, 100000));
    cli.add_option("--login-lockout-seconds", config.login_lockout_seconds,
                   "Window for counting failed logins, and the lockout length")
        ->envname("FLASKCART_LOGIN_LOCKOUT_SECONDS")
        ->check(CLI::Range(1, 86400));
    cli.add_flag("--read-only", config.read_only,
                 "Serve reads only and refuse every change with 503 (on FerretDB, how a second "
                 "instance runs beside the one writer)")
        ->envname("FLASKCART_READ_ONLY");
    cli.add_option("--register-max-per-address", config.register_max_per_address,
                   "Registrations from one client address per window before 429 (per instance)")
        ->envname("FLASKCART_REGISTER_MAX_PER_ADDRESS")
        ->check(CLI::Range(1, 1000000));
    cli.add_option("--register-window-seconds", config.register_window_seconds,
                   "Window for counting registrations per address, and the lockout length")
        ->envname("FLASKCART_REGISTER_WINDOW_SECONDS")
        ->check(CLI::Range(1, 86400));
    cli.add_option("--trusted-proxies", config.trusted_proxies,
                   "Reverse proxies (comma-separated addresses or networks) whose "
                   "X-Forwarded-For names the client for per-address limits; empty: none")
        ->envname("FLASKCART_TRUSTED_PROXIES")
        ->check([](const std::string& list) -> std::string {
            try {
                http::TrustedProxies::parse(list);
                return {};
            } catch (const std::invalid_argument& error) {
                return error.what();
            }
        });
}

void add_instance_options(CLI::App& cli, Config& config) {
    cli.add_option("--maintenance-interval", config.maintenance_interval_seconds,
                   "Seconds between maintenance sweeps (indexes, expired data, checkout recovery)")
        ->envname("FLASKCART_MAINTENANCE_INTERVAL")
        ->check(CLI::Range(1, 3600));
    cli.add_option("--sync-interval-ms", config.sync_interval_ms,
                   "Milliseconds between change-feed rounds (publish own writes, poll others')")
        ->envname("FLASKCART_SYNC_INTERVAL_MS")
        ->check(CLI::Range(10, 5000));
    cli.add_option("--checkout-recovery-after", config.checkout_recovery_after_seconds,
                   "Age in seconds after which an unfinished checkout is rolled back")
        ->envname("FLASKCART_CHECKOUT_RECOVERY_AFTER")
        ->check(CLI::Range(1, 86400));
    cli.add_option("--demo-catalog-on-empty", config.demo_catalog_on_empty,
                   "Dev mode: load the demo catalog at start-up when there are no products and "
                   "no categories (ignored in production)")
        ->envname("FLASKCART_DEMO_CATALOG_ON_EMPTY");
    cli.add_option("--search-index", config.search_index,
                   "Where the search index lives: disk (a private directory under $TMPDIR, held "
                   "by the page cache) or memory (faster first-time searches, more RSS)")
        ->envname("FLASKCART_SEARCH_INDEX")
        ->check(CLI::IsMember({"disk", "memory"}));
}

// Checks across options that CLI11 cannot express; false (with a message) to refuse.
bool is_consistent(const Config& config) {
    if (!config.jwt_secret.empty() && config.jwt_secret.size() < 32) {
        std::cerr << "flaskcart: --jwt-secret must be at least 32 bytes\n";
        return false;
    }
    if (config.is_production && config.jwt_secret.empty()) {
        std::cerr << "flaskcart: production mode needs FLASKCART_JWT_SECRET (at least 32 bytes)\n";
        return false;
    }
    return true;
}

}  // namespace

std::optional<Config> load_config(int argc, char** argv, int& exit_code) {
    Config config;
    CLI::App cli{"FlaskCart: a small e-commerce REST API on MongoDB"};
    cli.option_defaults()->always_capture_default();
    cli.set_help_all_flag("--help-all", "Show help for every subcommand");

    std::string mode = "dev";
    add_server_options(cli, config);
    add_request_and_log_options(cli, config);
    add_auth_options(cli, config, mode);
    add_admission_options(cli, config);
    add_instance_options(cli, config);

    CLI::App* create_admin =
        cli.add_subcommand("create-admin",
                           "Create the first admin, or promote an existing user; the password is "
                           "read from FLASKCART_ADMIN_PASSWORD or standard input");
    create_admin->add_option("--email", config.admin_email, "Admin email")->required();
    create_admin->add_option("--name", config.admin_name, "Admin name (for a new user)");
    CLI::App* seed_demo = cli.add_subcommand("seed-demo", "Load a demo catalog (idempotent)");
    seed_demo->add_option("--products", config.seed_products, "How many products")
        ->check(CLI::Range(1, 10'000'000));
    cli.require_subcommand(0, 1);

    try {
        cli.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        exit_code = cli.exit(e);
        return std::nullopt;
    } catch (const CLI::CallForAllHelp& e) {
        exit_code = cli.exit(e);
        return std::nullopt;
    } catch (const CLI::ParseError& e) {
        std::cerr << "flaskcart: " << e.what() << " (see --help)\n";
        exit_code = 2;
        return std::nullopt;
    }

    config.is_production = mode == "production";
    if (create_admin->parsed()) config.command = Command::kCreateAdmin;
    if (seed_demo->parsed()) config.command = Command::kSeedDemo;
    if (!is_consistent(config)) {
        exit_code = 2;
        return std::nullopt;
    }
    exit_code = 0;
    return config;
}

}  // namespace flaskcart
