// The money-and-stock claims under real concurrency, through the real binary and FerretDB:
// no overselling, exactly-once restock on racing cancels, and the conservation law surviving
// SIGKILL at random moments during checkouts.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "models/cart_model.hpp"
#include "models/inventory_model.hpp"
#include "models/order_model.hpp"
#include "support/api_helpers.hpp"
#include "support/concurrency.hpp"
#include "support/database.hpp"
#include "support/http_client.hpp"
#include "support/service.hpp"
#include "utils/bson_document.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"

namespace flaskcart::testing {
namespace {

constexpr const char* kSecretEnv = "FLASKCART_JWT_SECRET=concurrency-test-secret-0123456789abcdef";

std::string create_product(const HttpClient& client, const std::string& admin,
                           const std::string& name, std::int64_t stock, double price = 5.0) {
    auto response =
        client.post("/products", {{"name", name}, {"price", price}, {"stock", stock}}, admin);
    EXPECT_EQ(response.status, 201) << response.body;
    return std::string(response.json().at("_id").as_string());
}

std::int64_t stock_of(db::Db& db, const std::string& product_id) {
    const bson_oid_t oid = *db::parse_oid(product_id);
    auto doc = db.collection("products").find_one(db::Bson(BCON_NEW("_id", BCON_OID(&oid))));
    return doc ? doc->view().get_int64("stock").value_or(-999) : -999;
}

// Units of `product_id` in orders of the given statuses.
std::int64_t units_in_orders(db::Db& db, const std::string& product_id,
                             const std::vector<std::string>& statuses) {
    std::int64_t units = 0;
    for (const auto& doc : db.collection("orders").find(db::Bson())) {
        const auto status = doc.view().get_string("status").value_or("");
        if (std::find(statuses.begin(), statuses.end(), status) == statuses.end()) continue;
        for (const auto& line : doc.view().get_documents("products")) {
            if (db::oid_to_string(*line.view().get_oid("product_id")) == product_id) {
                units += line.view().get_int64("quantity").value_or(0);
            }
        }
    }
    return units;
}

const std::vector<std::string> kSold{"pending", "paid", "shipped", "delivered"};

TEST(CheckoutConcurrency, FiftyBuyersOfTheLastTenUnitsGetExactlyTenOrders) {
    Service service({.extra_env = {kSecretEnv}});
    HttpClient client(service.port());
    const std::string admin = make_admin(service, client, "admin@example.com");
    constexpr int kBuyers = 50;
    std::vector<std::string> tokens(kBuyers);
    ASSERT_NO_FATAL_FAILURE(run_concurrently(kBuyers, [&](int i) {
        tokens[static_cast<std::size_t>(i)] =
            register_and_login(client, "buyer" + std::to_string(i) + "@example.com");
    }));
    db::Db db({.uri = service.mongodb_uri(), .database = service.database()});

    for (int round = 0; round < 3; ++round) {
        const std::string product =
            create_product(client, admin, "Last ten #" + std::to_string(round), 10);
        for (const auto& token : tokens) {
            ASSERT_EQ(
                client.post("/cart/add", {{"product_id", product}, {"quantity", 1}}, token).status,
                201);
        }
        std::vector<int> statuses(kBuyers);
        ASSERT_NO_FATAL_FAILURE(run_concurrently(kBuyers, [&](int i) {
            statuses[static_cast<std::size_t>(i)] =
                client.post("/order", boost::json::object{}, tokens[static_cast<std::size_t>(i)])
                    .status;
        }));
        int placed = 0;
        int refused = 0;
        for (const int status : statuses) {
            placed += status == 201 ? 1 : 0;
            refused += status == 409 ? 1 : 0;
        }
        EXPECT_EQ(placed, 10) << "round " << round;
        EXPECT_EQ(refused, kBuyers - 10) << "round " << round;
        EXPECT_EQ(stock_of(db, product), 0) << "round " << round;
        EXPECT_EQ(units_in_orders(db, product, kSold), 10) << "round " << round;
        EXPECT_EQ(db.collection("products")
                      .count(db::Bson(BCON_NEW("stock", "{", "$lt", BCON_INT64(0), "}"))),
                  0);
        // The losers' carts still hold their line; clear them for the next round.
        for (const auto& token : tokens) {
            client.request("DELETE", "/cart/remove?product_id=" + product, {}, bearer(token));
        }
    }
}

TEST(CheckoutConcurrency, RacingCancelsRestockExactlyOnce) {
    Service service({.extra_env = {kSecretEnv}});
    HttpClient client(service.port());
    const std::string admin = make_admin(service, client, "admin@example.com");
    const std::string customer = register_and_login(client, "customer@example.com");
    db::Db db({.uri = service.mongodb_uri(), .database = service.database()});
    const std::string product = create_product(client, admin, "Cancelled twice", 100);

    for (int round = 0; round < 10; ++round) {
        ASSERT_EQ(
            client.post("/cart/add", {{"product_id", product}, {"quantity", 3}}, customer).status,
            201);
        auto order = client.post("/order", boost::json::object{}, customer);
        ASSERT_EQ(order.status, 201) << order.body;
        const std::string order_id(order.json().at("_id").as_string());
        const std::int64_t before = stock_of(db, product);

        std::vector<int> statuses(4);
        ASSERT_NO_FATAL_FAILURE(run_concurrently(4, [&](int i) {
            const std::string& token = i % 2 == 0 ? admin : customer;
            statuses[static_cast<std::size_t>(i)] =
                client.put("/order/" + order_id + "/status", {{"status", "cancelled"}}, token)
                    .status;
        }));
        int succeeded = 0;
        int conflicts = 0;
        for (const int status : statuses) {
            succeeded += status == 200 ? 1 : 0;
            conflicts += status == 409 ? 1 : 0;
        }
        EXPECT_EQ(succeeded, 1) << "round " << round;
        EXPECT_EQ(conflicts, 3) << "round " << round;
        EXPECT_EQ(stock_of(db, product), before + 3) << "round " << round;
    }
    EXPECT_EQ(stock_of(db, product), 100);
}

TEST(CheckoutConcurrency, ConcurrentAddsToOneCartLineAreNotLost) {
    Service service({.extra_env = {kSecretEnv}});
    HttpClient client(service.port());
    const std::string admin = make_admin(service, client, "admin@example.com");
    const std::string customer = register_and_login(client, "adder@example.com");
    const std::string product = create_product(client, admin, "Popular", 1000);
    std::vector<int> statuses(20);
    ASSERT_NO_FATAL_FAILURE(run_concurrently(20, [&](int i) {
        statuses[static_cast<std::size_t>(i)] =
            client.post("/cart/add", {{"product_id", product}, {"quantity", 2}}, customer).status;
    }));
    int created = 0;
    for (const int status : statuses) {
        EXPECT_TRUE(status == 200 || status == 201) << status;
        created += status == 201 ? 1 : 0;
    }
    EXPECT_EQ(created, 1);
    db::Db db({.uri = service.mongodb_uri(), .database = service.database()});
    auto carts = db.collection("carts").find(db::Bson());
    ASSERT_EQ(carts.size(), 1U);
    const std::string path = "lines." + product;  // the line's quantity
    bson_iter_t it;
    bson_iter_t quantity;
    ASSERT_TRUE(bson_iter_init(&it, carts[0].get()));
    ASSERT_TRUE(bson_iter_find_descendant(&it, path.c_str(), &quantity));
    EXPECT_EQ(bson_iter_as_int64(&quantity), 40);
}

TEST(CheckoutIdempotency, AKeyWhoseFirstRequestIsStillRunningIs409) {
    // A checkout caught between its first write and its last (as a concurrent request would
    // see it): the cart is claimed by a checkout under the key.
    Service service({.extra_env = {kSecretEnv}});
    HttpClient client(service.port());
    const std::string admin = make_admin(service, client, "admin@example.com");
    const std::string token = register_and_login(client, "waiting@example.com");
    const std::string user_id = user_id_of(client, token);
    const std::string product = create_product(client, admin, "Waited for", 5);
    ASSERT_EQ(client.post("/cart/add", {{"product_id", product}, {"quantity", 1}}, token).status,
              201);
    db::Db db({.uri = service.mongodb_uri(), .database = service.database()});
    const bson_oid_t order_id = db::new_oid();
    const bson_oid_t user = *db::parse_oid(user_id);
    const std::string fingerprint = crypto::digest_hex("{}");
    const std::string key = models::idempotency_key_digest("slow-key");
    ASSERT_EQ(db.collection("carts")
                  .update_one(
                      db::Bson(BCON_NEW("_id", BCON_OID(&user))),
                      db::Bson(BCON_NEW("$set", "{", "checkout", "{", "token", BCON_UTF8("running"),
                                        "order_id", BCON_OID(&order_id), "claimed_at",
                                        BCON_DATE_TIME(db::now_ms()), "key", BCON_UTF8(key.c_str()),
                                        "fingerprint", BCON_UTF8(fingerprint.c_str()), "}", "}")))
                  .matched,
              1);
    auto in_progress =
        client.post("/order", boost::json::object{}, token, {{"Idempotency-Key", "slow-key"}});
    EXPECT_EQ(in_progress.status, 409) << in_progress.body;
    EXPECT_EQ(in_progress.header("content-type"), "application/problem+json");
    EXPECT_NE(in_progress.body.find("Idempotency-Key"), std::string::npos) << in_progress.body;
    auto other_body =
        client.post("/order", {{"user_id", user_id}}, token, {{"Idempotency-Key", "slow-key"}});
    EXPECT_EQ(other_body.status, 422) << other_body.body;
    // While the checkout runs, the cart does not change.
    auto add = client.post("/cart/add", {{"product_id", product}, {"quantity", 1}}, token);
    EXPECT_EQ(add.status, 409) << add.body;
    EXPECT_EQ(db.collection("orders").count(db::Bson()), 0);
}

TEST(CheckoutRecovery, AStaleRepeatOfARestockReturnsNothing) {
    // A sweep (of this or another instance) that read a cancelled order before its restock
    // finished repeats return_stock: the marker left on the product makes that a no-op.
    Service service({.extra_env = {kSecretEnv}});
    HttpClient client(service.port());
    const std::string admin = make_admin(service, client, "admin@example.com");
    const std::string customer = register_and_login(client, "stale@example.com");
    const std::string product = create_product(client, admin, "Returned", 10);
    ASSERT_EQ(client.post("/cart/add", {{"product_id", product}, {"quantity", 4}}, customer).status,
              201);
    auto order = client.post("/order", boost::json::object{}, customer);
    ASSERT_EQ(order.status, 201);
    const std::string order_id(order.json().at("_id").as_string());
    ASSERT_EQ(
        client.put("/order/" + order_id + "/status", {{"status", "cancelled"}}, customer).status,
        200);
    db::Db db({.uri = service.mongodb_uri(), .database = service.database()});
    EXPECT_EQ(stock_of(db, product), 10);
    models::ProductStockLedger ledger(db);
    ledger.return_stock(product, 4, order_id);
    ledger.return_stock(product, 4, order_id);
    EXPECT_EQ(stock_of(db, product), 10);
}

// A checkout that stalled or crashed after reserving, as recovery finds it: the cart claimed
// long ago under `order_id`, the claimed line's units held for that order.
struct StalledCheckout {
    std::string admin;
    std::string customer;
    std::string user_id;
    std::string product;
    bson_oid_t order_id{};
    models::Order order;  // what the stalled checkout was placing
};

std::vector<std::string> holds_of(db::Db& db, const std::string& product_id) {
    std::vector<std::string> holds;
    auto doc = db.collection("products").find_one(db::id_filter(*db::parse_oid(product_id)));
    if (!doc) return holds;
    for (const auto& oid : doc->view().get_oids("stock_holds"))
        holds.push_back(db::oid_to_string(oid));
    return holds;
}

// A service that settles checkout claims older than a second, and its database.
class StalledCheckoutRecovery : public ::testing::Test {
  protected:
    // A checkout of 3 of 10 units stalled after reserving, its claim a minute old; with
    // `record_in_claim`, one of an earlier version that recorded its order in the claim.
    StalledCheckout stall_a_checkout(bool record_in_claim) {
        StalledCheckout stalled;
        stalled.admin = make_admin(service_, client_, "admin@example.com");
        stalled.customer = register_and_login(client_, "stalled@example.com");
        stalled.user_id = user_id_of(client_, stalled.customer);
        stalled.product = create_product(client_, stalled.admin, "Held", 10, 5.0);
        EXPECT_EQ(client_
                      .post("/cart/add", {{"product_id", stalled.product}, {"quantity", 3}},
                            stalled.customer)
                      .status,
                  201);
        stalled.order_id = db::new_oid();
        const std::string order_id = db::oid_to_string(stalled.order_id);
        models::ProductStockLedger ledger(db_);
        EXPECT_EQ(ledger.reserve(stalled.product, 3, order_id), models::ReserveResult::kReserved);
        const std::int64_t claimed_at = db::now_ms() - 60'000;
        stalled.order = {.id = order_id,
                         .user_id = stalled.user_id,
                         .lines = {{stalled.product, "Held", 3, 500}},
                         .total_cents = 1500,
                         .status = "pending",
                         .history = {{"pending", claimed_at}},
                         .idempotency_key = "auto-stalled",
                         .request_fingerprint = crypto::digest_hex("{}"),
                         .created_at_ms = claimed_at,
                         .updated_at_ms = claimed_at};
        db::DocumentBuilder update;
        update.append_document("$set", [&](db::DocumentBuilder& set) {
            set.append_document("checkout", [&](db::DocumentBuilder& claim) {
                claim.append("token", "stalled")
                    .append("order_id", stalled.order_id)
                    .append("claimed_at", db::time_from_ms(claimed_at))
                    .append("fingerprint", stalled.order.request_fingerprint);
                if (record_in_claim) claim.append("order", models::to_bson(stalled.order));
            });
        });
        const bson_oid_t user = *db::parse_oid(stalled.user_id);
        EXPECT_EQ(db_.collection("carts").update_one(db::id_filter(user), update.build()).matched,
                  1);
        return stalled;
    }

    // The ids of the customer's orders as GET /orders lists them, newest first.
    std::vector<std::string> history_of(const std::string& token) {
        auto history = client_.get("/orders", token);
        EXPECT_EQ(history.status, 200) << history.body;
        std::vector<std::string> ids;
        if (history.status != 200) return ids;
        const boost::json::value body = history.json();
        for (const auto& item : body.at("items").as_array()) {
            ids.emplace_back(item.at("_id").as_string());
        }
        return ids;
    }

    Service service_{{.extra_args = {"--checkout-recovery-after=1"}, .extra_env = {kSecretEnv}}};
    HttpClient client_{service_.port()};
    db::Db db_{{.uri = service_.mongodb_uri(), .database = service_.database()}};
};

// The order _id is the arbiter between a stalled checkout and the recovery that undoes it:
// recovery inserts a tombstone under it, so the checkout can never place it afterwards.
TEST_F(StalledCheckoutRecovery, AStalledCheckoutIsUndoneAndItsOrderIdTakenByATombstone) {
    const StalledCheckout stalled = stall_a_checkout(false);
    const std::string stalled_id = db::oid_to_string(stalled.order_id);
    ASSERT_EQ(stock_of(db_, stalled.product), 7);

    // The customer checks out again: the stale claim is settled, then the cart is placed anew.
    auto placed = client_.post("/order", boost::json::object{}, stalled.customer);
    ASSERT_EQ(placed.status, 201) << placed.body;
    const std::string new_id(placed.json().at("_id").as_string());
    EXPECT_NE(new_id, stalled_id);
    EXPECT_EQ(stock_of(db_, stalled.product), 7) << "3 released, then 3 reserved for the new order";
    const auto holds = holds_of(db_, stalled.product);
    EXPECT_EQ(std::count(holds.begin(), holds.end(), stalled_id), 0);

    auto tombstone = db_.collection("orders").find_one(db::id_filter(stalled.order_id));
    ASSERT_TRUE(tombstone);
    EXPECT_EQ(tombstone->view().get_string("status"), "abandoned");
    EXPECT_EQ(client_.get("/order/" + stalled_id, stalled.customer).status, 404);
    EXPECT_EQ(client_.get("/order/" + stalled_id, stalled.admin).status, 404);
    EXPECT_EQ(history_of(stalled.customer), std::vector<std::string>{new_id});

    // The stalled checkout wakes up and inserts its order: the tombstone refuses it.
    models::OrderStore orders(db_);
    models::Order late = stalled.order;
    EXPECT_FALSE(orders.insert(late));
    EXPECT_EQ(units_in_orders(db_, stalled.product, kSold), 3) << "only the new order's units";
}

TEST_F(StalledCheckoutRecovery, AStalledCheckoutWhoseOrderIsInIsFinished) {
    const StalledCheckout stalled = stall_a_checkout(false);
    const std::string stalled_id = db::oid_to_string(stalled.order_id);
    models::OrderStore orders(db_);
    models::Order inserted = stalled.order;
    ASSERT_TRUE(orders.insert(inserted));  // it crashed after its point of no return

    // Settling finishes that checkout: its lines leave the cart, so nothing is left to order.
    auto again = client_.post("/order", boost::json::object{}, stalled.customer);
    EXPECT_EQ(again.status, 409) << again.body;
    EXPECT_NE(again.body.find("empty"), std::string::npos) << again.body;
    EXPECT_EQ(stock_of(db_, stalled.product), 7) << "the order keeps its units";
    auto order = db_.collection("orders").find_one(db::id_filter(stalled.order_id));
    ASSERT_TRUE(order);
    EXPECT_EQ(order->view().get_string("status"), "pending") << "no tombstone over a placed order";
    EXPECT_EQ(history_of(stalled.customer), std::vector<std::string>{stalled_id});
    auto cart = db_.collection("carts").find_one(db::id_filter(*db::parse_oid(stalled.user_id)));
    ASSERT_TRUE(cart);
    EXPECT_FALSE(cart->view().has("checkout"));
    EXPECT_EQ(units_in_orders(db_, stalled.product, kSold), 3);
}

// Earlier versions recorded the order in the claim at their point of no return; such a claim
// is settled by inserting that order.
TEST_F(StalledCheckoutRecovery, AnEarlierVersionsClaimWithItsOrderRecordedIsPlaced) {
    const StalledCheckout stalled = stall_a_checkout(true);
    const std::string stalled_id = db::oid_to_string(stalled.order_id);

    auto again = client_.post("/order", boost::json::object{}, stalled.customer);
    EXPECT_EQ(again.status, 409) << again.body;
    EXPECT_EQ(stock_of(db_, stalled.product), 7);
    auto order = client_.get("/order/" + stalled_id, stalled.customer);
    ASSERT_EQ(order.status, 200) << order.body;
    EXPECT_EQ(order.json().at("status"), "pending");
    EXPECT_EQ(history_of(stalled.customer), std::vector<std::string>{stalled_id});
    EXPECT_EQ(units_in_orders(db_, stalled.product, kSold), 3);
}

// Kills the service with SIGKILL at random moments while customers check out and cancel,
// restarts it, lets recovery run, and checks that every unit is accounted for:
// stock left + units in sold (not cancelled) orders = stock ever set.
TEST(CheckoutCrash, ConservationHoldsAfterSigkillDuringCheckouts) {
    const std::string database = unique_database_name();
    auto service =
        std::make_unique<Service>(ServiceOptions{.database = database,
                                                 .extra_args = {"--checkout-recovery-after=1"},
                                                 .extra_env = {kSecretEnv}});
    HttpClient setup(service->port());
    const std::string admin = make_admin(*service, setup, "admin@example.com");
    constexpr std::int64_t kInitial = 400;
    const std::string widget = create_product(setup, admin, "Widget", kInitial, 19.99);
    const std::string gadget = create_product(setup, admin, "Gadget", kInitial, 0.10);
    constexpr int kCustomers = 12;
    std::vector<std::string> tokens;
    for (int i = 0; i < kCustomers; ++i) {
        tokens.push_back(register_and_login(setup, "crash" + std::to_string(i) + "@example.com"));
    }
    db::Db db({.uri = service->mongodb_uri(), .database = database});
    std::mt19937 rng(20261127);
    int total_placed = 0;

    for (int cycle = 0; cycle < 4; ++cycle) {
        const int port = service->port();
        std::atomic<bool> stop{false};
        std::atomic<int> placed{0};
        std::mutex progress_mutex;
        std::condition_variable progress;
        std::vector<std::thread> workers;
        for (int i = 0; i < kCustomers; ++i) {
            workers.emplace_back([&, i] {
                HttpClient client(port);
                std::mt19937 local(static_cast<unsigned>(i * 7919 + cycle));
                while (!stop.load()) {
                    try {
                        client.post("/cart/add",
                                    {{"product_id", widget},
                                     {"quantity", 1 + static_cast<int>(local() % 3)}},
                                    tokens[i]);
                        client.post("/cart/add", {{"product_id", gadget}, {"quantity", 1}},
                                    tokens[i]);
                        auto order = client.post("/order", boost::json::object{}, tokens[i]);
                        if (order.status == 201) {
                            {
                                std::lock_guard lock(progress_mutex);
                                ++placed;
                            }
                            progress.notify_all();
                            if (local() % 3 == 0) {
                                client.put("/order/" +
                                               std::string(order.json().at("_id").as_string()) +
                                               "/status",
                                           {{"status", "cancelled"}}, tokens[i]);
                            }
                        }
                    } catch (const std::exception&) {
                        // The service is being killed: connection errors are expected.
                        std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    }
                }
            });
        }
        // Kill at a random moment once checkouts are under way (on a loaded machine a fixed
        // delay may end a cycle before any checkout got far).
        {
            std::unique_lock lock(progress_mutex);
            const bool started = progress.wait_for(lock, std::chrono::seconds(60),
                                                   [&] { return placed.load() > 0; });
            EXPECT_TRUE(started) << "cycle " << cycle << ": no order was placed in 60 s";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 900));
        service->kill_now();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        stop = true;
        for (auto& worker : workers) worker.join();
        total_placed += placed.load();

        service->start();
        // Recovery: no checkout left half-done, no marker left on a product.
        bool recovered = false;
        for (int i = 0; i < 100 && !recovered; ++i) {
            const auto unfinished = db.collection("orders").count(db::Bson(BCON_NEW(
                "status", "{", "$in", "[", BCON_UTF8("reserving"), BCON_UTF8("failed"), "]", "}")));
            const auto unrestocked = db.collection("orders").count(db::Bson(
                BCON_NEW("status", BCON_UTF8("cancelled"), "restocked", BCON_BOOL(false))));
            // (Return markers of restocked orders stay for a grace period by design.)
            const auto marked = db.collection("products")
                                    .count(db::Bson(BCON_NEW("stock_holds.0", "{", "$exists",
                                                             BCON_BOOL(true), "}")));
            // A checkout killed while holding its cart claim leaves it; recovery settles it.
            const auto claimed = db.collection("carts").count(
                db::Bson(BCON_NEW("checkout", "{", "$exists", BCON_BOOL(true), "}")));
            recovered = unfinished == 0 && unrestocked == 0 && marked == 0 && claimed == 0;
            if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        ASSERT_TRUE(recovered) << "cycle " << cycle << ": recovery did not finish; see "
                               << service->log_path();
        for (const auto& product : {widget, gadget}) {
            const std::int64_t left = stock_of(db, product);
            EXPECT_GE(left, 0) << "cycle " << cycle;
            EXPECT_EQ(left + units_in_orders(db, product, kSold), kInitial)
                << "cycle " << cycle << " product " << product;
        }
    }
    EXPECT_GT(total_placed, 0) << "the test never got an order through";
    service.reset();
}

}  // namespace
}  // namespace flaskcart::testing
