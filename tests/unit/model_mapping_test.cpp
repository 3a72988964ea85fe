// BSON ↔ struct mapping of the stores (models/*.cpp), without a database: round trips, and
// documents of the wrong shape are errors, never crashes or silently empty values.
#include <gtest/gtest.h>

#include <stdexcept>

#include "models/cart_model.hpp"
#include "models/image_model.hpp"
#include "models/order_model.hpp"
#include "models/product_model.hpp"
#include "models/user_model.hpp"
#include "utils/bson_document.hpp"
#include "utils/db.hpp"

namespace flaskcart::models {
namespace {

constexpr const char* kId = "5f1d7a3b9c0e4a2b8d6f0a11";
constexpr const char* kUserId = "5f1d7a3b9c0e4a2b8d6f0a22";
constexpr const char* kProductId = "5f1d7a3b9c0e4a2b8d6f0a33";
constexpr const char* kOtherProductId = "5f1d7a3b9c0e4a2b8d6f0a44";
constexpr const char* kOtherId = "5f1d7a3b9c0e4a2b8d6f0a55";
constexpr std::int64_t kIdTimeMs = std::int64_t{0x5f1d7a3b} * 1000;

bson_oid_t oid(const char* text) {
    return *db::parse_oid(text);
}

// `doc` without `key`, or with `key` holding a boolean (no mapped field is one).
db::Bson without(const db::Bson& doc, const char* key) {
    db::Bson out;
    bson_copy_to_excluding_noinit(doc.get(), out.get(), key, nullptr);
    return out;
}
db::Bson with_wrong_type(const db::Bson& doc, const char* key) {
    db::Bson out = without(doc, key);
    BSON_APPEND_BOOL(out.get(), key, true);
    return out;
}

// --- users ------------------------------------------------------------------------------------

User sample_user() {
    return {.id = kId,
            .name = "Ann Lee",
            .email = "ann@example.com",
            .password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            .phone = "+44 20 7946 0000",
            .address = "1 High St",
            .role = "admin",
            .created_at_ms = 1'700'000'000'123,
            .updated_at_ms = 1'700'000'100'456};
}

TEST(UserMapping, RoundTripsEveryField) {
    const User user = sample_user();
    const db::Bson doc = to_bson(user);
    EXPECT_EQ(doc.view().get_string("password"), user.password_hash);
    EXPECT_EQ(doc.view().get_oid("_id").has_value(), true);
    const User back = user_from_bson(doc.view());
    EXPECT_EQ(back.id, user.id);
    EXPECT_EQ(back.name, user.name);
    EXPECT_EQ(back.email, user.email);
    EXPECT_EQ(back.password_hash, user.password_hash);
    EXPECT_EQ(back.phone, user.phone);
    EXPECT_EQ(back.address, user.address);
    EXPECT_EQ(back.role, user.role);
    EXPECT_EQ(back.created_at_ms, user.created_at_ms);
    EXPECT_EQ(back.updated_at_ms, user.updated_at_ms);
}

TEST(UserMapping, AbsentOptionalFieldsGetDefaults) {
    const bson_oid_t id = oid(kId);
    db::Bson doc(BCON_NEW("_id", BCON_OID(&id), "email", BCON_UTF8("a@b.cd"), "password",
                          BCON_UTF8("h"), "created_at", BCON_DATE_TIME(42)));
    const User user = user_from_bson(doc.view());
    EXPECT_EQ(user.role, "customer");
    EXPECT_EQ(user.name, "");
    EXPECT_EQ(user.updated_at_ms, 42);
}

TEST(UserMapping, WrongShapesAreErrors) {
    const db::Bson good = to_bson(sample_user());
    for (const char* key : {"_id", "email", "password"}) {
        EXPECT_THROW(user_from_bson(without(good, key).view()), std::runtime_error) << key;
        EXPECT_THROW(user_from_bson(with_wrong_type(good, key).view()), std::runtime_error) << key;
    }
    db::Bson numeric_email = without(good, "email");
    BSON_APPEND_INT32(numeric_email.get(), "email", 7);
    EXPECT_THROW(user_from_bson(numeric_email.view()), std::runtime_error);
    EXPECT_THROW(user_from_bson(db::Bson().view()), std::runtime_error);
    User bad_id = sample_user();
    bad_id.id = "not-an-id";
    EXPECT_THROW(to_bson(bad_id), std::invalid_argument);
}

// --- products ---------------------------------------------------------------------------------

Product sample_product() {
    return {.id = kId,
            .name = "Kettle",
            .description = "Boils water",
            .price_cents = 9'999'999'999,
            .category_id = kUserId,
            .stock = 1'000'000'000,
            .image_url = "/products/x/image",
            .created_at_ms = 1'700'000'000'000,
            .updated_at_ms = 1'700'000'000'001};
}

TEST(ProductMapping, RoundTripsEveryFieldWithExactMoney) {
    const Product product = sample_product();
    const db::Bson doc = to_bson(product);
    EXPECT_EQ(doc.view().get_string("name_lower"), "kettle");
    bson_iter_t it;
    ASSERT_TRUE(bson_iter_init_find(&it, doc.get(), "price_cents"));
    EXPECT_TRUE(BSON_ITER_HOLDS_INT64(&it));  // never a double
    const Product back = product_from_bson(doc.view());
    EXPECT_EQ(back.id, product.id);
    EXPECT_EQ(back.name, product.name);
    EXPECT_EQ(back.description, product.description);
    EXPECT_EQ(back.price_cents, product.price_cents);
    EXPECT_EQ(back.category_id, product.category_id);
    EXPECT_EQ(back.stock, product.stock);
    EXPECT_EQ(back.image_url, product.image_url);
    EXPECT_EQ(back.created_at_ms, product.created_at_ms);
    EXPECT_EQ(back.updated_at_ms, product.updated_at_ms);
}

TEST(ProductMapping, NoCategoryAndNoImageAreLeftOut) {
    Product product = sample_product();
    product.category_id.clear();
    product.image_url.clear();
    const db::Bson doc = to_bson(product);
    EXPECT_FALSE(doc.view().has("category_id"));
    EXPECT_FALSE(doc.view().has("image_url"));
    const Product back = product_from_bson(doc.view());
    EXPECT_EQ(back.category_id, "");
    EXPECT_EQ(back.image_url, "");
}

TEST(ProductMapping, WrongShapesAreErrors) {
    const db::Bson good = to_bson(sample_product());
    for (const char* key : {"_id", "name", "price_cents"}) {
        EXPECT_THROW(product_from_bson(without(good, key).view()), std::runtime_error) << key;
        EXPECT_THROW(product_from_bson(with_wrong_type(good, key).view()), std::runtime_error)
            << key;
    }
    db::Bson double_price = without(good, "price_cents");
    BSON_APPEND_DOUBLE(double_price.get(), "price_cents", 19.99);
    EXPECT_THROW(product_from_bson(double_price.view()), std::runtime_error);
    Product bad_id = sample_product();
    bad_id.id = "";
    EXPECT_THROW(to_bson(bad_id), std::invalid_argument);
}

// --- cart -------------------------------------------------------------------------------------

Cart sample_cart() {
    Cart cart;
    cart.user_id = kUserId;
    cart.stored = true;
    cart.version = 7;
    // A line's added_at is its id's timestamp: 0x5f1d7a3b seconds for both ids.
    cart.lines = {{kId, kUserId, kProductId, 7, kIdTimeMs},
                  {kOtherId, kUserId, kOtherProductId, 1, kIdTimeMs}};
    cart.order_ids = {kOtherId, kId};
    cart.keys = {{idempotency_key_digest("key-1"), kId}};
    return cart;
}

TEST(CartMapping, RoundTripsTheCartDocument) {
    const Cart cart = sample_cart();
    const Cart back = cart_from_bson(to_bson(cart).view());
    EXPECT_EQ(back.user_id, cart.user_id);
    EXPECT_TRUE(back.stored);
    EXPECT_EQ(back.version, 7);
    ASSERT_EQ(back.lines.size(), 2U);
    EXPECT_EQ(back.lines[0].id, kId);
    EXPECT_EQ(back.lines[0].user_id, kUserId);
    EXPECT_EQ(back.lines[0].product_id, kProductId);
    EXPECT_EQ(back.lines[0].quantity, 7);
    EXPECT_EQ(back.lines[0].added_at_ms, kIdTimeMs);
    EXPECT_EQ(back.lines[1].product_id, kOtherProductId);
    EXPECT_EQ(back.order_ids, cart.order_ids);
    EXPECT_EQ(back.keys, cart.keys);
    EXPECT_FALSE(back.checkout);
}

// A line is two scalars: lines.<product id> = quantity, line_ids.<product id> = its id (whose
// timestamp is its added_at). FerretDB decodes the whole cart on every write, and a sub-document
// per line cost about 1.4x as much. Lines written by earlier versions ({line_id, quantity, added_at},
// some with an updated_at of their own) still read, and lines of both shapes mix in one cart.
TEST(CartMapping, ALineIsItsQuantityAndItsIdAndEarlierNestedLinesStillRead) {
    const db::Bson doc = to_bson(sample_cart());
    const auto lines = doc.view().get_document("lines");
    const auto line_ids = doc.view().get_document("line_ids");
    ASSERT_TRUE(lines && line_ids);
    EXPECT_EQ(lines->view().get_int64(kProductId), 7);
    EXPECT_EQ(lines->view().get_int64(kOtherProductId), 1);
    ASSERT_TRUE(line_ids->view().get_oid(kProductId));
    EXPECT_EQ(db::oid_to_string(*line_ids->view().get_oid(kProductId)), kId);
    EXPECT_EQ(bson_count_keys(lines->get()), 2U);
    EXPECT_EQ(bson_count_keys(line_ids->get()), 2U);

    db::DocumentBuilder older;
    older.append("_id", *db::parse_oid(kUserId))
        .append("version", std::int64_t{3})
        .append_document("lines",
                         [](db::DocumentBuilder& lines_doc) {
                             lines_doc
                                 .append_document(
                                     kProductId,
                                     [](db::DocumentBuilder& item) {
                                         item.append("line_id", *db::parse_oid(kId))
                                             .append("quantity", std::int64_t{2})
                                             .append("added_at", db::time_from_ms(kIdTimeMs + 500))
                                             .append("updated_at",
                                                     db::time_from_ms(kIdTimeMs + 900));
                                     })
                                 .append(kOtherProductId, std::int32_t{4});
                         })
        .append_document("line_ids", [](db::DocumentBuilder& ids) {
            ids.append(kOtherProductId, *db::parse_oid(kOtherId));
        });
    const Cart back = cart_from_bson(older.build().view());
    ASSERT_EQ(back.lines.size(), 2U);
    EXPECT_EQ(back.lines[0].id, kId);
    EXPECT_EQ(back.lines[0].quantity, 2);
    EXPECT_EQ(back.lines[0].added_at_ms, kIdTimeMs) << "the id's timestamp, to the second";
    EXPECT_EQ(back.lines[1].id, kOtherId);
    EXPECT_EQ(back.lines[1].quantity, 4);

    db::DocumentBuilder no_id;
    no_id.append("_id", *db::parse_oid(kUserId))
        .append("version", std::int64_t{3})
        .append_document("lines", [](db::DocumentBuilder& lines_doc) {
            lines_doc.append(kProductId, std::int64_t{1});
        });
    EXPECT_THROW(cart_from_bson(no_id.build().view()), std::runtime_error)
        << "a quantity without its line id is a document of the wrong shape";
}

TEST(CartMapping, RoundTripsACheckoutClaimWithItsPlacedOrder) {
    Cart cart = sample_cart();
    CartClaim claim;
    claim.token = "t0k3n";
    claim.order_id = kId;
    claim.key_digest = idempotency_key_digest("key-1");
    claim.fingerprint = "fp";
    claim.claimed_at_ms = 1'700'000'001'000;
    Order placed;
    placed.id = kId;
    placed.user_id = kUserId;
    placed.status = order_status::kPending;
    placed.lines = {{kProductId, "Kettle", 7, 1999}};
    placed.total_cents = 7 * 1999;
    claim.placed = placed;
    cart.checkout = claim;
    const Cart back = cart_from_bson(to_bson(cart).view());
    ASSERT_TRUE(back.checkout);
    EXPECT_EQ(back.checkout->token, "t0k3n");
    EXPECT_EQ(back.checkout->order_id, kId);
    EXPECT_EQ(back.checkout->key_digest, claim.key_digest);
    EXPECT_EQ(back.checkout->fingerprint, "fp");
    EXPECT_EQ(back.checkout->claimed_at_ms, claim.claimed_at_ms);
    EXPECT_FALSE(back.checkout->revoked);
    ASSERT_TRUE(back.checkout->placed);
    EXPECT_EQ(back.checkout->placed->total_cents, 7 * 1999);
    EXPECT_EQ(back.checkout->placed->lines.at(0).name, "Kettle");
}

TEST(CartMapping, WrongShapesAreErrors) {
    const db::Bson good = to_bson(sample_cart());
    for (const char* key : {"_id", "version"}) {
        EXPECT_THROW(cart_from_bson(without(good, key).view()), std::runtime_error) << key;
        EXPECT_THROW(cart_from_bson(with_wrong_type(good, key).view()), std::runtime_error) << key;
    }
    EXPECT_THROW(cart_from_bson(with_wrong_type(good, "lines").view()), std::runtime_error);
    Cart bad = sample_cart();
    bad.lines[0].product_id = "nope";
    EXPECT_THROW(to_bson(bad), std::invalid_argument);
}

TEST(CartMapping, KeyDigestsAreFieldNamesWhateverTheKeyHolds) {
    const std::string digest = idempotency_key_digest("a.b$c d");
    EXPECT_EQ(digest.find_first_of(".$ "), std::string::npos);
    EXPECT_NE(digest, idempotency_key_digest("a.b$c e"));
}

// --- orders -----------------------------------------------------------------------------------

Order sample_order() {
    Order order;
    order.id = kId;
    order.user_id = kUserId;
    order.lines = {{kProductId, "Kettle", 2, 1999}, {kOtherProductId, "Mug", 1, 450}};
    order.total_cents = 4448;
    order.status = order_status::kCancelled;
    order.history = {{order_status::kReserving, 1000},
                     {order_status::kPending, 2000},
                     {order_status::kCancelled, 3000}};
    order.idempotency_key = "key-1";
    order.request_fingerprint = "abc123";
    order.restocked = true;
    order.restocked_at_ms = 4000;
    order.created_at_ms = 1000;
    order.updated_at_ms = 3000;
    return order;
}

TEST(OrderMapping, RoundTripsLinesHistoryAndBookkeeping) {
    const Order order = sample_order();
    const Order back = order_from_bson(to_bson(order).view());
    EXPECT_EQ(back.id, order.id);
    EXPECT_EQ(back.user_id, order.user_id);
    ASSERT_EQ(back.lines.size(), 2U);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(back.lines[i].product_id, order.lines[i].product_id);
        EXPECT_EQ(back.lines[i].name, order.lines[i].name);
        EXPECT_EQ(back.lines[i].quantity, order.lines[i].quantity);
        EXPECT_EQ(back.lines[i].price_cents, order.lines[i].price_cents);
    }
    EXPECT_EQ(back.total_cents, order.total_cents);
    EXPECT_EQ(back.status, order.status);
    ASSERT_EQ(back.history.size(), 3U);
    EXPECT_EQ(back.history[2].status, order_status::kCancelled);
    EXPECT_EQ(back.history[2].at_ms, 3000);
    EXPECT_EQ(back.idempotency_key, order.idempotency_key);
    EXPECT_EQ(back.request_fingerprint, order.request_fingerprint);
    EXPECT_TRUE(back.restocked);
    EXPECT_EQ(back.restocked_at_ms, order.restocked_at_ms);
    EXPECT_EQ(back.created_at_ms, order.created_at_ms);
    EXPECT_EQ(back.updated_at_ms, order.updated_at_ms);
}

TEST(OrderMapping, WrongShapesAreErrors) {
    const db::Bson good = to_bson(sample_order());
    for (const char* key : {"_id", "user_id", "status", "total_price_cents", "products"}) {
        EXPECT_THROW(order_from_bson(without(good, key).view()), std::runtime_error) << key;
        EXPECT_THROW(order_from_bson(with_wrong_type(good, key).view()), std::runtime_error) << key;
    }
    // status_history may be absent (old documents) but not of another shape.
    EXPECT_NO_THROW(order_from_bson(without(good, "status_history").view()));
    EXPECT_THROW(order_from_bson(with_wrong_type(good, "status_history").view()),
                 std::runtime_error);

    const bson_oid_t id = oid(kId);
    const bson_oid_t user = oid(kUserId);
    const bson_oid_t product = oid(kProductId);
    db::Bson scalar_line(BCON_NEW("_id", BCON_OID(&id), "user_id", BCON_OID(&user), "status",
                                  BCON_UTF8("pending"), "total_price_cents", BCON_INT64(1),
                                  "products", "[", BCON_INT32(5), "]"));
    EXPECT_THROW(order_from_bson(scalar_line.view()), std::runtime_error);
    db::Bson line_without_price(BCON_NEW("_id", BCON_OID(&id), "user_id", BCON_OID(&user), "status",
                                         BCON_UTF8("pending"), "total_price_cents", BCON_INT64(1),
                                         "products", "[", "{", "product_id", BCON_OID(&product),
                                         "quantity", BCON_INT64(1), "}", "]"));
    EXPECT_THROW(order_from_bson(line_without_price.view()), std::runtime_error);

    Order bad_line = sample_order();
    bad_line.lines[1].product_id = "zz";
    EXPECT_THROW(to_bson(bad_line), std::invalid_argument);
    Order bad_user = sample_order();
    bad_user.user_id = "";
    EXPECT_THROW(to_bson(bad_user), std::invalid_argument);
}

// --- product images ---------------------------------------------------------------------------

TEST(ImageMapping, RoundTripsBinaryDataExactly) {
    ProductImage image;
    image.content_type = "image/png";
    image.data = std::string("\x89PNG\r\n\x1A\n\0\xFF\x00tail", 16);
    image.sha256 = sha256_hex(image.data);
    image.size = static_cast<std::int64_t>(image.data.size());
    image.updated_at_ms = 1'700'000'000'000;
    const ProductImage back = image_from_bson(to_bson(image).view());
    EXPECT_EQ(back.content_type, image.content_type);
    EXPECT_EQ(back.data, image.data);
    EXPECT_EQ(back.sha256, image.sha256);
    EXPECT_EQ(back.size, 16);
    EXPECT_EQ(back.updated_at_ms, image.updated_at_ms);
    EXPECT_EQ(back.etag(), "\"" + image.sha256 + "\"");
}

TEST(ImageMapping, WrongShapesAreErrors) {
    ProductImage image;
    image.content_type = "image/jpeg";
    image.data = "\xFF\xD8\xFF";
    image.sha256 = sha256_hex(image.data);
    const db::Bson good = to_bson(image);
    for (const char* key : {"content_type", "sha256", "data"}) {
        EXPECT_THROW(image_from_bson(without(good, key).view()), std::runtime_error) << key;
    }
    EXPECT_THROW(image_from_bson(with_wrong_type(good, "data").view()), std::runtime_error);
    db::Bson numeric_type = without(good, "content_type");
    BSON_APPEND_INT32(numeric_type.get(), "content_type", 1);
    EXPECT_THROW(image_from_bson(numeric_type.view()), std::runtime_error);
}

}  // namespace
}  // namespace flaskcart::models
