#pragma once
// The database tests run against: a throwaway FerretDB on a free port with a temporary data
// directory (removed afterwards), or, when MONGODB_URI is set, that server. FerretDB's backend is
// FLASKCART_FERRETDB_BACKEND (sqlite or postgresql; default_ferretdb_backend() when unset); with
// postgresql each FerretDbServer owns a private PostgreSQL cluster (scripts/postgres-cluster).

#include <memory>
#include <string>

#include "support/process.hpp"

namespace flaskcart::testing {

// "sqlite" or "postgresql": FLASKCART_FERRETDB_BACKEND, or the project's default.
std::string ferretdb_backend();
std::string default_ferretdb_backend();

// A private PostgreSQL cluster in a temporary directory: initdb'd and started by the
// constructor, stopped and removed by the destructor. Durability is off (throwaway data).
class PostgresCluster {
  public:
    PostgresCluster();
    ~PostgresCluster();
    PostgresCluster(const PostgresCluster&) = delete;
    PostgresCluster& operator=(const PostgresCluster&) = delete;
    const std::string& url() const noexcept { return url_; }  // for --postgresql-url

  private:
    std::string data_dir_;
    // Kept from construction: a cluster held in a static may be stopped after test_log_dir()'s
    // own static is gone.
    std::string log_dir_;
    std::string url_;
};

class FerretDbServer {
  public:
    FerretDbServer();  // picks a port and a data directory (or cluster); call start()
    ~FerretDbServer();
    void start();
    void stop();  // SIGTERM, then wait (the PostgreSQL cluster, if any, keeps running)
    int port() const noexcept { return port_; }
    std::string uri() const;

  private:
    int port_ = 0;
    std::string data_dir_;
    std::unique_ptr<PostgresCluster> postgres_;
    std::unique_ptr<ChildProcess> process_;
};

// Process-wide: the URI every db/api test uses, started on first use.
std::string shared_database_uri();
// "fc_t<pid>_<n>_<random>": unique per call, so tests never share data.
std::string unique_database_name();
// Where a test's processes write their logs.
std::string test_log_dir();

}  // namespace flaskcart::testing
