// The API contract is exact: every route the app registers is documented in openapi.json, and
// every documented operation is a route.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <set>
#include <string_view>
#include <vector>

#include "app_components.hpp"
#include "config.hpp"
#include "openapi_document.hpp"
#include "utils/db.hpp"
#include "utils/metrics.hpp"

namespace flaskcart {
namespace {

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

Config cheap_config() {
    Config config;
    config.jwt_secret = "openapi-test-secret";
    // AuthService hashes one dummy password when built: the cheapest Argon2id libsodium allows.
    config.argon2_opslimit = 1;
    config.argon2_memlimit_kib = 8;
    return config;
}

// What the route handlers hold references to: the application's own components, built without
// an App (no network, no worker pool, no change feed or writer lease running). The stores take a
// database handle they never use here: it is never contacted (nothing is connected before the
// first command).
struct RouteDependencies {
    Config config = cheap_config();
    db::DriverLifetime driver;
    db::Db db{{.uri = "mongodb://127.0.0.1:1/", .max_pool_size = 1}};
    AppComponents parts{db, config};
    std::atomic<bool> indexes_ready{false};
    metrics::Registry metrics;
};

http::Router api_router(RouteDependencies& deps) {
    http::Router router;
    deps.parts.register_routes(
        router, deps.config, [] { return false; }, deps.indexes_ready, deps.metrics);
    return router;
}

TEST(OpenApi, DocumentsExactlyTheRegisteredRoutes) {
    RouteDependencies deps;
    const http::Router router = api_router(deps);

    std::set<std::pair<std::string, std::string>> registered;
    for (const auto& [method, path] : router.routes()) registered.insert({lower(method), path});
    EXPECT_GT(registered.size(), 30U);

    const auto document = boost::json::parse(kOpenApiDocument).as_object();
    EXPECT_EQ(std::string(document.at("openapi").as_string()).substr(0, 2), "3.");
    std::set<std::pair<std::string, std::string>> documented;
    for (const auto& [path, item] : document.at("paths").as_object()) {
        for (const auto& [method, operation] : item.as_object()) {
            if (method == "parameters" || method == "summary" || method == "description") continue;
            documented.insert({std::string(method), std::string(path)});
            EXPECT_TRUE(operation.as_object().contains("responses")) << method << " " << path;
        }
    }
    for (const auto& route : registered) {
        EXPECT_TRUE(documented.count(route))
            << "undocumented route: " << route.first << " " << route.second;
    }
    for (const auto& operation : documented) {
        EXPECT_TRUE(registered.count(operation))
            << "documented but not served: " << operation.first << " " << operation.second;
    }
}

// Statuses the server can give on any route are listed on every operation, so a client reading
// one operation sees all of its answers.
TEST(OpenApi, EveryOperationListsTheAnswersAnyRouteCanGive) {
    const auto document = boost::json::parse(kOpenApiDocument).as_object();
    for (const auto& [path, item] : document.at("paths").as_object()) {
        for (const auto& [method, operation_value] : item.as_object()) {
            if (method == "parameters") continue;
            const auto& operation = operation_value.as_object();
            const auto& responses = operation.at("responses").as_object();
            const std::string where = std::string(method) + " " + std::string(path);
            for (const char* status : {"400", "431", "503", "default"}) {
                EXPECT_TRUE(responses.contains(status)) << where << " lacks " << status;
            }
            if (operation.contains("requestBody")) {
                EXPECT_TRUE(responses.contains("413")) << where;
                EXPECT_TRUE(responses.contains("415")) << where;
            }
            if (operation.contains("security")) {
                EXPECT_TRUE(responses.contains("401")) << where;
            }
        }
    }
}

// Every problem response names its status and problem types, so "/problems/<slug>" is part of
// the contract.
TEST(OpenApi, ProblemResponsesNameTheirStatusAndType) {
    const auto document = boost::json::parse(kOpenApiDocument).as_object();
    std::vector<const boost::json::object*> responses;
    for (const auto& [name, response] : document.at("components").at("responses").as_object()) {
        responses.push_back(&response.as_object());
    }
    for (const auto& [path, item] : document.at("paths").as_object()) {
        for (const auto& [method, operation] : item.as_object()) {
            if (method == "parameters") continue;
            for (const auto& [status, response] : operation.at("responses").as_object()) {
                if (!response.as_object().contains("$ref"))
                    responses.push_back(&response.as_object());
            }
        }
    }
    int problems = 0;
    for (const auto* response : responses) {
        const auto* content = response->if_contains("content");
        if (content == nullptr || !content->as_object().contains("application/problem+json")) {
            continue;
        }
        ++problems;
        const auto& schema = content->at("application/problem+json").at("schema").as_object();
        const auto& constraints = schema.at("allOf").at(1).at("properties").as_object();
        EXPECT_EQ(constraints.at("status").at("enum").as_array().size(), 1U);
        for (const auto& type : constraints.at("type").at("enum").as_array()) {
            EXPECT_TRUE(std::string_view(type.as_string()).starts_with("/problems/"));
        }
    }
    EXPECT_GT(problems, 50);
}

}  // namespace
}  // namespace flaskcart
