// The cart and orders through the real binary: cart lines, priced views, checkout with stock
// reservation, idempotency keys, order history and the order state machine.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <thread>

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

namespace json = boost::json;

struct Customer {
    std::string token;
    std::string id;
};

void expect_problem(const HttpResponse& response, int status) {
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_EQ(response.header("content-type"), "application/problem+json") << response.body;
}

// The message a problem's `errors` gives for `field`, or "" when it names no such field.
std::string field_error(const HttpResponse& response, const std::string& field) {
    const json::value body = response.json();
    const auto* errors = body.as_object().if_contains("errors");
    if (errors == nullptr || !errors->is_object()) return {};
    const auto* message = errors->as_object().if_contains(field);
    if (message == nullptr || !message->is_string()) return {};
    return std::string(message->as_string());
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class CartOrderApi : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        // (Tests sweep every second: checkout leaves its hold markers for the sweep to drop.)
        service_ = std::make_unique<Service>();
        HttpClient client(service_->port());
        admin_ = make_admin(*service_, client, "cart-order-admin@example.com");
    }
    static void TearDownTestSuite() { service_.reset(); }

    HttpClient client() const { return HttpClient(service_->port()); }
    db::Db database() const {
        return db::Db({.uri = service_->mongodb_uri(), .database = service_->database()});
    }
    static std::string unique(const std::string& tag) { return tag + "-" + crypto::random_hex(4); }

    Customer new_customer(const std::string& tag) {
        Customer customer;
        customer.token = register_and_login(client(), unique(tag) + "@example.com");
        customer.id = user_id_of(client(), customer.token);
        return customer;
    }
    std::string create_product(const std::string& name, const json::value& price,
                               std::int64_t stock) {
        auto created = client().post(
            "/products", {{"name", unique(name)}, {"price", price}, {"stock", stock}}, admin_);
        EXPECT_EQ(created.status, 201) << created.body;
        if (created.status != 201) return {};
        return std::string(created.json().at("_id").as_string());
    }
    void set_product(const std::string& id, const json::object& changes) {
        auto updated = client().put("/products/" + id, changes, admin_);
        ASSERT_EQ(updated.status, 200) << updated.body;
    }
    HttpResponse add(const Customer& customer, const std::string& product_id,
                     std::int64_t quantity) {
        return client().post("/cart/add", {{"product_id", product_id}, {"quantity", quantity}},
                             customer.token);
    }
    HttpResponse add_raw(const Customer& customer, const std::string& body) {
        return client().request("POST", "/cart/add", body, bearer(customer.token));
    }
    HttpResponse place(const Customer& customer, const std::string& body = {},
                       const Headers& extra = {}) {
        Headers headers = bearer(customer.token);
        headers.insert(headers.end(), extra.begin(), extra.end());
        return client().request("POST", "/order", body, headers);
    }
    // Fills the cart with `lines` and checks out; returns the new order's id.
    std::string place_order(const Customer& customer,
                            const std::vector<std::pair<std::string, std::int64_t>>& lines) {
        for (const auto& [product, quantity] : lines) {
            auto added = add(customer, product, quantity);
            EXPECT_TRUE(added.status == 201 || added.status == 200) << added.body;
        }
        auto placed = place(customer);
        EXPECT_EQ(placed.status, 201) << placed.body;
        if (placed.status != 201) return {};
        return std::string(placed.json().at("_id").as_string());
    }
    HttpResponse set_status(const std::string& token, const std::string& order_id,
                            const std::string& status) {
        return client().put("/order/" + order_id + "/status", {{"status", status}}, token);
    }

    std::optional<db::Bson> find_doc(const char* collection, const std::string& id) {
        db::Db db = database();
        const auto oid = db::parse_oid(id);
        if (!oid) return std::nullopt;
        return db.collection(collection).find_one(db::Bson(BCON_NEW("_id", BCON_OID(&*oid))));
    }
    std::int64_t stock_of(const std::string& product_id) {
        auto doc = find_doc("products", product_id);
        EXPECT_TRUE(doc) << product_id;
        if (!doc) return -1;
        return doc->view().get_int64("stock").value_or(-1);
    }
    // Order ids a product's `stock_holds` or `stock_returns` marker array still carries. Hold
    // markers are dropped by the maintenance sweep after checkout (every second here): for
    // them this waits up to 10 s for none to be left.
    std::size_t markers(const std::string& product_id, const char* field) {
        for (int i = 0;; ++i) {
            auto doc = find_doc("products", product_id);
            EXPECT_TRUE(doc) << product_id;
            if (!doc) return 0;
            const std::size_t count = doc->view().get_oids(field).size();
            if (count == 0 || std::string(field) != "stock_holds" || i == 100) return count;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    // The user's cart document (models/cart_model.hpp).
    std::optional<db::Bson> cart_doc(const std::string& user_id) {
        return find_doc("carts", user_id);
    }
    // Documents of `collection` naming the user; for "cart", the lines of the user's cart.
    std::int64_t count_by_user(const char* collection, const std::string& user_id) {
        db::Db db = database();
        const auto user = db::parse_oid(user_id);
        if (std::string(collection) == "cart") {
            auto cart = cart_doc(user_id);
            if (!cart) return 0;
            bson_iter_t it;
            bson_iter_t lines;
            if (!bson_iter_init_find(&it, cart->get(), "lines") ||
                !bson_iter_recurse(&it, &lines)) {
                return 0;
            }
            std::int64_t count = 0;
            while (bson_iter_next(&lines)) ++count;
            return count;
        }
        return db.collection(collection).count(db::Bson(BCON_NEW("user_id", BCON_OID(&*user))));
    }
    // The line of `product_id` in the user's cart as {quantity, line_id}: stored flat as
    // lines.<id> and line_ids.<id> (models/cart_model.hpp), or, when written by an earlier
    // version, the sub-document lines.<id> itself.
    std::optional<db::Bson> cart_line(const std::string& user_id, const std::string& product_id) {
        auto cart = cart_doc(user_id);
        if (!cart) return std::nullopt;
        const std::string path = "lines." + product_id;
        const std::string id_path = "line_ids." + product_id;
        bson_iter_t it;
        bson_iter_t found;
        if (!bson_iter_init(&it, cart->get()) ||
            !bson_iter_find_descendant(&it, path.c_str(), &found)) {
            return std::nullopt;
        }
        if (BSON_ITER_HOLDS_DOCUMENT(&found)) {
            std::uint32_t length = 0;
            const std::uint8_t* data = nullptr;
            bson_iter_document(&found, &length, &data);
            return db::Bson(bson_new_from_data(data, length));
        }
        db::DocumentBuilder line;
        line.append("quantity", bson_iter_as_int64(&found));
        bson_iter_t id;
        if (bson_iter_init(&it, cart->get()) &&
            bson_iter_find_descendant(&it, id_path.c_str(), &id) && BSON_ITER_HOLDS_OID(&id)) {
            line.append("line_id", *bson_iter_oid(&id));
        }
        return line.build();
    }
    std::int64_t count_orders_with_status(const char* status) {
        db::Db db = database();
        return db.collection("orders").count(db::Bson(BCON_NEW("status", BCON_UTF8(status))));
    }

    static std::unique_ptr<Service> service_;
    static std::string admin_;
};
std::unique_ptr<Service> CartOrderApi::service_;
std::string CartOrderApi::admin_;

// --- POST /cart/add ---------------------------------------------------------------------------

TEST_F(CartOrderApi, AddCreatesALineThenIncreasesIt) {
    const Customer ann = new_customer("add");
    const std::string product = create_product("Mug", 4.5, 10);

    auto created = add(ann, product, 2);
    ASSERT_EQ(created.status, 201) << created.body;
    auto line = created.json().as_object();
    EXPECT_EQ(line.at("product_id").as_string(), product);
    EXPECT_EQ(line.at("user_id").as_string(), ann.id);
    EXPECT_EQ(line.at("quantity"), 2);
    EXPECT_EQ(line.at("_id").as_string().size(), 24U);
    EXPECT_EQ(line.at("added_at").as_string().back(), 'Z');

    auto increased = add(ann, product, 3);
    ASSERT_EQ(increased.status, 200) << increased.body;
    EXPECT_EQ(increased.json().at("quantity"), 5);
    EXPECT_EQ(increased.json().at("_id"), line.at("_id"));
    EXPECT_EQ(increased.json().at("added_at"), line.at("added_at"));

    EXPECT_EQ(count_by_user("cart", ann.id), 1);
    auto doc = cart_line(ann.id, product);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->view().get_int64("quantity"), 5);
    ASSERT_TRUE(doc->view().get_oid("line_id"));
    EXPECT_EQ(db::oid_to_string(*doc->view().get_oid("line_id")), line.at("_id").as_string());
    EXPECT_EQ(stock_of(product), 10) << "a cart line is not a reservation";
}

TEST_F(CartOrderApi, AddNeedsAValidToken) {
    const std::string product = create_product("Guarded", 1, 5);
    const json::object body{{"product_id", product}, {"quantity", 1}};
    expect_problem(client().post("/cart/add", body), 401);
    expect_problem(client().post("/cart/add", body, "not-a-token"), 401);
    db::Db db = database();
    const std::string path = "lines." + product;
    EXPECT_EQ(db.collection("carts").count(
                  db::Bson(BCON_NEW(path.c_str(), "{", "$exists", BCON_BOOL(true), "}"))),
              0);
}

TEST_F(CartOrderApi, AddRejectsBadQuantities) {
    const Customer ann = new_customer("addq");
    const std::string product = create_product("Quantity", 1, 5000);
    const std::string prefix = R"({"product_id": ")" + product + R"(", )";
    for (const std::string quantity :
         {"\"quantity\": 0", "\"quantity\": -1", "\"quantity\": 1001", "\"quantity\": 2.5",
          "\"quantity\": \"3\"", "\"quantity\": null", "\"quantity\": true",
          "\"quantity\": {\"$gt\": 0}", "\"quantity\": 1e30"}) {
        auto response = add_raw(ann, prefix + quantity + "}");
        expect_problem(response, 422);
        EXPECT_FALSE(field_error(response, "quantity").empty()) << quantity << response.body;
    }
    auto missing = add_raw(ann, R"({"product_id": ")" + product + R"("})");
    expect_problem(missing, 422);
    EXPECT_EQ(field_error(missing, "quantity"), "is required");
    EXPECT_EQ(count_by_user("cart", ann.id), 0);
}

TEST_F(CartOrderApi, AddRejectsBadProductIdsAndUnknownFields) {
    const Customer ann = new_customer("addp");
    for (const std::string product_id :
         {"123", "true", "null", "\"abc\"", "\"zzzzzzzzzzzzzzzzzzzzzzzz\"",
          "\"0123456789abcdef012345678\"", "\"0123456789abcdef0123456\"", "{\"$ne\": null}",
          "{\"$gt\": \"\"}", "[\"0123456789abcdef01234567\"]"}) {
        auto response = add_raw(ann, R"({"product_id": )" + product_id + R"(, "quantity": 1})");
        expect_problem(response, 422);
        EXPECT_FALSE(field_error(response, "product_id").empty()) << product_id << response.body;
    }
    auto injected = add_raw(ann, R"({"product_id": {"$ne": null}, "quantity": 1})");
    EXPECT_EQ(field_error(injected, "product_id"), "must be a string");

    const std::string product = create_product("Fields", 1, 5);
    auto unknown = client().post(
        "/cart/add", {{"product_id", product}, {"quantity", 1}, {"price", 0.01}}, ann.token);
    expect_problem(unknown, 422);
    EXPECT_EQ(field_error(unknown, "price"), "is not a recognised field");
    auto operator_key = client().post(
        "/cart/add", {{"product_id", product}, {"quantity", 1}, {"$set", {{"quantity", 9}}}},
        ann.token);
    expect_problem(operator_key, 422);

    expect_problem(client().request("POST", "/cart/add", "[1]", bearer(ann.token)), 400);
    expect_problem(client().request("POST", "/cart/add", "{", bearer(ann.token)), 400);
    expect_problem(client().request("POST", "/cart/add",
                                    R"({"product_id": ")" + product + R"(", "quantity": 1})",
                                    bearer(ann.token), "text/plain"),
                   415);
    EXPECT_EQ(count_by_user("cart", ann.id), 0);
}

TEST_F(CartOrderApi, AddUnknownProductIsNotFound) {
    const Customer ann = new_customer("add404");
    auto response = add(ann, db::oid_to_string(db::new_oid()), 1);
    expect_problem(response, 404);
    EXPECT_EQ(count_by_user("cart", ann.id), 0);
}

TEST_F(CartOrderApi, AddMoreThanTheStockIsAConflictNamingTheProduct) {
    const Customer ann = new_customer("add409");
    const std::string product = create_product("Scarce", 2.25, 5);
    auto too_many = add(ann, product, 6);
    expect_problem(too_many, 409);
    EXPECT_EQ(field_error(too_many, product), "only 5 available") << too_many.body;
    EXPECT_FALSE(cart_line(ann.id, product));

    ASSERT_EQ(add(ann, product, 3).status, 201);
    auto cumulative = add(ann, product, 3);
    expect_problem(cumulative, 409);
    EXPECT_EQ(field_error(cumulative, product), "only 5 available");
    EXPECT_EQ(cart_line(ann.id, product)->view().get_int64("quantity"), 3);
    EXPECT_EQ(add(ann, product, 2).status, 200);
    EXPECT_EQ(cart_line(ann.id, product)->view().get_int64("quantity"), 5);
}

TEST_F(CartOrderApi, AddRefusesALineAboveOneThousandUnits) {
    const Customer ann = new_customer("addmax");
    const std::string product = create_product("Bulk", 0.01, 5000);
    ASSERT_EQ(add(ann, product, 600).status, 201);
    auto over = add(ann, product, 401);
    // 401 is a valid quantity on its own: it conflicts with the line's 600 (409, not 422).
    expect_problem(over, 409);
    EXPECT_FALSE(field_error(over, "quantity").empty()) << over.body;
    EXPECT_EQ(cart_line(ann.id, product)->view().get_int64("quantity"), 600);
    auto exact = add(ann, product, 400);
    ASSERT_EQ(exact.status, 200) << exact.body;
    EXPECT_EQ(exact.json().at("quantity"), 1000);
    expect_problem(add(ann, product, 1), 409);
    EXPECT_EQ(cart_line(ann.id, product)->view().get_int64("quantity"), 1000);
}

TEST_F(CartOrderApi, AddForAnotherUserIsForbidden) {
    const Customer ann = new_customer("addown");
    const Customer bob = new_customer("addother");
    const std::string product = create_product("Gift", 3, 5);
    auto forbidden = client().post(
        "/cart/add", {{"product_id", product}, {"quantity", 1}, {"user_id", bob.id}}, ann.token);
    expect_problem(forbidden, 403);
    EXPECT_EQ(count_by_user("cart", bob.id), 0);
    EXPECT_EQ(count_by_user("cart", ann.id), 0);

    auto own = client().post(
        "/cart/add", {{"product_id", product}, {"quantity", 1}, {"user_id", ann.id}}, ann.token);
    ASSERT_EQ(own.status, 201) << own.body;
    EXPECT_EQ(count_by_user("cart", ann.id), 1);
    auto injected = client().request(
        "POST", "/cart/add",
        R"({"product_id": ")" + product + R"(", "quantity": 1, "user_id": {"$ne": null}})",
        bearer(ann.token));
    expect_problem(injected, 422);
    EXPECT_EQ(field_error(injected, "user_id"), "must be a string");
}

TEST_F(CartOrderApi, ConcurrentAddsNeverPassTheLineMaximum) {
    for (int round = 0; round < 3; ++round) {
        const Customer ann = new_customer("addcap");
        const std::string product = create_product("Capped", 0.5, 5000);
        std::vector<HttpResponse> responses(4);
        ASSERT_NO_FATAL_FAILURE(run_concurrently(
            4, [&](int i) { responses[static_cast<std::size_t>(i)] = add(ann, product, 400); }));
        std::int64_t accepted = 0;
        for (const auto& response : responses) {
            if (response.status == 200 || response.status == 201) accepted += 400;
            EXPECT_TRUE(response.status == 200 || response.status == 201 || response.status == 409)
                << response.body;
        }
        auto line = cart_line(ann.id, product);
        ASSERT_TRUE(line);
        const std::int64_t quantity = line->view().get_int64("quantity").value_or(-1);
        EXPECT_LE(quantity, 1000) << "round " << round << ": a cart line holds at most 1000 units";
        EXPECT_EQ(quantity, accepted) << "round " << round << ": every accepted add is counted";
    }
}

TEST_F(CartOrderApi, ConcurrentAddsNeverPassTheStock) {
    for (int round = 0; round < 3; ++round) {
        const Customer ann = new_customer("addstock");
        const std::string product = create_product("Few", 0.5, 5);
        std::vector<HttpResponse> responses(4);
        ASSERT_NO_FATAL_FAILURE(run_concurrently(
            4, [&](int i) { responses[static_cast<std::size_t>(i)] = add(ann, product, 2); }));
        std::int64_t accepted = 0;
        for (const auto& response : responses) {
            if (response.status == 200 || response.status == 201) accepted += 2;
            EXPECT_TRUE(response.status == 200 || response.status == 201 || response.status == 409)
                << response.body;
        }
        auto line = cart_line(ann.id, product);
        ASSERT_TRUE(line);
        const std::int64_t quantity = line->view().get_int64("quantity").value_or(-1);
        EXPECT_LE(quantity, 5) << "round " << round << ": more in the cart than in stock";
        EXPECT_EQ(quantity, accepted) << "round " << round;
    }
}

// --- GET /cart, GET /cart/{user_id} -----------------------------------------------------------

TEST_F(CartOrderApi, CartViewHasItsShapeAndExactMoney) {
    const Customer ann = new_customer("view");
    const std::string pricey = create_product("Lamp", 19.99, 10);
    const std::string cheap = create_product("Clip", 0.10, 10);
    ASSERT_EQ(add(ann, pricey, 3).status, 201);
    ASSERT_EQ(add(ann, cheap, 1).status, 201);

    auto cart = client().get("/cart", ann.token);
    ASSERT_EQ(cart.status, 200) << cart.body;
    EXPECT_TRUE(contains(cart.body, "\"total_price\":60.07")) << cart.body;
    EXPECT_TRUE(contains(cart.body, "\"line_total\":59.97")) << cart.body;
    EXPECT_TRUE(contains(cart.body, "\"price\":19.99")) << cart.body;
    EXPECT_TRUE(contains(cart.body, "\"price\":0.1")) << cart.body;
    const json::value body = cart.json();
    EXPECT_EQ(body.at("user_id").as_string(), ann.id);
    const auto& items = body.at("items").as_array();
    ASSERT_EQ(items.size(), 2U);
    const auto& first = items[0].as_object();
    EXPECT_EQ(first.at("product_id").as_string(), pricey);
    EXPECT_TRUE(first.at("name").as_string().starts_with("Lamp-"));
    EXPECT_EQ(first.at("quantity"), 3);
    EXPECT_EQ(first.at("available"), true);
    EXPECT_EQ(first.at("added_at").as_string().back(), 'Z');
    EXPECT_EQ(first.size(), 7U) << "product_id, name, price, quantity, line_total, available, "
                                   "added_at";
    EXPECT_EQ(items[1].at("product_id").as_string(), cheap);
    EXPECT_EQ(items[1].at("quantity"), 1);

    auto by_id = client().get("/cart/" + ann.id, ann.token);
    ASSERT_EQ(by_id.status, 200) << by_id.body;
    EXPECT_EQ(by_id.json().at("total_price"), body.at("total_price"));
    EXPECT_EQ(by_id.json().at("items"), body.at("items"));

    const Customer empty = new_customer("viewempty");
    auto nothing = client().get("/cart", empty.token);
    ASSERT_EQ(nothing.status, 200) << nothing.body;
    EXPECT_TRUE(nothing.json().at("items").as_array().empty());
    EXPECT_EQ(nothing.json().at("total_price"), 0);
}

TEST_F(CartOrderApi, CartViewAccessRules) {
    const Customer ann = new_customer("viewacl");
    const Customer bob = new_customer("viewbob");
    const std::string product = create_product("Private", 2, 5);
    ASSERT_EQ(add(ann, product, 2).status, 201);

    expect_problem(client().get("/cart"), 401);
    expect_problem(client().get("/cart/" + ann.id), 401);
    expect_problem(client().get("/cart/" + ann.id, bob.token), 403);
    expect_problem(client().get("/cart/not-an-id", bob.token), 403);

    auto as_admin = client().get("/cart/" + ann.id, admin_);
    ASSERT_EQ(as_admin.status, 200) << as_admin.body;
    EXPECT_EQ(as_admin.json().at("user_id").as_string(), ann.id);
    ASSERT_EQ(as_admin.json().at("items").as_array().size(), 1U);
    EXPECT_EQ(as_admin.json().at("total_price"), 4);
    expect_problem(client().get("/cart/not-an-id", admin_), 404);
    expect_problem(client().get("/cart/%7B%22%24ne%22%3Anull%7D", admin_), 404);
}

TEST_F(CartOrderApi, CartViewFollowsStockAndPriceChanges) {
    const Customer ann = new_customer("viewstock");
    const std::string product = create_product("Fading", 1.5, 5);
    ASSERT_EQ(add(ann, product, 3).status, 201);
    EXPECT_EQ(client().get("/cart", ann.token).json().at("items").at(0).at("available"), true);

    set_product(product, {{"stock", 1}, {"price", 2.25}});
    auto cart = client().get("/cart", ann.token);
    ASSERT_EQ(cart.status, 200) << cart.body;
    const json::value body = cart.json();
    EXPECT_EQ(body.at("items").at(0).at("available"), false);
    EXPECT_EQ(body.at("items").at(0).at("quantity"), 3);
    EXPECT_TRUE(contains(cart.body, "\"total_price\":6.75")) << cart.body;

    set_product(product, {{"stock", 3}});
    EXPECT_EQ(client().get("/cart", ann.token).json().at("items").at(0).at("available"), true);
}

TEST_F(CartOrderApi, DeletedProductDisappearsFromCarts) {
    const Customer ann = new_customer("viewdel");
    const std::string doomed = create_product("Doomed", 5, 5);
    const std::string kept = create_product("Kept", 1.25, 5);
    ASSERT_EQ(add(ann, doomed, 2).status, 201);
    ASSERT_EQ(add(ann, kept, 2).status, 201);
    ASSERT_EQ(client().del("/products/" + doomed, admin_).status, 204);

    auto cart = client().get("/cart", ann.token);
    ASSERT_EQ(cart.status, 200) << cart.body;
    const json::value body = cart.json();
    const auto& items = body.at("items").as_array();
    ASSERT_EQ(items.size(), 1U) << cart.body;
    EXPECT_EQ(items[0].at("product_id").as_string(), kept);
    EXPECT_TRUE(contains(cart.body, "\"total_price\":2.5")) << cart.body;
    EXPECT_EQ(count_by_user("cart", ann.id), 1);
    EXPECT_FALSE(cart_line(ann.id, doomed));
}

TEST_F(CartOrderApi, LineWhoseProductVanishedIsUnavailableAndBlocksCheckout) {
    // A product removed behind the service's back (not through DELETE /products).
    const Customer ann = new_customer("ghost");
    const std::string kept = create_product("Solid", 3, 5);
    ASSERT_EQ(add(ann, kept, 1).status, 201);
    const bson_oid_t ghost = db::new_oid();
    {
        db::Db db = database();
        // A line of the earlier nested shape. Its added_at is its id's timestamp: two seconds
        // on, so it lists after the line just added.
        bson_oid_t line = db::new_oid();
        const auto later = static_cast<std::uint32_t>(db::now_ms() / 1000 + 2);
        for (int i = 0; i < 4; ++i)
            line.bytes[i] = static_cast<std::uint8_t>(later >> (24 - 8 * i));
        const auto user = db::parse_oid(ann.id);
        const std::string path = "lines." + db::oid_to_string(ghost);
        db.collection("carts").update_one(
            db::Bson(BCON_NEW("_id", BCON_OID(&*user))),
            db::Bson(BCON_NEW("$set", "{", path.c_str(), "{", "line_id", BCON_OID(&line),
                              "quantity", BCON_INT64(2), "added_at",
                              BCON_DATE_TIME(db::now_ms() + 1000), "updated_at", BCON_DATE_TIME(0),
                              "}", "}")));
    }
    auto cart = client().get("/cart", ann.token);
    ASSERT_EQ(cart.status, 200) << cart.body;
    const json::value body = cart.json();
    ASSERT_EQ(body.at("items").as_array().size(), 2U);
    const auto& missing = body.at("items").at(1).as_object();
    EXPECT_EQ(missing.at("product_id").as_string(), db::oid_to_string(ghost));
    EXPECT_TRUE(missing.at("name").is_null());
    EXPECT_EQ(missing.at("available"), false);
    EXPECT_EQ(body.at("total_price"), 3);

    auto placed = place(ann);
    expect_problem(placed, 409);
    EXPECT_EQ(field_error(placed, db::oid_to_string(ghost)), "no longer exists") << placed.body;
    EXPECT_EQ(count_by_user("orders", ann.id), 0);
    EXPECT_EQ(stock_of(kept), 5);
    EXPECT_EQ(count_by_user("cart", ann.id), 2);
}

// The service starts a cart change from the cart it wrote last; a cart changed elsewhere since
// (another instance: a write that moves the version, as every writer does) must be read again,
// not overwritten, whether the change would write or not.
TEST_F(CartOrderApi, ACartChangedElsewhereIsReadAgainBeforeItIsChanged) {
    const Customer ann = new_customer("elsewhere");
    const std::string mug = create_product("Mug", 2, 50);
    const std::string bowl = create_product("Bowl", 3, 50);
    ASSERT_EQ(add(ann, mug, 1).status, 201);
    const auto change_elsewhere = [&](const std::function<void(db::DocumentBuilder&)>& fill) {
        db::Db db = database();
        const auto user = db::parse_oid(ann.id);
        db::DocumentBuilder update;
        fill(update);
        update.append_document(
            "$inc", [](db::DocumentBuilder& inc) { inc.append("version", std::int64_t{1}); });
        ASSERT_EQ(db.collection("carts").update_one(db::id_filter(*user), update.build()).matched,
                  1);
    };
    // A line of the bowl as a cart document holds it.
    const auto set_bowl_line = [&](db::DocumentBuilder& set, std::int64_t quantity) {
        set.append("lines." + bowl, quantity).append("line_ids." + bowl, db::new_oid());
    };
    // Elsewhere: the mug's line grows to 7 and a bowl joins.
    change_elsewhere([&](db::DocumentBuilder& update) {
        update.append_document("$set", [&](db::DocumentBuilder& set) {
            set.append("lines." + mug, std::int64_t{7});
            set_bowl_line(set, 2);
        });
    });
    auto grown = add(ann, mug, 1);
    ASSERT_EQ(grown.status, 200) << grown.body;
    EXPECT_EQ(grown.json().at("quantity"), 8);
    EXPECT_EQ(cart_line(ann.id, bowl)->view().get_int64("quantity"), 2);

    // Elsewhere: the bowl leaves. Updating it is then a 404, not a line brought back.
    change_elsewhere([&](db::DocumentBuilder& update) {
        update.append_document(
            "$unset", [&](db::DocumentBuilder& unset) { unset.append("lines." + bowl, ""); });
    });
    auto gone = client().put("/cart/update", {{"product_id", bowl}, {"quantity", 3}}, ann.token);
    expect_problem(gone, 404);
    EXPECT_FALSE(cart_line(ann.id, bowl));
    EXPECT_EQ(cart_line(ann.id, mug)->view().get_int64("quantity"), 8);

    // A write here, then elsewhere the bowl comes back: updating it finds it.
    ASSERT_EQ(
        client().put("/cart/update", {{"product_id", mug}, {"quantity", 5}}, ann.token).status,
        200);
    change_elsewhere([&](db::DocumentBuilder& update) {
        update.append_document("$set", [&](db::DocumentBuilder& set) { set_bowl_line(set, 1); });
    });
    auto found = client().put("/cart/update", {{"product_id", bowl}, {"quantity", 4}}, ann.token);
    ASSERT_EQ(found.status, 200) << found.body;
    EXPECT_EQ(cart_line(ann.id, bowl)->view().get_int64("quantity"), 4);
    EXPECT_EQ(cart_line(ann.id, mug)->view().get_int64("quantity"), 5);
}

// --- PUT /cart/update -------------------------------------------------------------------------

TEST_F(CartOrderApi, UpdateSetsTheQuantityAndZeroRemovesTheLine) {
    const Customer ann = new_customer("upd");
    const std::string product = create_product("Adjust", 2, 10);
    ASSERT_EQ(add(ann, product, 2).status, 201);

    auto updated =
        client().put("/cart/update", {{"product_id", product}, {"quantity", 7}}, ann.token);
    ASSERT_EQ(updated.status, 200) << updated.body;
    EXPECT_EQ(updated.json().at("quantity"), 7);
    EXPECT_EQ(updated.json().at("product_id").as_string(), product);
    EXPECT_EQ(updated.json().at("user_id").as_string(), ann.id);
    EXPECT_EQ(cart_line(ann.id, product)->view().get_int64("quantity"), 7);

    auto lower =
        client().put("/cart/update", {{"product_id", product}, {"quantity", 1}}, ann.token);
    ASSERT_EQ(lower.status, 200) << lower.body;
    EXPECT_EQ(cart_line(ann.id, product)->view().get_int64("quantity"), 1);

    auto removed =
        client().put("/cart/update", {{"product_id", product}, {"quantity", 0}}, ann.token);
    EXPECT_EQ(removed.status, 204) << removed.body;
    EXPECT_TRUE(removed.body.empty());
    EXPECT_FALSE(cart_line(ann.id, product));
    EXPECT_EQ(count_by_user("cart", ann.id), 0);
}

TEST_F(CartOrderApi, UpdateFailures) {
    const Customer ann = new_customer("updbad");
    const std::string product = create_product("Strict", 2, 10);
    const std::string elsewhere = create_product("NotInCart", 2, 10);
    ASSERT_EQ(add(ann, product, 2).status, 201);

    expect_problem(client().put("/cart/update", {{"product_id", product}, {"quantity", 3}}), 401);
    auto not_in_cart =
        client().put("/cart/update", {{"product_id", elsewhere}, {"quantity", 1}}, ann.token);
    expect_problem(not_in_cart, 404);
    EXPECT_FALSE(cart_line(ann.id, elsewhere)) << "an update never creates a line";
    expect_problem(
        client().put("/cart/update", {{"product_id", elsewhere}, {"quantity", 0}}, ann.token), 404);
    expect_problem(client().put("/cart/update",
                                {{"product_id", db::oid_to_string(db::new_oid())}, {"quantity", 1}},
                                ann.token),
                   404);

    auto above_stock =
        client().put("/cart/update", {{"product_id", product}, {"quantity", 11}}, ann.token);
    expect_problem(above_stock, 409);
    EXPECT_EQ(field_error(above_stock, product), "only 10 available");

    for (const std::string quantity : {"-1", "1001", "1.5", "\"2\"", "null"}) {
        auto response = client().request(
            "PUT", "/cart/update",
            R"({"product_id": ")" + product + R"(", "quantity": )" + quantity + "}",
            bearer(ann.token));
        expect_problem(response, 422);
        EXPECT_FALSE(field_error(response, "quantity").empty()) << quantity;
    }
    auto bad_id =
        client().put("/cart/update", {{"product_id", "nope"}, {"quantity", 1}}, ann.token);
    expect_problem(bad_id, 422);
    EXPECT_FALSE(field_error(bad_id, "product_id").empty());
    auto unknown = client().put(
        "/cart/update", {{"product_id", product}, {"quantity", 1}, {"added_at", 0}}, ann.token);
    expect_problem(unknown, 422);
    EXPECT_EQ(field_error(unknown, "added_at"), "is not a recognised field");
    const Customer bob = new_customer("updother");
    expect_problem(
        client().put("/cart/update",
                     {{"product_id", product}, {"quantity", 1}, {"user_id", bob.id}}, ann.token),
        403);

    EXPECT_EQ(cart_line(ann.id, product)->view().get_int64("quantity"), 2);
}

// --- DELETE /cart/remove ----------------------------------------------------------------------

TEST_F(CartOrderApi, RemoveByBodyOrByQuery) {
    const Customer ann = new_customer("rm");
    const std::string first = create_product("First", 1, 5);
    const std::string second = create_product("Second", 1, 5);
    const std::string third = create_product("Third", 1, 5);
    for (const auto* product : {&first, &second, &third})
        ASSERT_EQ(add(ann, *product, 1).status, 201);

    auto by_body =
        client().request("DELETE", "/cart/remove",
                         json::serialize(json::object{{"product_id", first}}), bearer(ann.token));
    EXPECT_EQ(by_body.status, 204) << by_body.body;
    EXPECT_FALSE(cart_line(ann.id, first));

    auto by_query = client().del("/cart/remove?product_id=" + second, ann.token);
    EXPECT_EQ(by_query.status, 204) << by_query.body;
    EXPECT_FALSE(cart_line(ann.id, second));
    EXPECT_TRUE(cart_line(ann.id, third));
    EXPECT_EQ(count_by_user("cart", ann.id), 1);

    expect_problem(client().del("/cart/remove?product_id=" + second, ann.token), 404);
    expect_problem(
        client().request("DELETE", "/cart/remove",
                         json::serialize(json::object{{"product_id", first}}), bearer(ann.token)),
        404);
    const Customer bob = new_customer("rmother");
    expect_problem(client().del("/cart/remove?product_id=" + third, bob.token), 404);
    EXPECT_TRUE(cart_line(ann.id, third)) << "another customer cannot remove ann's line";
}

TEST_F(CartOrderApi, RemoveFailures) {
    const Customer ann = new_customer("rmbad");
    const std::string product = create_product("Sticky", 1, 5);
    ASSERT_EQ(add(ann, product, 1).status, 201);
    const std::string body = json::serialize(json::object{{"product_id", product}});

    expect_problem(client().del("/cart/remove?product_id=" + product), 401);
    auto both =
        client().request("DELETE", "/cart/remove?product_id=" + product, body, bearer(ann.token));
    expect_problem(both, 422);
    EXPECT_FALSE(field_error(both, "product_id").empty());
    expect_problem(client().del("/cart/remove?product_id=xyz", ann.token), 422);
    expect_problem(client().del("/cart/remove?product_id=", ann.token), 422);
    expect_problem(
        client().request("DELETE", "/cart/remove", R"({"product_id": "xyz"})", bearer(ann.token)),
        422);
    expect_problem(client().request("DELETE", "/cart/remove", R"({"product_id": {"$ne": null}})",
                                    bearer(ann.token)),
                   422);
    expect_problem(client().request("DELETE", "/cart/remove", "{}", bearer(ann.token)), 422);
    auto nothing = client().del("/cart/remove", ann.token);
    expect_problem(nothing, 422);
    EXPECT_FALSE(field_error(nothing, "product_id").empty()) << nothing.body;
    const Customer bob = new_customer("rmforeign");
    expect_problem(client().request(
                       "DELETE", "/cart/remove",
                       json::serialize(json::object{{"product_id", product}, {"user_id", bob.id}}),
                       bearer(ann.token)),
                   403);
    EXPECT_TRUE(cart_line(ann.id, product));
}

TEST_F(CartOrderApi, WrongMethodsAreNotAllowed) {
    const Customer ann = new_customer("method");
    auto post_cart = client().post("/cart", json::object{}, ann.token);
    expect_problem(post_cart, 405);
    EXPECT_TRUE(contains(post_cart.header("allow"), "GET")) << post_cart.header("allow");
    auto put_add = client().request("PUT", "/cart/add", "{}", bearer(ann.token));
    expect_problem(put_add, 405);
    // The literal /cart/add wins over /cart/{user_id}: only POST is allowed here.
    EXPECT_EQ(put_add.header("allow"), "POST");
    auto get_add = client().get("/cart/add", ann.token);
    expect_problem(get_add, 405);
    EXPECT_EQ(get_add.header("allow"), "POST");
    auto get_order = client().get("/order", ann.token);
    expect_problem(get_order, 405);
    EXPECT_EQ(get_order.header("allow"), "POST");
    const std::string some_order = db::oid_to_string(db::new_oid());
    auto delete_order = client().del("/order/" + some_order, ann.token);
    expect_problem(delete_order, 405);
    auto post_status =
        client().post("/order/" + some_order + "/status", {{"status", "paid"}}, ann.token);
    expect_problem(post_status, 405);
    EXPECT_EQ(post_status.header("allow"), "PUT");
}

// --- POST /order ------------------------------------------------------------------------------

TEST_F(CartOrderApi, PlaceOrderCopiesPricesReservesStockAndEmptiesTheCart) {
    const Customer ann = new_customer("order");
    const std::string lamp = create_product("Lamp", 19.99, 10);
    const std::string clip = create_product("Clip", 0.10, 5);
    ASSERT_EQ(add(ann, lamp, 3).status, 201);
    ASSERT_EQ(add(ann, clip, 1).status, 201);

    auto placed = place(ann);
    ASSERT_EQ(placed.status, 201) << placed.body;
    EXPECT_TRUE(contains(placed.body, "\"total_price\":60.07")) << placed.body;
    EXPECT_TRUE(placed.header("idempotent-replayed").empty());
    const json::value order = placed.json();
    const std::string id(order.at("_id").as_string());
    EXPECT_EQ(placed.header("location"), "/order/" + id);
    EXPECT_EQ(order.at("user_id").as_string(), ann.id);
    EXPECT_EQ(order.at("status"), "pending");
    const auto& lines = order.at("products").as_array();
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(lines[0].at("product_id").as_string(), lamp);
    EXPECT_TRUE(lines[0].at("name").as_string().starts_with("Lamp-"));
    EXPECT_EQ(lines[0].at("quantity"), 3);
    EXPECT_EQ(lines[0].at("price").as_double(), 19.99);
    EXPECT_EQ(lines[0].at("line_total").as_double(), 59.97);
    EXPECT_EQ(lines[1].at("product_id").as_string(), clip);
    EXPECT_EQ(lines[1].at("price").as_double(), 0.1);
    const auto& history = order.at("status_history").as_array();
    ASSERT_EQ(history.size(), 1U) << "the internal `reserving` step is not shown";
    EXPECT_EQ(history[0].at("status"), "pending");
    EXPECT_EQ(history[0].at("at").as_string().back(), 'Z');
    EXPECT_EQ(order.at("created_at").as_string().back(), 'Z');

    EXPECT_EQ(stock_of(lamp), 7);
    EXPECT_EQ(stock_of(clip), 4);
    EXPECT_EQ(markers(lamp, "stock_holds"), 0U);
    EXPECT_EQ(markers(clip, "stock_holds"), 0U);
    EXPECT_EQ(count_by_user("cart", ann.id), 0);
    EXPECT_TRUE(client().get("/cart", ann.token).json().at("items").as_array().empty());

    auto doc = find_doc("orders", id);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->view().get_string("status"), "pending");
    EXPECT_EQ(doc->view().get_int64("total_price_cents"), 6007);
    EXPECT_EQ(doc->view().get_bool("restocked"), false);
    EXPECT_EQ(db::oid_to_string(*doc->view().get_oid("user_id")), ann.id);
    const auto stored = doc->view().get_documents("products");
    ASSERT_EQ(stored.size(), 2U);
    EXPECT_EQ(stored[0].view().get_int64("price_cents"), 1999);
    EXPECT_EQ(stored[0].view().get_int64("quantity"), 3);
    EXPECT_EQ(stored[1].view().get_int64("price_cents"), 10);
    EXPECT_EQ(count_by_user("orders", ann.id), 1);

    auto fetched = client().get("/order/" + id, ann.token);
    ASSERT_EQ(fetched.status, 200) << fetched.body;
    EXPECT_EQ(fetched.json(), order);
}

TEST_F(CartOrderApi, OrderTakesThePriceOfTheMomentAndKeepsIt) {
    const Customer ann = new_customer("price");
    const std::string product = create_product("Volatile", 10, 10);
    ASSERT_EQ(add(ann, product, 2).status, 201);
    set_product(product, {{"price", 12.34}});

    auto placed = place(ann, "{}");
    ASSERT_EQ(placed.status, 201) << placed.body;
    const std::string id(placed.json().at("_id").as_string());
    EXPECT_TRUE(contains(placed.body, "\"price\":12.34")) << placed.body;
    EXPECT_TRUE(contains(placed.body, "\"total_price\":24.68")) << placed.body;

    set_product(product, {{"price", 99.99}, {"name", "Renamed"}});
    auto later = client().get("/order/" + id, ann.token);
    ASSERT_EQ(later.status, 200) << later.body;
    EXPECT_TRUE(contains(later.body, "\"total_price\":24.68")) << later.body;
    EXPECT_EQ(later.json().at("products").at(0).at("price").as_double(), 12.34);
    EXPECT_TRUE(later.json().at("products").at(0).at("name").as_string().starts_with("Volatile-"));
    EXPECT_EQ(find_doc("orders", id)->view().get_int64("total_price_cents"), 2468);
}

TEST_F(CartOrderApi, EmptyCartCannotBeOrdered) {
    const Customer ann = new_customer("empty");
    // Well formed, refused by the cart's current state: 409, the field still named.
    auto placed = place(ann);
    expect_problem(placed, 409);
    EXPECT_EQ(field_error(placed, "cart"), "is empty");
    expect_problem(place(ann, "{}"), 409);
    EXPECT_EQ(count_by_user("orders", ann.id), 0);
}

TEST_F(CartOrderApi, ALineShortOfStockRefusesTheWholeOrderAndReservesNothing) {
    const Customer ann = new_customer("short");
    const std::string plenty = create_product("Plenty", 4, 5);
    const std::string scarce = create_product("Scarce", 6, 5);
    ASSERT_EQ(add(ann, plenty, 2).status, 201);
    ASSERT_EQ(add(ann, scarce, 3).status, 201);
    set_product(scarce, {{"stock", 2}});

    auto placed = place(ann);
    expect_problem(placed, 409);
    EXPECT_EQ(field_error(placed, scarce), "only 2 available") << placed.body;
    EXPECT_EQ(field_error(placed, plenty), "");

    EXPECT_EQ(stock_of(plenty), 5);
    EXPECT_EQ(stock_of(scarce), 2);
    EXPECT_EQ(markers(plenty, "stock_holds"), 0U);
    EXPECT_EQ(markers(scarce, "stock_holds"), 0U);
    EXPECT_EQ(count_by_user("orders", ann.id), 0);
    EXPECT_EQ(count_by_user("cart", ann.id), 2) << "a refused checkout keeps the cart";
    EXPECT_EQ(client().get("/orders", ann.token).json().at("total"), 0);
}

TEST_F(CartOrderApi, StockGoneBetweenAddAndOrderIsAConflict) {
    const Customer ann = new_customer("gone");
    const std::string product = create_product("SoldOut", 7, 3);
    ASSERT_EQ(add(ann, product, 1).status, 201);
    set_product(product, {{"stock", 0}});
    auto placed = place(ann);
    expect_problem(placed, 409);
    EXPECT_EQ(field_error(placed, product), "only 0 available") << placed.body;
    EXPECT_EQ(stock_of(product), 0);
    EXPECT_EQ(count_by_user("orders", ann.id), 0);
    EXPECT_EQ(markers(product, "stock_holds"), 0U);
}

TEST_F(CartOrderApi, PlaceOrderBodyRules) {
    const Customer ann = new_customer("obody");
    const Customer bob = new_customer("obodyother");
    const std::string product = create_product("Body", 1, 10);
    ASSERT_EQ(add(ann, product, 1).status, 201);

    expect_problem(client().request("POST", "/order", ""), 401);
    expect_problem(place(ann, json::serialize(json::object{{"user_id", bob.id}})), 403);
    auto unknown = place(ann, R"({"total_price": 0.01})");
    expect_problem(unknown, 422);
    EXPECT_EQ(field_error(unknown, "total_price"), "is not a recognised field");
    auto injected = place(ann, R"({"user_id": {"$ne": null}})");
    expect_problem(injected, 422);
    EXPECT_EQ(field_error(injected, "user_id"), "must be a string");
    expect_problem(place(ann, "[]"), 400);
    EXPECT_EQ(count_by_user("orders", ann.id), 0);
    EXPECT_EQ(count_by_user("orders", bob.id), 0);
    EXPECT_EQ(stock_of(product), 10);

    auto own = place(ann, json::serialize(json::object{{"user_id", ann.id}}));
    ASSERT_EQ(own.status, 201) << own.body;
    EXPECT_EQ(own.json().at("user_id").as_string(), ann.id);
    EXPECT_EQ(stock_of(product), 9);
}

TEST_F(CartOrderApi, ConcurrentCheckoutsNeverOversell) {
    constexpr int kBuyers = 6;
    constexpr std::int64_t kStock = 3;
    for (int round = 0; round < 3; ++round) {
        const std::string product = create_product("LastUnits", 5, kStock);
        std::vector<Customer> buyers;
        for (int i = 0; i < kBuyers; ++i) {
            buyers.push_back(new_customer("race"));
            ASSERT_EQ(add(buyers.back(), product, 1).status, 201);
        }
        std::vector<HttpResponse> responses(buyers.size());
        ASSERT_NO_FATAL_FAILURE(run_concurrently(kBuyers, [&](int i) {
            responses[static_cast<std::size_t>(i)] = place(buyers[static_cast<std::size_t>(i)]);
        }));
        int placed = 0;
        int refused = 0;
        for (const auto& response : responses) {
            if (response.status == 201) ++placed;
            if (response.status == 409) ++refused;
            EXPECT_TRUE(response.status == 201 || response.status == 409) << response.body;
        }
        EXPECT_EQ(placed, kStock);
        EXPECT_EQ(refused, kBuyers - kStock);
        EXPECT_EQ(stock_of(product), 0);
        EXPECT_EQ(markers(product, "stock_holds"), 0U);
        db::Db db = database();
        const auto oid = db::parse_oid(product);
        EXPECT_EQ(db.collection("orders").count(
                      db::Bson(BCON_NEW("products.product_id", BCON_OID(&*oid)))),
                  kStock);
    }
    EXPECT_EQ(count_orders_with_status("reserving"), 0);
    EXPECT_EQ(count_orders_with_status("failed"), 0);
}

// --- Idempotency-Key --------------------------------------------------------------------------

TEST_F(CartOrderApi, SameKeyAndBodyReplaysTheOrder) {
    const Customer ann = new_customer("idem");
    const std::string product = create_product("Once", 8, 10);
    ASSERT_EQ(add(ann, product, 2).status, 201);
    const Headers key{{"Idempotency-Key", "order-" + crypto::random_hex(8)}};

    auto first = place(ann, "{}", key);
    ASSERT_EQ(first.status, 201) << first.body;
    EXPECT_TRUE(first.header("idempotent-replayed").empty());
    const std::string id(first.json().at("_id").as_string());
    EXPECT_EQ(count_by_user("cart", ann.id), 0);

    auto again = place(ann, "{}", key);
    ASSERT_EQ(again.status, 201) << again.body;
    EXPECT_EQ(again.header("idempotent-replayed"), "true");
    EXPECT_EQ(again.json().at("_id").as_string(), id);
    EXPECT_EQ(again.header("location"), "/order/" + id);
    EXPECT_EQ(again.json().at("total_price"), 16);
    EXPECT_EQ(stock_of(product), 8);
    EXPECT_EQ(count_by_user("orders", ann.id), 1);

    // Formatting does not make another request, and an absent body is the same as {}.
    for (const std::string body : {"  { }\n", ""}) {
        auto same = place(ann, body, key);
        ASSERT_EQ(same.status, 201) << same.body;
        EXPECT_EQ(same.header("idempotent-replayed"), "true");
        EXPECT_EQ(same.json().at("_id").as_string(), id);
    }

    // A fresh cart under the same key still replays the first order and places nothing.
    ASSERT_EQ(add(ann, product, 1).status, 201);
    auto third = place(ann, "{}", key);
    ASSERT_EQ(third.status, 201) << third.body;
    EXPECT_EQ(third.json().at("_id").as_string(), id);
    EXPECT_EQ(stock_of(product), 8);
    EXPECT_EQ(count_by_user("orders", ann.id), 1);
    EXPECT_EQ(count_by_user("cart", ann.id), 1);

    // Without a key, or with another key, a new order is placed.
    auto other_key = place(ann, "{}", {{"Idempotency-Key", "order-" + crypto::random_hex(8)}});
    ASSERT_EQ(other_key.status, 201) << other_key.body;
    EXPECT_NE(other_key.json().at("_id").as_string(), id);
    EXPECT_EQ(stock_of(product), 7);
}

TEST_F(CartOrderApi, SameKeyWithAnotherBodyIsRefused) {
    const Customer ann = new_customer("idembody");
    const std::string product = create_product("Keyed", 3, 10);
    ASSERT_EQ(add(ann, product, 1).status, 201);
    const Headers key{{"Idempotency-Key", crypto::random_hex(12)}};
    ASSERT_EQ(place(ann, "{}", key).status, 201);

    ASSERT_EQ(add(ann, product, 1).status, 201);
    auto different = place(ann, json::serialize(json::object{{"user_id", ann.id}}), key);
    expect_problem(different, 422);
    EXPECT_FALSE(field_error(different, "Idempotency-Key").empty()) << different.body;
    EXPECT_EQ(count_by_user("orders", ann.id), 1);
    EXPECT_EQ(stock_of(product), 9);
    EXPECT_EQ(count_by_user("cart", ann.id), 1);
}

TEST_F(CartOrderApi, KeysBelongToTheirUser) {
    const Customer ann = new_customer("idemann");
    const Customer bob = new_customer("idembob");
    const std::string product = create_product("Shared", 2, 10);
    const Headers key{{"Idempotency-Key", "shared-" + crypto::random_hex(6)}};
    ASSERT_EQ(add(ann, product, 1).status, 201);
    ASSERT_EQ(add(bob, product, 2).status, 201);

    auto ann_order = place(ann, "{}", key);
    ASSERT_EQ(ann_order.status, 201) << ann_order.body;
    auto bob_order = place(bob, "{}", key);
    ASSERT_EQ(bob_order.status, 201) << bob_order.body;
    EXPECT_TRUE(bob_order.header("idempotent-replayed").empty());
    EXPECT_NE(bob_order.json().at("_id"), ann_order.json().at("_id"));
    EXPECT_EQ(bob_order.json().at("user_id").as_string(), bob.id);
    EXPECT_EQ(bob_order.json().at("products").at(0).at("quantity"), 2);
    EXPECT_EQ(stock_of(product), 7);
    EXPECT_EQ(count_by_user("orders", ann.id), 1);
    EXPECT_EQ(count_by_user("orders", bob.id), 1);
}

TEST_F(CartOrderApi, InvalidKeysAreRefusedBeforeAnythingIsPlaced) {
    const Customer ann = new_customer("idembad");
    const std::string product = create_product("Unkeyed", 2, 10);
    ASSERT_EQ(add(ann, product, 1).status, 201);
    for (const std::string& bad : {std::string(), std::string(300, 'k'), std::string(256, 'k'),
                                   std::string("has space"), std::string("\"\"")}) {
        auto response = place(ann, "{}", {{"Idempotency-Key", bad}});
        expect_problem(response, 422);
        EXPECT_FALSE(field_error(response, "Idempotency-Key").empty())
            << bad.size() << response.body;
    }
    EXPECT_EQ(count_by_user("orders", ann.id), 0);
    EXPECT_EQ(stock_of(product), 10);

    auto longest = place(ann, "{}", {{"Idempotency-Key", std::string(255, 'k')}});
    ASSERT_EQ(longest.status, 201) << longest.body;
    ASSERT_EQ(add(ann, product, 1).status, 201);
    auto quoted = place(ann, "{}", {{"Idempotency-Key", "\"" + std::string(255, 'k') + "\""}});
    ASSERT_EQ(quoted.status, 201) << quoted.body;
    EXPECT_EQ(quoted.header("idempotent-replayed"), "true") << "a quoted key is the same key";
    EXPECT_EQ(quoted.json().at("_id"), longest.json().at("_id"));
}

TEST_F(CartOrderApi, ARefusedCheckoutLeavesItsKeyUsable) {
    const Customer ann = new_customer("idemretry");
    const std::string product = create_product("Restocked", 2, 5);
    ASSERT_EQ(add(ann, product, 3).status, 201);
    set_product(product, {{"stock", 1}});
    const Headers key{{"Idempotency-Key", "retry-" + crypto::random_hex(8)}};
    expect_problem(place(ann, "{}", key), 409);
    EXPECT_EQ(count_by_user("orders", ann.id), 0);

    set_product(product, {{"stock", 4}});
    auto retried = place(ann, "{}", key);
    ASSERT_EQ(retried.status, 201) << retried.body;
    EXPECT_TRUE(retried.header("idempotent-replayed").empty());
    EXPECT_EQ(stock_of(product), 1);
    EXPECT_EQ(count_by_user("orders", ann.id), 1);
}

// A double click (or a script) checking out one cart several times at once without an
// Idempotency-Key buys it once: one order, stock taken once, the cart emptied once; the other
// requests are told a checkout is in progress (409) or, once it is done, that the cart is empty.
TEST_F(CartOrderApi, ConcurrentCheckoutsOfOneCartPlaceExactlyOneOrder) {
    for (const int concurrent : {2, 4, 10}) {
        for (int round = 0; round < 4; ++round) {
            SCOPED_TRACE(std::to_string(concurrent) + " at once, round " + std::to_string(round));
            const Customer ann = new_customer("doubleclick");
            const std::string product = create_product("BoughtOnce", 3, 50);
            ASSERT_EQ(add(ann, product, 5).status, 201);
            std::vector<HttpResponse> responses(static_cast<std::size_t>(concurrent));
            ASSERT_NO_FATAL_FAILURE(run_concurrently(concurrent, [&](int i) {
                responses[static_cast<std::size_t>(i)] = place(ann, "{}");
            }));
            int placed = 0;
            for (const auto& response : responses) {
                if (response.status == 201) {
                    ++placed;
                    continue;
                }
                EXPECT_TRUE(response.status == 409 || response.status == 422)
                    << response.status << " " << response.body;
                EXPECT_EQ(response.header("content-type"), "application/problem+json");
            }
            EXPECT_EQ(placed, 1);
            EXPECT_EQ(count_by_user("orders", ann.id), 1);
            EXPECT_EQ(stock_of(product), 45);
            EXPECT_EQ(markers(product, "stock_holds"), 0U);
            EXPECT_FALSE(cart_line(ann.id, product));
            auto cart = cart_doc(ann.id);
            ASSERT_TRUE(cart);
            EXPECT_FALSE(cart->view().has("checkout")) << "the checkout claim was left behind";
        }
    }
    EXPECT_EQ(count_orders_with_status("reserving"), 0);
    EXPECT_EQ(count_orders_with_status("failed"), 0);
}

TEST_F(CartOrderApi, ConcurrentRequestsWithOneKeyPlaceOneOrder) {
    for (int round = 0; round < 10; ++round) {
        const Customer ann = new_customer("idemrace");
        const std::string product = create_product("OneOfMany", 1, 100);
        ASSERT_EQ(add(ann, product, 2).status, 201);
        const Headers key{{"Idempotency-Key", "race-" + crypto::random_hex(8)}};
        std::vector<HttpResponse> responses(6);
        ASSERT_NO_FATAL_FAILURE(run_concurrently(
            6, [&](int i) { responses[static_cast<std::size_t>(i)] = place(ann, "{}", key); }));
        std::set<std::string> ids;
        for (const auto& response : responses) {
            // Either the order (placed or replayed) or "still in progress"; never a second order
            // and never "the cart is empty".
            EXPECT_TRUE(response.status == 201 || response.status == 409)
                << "round " << round << ": " << response.status << " " << response.body;
            if (response.status == 201) ids.emplace(response.json().at("_id").as_string());
        }
        EXPECT_EQ(ids.size(), 1U);
        EXPECT_EQ(count_by_user("orders", ann.id), 1);
        EXPECT_EQ(stock_of(product), 98);
    }
}

// --- GET /orders, GET /orders/{user_id} -------------------------------------------------------

TEST_F(CartOrderApi, OrderHistoryIsNewestFirstAndPaginated) {
    const Customer ann = new_customer("list");
    const std::string product = create_product("Repeat", 1, 50);
    std::vector<std::string> ids;
    for (std::int64_t i = 1; i <= 3; ++i) ids.push_back(place_order(ann, {{product, i}}));

    auto own = client().get("/orders", ann.token);
    ASSERT_EQ(own.status, 200) << own.body;
    const json::value body = own.json();
    EXPECT_EQ(body.at("total"), 3);
    EXPECT_EQ(body.at("page"), 1);
    EXPECT_TRUE(body.at("limit").is_int64());
    const auto& items = body.at("items").as_array();
    ASSERT_EQ(items.size(), 3U);
    EXPECT_EQ(items[0].at("_id").as_string(), ids[2]);
    EXPECT_EQ(items[1].at("_id").as_string(), ids[1]);
    EXPECT_EQ(items[2].at("_id").as_string(), ids[0]);
    EXPECT_EQ(items[0].at("products").at(0).at("quantity"), 3);

    auto page_two = client().get("/orders/" + ann.id + "?page=2&limit=2", ann.token);
    ASSERT_EQ(page_two.status, 200) << page_two.body;
    EXPECT_EQ(page_two.json().at("page"), 2);
    EXPECT_EQ(page_two.json().at("limit"), 2);
    EXPECT_EQ(page_two.json().at("total"), 3);
    ASSERT_EQ(page_two.json().at("items").as_array().size(), 1U);
    EXPECT_EQ(page_two.json().at("items").at(0).at("_id").as_string(), ids[0]);

    auto by_id = client().get("/orders/" + ann.id, ann.token);
    ASSERT_EQ(by_id.status, 200);
    EXPECT_EQ(by_id.json().at("items"), body.at("items"));

    const Customer fresh = new_customer("listempty");
    auto none = client().get("/orders", fresh.token);
    ASSERT_EQ(none.status, 200) << none.body;
    EXPECT_TRUE(none.json().at("items").as_array().empty());
    EXPECT_EQ(none.json().at("total"), 0);
}

TEST_F(CartOrderApi, OrderHistoryAccessAndPaging) {
    const Customer ann = new_customer("listacl");
    const Customer bob = new_customer("listbob");
    const std::string product = create_product("Visible", 1, 10);
    place_order(ann, {{product, 1}});

    for (const char* query : {"?limit=0", "?limit=1000", "?limit=101", "?page=0", "?page=x",
                              "?limit=-1", "?limit=2.5"}) {
        auto response = client().get(std::string("/orders") + query, ann.token);
        expect_problem(response, 422);
        EXPECT_EQ(client().get("/orders/" + ann.id + query, ann.token).status, 422) << query;
    }
    EXPECT_EQ(client().get("/orders?limit=100", ann.token).status, 200);

    expect_problem(client().get("/orders"), 401);
    expect_problem(client().get("/orders/" + ann.id), 401);
    expect_problem(client().get("/orders/" + ann.id, bob.token), 403);
    auto as_admin = client().get("/orders/" + ann.id, admin_);
    ASSERT_EQ(as_admin.status, 200) << as_admin.body;
    EXPECT_EQ(as_admin.json().at("total"), 1);
    EXPECT_EQ(as_admin.json().at("items").at(0).at("user_id").as_string(), ann.id);
    expect_problem(client().get("/orders/not-an-id", admin_), 404);
    EXPECT_EQ(client().get("/orders/" + bob.id, bob.token).json().at("total"), 0);
}

// --- GET /order/{order_id} --------------------------------------------------------------------

TEST_F(CartOrderApi, GetOrderIsVisibleToItsOwnerAndAdminsOnly) {
    const Customer ann = new_customer("get");
    const Customer bob = new_customer("getother");
    const std::string product = create_product("Mine", 2, 10);
    const std::string id = place_order(ann, {{product, 2}});
    ASSERT_FALSE(id.empty());

    auto own = client().get("/order/" + id, ann.token);
    ASSERT_EQ(own.status, 200) << own.body;
    EXPECT_EQ(own.json().at("_id").as_string(), id);
    EXPECT_EQ(own.json().at("total_price"), 4);

    auto foreign = client().get("/order/" + id, bob.token);
    expect_problem(foreign, 404);
    EXPECT_FALSE(contains(foreign.body, ann.id));
    auto as_admin = client().get("/order/" + id, admin_);
    ASSERT_EQ(as_admin.status, 200) << as_admin.body;
    EXPECT_EQ(as_admin.json().at("user_id").as_string(), ann.id);

    expect_problem(client().get("/order/not-an-id", ann.token), 404);
    expect_problem(client().get("/order/" + db::oid_to_string(db::new_oid()), admin_), 404);
    expect_problem(client().get("/order/" + id), 401);
    expect_problem(client().get("/order/" + id, "garbage"), 401);
}

// --- PUT /order/{order_id}/status -------------------------------------------------------------

TEST_F(CartOrderApi, AdminWalksTheOrderThroughItsLifecycle) {
    const Customer ann = new_customer("life");
    const std::string product = create_product("Journey", 3, 10);
    const std::string id = place_order(ann, {{product, 4}});
    ASSERT_FALSE(id.empty());

    const std::vector<std::string> steps{"paid", "shipped", "delivered"};
    for (std::size_t i = 0; i < steps.size(); ++i) {
        auto response = set_status(admin_, id, steps[i]);
        ASSERT_EQ(response.status, 200) << steps[i] << response.body;
        const json::value order = response.json();
        EXPECT_EQ(order.at("status").as_string(), steps[i]);
        const auto& history = order.at("status_history").as_array();
        ASSERT_EQ(history.size(), i + 2);
        EXPECT_EQ(history[0].at("status"), "pending");
        EXPECT_EQ(history[i + 1].at("status").as_string(), steps[i]);
        for (const auto& entry : history) {
            EXPECT_EQ(entry.as_object().size(), 2U);
            EXPECT_EQ(entry.at("at").as_string().back(), 'Z');
        }
    }
    auto doc = find_doc("orders", id);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->view().get_string("status"), "delivered");
    EXPECT_EQ(doc->view().get_documents("status_history").size(), 4U)
        << "pending, paid, shipped, delivered (an order is stored once placed)";
    EXPECT_EQ(client().get("/order/" + id, ann.token).json().at("status"), "delivered");

    auto cancel = set_status(admin_, id, "cancelled");
    expect_problem(cancel, 409);
    EXPECT_EQ(field_error(cancel, "status"), "current status is delivered");
    EXPECT_EQ(stock_of(product), 6) << "a refused cancellation returns nothing";
    EXPECT_EQ(find_doc("orders", id)->view().get_string("status"), "delivered");
}

TEST_F(CartOrderApi, InvalidTransitionsNameTheCurrentStatus) {
    const Customer ann = new_customer("trans");
    const std::string product = create_product("Rules", 1, 10);
    const std::string id = place_order(ann, {{product, 1}});
    ASSERT_FALSE(id.empty());

    for (const char* target : {"shipped", "delivered", "pending"}) {
        auto response = set_status(admin_, id, target);
        expect_problem(response, 409);
        EXPECT_EQ(field_error(response, "status"), "current status is pending") << target;
    }
    ASSERT_EQ(set_status(admin_, id, "paid").status, 200);
    for (const char* target : {"pending", "paid", "delivered"}) {
        auto response = set_status(admin_, id, target);
        expect_problem(response, 409);
        EXPECT_EQ(field_error(response, "status"), "current status is paid") << target;
    }
    EXPECT_EQ(find_doc("orders", id)->view().get_string("status"), "paid");
}

TEST_F(CartOrderApi, StatusBodyIsValidated) {
    const Customer ann = new_customer("statbody");
    const std::string product = create_product("Checked", 1, 10);
    const std::string id = place_order(ann, {{product, 1}});
    ASSERT_FALSE(id.empty());
    const std::string path = "/order/" + id + "/status";

    for (const char* status : {"refunded", "reserving", "failed", "PAID", ""}) {
        auto response = set_status(admin_, id, status);
        expect_problem(response, 422);
        EXPECT_FALSE(field_error(response, "status").empty()) << status;
    }
    for (const char* body : {R"({})", R"({"status": 5})", R"({"status": {"$ne": null}})",
                             R"({"status": "paid", "restocked": true})"}) {
        expect_problem(client().request("PUT", path, body, bearer(admin_)), 422);
    }
    expect_problem(set_status(admin_, "not-an-id", "paid"), 404);
    expect_problem(set_status(admin_, db::oid_to_string(db::new_oid()), "paid"), 404);
    expect_problem(set_status("", id, "cancelled"), 401);
    auto doc = find_doc("orders", id);
    EXPECT_EQ(doc->view().get_string("status"), "pending");
    EXPECT_EQ(doc->view().get_bool("restocked"), false);
}

TEST_F(CartOrderApi, CustomerCancelsOwnPendingOrderAndStockReturnsOnce) {
    const Customer ann = new_customer("cancel");
    const std::string first = create_product("Back", 2, 10);
    const std::string second = create_product("Again", 3, 4);
    const std::string id = place_order(ann, {{first, 3}, {second, 4}});
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(stock_of(first), 7);
    EXPECT_EQ(stock_of(second), 0);

    auto cancelled = set_status(ann.token, id, "cancelled");
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_EQ(cancelled.json().at("status"), "cancelled");
    const json::value order = cancelled.json();
    const auto& history = order.at("status_history").as_array();
    ASSERT_EQ(history.size(), 2U);
    EXPECT_EQ(history[1].at("status"), "cancelled");
    EXPECT_EQ(stock_of(first), 10);
    EXPECT_EQ(stock_of(second), 4);

    auto twice = set_status(ann.token, id, "cancelled");
    expect_problem(twice, 409);
    EXPECT_EQ(field_error(twice, "status"), "current status is cancelled");
    auto by_admin = set_status(admin_, id, "cancelled");
    expect_problem(by_admin, 409);
    expect_problem(set_status(admin_, id, "paid"), 409);
    EXPECT_EQ(stock_of(first), 10);
    EXPECT_EQ(stock_of(second), 4);

    auto doc = find_doc("orders", id);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->view().get_string("status"), "cancelled");
    EXPECT_EQ(doc->view().get_bool("restocked"), true);
    for (const auto* product : {&first, &second}) {
        EXPECT_EQ(markers(*product, "stock_returns"), 1U);  // kept for the grace period
        EXPECT_EQ(markers(*product, "stock_holds"), 0U);
    }
    EXPECT_EQ(client().get("/orders", ann.token).json().at("items").at(0).at("status"),
              "cancelled");
}

TEST_F(CartOrderApi, CustomersMayOnlyCancelTheirOwnPendingOrders) {
    const Customer ann = new_customer("cust");
    const Customer bob = new_customer("custother");
    const std::string product = create_product("Limits", 5, 20);
    const std::string id = place_order(ann, {{product, 2}});
    ASSERT_FALSE(id.empty());

    for (const char* status : {"paid", "shipped", "delivered", "pending"}) {
        expect_problem(set_status(ann.token, id, status), 403);
    }
    expect_problem(set_status(bob.token, id, "cancelled"), 404);
    expect_problem(set_status(bob.token, id, "paid"), 404);
    EXPECT_EQ(find_doc("orders", id)->view().get_string("status"), "pending");
    EXPECT_EQ(stock_of(product), 18);

    ASSERT_EQ(set_status(admin_, id, "paid").status, 200);
    auto too_late = set_status(ann.token, id, "cancelled");
    expect_problem(too_late, 409);
    EXPECT_EQ(field_error(too_late, "status"), "current status is paid");
    EXPECT_EQ(stock_of(product), 18);
    EXPECT_EQ(find_doc("orders", id)->view().get_string("status"), "paid");
}

TEST_F(CartOrderApi, AdminCancelsAPaidOrderAndStockReturnsOnce) {
    const Customer ann = new_customer("admcancel");
    const std::string product = create_product("Refund", 9.99, 10);
    const std::string id = place_order(ann, {{product, 6}});
    ASSERT_FALSE(id.empty());
    ASSERT_EQ(set_status(admin_, id, "paid").status, 200);
    EXPECT_EQ(stock_of(product), 4);

    auto cancelled = set_status(admin_, id, "cancelled");
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_EQ(cancelled.json().at("status"), "cancelled");
    EXPECT_EQ(stock_of(product), 10);
    auto twice = set_status(admin_, id, "cancelled");
    expect_problem(twice, 409);
    EXPECT_EQ(field_error(twice, "status"), "current status is cancelled");
    EXPECT_EQ(stock_of(product), 10);

    auto doc = find_doc("orders", id);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->view().get_bool("restocked"), true);
    EXPECT_EQ(markers(product, "stock_returns"), 1U);  // kept for the grace period
    EXPECT_TRUE(contains(client().get("/order/" + id, ann.token).body, "\"total_price\":59.94"));
}

TEST_F(CartOrderApi, CancellingAfterTheProductWasDeletedReturnsNothingAnywhere) {
    const Customer ann = new_customer("cancelgone");
    const std::string doomed = create_product("Discontinued", 4, 10);
    const std::string kept = create_product("Continued", 4, 10);
    const std::string id = place_order(ann, {{doomed, 2}, {kept, 3}});
    ASSERT_FALSE(id.empty());
    ASSERT_EQ(client().del("/products/" + doomed, admin_).status, 204);

    auto cancelled = set_status(ann.token, id, "cancelled");
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_FALSE(find_doc("products", doomed)) << "a return must not recreate the product";
    EXPECT_EQ(stock_of(kept), 10);
    EXPECT_EQ(markers(kept, "stock_returns"), 1U);  // kept for the grace period
    EXPECT_EQ(find_doc("orders", id)->view().get_bool("restocked"), true);
    auto order = client().get("/order/" + id, ann.token);
    ASSERT_EQ(order.status, 200) << order.body;
    EXPECT_TRUE(
        order.json().at("products").at(0).at("name").as_string().starts_with("Discontinued-"));
}

TEST_F(CartOrderApi, ConcurrentCancellationsReturnStockOnce) {
    for (int round = 0; round < 4; ++round) {
        const Customer ann = new_customer("cancelrace");
        const std::string product = create_product("Contested", 1, 10);
        const std::string id = place_order(ann, {{product, 5}});
        ASSERT_FALSE(id.empty());
        std::vector<HttpResponse> responses(6);
        ASSERT_NO_FATAL_FAILURE(run_concurrently(6, [&](int i) {
            const std::string& token = i % 2 == 0 ? ann.token : admin_;
            responses[static_cast<std::size_t>(i)] = set_status(token, id, "cancelled");
        }));
        int won = 0;
        for (const auto& response : responses) {
            if (response.status == 200) ++won;
            EXPECT_TRUE(response.status == 200 || response.status == 409) << response.body;
        }
        EXPECT_EQ(won, 1);
        EXPECT_EQ(stock_of(product), 10);
        EXPECT_EQ(markers(product, "stock_returns"), 1U);  // kept for the grace period
        EXPECT_EQ(find_doc("orders", id)->view().get_bool("restocked"), true);
    }
}

}  // namespace
}  // namespace flaskcart::testing
