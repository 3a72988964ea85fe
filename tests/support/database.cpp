#include "support/database.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <random>
#include <stdexcept>

namespace flaskcart::testing {

std::string test_log_dir() {
    static const std::string dir = make_temp_dir("flaskcart-test-logs-");
    return dir;
}

FerretDbServer::FerretDbServer()
    : port_(find_free_port()), data_dir_(make_temp_dir("flaskcart-ferretdb-")) {}

FerretDbServer::~FerretDbServer() {
    stop();
    remove_tree(data_dir_);
}

void FerretDbServer::start() {
    const char* binary = std::getenv("FLASKCART_FERRETDB_BIN");
    if (binary == nullptr || *binary == '\0') {
        throw std::runtime_error(
            "FLASKCART_FERRETDB_BIN is not set: run the tests through scripts/test, or set "
            "MONGODB_URI to use an existing server");
    }
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{binary, "--listen-addr=127.0.0.1:" + std::to_string(port_),
                                 "--sqlite-url=file:" + data_dir_ + "/", "--log-level=warn"},
        std::vector<std::string>{"DO_NOT_TRACK=1"},
        test_log_dir() + "/ferretdb-" + std::to_string(port_) + ".log");
    if (!wait_for_port(port_, std::chrono::seconds(30))) {
        throw std::runtime_error("FerretDB did not start on port " + std::to_string(port_));
    }
}

void FerretDbServer::stop() {
    if (!process_) return;
    process_->send_signal(SIGTERM);
    if (!process_->wait_for_exit(std::chrono::seconds(10))) {
        process_->send_signal(SIGKILL);
        process_->wait_for_exit(std::chrono::seconds(10));
    }
    process_.reset();
}

std::string FerretDbServer::uri() const {
    return "mongodb://127.0.0.1:" + std::to_string(port_) + "/";
}

std::string shared_database_uri() {
    static std::once_flag once;
    static std::string uri;
    static std::unique_ptr<FerretDbServer> server;
    std::call_once(once, [] {
        if (const char* given = std::getenv("MONGODB_URI"); given != nullptr && *given != '\0') {
            uri = given;
            return;
        }
        server = std::make_unique<FerretDbServer>();
        server->start();
        uri = server->uri();
        // Stopped and its data removed at exit, after every test.
        std::atexit([] { server.reset(); });
    });
    return uri;
}

std::string unique_database_name() {
    static std::atomic<int> counter{0};
    static const unsigned salt = std::random_device{}() % 100000;
    return "fc_t" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
           std::to_string(salt);
}

}  // namespace flaskcart::testing
