#pragma once
// Shortcuts API tests share: accounts, tokens, admins.

#include <string>

#include "support/http_client.hpp"
#include "support/service.hpp"

namespace flaskcart::testing {

inline constexpr const char* kTestPassword = "correct-horse-1";

// Registers (name "Test User") and logs in; returns the bearer token. Fails the test on error.
std::string register_and_login(const HttpClient& client, const std::string& email,
                               const std::string& password = kTestPassword);
// Registers `email` if needed, promotes it with `flaskcart create-admin`, logs in; returns the
// admin's token.
std::string make_admin(Service& service, const HttpClient& client, const std::string& email);
// The user id inside the profile of `token`.
std::string user_id_of(const HttpClient& client, const std::string& token);
// Runs the flaskcart binary with `args` against the service's database; returns the exit code
// and captures standard output in `output`.
int run_cli(Service& service, const std::vector<std::string>& args, std::string* output = nullptr,
            const std::vector<std::string>& env = {});

}  // namespace flaskcart::testing
