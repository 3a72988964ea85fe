#include "support/service.hpp"

#include <algorithm>
#include <csignal>
#include <stdexcept>
#include <thread>

#include "support/database.hpp"
#include "support/http_client.hpp"
#include "utils/db.hpp"

namespace flaskcart::testing {

std::string service_binary() {
    return FLASKCART_BINARY;
}

Service::Service(ServiceOptions options) : options_(std::move(options)) {
    if (options_.mongodb_uri.empty()) options_.mongodb_uri = shared_database_uri();
    if (options_.database.empty()) {
        options_.database = unique_database_name();
        owns_database_ = true;
    }
    start();
}

void Service::start() {
    static int counter = 0;
    log_path_ = test_log_dir() + "/" + options_.database + "-" + std::to_string(counter++) + ".log";
    // Tests count what they create: no demo catalog underneath (--demo-catalog-on-empty).
    std::vector<std::string> argv{service_binary(),
                                  "--port=0",
                                  "--mongodb-uri=" + options_.mongodb_uri,
                                  "--database=" + options_.database,
                                  "--log-level=info",
                                  "--argon2-memlimit-kib=19456",
                                  "--maintenance-interval=1",
                                  "--demo-catalog-on-empty=false"};
    // API tests register many accounts from 127.0.0.1; tests of the registration limit set
    // their own.
    const bool sets_register_limit = std::any_of(
        options_.extra_args.begin(), options_.extra_args.end(),
        [](const auto& arg) { return arg.rfind("--register-max-per-address", 0) == 0; });
    if (!sets_register_limit) argv.emplace_back("--register-max-per-address=1000000");
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    argv.insert(argv.begin(), options_.command_prefix.begin(), options_.command_prefix.end());
    process_ = std::make_unique<ChildProcess>(argv, options_.extra_env, log_path_);
    for (;;) {
        auto line = process_->read_line(std::chrono::seconds(30));
        if (!line) throw std::runtime_error("flaskcart did not start; see " + log_path_);
        if (line->rfind("LISTENING ", 0) == 0) {
            port_ = std::stoi(line->substr(10));
            break;
        }
    }
    if (!options_.wait_until_ready) return;
    HttpClient client(port_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (client.get("/ready").status != 200) {
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("flaskcart never became ready; see " + log_path_);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

std::optional<int> Service::stop() {
    if (!process_) return std::nullopt;
    process_->send_signal(SIGTERM);
    auto code = process_->wait_for_exit(std::chrono::seconds(30));
    return code;
}

void Service::kill_now() {
    if (!process_) return;
    process_->send_signal(SIGKILL);
    process_->wait_for_exit(std::chrono::seconds(10));
}

Service::~Service() {
    if (process_ && process_->is_running()) stop();
    process_.reset();
    if (owns_database_) {
        try {
            db::Db db({.uri = options_.mongodb_uri, .database = options_.database});
            db.drop_database();
        } catch (const std::exception&) {
            // The server may be gone (outage tests); its data directory is removed anyway.
        }
    }
}

}  // namespace flaskcart::testing
