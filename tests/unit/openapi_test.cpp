// The API contract is exact: every route the app registers is documented in openapi.json, and
// every documented operation is a route.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "app.hpp"
#include "openapi_document.hpp"

namespace flaskcart {
namespace {

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

TEST(OpenApi, DocumentsExactlyTheRegisteredRoutes) {
    Config config;
    config.mongodb_uri = "mongodb://127.0.0.1:1/";  // never contacted: only the router is read
    config.worker_threads = 1;
    App app(config);

    std::set<std::pair<std::string, std::string>> registered;
    for (const auto& [method, path] : app.router().routes())
        registered.insert({lower(method), path});

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

}  // namespace
}  // namespace flaskcart
