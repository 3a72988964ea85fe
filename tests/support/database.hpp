#pragma once
// The database tests run against: a throwaway FerretDB on a free port with a temporary data
// directory (removed afterwards), or, when MONGODB_URI is set, that server.

#include <memory>
#include <string>

#include "support/process.hpp"

namespace flaskcart::testing {

class FerretDbServer {
  public:
    FerretDbServer();  // picks a port and a data directory; call start()
    ~FerretDbServer();
    void start();
    void stop();  // SIGTERM, then wait
    int port() const noexcept { return port_; }
    std::string uri() const;

  private:
    int port_;
    std::string data_dir_;
    std::unique_ptr<ChildProcess> process_;
};

// Process-wide: the URI every db/api test uses, started on first use.
std::string shared_database_uri();
// "fc_t<pid>_<n>_<random>": unique per call, so tests never share data.
std::string unique_database_name();
// Where a test's processes write their logs.
std::string test_log_dir();

}  // namespace flaskcart::testing
