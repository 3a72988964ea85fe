// The catalog through the real binary: products, categories, search, pagination, images.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "support/api_helpers.hpp"
#include "support/database.hpp"
#include "support/http_client.hpp"
#include "support/service.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"
#include "utils/text.hpp"

namespace flaskcart::testing {
namespace {

namespace json = boost::json;

class CatalogApi : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        service_ = std::make_unique<Service>();
        HttpClient client(service_->port());
        admin_ = make_admin(*service_, client, "catalog-admin@example.com");
        customer_ = register_and_login(client, "catalog-customer@example.com");
    }
    static void TearDownTestSuite() { service_.reset(); }

    HttpClient client() const { return HttpClient(service_->port()); }
    db::Db database() const {
        return db::Db({.uri = service_->mongodb_uri(), .database = service_->database()});
    }
    static std::string unique(const std::string& tag) { return tag + "-" + crypto::random_hex(4); }
    std::string create_category(const std::string& name) {
        auto created = client().post("/categories", {{"name", name}}, admin_);
        EXPECT_EQ(created.status, 201) << created.body;
        return std::string(created.json().at("_id").as_string());
    }
    json::object create_product(json::object body) {
        if (!body.contains("price")) body["price"] = 9.99;
        if (!body.contains("stock")) body["stock"] = 5;
        auto created = client().post("/products", body, admin_);
        EXPECT_EQ(created.status, 201) << created.body;
        return created.json().as_object();
    }
    std::int64_t count(const char* collection) {
        db::Db db = database();
        return db.collection(collection).count(db::Bson());
    }
    std::optional<db::Bson> find_doc(const char* collection, const std::string& id) {
        db::Db db = database();
        db::Bson filter;
        const auto oid = db::parse_oid(id);
        BSON_APPEND_OID(filter.get(), "_id", &*oid);
        return db.collection(collection).find_one(filter);
    }
    // Names, in order, of a GET /products answer.
    static std::vector<std::string> names(const HttpResponse& response) {
        std::vector<std::string> out;
        const json::value response_body = response.json();
        for (const auto& item : response_body.at("items").as_array()) {
            out.emplace_back(item.at("name").as_string());
        }
        return out;
    }

    static std::unique_ptr<Service> service_;
    static std::string admin_;
    static std::string customer_;
};
std::unique_ptr<Service> CatalogApi::service_;
std::string CatalogApi::admin_;
std::string CatalogApi::customer_;

std::string png_bytes(std::size_t size) {
    std::string bytes("\x89PNG\r\n\x1A\n", 8);
    std::mt19937 random(42);
    while (bytes.size() < size) bytes.push_back(static_cast<char>(random() & 0xFF));
    bytes[20] = '\0';  // embedded NULs must survive the round trip
    return bytes;
}

const std::string kJpeg("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
const std::string kWebp("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00\x30\x01\x00\x9d", 24);

// --- products: happy paths --------------------------------------------------------------------

TEST_F(CatalogApi, AdminCreatesAProductStoredInExactCents) {
    const std::string category = create_category(unique("Kitchen"));
    auto created = client().post("/products",
                                 {{"name", "  Chef's Knife  "},
                                  {"description", "Forged steel"},
                                  {"price", 19.99},
                                  {"category", category},
                                  {"stock", 12},
                                  {"image_url", "https://cdn.example.com/knife.png"}},
                                 admin_);
    ASSERT_EQ(created.status, 201) << created.body;
    const auto product = created.json().as_object();
    const std::string id(product.at("_id").as_string());
    EXPECT_EQ(created.header("location"), "/products/" + id);
    EXPECT_EQ(product.at("name"), "Chef's Knife");
    EXPECT_EQ(product.at("category"), json::value(category));
    EXPECT_EQ(product.at("stock"), 12);
    EXPECT_EQ(product.at("image_url"), "https://cdn.example.com/knife.png");
    EXPECT_NE(created.body.find("\"price\":19.99"), std::string::npos) << created.body;
    EXPECT_EQ(product.at("created_at").as_string().back(), 'Z');

    auto doc = find_doc("products", id);
    ASSERT_TRUE(doc);
    bson_iter_t it;
    ASSERT_TRUE(bson_iter_init_find(&it, doc->get(), "price_cents"));
    EXPECT_TRUE(BSON_ITER_HOLDS_INT64(&it));
    EXPECT_EQ(bson_iter_int64(&it), 1999);
    EXPECT_EQ(db::oid_to_string(*doc->view().get_oid("category_id")), category);
    EXPECT_EQ(doc->view().get_int64("stock"), 12);
    EXPECT_TRUE(doc->view().get_date_ms("created_at"));
    EXPECT_EQ(doc->view().get_string("name_lower"), "chef's knife");

    auto fetched = client().get("/products/" + id);
    EXPECT_EQ(fetched.status, 200);
    EXPECT_EQ(fetched.json().at("price").as_double(), 19.99);
    EXPECT_EQ(fetched.json().at("description"), "Forged steel");

    auto no_category = create_product({{"name", unique("Loose")}, {"price", 5}});
    EXPECT_TRUE(no_category.at("category").is_null());
    EXPECT_TRUE(no_category.at("image_url").is_null());
    EXPECT_EQ(no_category.at("price"), 5);
}

TEST_F(CatalogApi, PutUpdatesOnlyTheGivenFieldsAndKeepsCheckoutBookkeeping) {
    const std::string category = create_category(unique("Tools"));
    const auto product =
        create_product({{"name", "Hammer"}, {"price", 12.5}, {"stock", 4}, {"category", category}});
    const std::string id(product.at("_id").as_string());
    {
        // What the checkout keeps on the product document: it must survive catalog writes.
        db::Db db = database();
        const auto oid = db::parse_oid(id);
        const bson_oid_t hold = db::new_oid();
        db::Bson push(BCON_NEW("$push", "{", "stock_holds", BCON_OID(&hold), "}"));
        db.update_by_id("products", *oid, push);
    }
    auto updated = client().put("/products/" + id, {{"price", 13}, {"stock", 7}}, admin_);
    ASSERT_EQ(updated.status, 200) << updated.body;
    EXPECT_EQ(updated.json().at("price"), 13);
    EXPECT_EQ(updated.json().at("stock"), 7);
    EXPECT_EQ(updated.json().at("name"), "Hammer");
    EXPECT_EQ(updated.json().at("category"), json::value(category));
    EXPECT_FALSE(updated.json().as_object().contains("stock_holds"));

    auto cleared = client().put("/products/" + id, {{"category", nullptr}}, admin_);
    ASSERT_EQ(cleared.status, 200) << cleared.body;
    EXPECT_TRUE(cleared.json().at("category").is_null());

    auto doc = find_doc("products", id);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->view().get_int64("price_cents"), 1300);
    EXPECT_EQ(doc->view().get_int64("stock"), 7);
    EXPECT_FALSE(doc->view().has("category_id"));
    EXPECT_EQ(doc->view().get_oids("stock_holds").size(), 1U);
    EXPECT_GE(*doc->view().get_date_ms("updated_at"), *doc->view().get_date_ms("created_at"));
}

TEST_F(CatalogApi, PutRejectsUnknownNullAndEmptyChanges) {
    const auto product = create_product({{"name", unique("Widget")}});
    const std::string path = "/products/" + std::string(product.at("_id").as_string());
    auto unknown = client().put(path, {{"price", 3}, {"_id", "x"}}, admin_);
    EXPECT_EQ(unknown.status, 422);
    EXPECT_TRUE(unknown.json().at("errors").as_object().contains("_id"));
    auto null_name = client().put(path, {{"name", nullptr}}, admin_);
    EXPECT_EQ(null_name.status, 422);
    EXPECT_TRUE(null_name.json().at("errors").as_object().contains("name"));
    EXPECT_EQ(client().put(path, json::object{}, admin_).status, 422);
    auto bad_stock = client().put(path, {{"stock", -1}}, admin_);
    EXPECT_EQ(bad_stock.status, 422);
    EXPECT_EQ(client().get(path).json().at("price").as_double(), 9.99);
}

TEST_F(CatalogApi, DeleteRemovesTheProductFromEveryCart) {
    const auto doomed = create_product({{"name", unique("Doomed")}});
    const auto kept = create_product({{"name", unique("Kept")}});
    const std::string doomed_id(doomed.at("_id").as_string());
    const std::string kept_id(kept.at("_id").as_string());
    db::Db db = database();
    // Three customers' carts (models/cart_model.hpp: lines keyed by product id).
    for (const std::string* id : {&doomed_id, &doomed_id, &kept_id}) {
        const bson_oid_t line = db::new_oid();
        const bson_oid_t user = db::new_oid();
        db.collection("carts").insert_one(
            db::Bson(BCON_NEW("_id", BCON_OID(&user), "version", BCON_INT64(1), "lines", "{",
                              id->c_str(), "{", "line_id", BCON_OID(&line), "quantity",
                              BCON_INT64(1), "}", "}", "order_ids", "[", "]", "keys", "{", "}")));
    }
    EXPECT_EQ(client().del("/products/" + doomed_id, admin_).status, 204);
    EXPECT_EQ(client().get("/products/" + doomed_id).status, 404);
    EXPECT_EQ(client().del("/products/" + doomed_id, admin_).status, 404);
    EXPECT_FALSE(find_doc("products", doomed_id));

    auto count_lines = [&db](const std::string& id) {
        const std::string path = "lines." + id;
        return db.collection("carts").count(
            db::Bson(BCON_NEW(path.c_str(), "{", "$exists", BCON_BOOL(true), "}")));
    };
    EXPECT_EQ(count_lines(doomed_id), 0);
    EXPECT_EQ(count_lines(kept_id), 1);
    EXPECT_EQ(client().get("/products/" + kept_id).status, 200);
}

// --- products: who may write, and unknown ids -------------------------------------------------

TEST_F(CatalogApi, WritesNeedAnAdminToken) {
    const auto product = create_product({{"name", unique("Guarded")}});
    const std::string id(product.at("_id").as_string());
    const std::string category = create_category(unique("Guarded"));
    const std::int64_t before = count("products");
    const json::object body{{"name", "Sneaky"}, {"price", 1}, {"stock", 1}};
    for (const std::string& token : {std::string(), customer_}) {
        const int expected = token.empty() ? 401 : 403;
        auto created = client().post("/products", body, token);
        EXPECT_EQ(created.status, expected);
        EXPECT_EQ(created.header("content-type"), "application/problem+json");
        if (token.empty()) {
            EXPECT_FALSE(created.header("www-authenticate").empty());
        }
        EXPECT_EQ(client().put("/products/" + id, {{"price", 1}}, token).status, expected);
        EXPECT_EQ(client().del("/products/" + id, token).status, expected);
        EXPECT_EQ(client()
                      .request("POST", "/products/" + id + "/image", png_bytes(64), bearer(token),
                               "image/png")
                      .status,
                  expected);
        EXPECT_EQ(client().post("/categories", {{"name", unique("Nope")}}, token).status, expected);
        EXPECT_EQ(client().put("/categories/" + category, {{"name", "x"}}, token).status, expected);
        EXPECT_EQ(client().del("/categories/" + category, token).status, expected);
    }
    EXPECT_EQ(count("products"), before);
    auto unchanged = client().get("/products/" + id);
    EXPECT_EQ(unchanged.json().at("price").as_double(), 9.99);
    EXPECT_TRUE(unchanged.json().at("image_url").is_null());
    EXPECT_EQ(client().get("/categories/" + category).status, 200);
    auto bad_token = client().post("/products", body, "not.a.token");
    EXPECT_EQ(bad_token.status, 401);
}

TEST_F(CatalogApi, IdsThatAreNotObjectIdsAre404) {
    for (const std::string id : {"nothex", "123", "zzzzzzzzzzzzzzzzzzzzzzzz",
                                 "0123456789abcdef01234567", "%7B%22%24gt%22%3A%22%22%7D"}) {
        EXPECT_EQ(client().get("/products/" + id).status, 404) << id;
        EXPECT_EQ(client().put("/products/" + id, {{"price", 1}}, admin_).status, 404) << id;
        EXPECT_EQ(client().del("/products/" + id, admin_).status, 404) << id;
        EXPECT_EQ(client().get("/products/" + id + "/image").status, 404) << id;
        EXPECT_EQ(client()
                      .request("POST", "/products/" + id + "/image", png_bytes(64), bearer(admin_),
                               "image/png")
                      .status,
                  404)
            << id;
        EXPECT_EQ(client().get("/categories/" + id).status, 404) << id;
        EXPECT_EQ(client().put("/categories/" + id, {{"name", "x"}}, admin_).status, 404) << id;
        EXPECT_EQ(client().del("/categories/" + id, admin_).status, 404) << id;
    }
}

// --- products: validation ---------------------------------------------------------------------

TEST_F(CatalogApi, ProductValidationNamesEachField) {
    const std::int64_t before = count("products");
    auto expect_invalid = [this](const std::string& raw, const std::string& field) {
        auto response = client().request("POST", "/products", raw, bearer(admin_));
        EXPECT_EQ(response.status, 422) << raw << " → " << response.body;
        if (response.status == 422) {
            EXPECT_TRUE(response.json().at("errors").as_object().contains(field))
                << raw << " → " << response.body;
        }
    };
    const std::string base = R"("name":"Valid","stock":1)";
    for (const std::string price :
         {"0", "-1", "0.001", "1e309", "-1e309", "\"10\"", "null", "1000000.01", "true", "[1]"}) {
        expect_invalid("{" + base + ",\"price\":" + price + "}", "price");
    }
    expect_invalid(R"({"name":"Valid","stock":1})", "price");
    const std::string priced = R"("name":"Valid","price":1)";
    for (const std::string stock : {"-1", "2.5", "\"3\"", "1000000001", "null"}) {
        expect_invalid("{" + priced + ",\"stock\":" + stock + "}", "stock");
    }
    expect_invalid(R"({"price":1,"stock":1})", "name");
    expect_invalid(R"({"name":"   ","price":1,"stock":1})", "name");
    expect_invalid(R"({"name":")" + std::string(201, 'n') + R"(","price":1,"stock":1})", "name");
    expect_invalid(R"({"name":7,"price":1,"stock":1})", "name");
    expect_invalid("{" + base + R"(,"price":1,"description":")" + std::string(5001, 'd') + "\"}",
                   "description");
    expect_invalid("{" + base + R"(,"price":1,"category":"not-an-id"})", "category");
    expect_invalid("{" + base + R"(,"price":1,"category":{"$ne":null}})", "category");
    expect_invalid("{" + base + R"(,"price":1,"image_url":"ftp://example.com/a.png"})",
                   "image_url");
    expect_invalid("{" + base + R"(,"price":1,"image_url":"not a url"})", "image_url");
    expect_invalid("{" + base + R"x(,"price":1,"image_url":"javascript:alert(1)"})x", "image_url");
    expect_invalid("{" + base + R"(,"price":1,"role":"admin"})", "role");
    // A well-formed id of a category that does not exist conflicts with the catalog, named.
    auto no_category = client().request(
        "POST", "/products", "{" + base + R"(,"price":1,"category":"0123456789abcdef01234567"})",
        bearer(admin_));
    EXPECT_EQ(no_category.status, 409) << no_category.body;
    EXPECT_EQ(no_category.json().at("errors").at("category"), "no such category");
    EXPECT_EQ(count("products"), before);

    // The other side of each edge is accepted.
    auto max_price = create_product({{"name", unique("Max")}, {"price", 1000000}, {"stock", 0}});
    EXPECT_EQ(max_price.at("price"), 1000000);
    auto cent = create_product({{"name", unique("Cent")}, {"price", 0.01}, {"stock", 1000000000}});
    EXPECT_EQ(cent.at("price").as_double(), 0.01);
    EXPECT_EQ(cent.at("stock"), 1000000000);
    auto long_name = create_product({{"name", std::string(200, 'n')}});
    EXPECT_EQ(long_name.at("name").as_string().size(), 200U);

    auto not_json = client().request("POST", "/products", "name=x", bearer(admin_),
                                     "application/x-www-form-urlencoded");
    EXPECT_EQ(not_json.status, 415);
    EXPECT_EQ(client().request("POST", "/products", "{\"name\":", bearer(admin_)).status, 400);
}

TEST_F(CatalogApi, PricesAreReadExactlyFromTheNumberAsWritten) {
    const std::string id =
        std::string(create_product({{"name", unique("Exact")}}).at("_id").as_string());
    const auto stored_cents = [this, &id]() {
        return find_doc("products", id)->view().get_int64("price_cents");
    };
    const std::string base = R"("name":"Exact","stock":1,"price":)";
    // Amounts a double-based check rounded (or made free) are refused at every magnitude, on
    // create and on update, and nothing changes.
    for (const std::string price :
         {"999.999", "5000.004", "123456.789", "999999.999", "1.005", "5e-324", "1e-10",
          "4.9406564584124654e-324", "1000000.01", "1e7", "1e400"}) {
        const std::int64_t before = count("products");
        auto created =
            client().request("POST", "/products", "{" + base + price + "}", bearer(admin_));
        EXPECT_EQ(created.status, 422) << price << " → " << created.body;
        EXPECT_TRUE(created.json().at("errors").as_object().contains("price")) << created.body;
        EXPECT_EQ(count("products"), before);
        auto updated = client().request("PUT", "/products/" + id, R"({"price":)" + price + "}",
                                        bearer(admin_));
        EXPECT_EQ(updated.status, 422) << price << " → " << updated.body;
        EXPECT_TRUE(updated.json().at("errors").as_object().contains("price")) << updated.body;
        EXPECT_EQ(stored_cents(), 999) << price;
    }
    // Exact forms with at most two decimals, exponents included, are stored as written.
    const std::pair<const char*, std::int64_t> exact[] = {
        {"1e2", 10'000},           {"19.99e0", 1999},
        {"999.99", 99'999},        {"5000.00", 500'000},
        {"123456.78", 12'345'678}, {"999999.99", 99'999'999},
        {"1000000", 100'000'000},  {"0.01", 1},
        {"1999e-2", 1999}};
    for (const auto& [price, cents] : exact) {
        auto created =
            client().request("POST", "/products", "{" + base + price + "}", bearer(admin_));
        ASSERT_EQ(created.status, 201) << price << " → " << created.body;
        const std::string created_id(created.json().at("_id").as_string());
        EXPECT_EQ(find_doc("products", created_id)->view().get_int64("price_cents"), cents)
            << price;
        auto updated = client().request("PUT", "/products/" + id,
                                        R"({"price":)" + std::string(price) + "}", bearer(admin_));
        ASSERT_EQ(updated.status, 200) << price << " → " << updated.body;
        EXPECT_EQ(stored_cents(), cents) << price;
    }
    // The filters read amounts the same way.
    EXPECT_EQ(client().get("/products?min_price=999.999").status, 422);
    EXPECT_EQ(client().get("/products?max_price=123456.789").status, 422);
    EXPECT_EQ(client().get("/products?min_price=999999.99&max_price=1000000.0").status, 200);
    // A range with min above max holds nothing: an empty page, not an error.
    auto empty_range = client().get("/products?min_price=20&max_price=10");
    EXPECT_EQ(empty_range.status, 200) << empty_range.body;
    EXPECT_EQ(empty_range.json().at("total"), 0);
    EXPECT_TRUE(empty_range.json().at("items").as_array().empty());
}

// --- listing: pagination, search, filters, sort -----------------------------------------------

TEST_F(CatalogApi, PaginationEdges) {
    const std::string category = create_category(unique("Paged"));
    for (int i = 0; i < 5; ++i) {
        create_product({{"name", "Paged " + std::to_string(i)}, {"category", category}});
    }
    const std::string base = "/products?category=" + category + "&sort=name";
    auto first = client().get(base + "&limit=2");
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_EQ(first.json().at("total"), 5);
    EXPECT_EQ(first.json().at("page"), 1);
    EXPECT_EQ(first.json().at("limit"), 2);
    EXPECT_EQ(names(first), (std::vector<std::string>{"Paged 0", "Paged 1"}));
    auto last = client().get(base + "&limit=2&page=3");
    EXPECT_EQ(names(last), (std::vector<std::string>{"Paged 4"}));
    auto empty = client().get(base + "&limit=2&page=4");
    EXPECT_EQ(empty.status, 200);
    EXPECT_TRUE(empty.json().at("items").as_array().empty());
    EXPECT_EQ(empty.json().at("total"), 5);
    auto defaults = client().get(base);
    EXPECT_EQ(defaults.json().at("limit"), 20);
    EXPECT_EQ(defaults.json().at("items").as_array().size(), 5U);
    EXPECT_EQ(client().get(base + "&limit=100").status, 200);

    const std::vector<std::pair<std::string, std::string>> bad{{"limit=0", "limit"},
                                                               {"limit=1000", "limit"},
                                                               {"limit=101", "limit"},
                                                               {"limit=-1", "limit"},
                                                               {"limit=abc", "limit"},
                                                               {"page=0", "page"},
                                                               {"page=-2", "page"},
                                                               {"page=1.5", "page"},
                                                               {"sort=stock", "sort"},
                                                               {"sort=", "sort"},
                                                               {"min_price=abc", "min_price"},
                                                               {"min_price=-1", "min_price"},
                                                               {"max_price=1e3", "max_price"},
                                                               {"max_price=0.001", "max_price"},
                                                               {"in_stock=yes", "in_stock"},
                                                               {"category=nope", "category"},
                                                               {"sort=-relevance", "sort"},
                                                               {"q=" + std::string(201, 'q'), "q"}};
    for (const auto& [query, field] : bad) {
        auto response = client().get("/products?" + query);
        EXPECT_EQ(response.status, 422) << query;
        if (response.status == 422) {
            EXPECT_TRUE(response.json().at("errors").as_object().contains(field)) << query;
        }
    }
}

TEST_F(CatalogApi, SearchIsWordBasedAndPunctuationAloneMatchesNothing) {
    const std::string category = create_category(unique("Search"));
    for (const char* name : {"Glob a.*b", "Glob axxb", "Paren (x)", "Plain item"}) {
        create_product({{"name", name}, {"category", category}});
    }
    create_product(
        {{"name", "Described"}, {"description", "Has A.*B inside"}, {"category", category}});
    auto search = [&](const std::string& encoded_q) {
        auto response =
            client().get("/products?category=" + category + "&sort=name&q=" + encoded_q);
        EXPECT_EQ(response.status, 200) << response.body;
        return names(response);
    };
    // Operators of regular expressions or of the database are plain punctuation: never a query.
    for (const char* nothing : {".*", "%28", "%5B", "%5C", "%24ne", "%7B%7D"}) {
        EXPECT_TRUE(search(nothing).empty()) << nothing;
    }
    EXPECT_EQ(search("%28x%29"), (std::vector<std::string>{"Paren (x)"}));
    EXPECT_EQ(search("GLOB"), (std::vector<std::string>{"Glob a.*b", "Glob axxb"}));
    EXPECT_EQ(search("a.%2Ab"), (std::vector<std::string>{"Described", "Glob a.*b"}));
    EXPECT_EQ(search("PLAIN%20ITEM"), (std::vector<std::string>{"Plain item"}));
    EXPECT_EQ(search("plain%20itme"), (std::vector<std::string>{"Plain item"}));  // a swap
}

TEST_F(CatalogApi, SearchRanksTypoPrefixAndPluralMatchesWithFacets) {
    const std::string kitchen = create_category(unique("Cookware"));
    const std::string books = create_category(unique("Reading"));
    const std::string tag = crypto::random_hex(3);  // keeps this test's words its own
    const std::string word = "Zskillet" + tag;
    create_product({{"name", "Cast Iron " + word}, {"price", 40}, {"category", kitchen}});
    create_product({{"name", "Crème brûlée " + tag}, {"price", 25}, {"category", kitchen}});
    create_product({{"name", "Recipes " + tag},
                    {"description", "For any " + word + "."},
                    {"price", 15},
                    {"stock", 0},
                    {"category", books}});
    auto typo = client().get("/products?q=" + word.substr(0, 3) + word.substr(4) + "s");
    ASSERT_EQ(typo.status, 200) << typo.body;
    EXPECT_EQ(names(typo), (std::vector<std::string>{"Cast Iron " + word, "Recipes " + tag}));
    const json::value typo_body = typo.json();
    EXPECT_EQ(typo_body.at("total"), 2);
    const auto& facets = typo_body.at("facets");
    EXPECT_EQ(facets.at("in_stock"), 1);
    EXPECT_EQ(facets.at("price").at("min"), 15);
    EXPECT_EQ(facets.at("price").at("max"), 40);
    ASSERT_EQ(facets.at("categories").as_array().size(), 2U);

    // The category filter narrows the items but not the category facet.
    auto in_books = client().get("/products?category=" + books + "&q=" + word.substr(0, 5));
    EXPECT_EQ(names(in_books), (std::vector<std::string>{"Recipes " + tag}));
    EXPECT_EQ(in_books.json().at("facets").at("categories").as_array().size(), 2U);
    EXPECT_EQ(in_books.json().at("facets").at("price").at("max"), 15);

    EXPECT_EQ(names(client().get("/products?q=CREME%20BRULEE%20" + tag)),
              (std::vector<std::string>{"Crème brûlée " + tag}));
    auto sorted = client().get("/products?q=" + word + "&sort=price&in_stock=true");
    EXPECT_EQ(names(sorted), (std::vector<std::string>{"Cast Iron " + word}));
    auto nothing = client().get("/products?q=.*");
    EXPECT_EQ(nothing.json().at("total"), 0);
    EXPECT_TRUE(nothing.json().at("facets").at("price").at("min").is_null());
}

TEST_F(CatalogApi, SuggestCompletesNamesBestFirst) {
    const std::string tag = crypto::random_hex(3);
    const std::string word = "Qlantern" + tag;
    for (int i = 0; i < 10; ++i) {
        create_product({{"name", "Camping " + word + " " + std::to_string(i)}});
    }
    create_product({{"name", "Other"}, {"description", "Not a " + word}});
    auto suggest = client().get("/products/suggest?q=camping%20" + word.substr(0, 5));
    ASSERT_EQ(suggest.status, 200) << suggest.body;
    const json::value suggest_body = suggest.json();
    const auto& items = suggest_body.at("items").as_array();
    ASSERT_EQ(items.size(), 8U);  // the default limit
    for (const auto& item : items) {
        EXPECT_EQ(std::string(item.at("name").as_string()).rfind("Camping " + word, 0), 0U);
        EXPECT_EQ(item.as_object().size(), 2U);
        EXPECT_EQ(item.at("_id").as_string().size(), 24U);
    }
    auto three = client().get("/products/suggest?limit=3&q=" + word);
    EXPECT_EQ(three.json().at("items").as_array().size(), 3U);
    auto nothing = client().get("/products/suggest?q=%2E%2A");
    EXPECT_EQ(nothing.status, 200);
    EXPECT_TRUE(nothing.json().at("items").as_array().empty());
}

TEST_F(CatalogApi, SuggestRefusesBadParametersNamingEach) {
    const std::vector<std::pair<std::string, std::string>> bad{
        {"", "q"},
        {"limit=5", "q"},
        {"q=" + std::string(201, 'q'), "q"},
        {"q=a%00b", "q"},
        {"q=a&limit=0", "limit"},
        {"q=a&limit=21", "limit"},
        {"q=a&limit=-1", "limit"},
        {"q=a&limit=abc", "limit"},
        {"q=a&limit=2.5", "limit"},
        {"q=a&limit=", "limit"},
    };
    for (const auto& [query, field] : bad) {
        auto response = client().get("/products/suggest?" + query);
        EXPECT_EQ(response.status, 422) << query;
        EXPECT_EQ(response.header("content-type"), "application/problem+json") << query;
        if (response.status == 422) {
            EXPECT_TRUE(response.json().at("errors").as_object().contains(field)) << query;
        }
    }
    EXPECT_EQ(client().get("/products/suggest?q=%FF").status, 422);  // not UTF-8
}

TEST_F(CatalogApi, FiltersAndSortOrders) {
    const std::string category = create_category(unique("Sorted"));
    const std::string other = create_category(unique("Other"));
    create_product({{"name", "banana"}, {"price", 10}, {"stock", 0}, {"category", category}});
    create_product({{"name", "Apple"}, {"price", 19.99}, {"stock", 3}, {"category", category}});
    create_product({{"name", "cherry"}, {"price", 5}, {"stock", 8}, {"category", category}});
    create_product({{"name", "Date"}, {"price", 30}, {"stock", 1}, {"category", category}});
    create_product({{"name", "Elsewhere"}, {"price", 10}, {"stock", 1}, {"category", other}});
    const std::string base = "/products?category=" + category;
    using Names = std::vector<std::string>;
    EXPECT_EQ(names(client().get(base + "&sort=name")),
              (Names{"Apple", "banana", "cherry", "Date"}));
    EXPECT_EQ(names(client().get(base + "&sort=-name")),
              (Names{"Date", "cherry", "banana", "Apple"}));
    EXPECT_EQ(names(client().get(base + "&sort=price")),
              (Names{"cherry", "banana", "Apple", "Date"}));
    EXPECT_EQ(names(client().get(base + "&sort=-price")),
              (Names{"Date", "Apple", "banana", "cherry"}));
    EXPECT_EQ(names(client().get(base + "&sort=created_at")),
              (Names{"banana", "Apple", "cherry", "Date"}));
    EXPECT_EQ(names(client().get(base + "&sort=-created_at")),
              (Names{"Date", "cherry", "Apple", "banana"}));
    EXPECT_EQ(names(client().get(base)), (Names{"Date", "cherry", "Apple", "banana"}));
    EXPECT_EQ(names(client().get(base + "&min_price=10&max_price=19.99&sort=price")),
              (Names{"banana", "Apple"}));
    EXPECT_EQ(names(client().get(base + "&min_price=10.01&sort=price")), (Names{"Apple", "Date"}));
    EXPECT_EQ(names(client().get(base + "&max_price=9.99")), (Names{"cherry"}));
    EXPECT_EQ(names(client().get(base + "&in_stock=true&sort=name")),
              (Names{"Apple", "cherry", "Date"}));
    EXPECT_EQ(names(client().get(base + "&in_stock=false&sort=name")).size(), 4U);
    auto combined = client().get(base + "&in_stock=true&min_price=6&sort=-price&limit=1&page=2");
    EXPECT_EQ(names(combined), (Names{"Apple"}));
    EXPECT_EQ(combined.json().at("total"), 2);
    EXPECT_TRUE(names(client().get("/products?category=0123456789abcdef01234567")).empty());
}

// --- categories -------------------------------------------------------------------------------

TEST_F(CatalogApi, CategoriesCrudWithCaseInsensitiveNames) {
    const std::string name = unique("Garden Tools");
    auto created =
        client().post("/categories", {{"name", name}, {"description", "Spades"}}, admin_);
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id(created.json().at("_id").as_string());
    EXPECT_EQ(created.header("location"), "/categories/" + id);
    EXPECT_EQ(created.json().at("product_count"), 0);
    auto doc = find_doc("categories", id);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->view().get_string("name_key"), text::to_lower_ascii(name));

    std::string shouted = name;
    for (char& c : shouted) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto duplicate = client().post("/categories", {{"name", "  " + shouted + " "}}, admin_);
    EXPECT_EQ(duplicate.status, 409);
    EXPECT_TRUE(duplicate.json().at("errors").as_object().contains("name"));

    auto fetched = client().get("/categories/" + id);
    EXPECT_EQ(fetched.status, 200);
    EXPECT_EQ(fetched.json().at("description"), "Spades");

    const std::string pottery = unique("Pottery");
    create_category(pottery);
    auto clash =
        client().put("/categories/" + id, {{"name", text::to_lower_ascii(pottery)}}, admin_);
    EXPECT_EQ(clash.status, 409);
    const std::string renamed = unique("Garden");
    auto updated = client().put("/categories/" + id, {{"name", renamed}}, admin_);
    ASSERT_EQ(updated.status, 200) << updated.body;
    EXPECT_EQ(updated.json().at("name"), json::value(renamed));
    EXPECT_EQ(updated.json().at("description"), "Spades");
    EXPECT_EQ(client().put("/categories/" + id, {{"name", shouted}}, admin_).status, 200);
    EXPECT_EQ(client().put("/categories/" + id, {{"colour", "red"}}, admin_).status, 422);
    EXPECT_EQ(client().put("/categories/" + id, json::object{}, admin_).status, 422);
    EXPECT_EQ(client().put("/categories/" + id, {{"name", nullptr}}, admin_).status, 422);
    EXPECT_EQ(client().post("/categories", json::object{}, admin_).status, 422);
    EXPECT_EQ(client().post("/categories", {{"name", std::string(101, 'c')}}, admin_).status, 422);
}

TEST_F(CatalogApi, ProductCountsAndDeleteWhileInUse) {
    const std::string busy = create_category(unique("Busy"));
    const std::string idle = create_category(unique("Idle"));
    const auto first = create_product({{"name", unique("One")}, {"category", busy}});
    const auto second = create_product({{"name", unique("Two")}, {"category", busy}});

    auto list = client().get("/categories");
    ASSERT_EQ(list.status, 200);
    std::map<std::string, std::int64_t> counts;
    const json::value list_body = list.json();
    for (const auto& item : list_body.at("items").as_array()) {
        counts[std::string(item.at("_id").as_string())] = item.at("product_count").as_int64();
    }
    EXPECT_EQ(counts.at(busy), 2);
    EXPECT_EQ(counts.at(idle), 0);
    EXPECT_EQ(client().get("/categories/" + busy).json().at("product_count"), 2);

    auto refused = client().del("/categories/" + busy, admin_);
    EXPECT_EQ(refused.status, 409);
    EXPECT_TRUE(find_doc("categories", busy));
    EXPECT_EQ(client().del("/categories/" + idle, admin_).status, 204);
    EXPECT_EQ(client().get("/categories/" + idle).status, 404);
    EXPECT_FALSE(find_doc("categories", idle));

    // Products leave the category one way or another; then it may go.
    EXPECT_EQ(client().del("/products/" + std::string(first.at("_id").as_string()), admin_).status,
              204);
    EXPECT_EQ(client()
                  .put("/products/" + std::string(second.at("_id").as_string()),
                       {{"category", nullptr}}, admin_)
                  .status,
              200);
    EXPECT_EQ(client().get("/categories/" + busy).json().at("product_count"), 0);
    EXPECT_EQ(client().del("/categories/" + busy, admin_).status, 204);
    EXPECT_EQ(client().del("/categories/" + busy, admin_).status, 404);
}

// --- images -----------------------------------------------------------------------------------

TEST_F(CatalogApi, ImageRoundTripIsByteIdenticalWithEtagAnd304) {
    const auto product = create_product({{"name", unique("Pictured")}});
    const std::string id(product.at("_id").as_string());
    const std::string path = "/products/" + id + "/image";
    EXPECT_EQ(client().get(path).status, 404);

    const std::string png = png_bytes(300 * 1024);
    auto uploaded = client().request("POST", path, png, bearer(admin_), "image/png");
    ASSERT_EQ(uploaded.status, 200) << uploaded.body;
    EXPECT_EQ(uploaded.json().at("image_url"), json::value(path));
    EXPECT_EQ(client().get("/products/" + id).json().at("image_url"), json::value(path));

    auto served = client().get(path);
    ASSERT_EQ(served.status, 200);
    EXPECT_EQ(served.header("content-type"), "image/png");
    EXPECT_TRUE(served.body == png)
        << "bytes differ: " << served.body.size() << " vs " << png.size();
    const std::string etag = served.header("etag");
    ASSERT_GE(etag.size(), 3U);
    EXPECT_EQ(etag.front(), '"');
    EXPECT_EQ(etag.back(), '"');
    EXPECT_FALSE(served.header("cache-control").empty());

    auto cached = client().request("GET", path, {}, {{"If-None-Match", etag}});
    EXPECT_EQ(cached.status, 304);
    EXPECT_TRUE(cached.body.empty());
    EXPECT_EQ(cached.header("etag"), etag);
    auto listed = client().request("GET", path, {}, {{"If-None-Match", "\"other\", " + etag}});
    EXPECT_EQ(listed.status, 304);
    auto stale = client().request("GET", path, {}, {{"If-None-Match", "\"stale\""}});
    EXPECT_EQ(stale.status, 200);
    EXPECT_EQ(stale.body.size(), png.size());

    auto doc = find_doc("product_images", id);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->view().get_string("content_type"), "image/png");
    EXPECT_EQ(doc->view().get_int64("size"), static_cast<std::int64_t>(png.size()));
    EXPECT_EQ("\"" + *doc->view().get_string("sha256") + "\"", etag);
    bson_iter_t it;
    ASSERT_TRUE(bson_iter_init_find(&it, doc->get(), "data"));
    ASSERT_TRUE(BSON_ITER_HOLDS_BINARY(&it));
    bson_subtype_t subtype;
    std::uint32_t length = 0;
    const std::uint8_t* bytes = nullptr;
    bson_iter_binary(&it, &subtype, &length, &bytes);
    EXPECT_EQ(subtype, BSON_SUBTYPE_BINARY);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes), length), png);

    // Replacing the image changes type and validator; the old ETag no longer matches.
    auto replaced = client().request("POST", path, kJpeg, bearer(admin_), "image/jpeg");
    ASSERT_EQ(replaced.status, 200) << replaced.body;
    auto jpeg = client().request("GET", path, {}, {{"If-None-Match", etag}});
    EXPECT_EQ(jpeg.status, 200);
    EXPECT_EQ(jpeg.header("content-type"), "image/jpeg");
    EXPECT_EQ(jpeg.body, kJpeg);
    EXPECT_NE(jpeg.header("etag"), etag);
    auto webp = client().request("POST", path, kWebp, bearer(admin_), "image/webp; q=1");
    EXPECT_EQ(webp.status, 200) << webp.body;
    EXPECT_EQ(client().get(path).header("content-type"), "image/webp");

    // The image goes with its product.
    EXPECT_EQ(client().del("/products/" + id, admin_).status, 204);
    EXPECT_EQ(client().get(path).status, 404);
    EXPECT_FALSE(find_doc("product_images", id));
}

TEST_F(CatalogApi, ImageTypeIsDecidedByMagicBytesAndSizeIsBounded) {
    const auto product = create_product({{"name", unique("Picky")}});
    const std::string id(product.at("_id").as_string());
    const std::string path = "/products/" + id + "/image";
    auto upload = [&](const std::string& bytes, const std::string& type) {
        return client().request("POST", path, bytes, bearer(admin_), type).status;
    };
    EXPECT_EQ(upload(kJpeg, "image/png"), 415);  // lying client
    EXPECT_EQ(upload(png_bytes(64), "image/jpeg"), 415);
    EXPECT_EQ(upload("GIF89a\x01\x00\x01\x00", "image/gif"), 415);
    EXPECT_EQ(upload("<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png"), 415);
    EXPECT_EQ(upload(png_bytes(64), "text/plain"), 415);
    EXPECT_EQ(upload(png_bytes(64), "application/json"), 415);
    EXPECT_EQ(client().request("POST", path, {}, bearer(admin_), "image/png").status, 415);
    // Declared too large: answered from the headers, before the body is read.
    const std::string too_big = client().raw(
        "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_ +
        "\r\nContent-Type: image/png\r\nContent-Length: " + std::to_string(5 * 1024 * 1024 + 1) +
        "\r\n\r\n");
    EXPECT_EQ(too_big.rfind("HTTP/1.1 413", 0), 0U) << too_big;
    EXPECT_FALSE(find_doc("product_images", id));
    EXPECT_TRUE(client().get("/products/" + id).json().at("image_url").is_null());

    EXPECT_EQ(upload(png_bytes(5 * 1024 * 1024), "image/png"), 200);
    auto served = client().get(path);
    EXPECT_EQ(served.body.size(), 5U * 1024 * 1024);
    EXPECT_TRUE(served.body == png_bytes(5 * 1024 * 1024));
}

TEST(CatalogImageLimits, ImageLimitComesFromConfiguration) {
    Service service({.extra_args = {"--max-image-bytes=1024"}});
    HttpClient client(service.port());
    const std::string admin = make_admin(service, client, "limits-admin@example.com");
    auto created = client.post("/products", {{"name", "Small"}, {"price", 1}, {"stock", 1}}, admin);
    ASSERT_EQ(created.status, 201);
    const std::string path =
        "/products/" + std::string(created.json().at("_id").as_string()) + "/image";
    EXPECT_EQ(client.request("POST", path, png_bytes(2048), bearer(admin), "image/png").status,
              413);
    EXPECT_EQ(client.request("POST", path, png_bytes(1024), bearer(admin), "image/png").status,
              200);
}

// --- seed-demo and the contract ---------------------------------------------------------------

TEST(CatalogSeed, SeedDemoIsIdempotentAndScales) {
    Service service;
    std::string output;
    ASSERT_EQ(run_cli(service, {"seed-demo"}, &output), 0) << output;
    db::Db db({.uri = service.mongodb_uri(), .database = service.database()});
    EXPECT_EQ(db.collection("categories").count(db::Bson()), 5);
    EXPECT_EQ(db.collection("products").count(db::Bson()), 48);
    ASSERT_EQ(run_cli(service, {"seed-demo"}, &output), 0) << output;
    EXPECT_EQ(db.collection("categories").count(db::Bson()), 5);
    EXPECT_EQ(db.collection("products").count(db::Bson()), 48);
    ASSERT_EQ(run_cli(service, {"seed-demo", "--products", "60"}, &output), 0) << output;
    EXPECT_EQ(db.collection("products").count(db::Bson()), 60);

    HttpClient client(service.port());
    // The running service learns of the seeded catalog through the change feed (README: < 1 s;
    // 3 s here for a loaded test machine).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    auto page = client.get("/products?limit=100&sort=name");
    while (page.json().at("total") != 60 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        page = client.get("/products?limit=100&sort=name");
    }
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.json().at("total"), 60);
    std::set<std::string> seen;
    const json::value page_body = page.json();
    for (const auto& item : page_body.at("items").as_array()) {
        seen.emplace(item.at("name").as_string());
        EXPECT_FALSE(item.at("category").is_null());
        EXPECT_GT(item.at("price").to_number<double>(), 0);
    }
    EXPECT_EQ(seen.size(), 60U);
    auto categories = client.get("/categories");
    std::int64_t total = 0;
    const json::value categories_body = categories.json();
    for (const auto& item : categories_body.at("items").as_array()) {
        total += item.at("product_count").as_int64();
    }
    EXPECT_EQ(total, 60);
    EXPECT_EQ(run_cli(service, {"seed-demo", "--products", "-5"}, &output), 2);
}

TEST(CatalogContract, OpenApiDescribesEveryCatalogRoute) {
    Service service;
    HttpClient client(service.port());
    const auto document = client.get("/openapi.json").json();
    const auto& paths = document.at("paths").as_object();
    const std::vector<std::pair<std::string, std::string>> routes{{"/products", "get"},
                                                                  {"/products/suggest", "get"},
                                                                  {"/products", "post"},
                                                                  {"/products/{id}", "get"},
                                                                  {"/products/{id}", "put"},
                                                                  {"/products/{id}", "delete"},
                                                                  {"/products/{id}/image", "get"},
                                                                  {"/products/{id}/image", "post"},
                                                                  {"/categories", "get"},
                                                                  {"/categories", "post"},
                                                                  {"/categories/{id}", "get"},
                                                                  {"/categories/{id}", "put"},
                                                                  {"/categories/{id}", "delete"}};
    for (const auto& [path, method] : routes) {
        ASSERT_TRUE(paths.contains(path)) << path;
        EXPECT_TRUE(paths.at(path).as_object().contains(method)) << method << " " << path;
    }
    const auto& schemas = document.at("components").at("schemas").as_object();
    for (const char* name :
         {"Product", "ProductInput", "ProductPage", "Category", "CategoryInput"}) {
        EXPECT_TRUE(schemas.contains(name)) << name;
    }
    // The documented properties are exactly what the service sends, all of them required.
    const std::string admin = make_admin(service, client, "contract-admin@example.com");
    auto category = client.post("/categories", {{"name", "Contract"}}, admin);
    ASSERT_EQ(category.status, 201);
    auto product =
        client.post("/products", {{"name", "Contract"}, {"price", 1}, {"stock", 1}}, admin);
    ASSERT_EQ(product.status, 201);
    auto keys = [](const json::value& object) {
        std::set<std::string> out;
        for (const auto& entry : object.as_object()) out.emplace(entry.key());
        return out;
    };
    auto documented = [&schemas](const char* name, const char* member) {
        std::set<std::string> out;
        const auto& schema = schemas.at(name).as_object();
        if (std::string(member) == "properties") {
            for (const auto& entry : schema.at("properties").as_object()) out.emplace(entry.key());
        } else {
            for (const auto& field : schema.at("required").as_array()) {
                out.emplace(field.as_string());
            }
        }
        return out;
    };
    const json::value product_body = product.json();
    const json::value category_body = client.get("/categories").json();
    const json::value page_body = client.get("/products").json();
    for (const char* member : {"properties", "required"}) {
        EXPECT_EQ(keys(product_body), documented("Product", member)) << member;
        EXPECT_EQ(keys(category.json()), documented("Category", member)) << member;
        EXPECT_EQ(keys(category_body.at("items").at(0)), documented("Category", member));
        EXPECT_EQ(keys(category_body), documented("CategoryList", member)) << member;
        EXPECT_EQ(keys(page_body), documented("ProductPage", member)) << member;
    }
}

}  // namespace
}  // namespace flaskcart::testing
