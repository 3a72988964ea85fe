#pragma once
// The real flaskcart binary, started on a free port against a test database.

#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace flaskcart::testing {

struct ServiceOptions {
    std::string mongodb_uri;  // default: shared_database_uri()
    std::string database;     // default: a unique name
    std::vector<std::string> extra_args;
    std::vector<std::string> extra_env;
    // Runs the binary through this command, e.g. {"/usr/bin/prlimit", "--nofile=256"} (which execs
    // it, so the PID stays the service's).
    std::vector<std::string> command_prefix;
    // Wait for GET /ready = 200 (database reachable, indexes created) before returning; off for
    // tests that start the service against a dead database.
    bool wait_until_ready = true;
};

class Service {
  public:
    explicit Service(ServiceOptions options = {});
    ~Service();  // stops the process; drops the database when this service created its name
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    int port() const noexcept { return port_; }
    const std::string& database() const noexcept { return options_.database; }
    const std::string& mongodb_uri() const noexcept { return options_.mongodb_uri; }
    ChildProcess& process() { return *process_; }
    // SIGTERM and wait; returns the exit code.
    std::optional<int> stop();
    void kill_now();  // SIGKILL, for crash tests
    void start();     // (re)start with the same options and database
    std::string log_path() const { return log_path_; }

  private:
    ServiceOptions options_;
    bool owns_database_ = false;
    int port_ = 0;
    std::string log_path_;
    std::unique_ptr<ChildProcess> process_;
};

std::string service_binary();

}  // namespace flaskcart::testing
