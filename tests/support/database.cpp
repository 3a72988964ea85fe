#include "support/database.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <random>
#include <stdexcept>
#include <vector>

namespace flaskcart::testing {

namespace {

const char* kPostgresClusterScript = FLASKCART_SOURCE_DIR "/scripts/postgres-cluster";

// Runs scripts/postgres-cluster with `args` and returns its first line of output (the URL on
// start); throws when it fails.
std::string run_postgres_cluster(const std::vector<std::string>& args, const std::string& log_dir) {
    std::vector<std::string> argv{kPostgresClusterScript};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess script(argv, {"FLASKCART_PG_THROWAWAY=1"}, log_dir + "/postgres-cluster.log");
    std::string first_line = script.read_line(std::chrono::seconds(120)).value_or("");
    const auto code = script.wait_for_exit(std::chrono::seconds(120));
    if (code != 0) {
        throw std::runtime_error("scripts/postgres-cluster " + args.front() + " failed; see " +
                                 log_dir + "/postgres-cluster.log");
    }
    return first_line;
}

}  // namespace

// PostgreSQL: measured faster where FerretDB's cost matters (writes; bench/README.md).
std::string default_ferretdb_backend() {
    return "postgresql";
}

std::string ferretdb_backend() {
    const char* chosen = std::getenv("FLASKCART_FERRETDB_BACKEND");
    if (chosen == nullptr || *chosen == '\0') return default_ferretdb_backend();
    const std::string backend = chosen;
    if (backend != "sqlite" && backend != "postgresql") {
        throw std::runtime_error("FLASKCART_FERRETDB_BACKEND must be sqlite or postgresql, not " +
                                 backend);
    }
    return backend;
}

PostgresCluster::PostgresCluster()
    : data_dir_(make_temp_dir("flaskcart-postgres-")), log_dir_(test_log_dir()) {
    url_ = run_postgres_cluster({"start", data_dir_, std::to_string(find_free_port())}, log_dir_);
}

PostgresCluster::~PostgresCluster() {
    try {
        run_postgres_cluster({"stop", data_dir_}, log_dir_);
    } catch (const std::exception&) {
        // Reported in the script's log; the directory goes anyway.
    }
    remove_tree(data_dir_);
}

std::string test_log_dir() {
    static const std::string dir = make_temp_dir("flaskcart-test-logs-");
    return dir;
}

FerretDbServer::FerretDbServer() {
    if (ferretdb_backend() == "postgresql") {
        postgres_ = std::make_unique<PostgresCluster>();
    } else {
        data_dir_ = make_temp_dir("flaskcart-ferretdb-");
    }
    // After the cluster listens: a port chosen before could be the one it was given.
    port_ = find_free_port();
}

FerretDbServer::~FerretDbServer() {
    stop();
    postgres_.reset();
    if (!data_dir_.empty()) remove_tree(data_dir_);
}

void FerretDbServer::start() {
    const char* binary = std::getenv("FLASKCART_FERRETDB_BIN");
    if (binary == nullptr || *binary == '\0') {
        throw std::runtime_error(
            "FLASKCART_FERRETDB_BIN is not set: run the tests through scripts/test, or set "
            "MONGODB_URI to use an existing server");
    }
    std::vector<std::string> argv{binary, "--listen-addr=127.0.0.1:" + std::to_string(port_),
                                  "--log-level=warn"};
    if (postgres_) {
        argv.insert(argv.end(), {"--handler=postgresql", "--postgresql-url=" + postgres_->url()});
    } else {
        argv.emplace_back("--sqlite-url=file:" + data_dir_ + "/");
    }
    process_ = std::make_unique<ChildProcess>(
        argv, std::vector<std::string>{"DO_NOT_TRACK=1"},
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
