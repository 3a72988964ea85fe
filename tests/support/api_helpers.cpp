#include "support/api_helpers.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "support/database.hpp"

namespace flaskcart::testing {

std::string register_and_login(const HttpClient& client, const std::string& email,
                               const std::string& password) {
    auto registered =
        client.post("/register", {{"name", "Test User"}, {"email", email}, {"password", password}});
    EXPECT_TRUE(registered.status == 201 || registered.status == 409) << registered.body;
    auto login = client.post("/login", {{"email", email}, {"password", password}});
    EXPECT_EQ(login.status, 200) << login.body;
    if (login.status != 200) return {};
    return std::string(login.json().at("token").as_string());
}

int run_cli(Service& service, const std::vector<std::string>& args, std::string* output,
            const std::vector<std::string>& env) {
    std::vector<std::string> argv{service_binary(), "--mongodb-uri=" + service.mongodb_uri(),
                                  "--database=" + service.database(), "--log-level=warn",
                                  "--argon2-memlimit-kib=19456"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess process(argv, env, test_log_dir() + "/cli.log");
    std::string collected;
    while (auto line = process.read_line(std::chrono::seconds(120))) collected += *line + "\n";
    if (output != nullptr) *output = collected;
    return process.wait_for_exit(std::chrono::seconds(120)).value_or(-1);
}

std::string make_admin(Service& service, const HttpClient& client, const std::string& email) {
    client.post("/register", {{"name", "Admin"}, {"email", email}, {"password", kTestPassword}});
    const int code = run_cli(service, {"create-admin", "--email", email}, nullptr,
                             {std::string("FLASKCART_ADMIN_PASSWORD=") + kTestPassword});
    EXPECT_EQ(code, 0);
    return register_and_login(client, email);
}

std::string user_id_of(const HttpClient& client, const std::string& token) {
    auto profile = client.get("/profile", token);
    EXPECT_EQ(profile.status, 200) << profile.body;
    if (profile.status != 200) return {};
    return std::string(profile.json().at("_id").as_string());
}

}  // namespace flaskcart::testing
