// The start-up migration, through the real binary: a database written in the shapes of the
// previous version (one `cart` document per line, Idempotency-Keys on the orders, history found
// by scanning `orders`, claims in `checkout_claims`, a checkout that crashed mid-way) keeps
// working after the upgrade: carts, orders and keys are not lost, and the crash is undone.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>

#include "support/api_helpers.hpp"
#include "support/database.hpp"
#include "support/http_client.hpp"
#include "support/service.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"

namespace flaskcart::testing {
namespace {

namespace json = boost::json;

constexpr const char* kSecretEnv = "FLASKCART_JWT_SECRET=migration-test-secret-0123456789abcdef";

std::string create_product(const HttpClient& client, const std::string& admin,
                           const std::string& name, std::int64_t stock) {
    auto response =
        client.post("/products", {{"name", name}, {"price", 2.5}, {"stock", stock}}, admin);
    EXPECT_EQ(response.status, 201) << response.body;
    return std::string(response.json().at("_id").as_string());
}

bson_oid_t oid(const std::string& id) {
    return *db::parse_oid(id);
}

// An order as the previous version stored it.
void insert_old_order(db::Db& db, const bson_oid_t& id, const std::string& user_id,
                      const std::string& product_id, std::int64_t quantity, const char* status,
                      const std::string& key, std::int64_t created_at) {
    const bson_oid_t user = oid(user_id);
    const bson_oid_t product = oid(product_id);
    const std::string fingerprint = crypto::digest_hex("{}");
    db.collection("orders").insert_one(db::Bson(BCON_NEW(
        "_id", BCON_OID(&id), "user_id", BCON_OID(&user), "products", "[", "{", "product_id",
        BCON_OID(&product), "name", BCON_UTF8("Old thing"), "quantity", BCON_INT64(quantity),
        "price_cents", BCON_INT64(250), "}", "]", "total_price_cents", BCON_INT64(250 * quantity),
        "status", BCON_UTF8(status), "status_history", "[", "{", "status", BCON_UTF8(status), "at",
        BCON_DATE_TIME(created_at), "}", "]", "idempotency_key", BCON_UTF8(key.c_str()),
        "request_fingerprint", BCON_UTF8(fingerprint.c_str()), "restocked", BCON_BOOL(false),
        "created_at", BCON_DATE_TIME(created_at), "updated_at", BCON_DATE_TIME(created_at))));
}

void insert_old_line(db::Db& db, const std::string& user_id, const std::string& product_id,
                     std::int64_t quantity, std::int64_t added_at) {
    const bson_oid_t id = db::new_oid();
    const bson_oid_t user = oid(user_id);
    const bson_oid_t product = oid(product_id);
    db.collection("cart").insert_one(
        db::Bson(BCON_NEW("_id", BCON_OID(&id), "user_id", BCON_OID(&user), "product_id",
                          BCON_OID(&product), "quantity", BCON_INT64(quantity), "added_at",
                          BCON_DATE_TIME(added_at), "updated_at", BCON_DATE_TIME(added_at))));
}

std::int64_t stock_of(db::Db& db, const std::string& product_id) {
    const bson_oid_t id = oid(product_id);
    auto doc = db.collection("products").find_one(db::Bson(BCON_NEW("_id", BCON_OID(&id))));
    return doc ? doc->view().get_int64("stock").value_or(-1) : -1;
}

TEST(Migration, ADatabaseOfThePreviousVersionKeepsItsCartsOrdersAndKeys) {
    Service service({.extra_env = {kSecretEnv}});
    HttpClient client(service.port());
    const std::string admin = make_admin(service, client, "admin@example.com");
    const std::string ann = register_and_login(client, "ann@example.com");
    const std::string ann_id = user_id_of(client, ann);
    const std::string bob = register_and_login(client, "bob@example.com");
    const std::string bob_id = user_id_of(client, bob);
    const std::string mug = create_product(client, admin, "Mug", 20);
    const std::string pen = create_product(client, admin, "Pen", 20);
    const std::string ink = create_product(client, admin, "Ink", 20);
    ASSERT_TRUE(service.stop());

    // The previous version's documents, written directly; this version's are removed.
    db::Db db({.uri = service.mongodb_uri(), .database = service.database()});
    db.collection("carts").delete_many(db::Bson());
    db.collection("migrations").delete_many(db::Bson());
    const std::int64_t t0 = db::now_ms() - 3'600'000;
    const bson_oid_t first = db::new_oid();
    const bson_oid_t second = db::new_oid();
    insert_old_order(db, first, ann_id, mug, 1, "paid", "old-key-1", t0);
    insert_old_order(db, second, ann_id, pen, 2, "pending", "auto-0123", t0 + 1000);
    insert_old_line(db, ann_id, ink, 3, t0 + 2000);
    insert_old_line(db, ann_id, mug, 1, t0 + 3000);
    // Bob's checkout crashed after its point of no return (pending), before clearing his cart
    // and releasing his claim; a second one of his crashed while reserving (holding 4 pens).
    const bson_oid_t placed = db::new_oid();
    insert_old_order(db, placed, bob_id, ink, 5, "pending", "bob-key", t0 + 4000);
    insert_old_line(db, bob_id, ink, 5, t0 + 3500);
    insert_old_line(db, bob_id, pen, 1, t0 + 3600);
    const bson_oid_t bob_user = oid(bob_id);
    db.collection("checkout_claims")
        .insert_one(
            db::Bson(BCON_NEW("_id", BCON_OID(&bob_user), "token", BCON_UTF8("old"), "order_id",
                              BCON_OID(&placed), "claimed_at", BCON_DATE_TIME(t0 + 4000))));
    const bson_oid_t reserving = db::new_oid();
    insert_old_order(db, reserving, bob_id, pen, 4, "reserving", "auto-4567", t0 + 5000);
    const bson_oid_t pen_id = oid(pen);
    db.collection("products")
        .update_one(db::Bson(BCON_NEW("_id", BCON_OID(&pen_id))),
                    db::Bson(BCON_NEW("$inc", "{", "stock", BCON_INT64(-4), "}", "$push", "{",
                                      "stock_holds", BCON_OID(&reserving), "}")));

    service.start();  // migrates before /ready
    const auto api = [&] { return HttpClient(service.port()); };

    // Ann's cart: her two lines, oldest first.
    auto cart = api().get("/cart", ann);
    ASSERT_EQ(cart.status, 200) << cart.body;
    const json::value cart_body = cart.json();
    const auto& items = cart_body.at("items").as_array();
    ASSERT_EQ(items.size(), 2U) << cart.body;
    EXPECT_EQ(items[0].at("product_id").as_string(), ink);
    EXPECT_EQ(items[0].at("quantity"), 3);
    EXPECT_EQ(items[1].at("product_id").as_string(), mug);
    // Ann's history, newest first, with its total.
    auto history = api().get("/orders", ann);
    ASSERT_EQ(history.status, 200) << history.body;
    const json::value orders = history.json();
    EXPECT_EQ(orders.at("total"), 2) << history.body;
    ASSERT_EQ(orders.at("items").as_array().size(), 2U);
    EXPECT_EQ(orders.at("items").at(0).at("_id").as_string(), db::oid_to_string(second));
    EXPECT_EQ(orders.at("items").at(1).at("_id").as_string(), db::oid_to_string(first));
    // Her old key still names its order: a repeat replays it and places nothing.
    auto replay = api().post("/order", json::object{}, ann, {{"Idempotency-Key", "old-key-1"}});
    ASSERT_EQ(replay.status, 201) << replay.body;
    EXPECT_EQ(replay.json().at("_id").as_string(), db::oid_to_string(first));
    EXPECT_EQ(replay.header("idempotent-replayed"), "true");
    EXPECT_EQ(api().get("/cart", ann).json().at("items").as_array().size(), 2U);

    // Bob: the placed order's line left his cart, the other stays; the crashed reservation is
    // undone (stock back, marker gone); no claim, no old cart line is left.
    auto bob_cart = api().get("/cart", bob).json();
    ASSERT_EQ(bob_cart.at("items").as_array().size(), 1U);
    EXPECT_EQ(bob_cart.at("items").at(0).at("product_id").as_string(), pen);
    auto bob_orders = api().get("/orders", bob).json();
    EXPECT_EQ(bob_orders.at("total"), 1);
    EXPECT_EQ(stock_of(db, pen), 20);
    EXPECT_EQ(db.collection("orders").count(db::Bson(BCON_NEW("_id", BCON_OID(&reserving)))), 0);
    EXPECT_EQ(db.collection("checkout_claims").count(db::Bson()), 0);
    EXPECT_EQ(db.collection("cart").count(db::Bson()), 0);
    // Bob's key of the crashed checkout names its order as well.
    auto bob_replay = api().post("/order", json::object{}, bob, {{"Idempotency-Key", "bob-key"}});
    ASSERT_EQ(bob_replay.status, 201) << bob_replay.body;
    EXPECT_EQ(bob_replay.json().at("_id").as_string(), db::oid_to_string(placed));

    // And the migrated cart checks out as usual.
    auto order = api().post("/order", json::object{}, ann);
    ASSERT_EQ(order.status, 201) << order.body;
    EXPECT_EQ(api().get("/orders", ann).json().at("total"), 3);
    EXPECT_EQ(stock_of(db, ink), 17);

    // A second start migrates nothing twice.
    ASSERT_TRUE(service.stop());
    service.start();
    EXPECT_EQ(api().get("/orders", ann).json().at("total"), 3);
    EXPECT_TRUE(api().get("/cart", ann).json().at("items").as_array().empty());
}

}  // namespace
}  // namespace flaskcart::testing
