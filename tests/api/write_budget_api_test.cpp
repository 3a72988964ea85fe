// What the cart and order routes cost in database commands (GET /metrics), against the budgets
// of issue 11: cart writes ≤ 2, GET /cart ≤ 1, POST /order ≤ lines + 4 (held here to the lines
// + 3 this version spends), GET /orders ≤ 2; and a maintenance sweep with no checkout work pending
// issues no checkout-recovery command at all.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "support/api_helpers.hpp"
#include "support/http_client.hpp"
#include "support/service.hpp"
#include "utils/crypto.hpp"

namespace flaskcart::testing {
namespace {

namespace json = boost::json;

// Sum of flaskcart_db_commands_total over every command for one route label.
double db_commands_of(const HttpClient& client, const std::string& route) {
    auto metrics = client.get("/metrics");
    EXPECT_EQ(metrics.status, 200);
    double sum = 0;
    std::istringstream lines(metrics.body);
    std::string line;
    const std::string prefix = "flaskcart_db_commands_total{route=\"" + route + "\",command=\"";
    while (std::getline(lines, line)) {
        if (line.rfind(prefix, 0) != 0) continue;
        sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
}

class WriteBudgetApi : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        service_ = std::make_unique<Service>();  // sweeping every second
        HttpClient client(service_->port());
        admin_ = make_admin(*service_, client, "budget-admin@example.com");
    }
    static void TearDownTestSuite() { service_.reset(); }

    HttpClient client() const { return HttpClient(service_->port()); }
    std::string create_product(std::int64_t stock) {
        auto created = client().post(
            "/products",
            {{"name", "Budget " + crypto::random_hex(4)}, {"price", 2.5}, {"stock", stock}},
            admin_);
        EXPECT_EQ(created.status, 201) << created.body;
        return created.status == 201 ? std::string(created.json().at("_id").as_string()) : "";
    }
    // A new customer whose token the service has already checked once: the first check of a
    // user reads the user (issue 10's budget), every later one is free.
    std::string customer() {
        auto token =
            register_and_login(client(), "budget-" + crypto::random_hex(4) + "@example.com");
        EXPECT_EQ(client().get("/profile", token).status, 200);
        return token;
    }

    // Runs `request` once, expects `status`, and returns the commands `route` spent on it.
    double spent(const std::string& route, const std::function<HttpResponse()>& request,
                 int status) {
        const double before = db_commands_of(client(), route);
        const auto response = request();
        EXPECT_EQ(response.status, status) << route << ": " << response.body;
        const double cost = db_commands_of(client(), route) - before;
        std::cout << "[budget] " << route << " (" << status << "): " << cost << " commands\n";
        return cost;
    }

    static std::unique_ptr<Service> service_;
    static std::string admin_;
};
std::unique_ptr<Service> WriteBudgetApi::service_;
std::string WriteBudgetApi::admin_;

TEST_F(WriteBudgetApi, CartRoutesStayWithinTheirBudget) {
    const std::string token = customer();
    const std::string first = create_product(50);
    const std::string second = create_product(50);
    const auto add = [&](const std::string& product, int quantity) {
        return [&, product, quantity] {
            return client().post("/cart/add", {{"product_id", product}, {"quantity", quantity}},
                                 token);
        };
    };
    EXPECT_LE(spent("POST /cart/add", add(first, 1), 201), 2);   // the cart is created
    EXPECT_LE(spent("POST /cart/add", add(second, 2), 201), 2);  // a second line
    EXPECT_LE(spent("POST /cart/add", add(first, 3), 200), 2);   // a line grows
    EXPECT_LE(spent("POST /cart/add", add(first, 49), 409), 2);  // beyond the stock
    EXPECT_LE(spent(
                  "PUT /cart/update",
                  [&] {
                      return client().put("/cart/update", {{"product_id", first}, {"quantity", 5}},
                                          token);
                  },
                  200),
              2);
    EXPECT_LE(spent(
                  "GET /cart", [&] { return client().get("/cart", token); }, 200),
              1);
    EXPECT_LE(spent(
                  "DELETE /cart/remove",
                  [&] {
                      return client().request("DELETE", "/cart/remove?product_id=" + second, "",
                                              bearer(token));
                  },
                  204),
              2);
    EXPECT_LE(spent(
                  "PUT /cart/update",
                  [&] {
                      return client().put("/cart/update", {{"product_id", first}, {"quantity", 0}},
                                          token);
                  },
                  204),
              2);
    EXPECT_LE(spent(
                  "GET /cart", [&] { return client().get("/cart", token); }, 200),
              1);
}

TEST_F(WriteBudgetApi, OrderRoutesStayWithinTheirBudget) {
    const std::string token = customer();
    const std::string user_id = user_id_of(client(), token);
    std::vector<std::string> products;
    for (int i = 0; i < 3; ++i) products.push_back(create_product(100));
    for (const std::size_t lines : {1U, 3U}) {
        for (std::size_t i = 0; i < lines; ++i) {
            ASSERT_EQ(client()
                          .post("/cart/add", {{"product_id", products[i]}, {"quantity", 1}}, token)
                          .status,
                      201);
        }
        EXPECT_LE(
            spent(
                "POST /order", [&] { return client().post("/order", json::object{}, token); }, 201),
            static_cast<double>(lines) + 3)
            << lines << " lines: claim, reservations, insert, finish";
    }
    // The checkout knows the cart it left: the next add is its one write, no read before it.
    EXPECT_EQ(spent(
                  "POST /cart/add",
                  [&] {
                      return client().post("/cart/add",
                                           {{"product_id", products[0]}, {"quantity", 2}}, token);
                  },
                  201),
              1);
    // With an Idempotency-Key, and its replay.
    const auto keyed = [&] {
        return client().post("/order", json::object{}, token, {{"Idempotency-Key", "budget-1"}});
    };
    EXPECT_LE(spent("POST /order", keyed, 201), 1 + 3);
    EXPECT_LE(spent("POST /order", keyed, 201), 1 + 3) << "the replay";
    EXPECT_LE(spent(
                  "GET /orders", [&] { return client().get("/orders", token); }, 200),
              2);
    EXPECT_LE(
        spent(
            "GET /orders/{user_id}",
            [&] { return client().get("/orders/" + user_id + "?limit=2&page=2", token); }, 200),
        2);
    const std::string nobody = customer();
    EXPECT_LE(spent(
                  "GET /orders", [&] { return client().get("/orders", nobody); }, 200),
              2);
}

// With nothing pending, the maintenance sweep's checkout recovery reads nothing: its pending
// work is known without looking (the sweep runs every second in this suite).
TEST_F(WriteBudgetApi, ASweepWithNothingPendingIssuesNoRecoveryCommand) {
    const std::string token = customer();
    const std::string product = create_product(10);
    ASSERT_EQ(client().post("/cart/add", {{"product_id", product}, {"quantity", 1}}, token).status,
              201);
    auto order = client().post("/order", json::object{}, token);
    ASSERT_EQ(order.status, 201);
    const std::string order_id(order.json().at("_id").as_string());
    ASSERT_EQ(
        client().put("/order/" + order_id + "/status", {{"status", "cancelled"}}, token).status,
        200);
    // The checkout's deferred work (its hold marker) is done by a sweep or two; then none is
    // left but the return marker, due in ten minutes.
    const auto recovery = [&] { return db_commands_of(client(), "checkout recovery"); };
    double last = recovery();
    for (int i = 0; i < 50; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const double now = recovery();
        if (now == last && i > 10) break;
        last = now;
    }
    const double settled = recovery();
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));  // three more sweeps
    EXPECT_EQ(recovery(), settled);
}

}  // namespace
}  // namespace flaskcart::testing
