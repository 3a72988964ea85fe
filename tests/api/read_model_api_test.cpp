// The read models through the real binary: what each route costs in database commands
// (GET /metrics, the access log), read-your-writes on one instance, convergence of a second
// instance on the same database within the documented bound, ETags.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "models/change_model.hpp"
#include "support/api_helpers.hpp"
#include "support/database.hpp"
#include "support/http_client.hpp"
#include "support/service.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"

namespace flaskcart::testing {
namespace {

namespace json = boost::json;

constexpr const char* kSecretEnv = "FLASKCART_JWT_SECRET=read-model-test-secret-0123456789abcdef";
// The README's bound for another instance to see a write, plus slack for a loaded test machine.
constexpr auto kConvergenceDeadline = std::chrono::milliseconds(3000);

// Sum of flaskcart_db_commands_total for one route template ("GET /products"), by command.
std::map<std::string, double> db_commands_of(const HttpClient& client, const std::string& route) {
    auto metrics = client.get("/metrics");
    EXPECT_EQ(metrics.status, 200);
    std::map<std::string, double> out;
    std::istringstream lines(metrics.body);
    std::string line;
    const std::string prefix = "flaskcart_db_commands_total{route=\"" + route + "\",command=\"";
    while (std::getline(lines, line)) {
        if (line.rfind(prefix, 0) != 0) continue;
        const auto quote = line.find('"', prefix.size());
        const auto space = line.rfind(' ');
        out[line.substr(prefix.size(), quote - prefix.size())] += std::stod(line.substr(space + 1));
    }
    return out;
}

double total(const std::map<std::string, double>& by_command) {
    double sum = 0;
    for (const auto& [command, count] : by_command) sum += count;
    return sum;
}

// Polls `condition` until it holds or the deadline passes; returns how long it took.
std::optional<std::chrono::milliseconds> eventually(const std::function<bool()>& condition,
                                                    std::chrono::milliseconds deadline) {
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
        if (condition()) {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start);
        }
        if (std::chrono::steady_clock::now() - start > deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

class ReadModelApi : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        service_ = std::make_unique<Service>(ServiceOptions{.extra_env = {kSecretEnv}});
        HttpClient client(service_->port());
        admin_ = make_admin(*service_, client, "read-model-admin@example.com");
    }
    static void TearDownTestSuite() { service_.reset(); }

    HttpClient client() const { return HttpClient(service_->port()); }
    std::string create_category(const std::string& name) {
        auto created = client().post("/categories", {{"name", name}}, admin_);
        EXPECT_EQ(created.status, 201) << created.body;
        return std::string(created.json().at("_id").as_string());
    }
    std::string create_product(json::object body) {
        if (!body.contains("price")) body["price"] = 9.99;
        if (!body.contains("stock")) body["stock"] = 5;
        auto created = client().post("/products", body, admin_);
        EXPECT_EQ(created.status, 201) << created.body;
        return std::string(created.json().at("_id").as_string());
    }

    static std::unique_ptr<Service> service_;
    static std::string admin_;
};

std::unique_ptr<Service> ReadModelApi::service_;
std::string ReadModelApi::admin_;

TEST_F(ReadModelApi, MetricsArePrometheusTextWithRoutesStatusesAndTheCatalog) {
    ASSERT_EQ(client().get("/health").status, 200);
    ASSERT_EQ(client().get("/no/such/thing").status, 404);
    // A request is counted after its response is written (its latency includes the write), so
    // the client can ask for /metrics before the server has counted the 404: ask until it has.
    HttpResponse metrics;
    eventually(
        [&] {
            metrics = client().get("/metrics");
            return metrics.body.find("route=\"unmatched\",status=\"404\"") != std::string::npos;
        },
        kConvergenceDeadline);
    ASSERT_EQ(metrics.status, 200);
    EXPECT_EQ(metrics.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const std::string& body = metrics.body;
    EXPECT_NE(body.find("# TYPE flaskcart_http_requests_total counter"), std::string::npos);
    EXPECT_NE(body.find("flaskcart_http_requests_total{route=\"GET /health\",status=\"200\"}"),
              std::string::npos);
    // Unknown paths share one label, whatever was asked for.
    EXPECT_NE(body.find("flaskcart_http_requests_total{route=\"unmatched\",status=\"404\"}"),
              std::string::npos);
    EXPECT_EQ(body.find("/no/such/thing"), std::string::npos);
    EXPECT_NE(body.find("flaskcart_http_request_duration_seconds_bucket{route=\"GET /health\","
                        "status=\"200\",le=\"+Inf\"}"),
              std::string::npos);
    for (const char* name :
         {"flaskcart_http_requests_in_flight ", "flaskcart_worker_queue_depth ",
          "flaskcart_catalog_products ", "flaskcart_catalog_categories ",
          "flaskcart_catalog_age_seconds ", "# TYPE flaskcart_db_commands_total counter",
          "# TYPE flaskcart_db_errors_total counter"}) {
        EXPECT_NE(body.find(name), std::string::npos) << name;
    }
    // Every sample line is "name{labels} value" or "name value".
    const std::regex sample(R"(^[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+$)");
    std::istringstream lines(body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#') continue;
        EXPECT_TRUE(std::regex_match(line, sample)) << line;
    }
}

TEST_F(ReadModelApi, AccessLogCountsDatabaseCommandsPerRequest) {
    const std::string product = create_product({{"name", "Logged lamp"}});
    ASSERT_EQ(
        client().request("GET", "/products/" + product, {}, {{"X-Request-Id", "rm-log-1"}}).status,
        200);
    ASSERT_EQ(client().request("GET", "/ready", {}, {{"X-Request-Id", "rm-log-2"}}).status, 200);
    bool saw_product = false;
    bool saw_ready = false;
    eventually(
        [&] {
            std::ifstream log(service_->log_path());
            std::string line;
            while (std::getline(log, line)) {
                if (line.find("request_id=rm-log-1 ") != std::string::npos) {
                    saw_product = line.find(" db_commands=0") != std::string::npos;
                }
                if (line.find("request_id=rm-log-2 ") != std::string::npos) {
                    saw_ready = line.find(" db_commands=1") != std::string::npos;  // the ping
                }
            }
            return saw_product && saw_ready;
        },
        kConvergenceDeadline);
    EXPECT_TRUE(saw_product) << "see " << service_->log_path();
    EXPECT_TRUE(saw_ready) << "see " << service_->log_path();
}

// The budget: catalog reads cost no database command, and the token check none either.
TEST_F(ReadModelApi, CatalogRoutesAndTheTokenCheckStayWithinTheirDatabaseBudget) {
    const std::string category = create_category("Budget " + crypto::random_hex(3));
    const std::string product =
        create_product({{"name", "Budget kettle"}, {"category", category}, {"stock", 3}});
    const std::string customer =
        register_and_login(client(), "budget-" + crypto::random_hex(4) + "@example.com");
    ASSERT_EQ(client().get("/profile", customer).status, 200);  // the user is now known

    struct Case {
        std::string route;
        std::vector<std::string> targets;
        double budget_per_request;
    };
    const std::vector<Case> cases = {
        {"GET /products",
         {"/products", "/products?limit=20&page=3&sort=price", "/products?q=kettle",
          "/products?category=" + category + "&min_price=1&max_price=100&in_stock=true&sort=-name",
          "/products?sort=created_at&page=1000"},
         0},
        {"GET /products/{id}", {"/products/" + product, "/products/" + std::string(24, 'a')}, 0},
        {"GET /categories", {"/categories"}, 0},
        {"GET /categories/{id}", {"/categories/" + category}, 0},
    };
    for (const auto& c : cases) {
        const double before = total(db_commands_of(client(), c.route));
        for (int round = 0; round < 5; ++round) {
            for (const auto& target : c.targets) {
                const auto response = client().get(target);
                EXPECT_TRUE(response.status == 200 || response.status == 404) << target;
            }
        }
        const double spent = total(db_commands_of(client(), c.route)) - before;
        const double requests = 5.0 * static_cast<double>(c.targets.size());
        EXPECT_LE(spent, c.budget_per_request * requests) << c.route;
    }
    // GET /profile reads the profile itself (1 command); the token check adds none.
    const double before = total(db_commands_of(client(), "GET /profile"));
    for (int i = 0; i < 10; ++i) ASSERT_EQ(client().get("/profile", customer).status, 200);
    EXPECT_LE(total(db_commands_of(client(), "GET /profile")) - before, 10.0);
}

TEST_F(ReadModelApi, AnInstanceReadsItsOwnWritesAtOnce) {
    const std::string category = create_category("Own writes " + crypto::random_hex(3));
    const std::string product =
        create_product({{"name", "Own teapot"}, {"category", category}, {"stock", 4}});
    auto read = client().get("/products/" + product);
    ASSERT_EQ(read.status, 200);
    EXPECT_EQ(read.json().at("stock"), 4);
    auto in_category = client().get("/products?category=" + category);
    EXPECT_EQ(in_category.json().at("total"), 1);
    EXPECT_EQ(client().get("/categories/" + category).json().at("product_count"), 1);

    ASSERT_EQ(client()
                  .put("/products/" + product, {{"price", 12.5}, {"name", "Own kettle"}}, admin_)
                  .status,
              200);
    read = client().get("/products/" + product);
    EXPECT_EQ(read.json().at("price"), 12.5);
    EXPECT_EQ(client().get("/products?q=own%20kettle").json().at("total"), 1);
    EXPECT_EQ(client().get("/products?q=own%20teapot").json().at("total"), 0);

    // Checkout moves stock; cancelling puts it back: both visible at once.
    const std::string buyer =
        register_and_login(client(), "own-" + crypto::random_hex(4) + "@example.com");
    ASSERT_EQ(client().post("/cart/add", {{"product_id", product}, {"quantity", 3}}, buyer).status,
              201);
    auto order = client().post("/order", json::object{}, buyer);
    ASSERT_EQ(order.status, 201) << order.body;
    EXPECT_EQ(client().get("/products/" + product).json().at("stock"), 1);
    EXPECT_EQ(client().get("/products?in_stock=true&category=" + category).json().at("total"), 1);
    const std::string order_id(order.json().at("_id").as_string());
    ASSERT_EQ(
        client().put("/order/" + order_id + "/status", {{"status", "cancelled"}}, buyer).status,
        200);
    EXPECT_EQ(client().get("/products/" + product).json().at("stock"), 4);

    ASSERT_EQ(client().del("/products/" + product, admin_).status, 204);
    EXPECT_EQ(client().get("/products/" + product).status, 404);
    EXPECT_EQ(client().get("/categories/" + category).json().at("product_count"), 0);
    ASSERT_EQ(client().del("/categories/" + category, admin_).status, 204);
    EXPECT_EQ(client().get("/categories/" + category).status, 404);
}

TEST_F(ReadModelApi, EtagsAnswerNotModifiedUntilTheResourceChanges) {
    const std::string product = create_product({{"name", "Etag mug"}});
    auto first = client().get("/products/" + product);
    const std::string etag = first.header("etag");
    ASSERT_FALSE(etag.empty());
    EXPECT_EQ(etag.front(), '"');
    auto again = client().request("GET", "/products/" + product, {}, {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(again.header("etag"), etag);
    EXPECT_EQ(client()
                  .request("GET", "/products/" + product, {}, {{"If-None-Match", "\"other\""}})
                  .status,
              200);
    ASSERT_EQ(client().put("/products/" + product, {{"stock", 9}}, admin_).status, 200);
    auto changed = client().request("GET", "/products/" + product, {}, {{"If-None-Match", etag}});
    EXPECT_EQ(changed.status, 200);
    EXPECT_NE(changed.header("etag"), etag);

    auto categories = client().get("/categories");
    const std::string list_etag = categories.header("etag");
    ASSERT_FALSE(list_etag.empty());
    EXPECT_EQ(client().request("GET", "/categories", {}, {{"If-None-Match", list_etag}}).status,
              304);
    create_category("Etag " + crypto::random_hex(3));
    EXPECT_EQ(client().request("GET", "/categories", {}, {{"If-None-Match", list_etag}}).status,
              200);
}

// Two instances on one database: the second sees the first's catalog writes, logouts and role
// changes within the bound, without a database command on the read path. (On FerretDB the
// second runs --read-only: one writer per database; it only reads here.)
TEST(ReadModelInstances, ASecondInstanceConvergesWithinTheBound) {
    Service first({.extra_env = {kSecretEnv}});
    Service second(
        {.database = first.database(), .extra_args = {"--read-only"}, .extra_env = {kSecretEnv}});
    HttpClient a(first.port());
    HttpClient b(second.port());
    const std::string admin = make_admin(first, a, "two-instances-admin@example.com");

    auto created =
        a.post("/products", {{"name", "Shared lamp"}, {"price", 3.5}, {"stock", 7}}, admin);
    ASSERT_EQ(created.status, 201);
    const std::string product(created.json().at("_id").as_string());
    auto seen = eventually([&] { return b.get("/products/" + product).status == 200; },
                           kConvergenceDeadline);
    ASSERT_TRUE(seen) << "the second instance never saw the product";
    std::cout << "[ converge ] product created: " << seen->count() << " ms\n";

    ASSERT_EQ(a.put("/products/" + product, {{"stock", 2}}, admin).status, 200);
    seen = eventually([&] { return b.get("/products/" + product).json().at("stock") == 2; },
                      kConvergenceDeadline);
    EXPECT_TRUE(seen) << "stock change not seen";

    const std::string buyer = register_and_login(a, "two-instances-buyer@example.com");
    ASSERT_EQ(a.post("/cart/add", {{"product_id", product}, {"quantity", 2}}, buyer).status, 201);
    ASSERT_EQ(a.post("/order", json::object{}, buyer).status, 201);
    seen = eventually(
        [&] { return b.get("/products?in_stock=true&q=shared%20lamp").json().at("total") == 0; },
        kConvergenceDeadline);
    EXPECT_TRUE(seen) << "checkout's stock movement not seen";

    ASSERT_EQ(a.del("/products/" + product, admin).status, 204);
    seen = eventually([&] { return b.get("/products/" + product).status == 404; },
                      kConvergenceDeadline);
    EXPECT_TRUE(seen) << "deletion not seen";

    // Logout on the first instance: the second refuses the token within the bound.
    const std::string token = register_and_login(a, "two-instances-user@example.com");
    ASSERT_EQ(b.get("/profile", token).status, 200);
    ASSERT_EQ(a.request("POST", "/logout", {}, bearer(token)).status, 204);
    seen = eventually([&] { return b.get("/profile", token).status == 401; }, kConvergenceDeadline);
    ASSERT_TRUE(seen) << "revocation not seen";
    std::cout << "[ converge ] logout: " << seen->count() << " ms\n";

    // Demotion on the first instance: the second stops granting admin rights.
    const std::string other_admin = make_admin(first, a, "two-instances-admin2@example.com");
    ASSERT_EQ(b.get("/users", other_admin).status, 200);
    const std::string other_id = user_id_of(a, other_admin);
    ASSERT_EQ(a.put("/users/" + other_id + "/role", {{"role", "customer"}}, admin).status, 200);
    EXPECT_EQ(a.get("/users", other_admin).status, 403);  // at once where it was written
    seen = eventually([&] { return b.get("/users", other_admin).status == 403; },
                      kConvergenceDeadline);
    ASSERT_TRUE(seen) << "demotion not seen";
    std::cout << "[ converge ] demotion: " << seen->count() << " ms\n";
}

// A user deleted in the database (FlaskCart has no route for it) is refused once the deletion
// is announced on the change feed, as an operator's tool would.
TEST(ReadModelInstances, AnAnnouncedDeletionRefusesTheUsersTokens) {
    Service service({.extra_env = {kSecretEnv}});
    HttpClient client(service.port());
    const std::string token = register_and_login(client, "deleted-later@example.com");
    const std::string id = user_id_of(client, token);
    ASSERT_EQ(client.get("/profile", token).status, 200);
    db::Db db({.uri = service.mongodb_uri(), .database = service.database()});
    const bson_oid_t oid = *db::parse_oid(id);
    db.collection("users").delete_one(db::Bson(BCON_NEW("_id", BCON_OID(&oid))));
    models::ChangeLogStore(db).publish("operator", {{'u', id, 0}});
    const auto seen = eventually([&] { return client.get("/profile", token).status == 401; },
                                 kConvergenceDeadline);
    EXPECT_TRUE(seen) << "the deleted user's token still works";
}

}  // namespace
}  // namespace flaskcart::testing
