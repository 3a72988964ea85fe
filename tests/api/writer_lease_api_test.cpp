// One writer per FerretDB database, through the real binary: a second instance refuses to start
// and names the holder; a successor takes over after SIGKILL within the lease time and at once
// after SIGTERM; a frozen holder that lost its lease writes nothing and exits; --read-only serves
// reads beside the writer and refuses changes; so the two-instance oversell cannot be set up.
// Against MongoDB (MONGODB_URI), where conditional updates are atomic, none of this applies and
// the one test that runs there checks that two instances both serve writes.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <csignal>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "models/lease_model.hpp"
#include "support/api_helpers.hpp"
#include "support/database.hpp"
#include "support/http_client.hpp"
#include "support/service.hpp"
#include "utils/db.hpp"

namespace flaskcart::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecretEnv = "FLASKCART_JWT_SECRET=writer-lease-test-secret-0123456789abcd";
// services::LeaseTiming: a contender takes over a term unrenewed for 5 s.
constexpr auto kLeaseTime = 5s;

bool database_is_ferretdb() {
    db::Db db({.uri = shared_database_uri(), .database = "admin"});
    return models::detect_server_kind(db) == models::ServerKind::kFerretDb;
}

#define SKIP_UNLESS_FERRETDB()                                                            \
    if (!database_is_ferretdb()) {                                                        \
        GTEST_SKIP() << "conditional updates are atomic on this server: no writer lease"; \
    }

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string unique_email(const std::string& prefix) {
    static std::atomic<int> counter{0};
    return prefix + std::to_string(counter++) + "-" + std::to_string(db::now_ms()) + "@example.com";
}

// The latest term of the lease chain in `database`.
std::optional<models::LeaseTerm> latest_lease(const Service& service) {
    db::Db db({.uri = service.mongodb_uri(), .database = service.database()});
    models::LeaseStore store(db);
    return store.latest();
}

// Units of `product` in all orders.
std::int64_t units_in_orders(db::Db& db, const bson_oid_t& product) {
    std::int64_t units = 0;
    for (const auto& doc : db.collection("orders").find(db::Bson())) {
        for (const auto& line : doc.view().get_documents("products")) {
            const auto id = line.view().get_oid("product_id");
            if (id && bson_oid_equal(&*id, &product)) {
                units += line.view().get_int64("quantity").value_or(0);
            }
        }
    }
    return units;
}

struct Refusal {
    std::optional<int> exit_code;
    bool listened = false;
    std::string stderr_text;
};

// Starts another flaskcart on `service`'s database and waits for it to exit on its own.
Refusal start_another_instance(const Service& service, std::vector<std::string> extra_args = {}) {
    static int counter = 0;
    const std::string log =
        test_log_dir() + "/second-" + service.database() + "-" + std::to_string(counter++) + ".log";
    std::vector<std::string> argv{service_binary(), "--port=0",
                                  "--mongodb-uri=" + service.mongodb_uri(),
                                  "--database=" + service.database(), "--log-level=info"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    Refusal result;
    {
        ChildProcess process(argv, {kSecretEnv}, log);
        while (auto line = process.read_line(30s)) {
            if (line->rfind("LISTENING ", 0) == 0) result.listened = true;
        }
        result.exit_code = process.wait_for_exit(30s);
    }
    result.stderr_text = read_file(log);
    return result;
}

void expect_holder_named(const std::string& text, pid_t holder_pid) {
    const std::string pid = "pid " + std::to_string(holder_pid) + ",";
    EXPECT_NE(text.find(pid), std::string::npos) << text;
    EXPECT_NE(text.find("host "), std::string::npos) << text;
    EXPECT_NE(text.find("started at 20"), std::string::npos) << text;
}

// The lines of `text` that contain `needle`.
int lines_containing(const std::string& text, const std::string& needle) {
    std::istringstream in(text);
    int count = 0;
    for (std::string line; std::getline(in, line);) count += line.find(needle) != std::string::npos;
    return count;
}

void expect_refused_change(const HttpResponse& response, const std::string& type) {
    EXPECT_EQ(response.status, 503) << response.body;
    EXPECT_EQ(response.header("content-type"), "application/problem+json") << response.body;
    if (response.status == 503) {
        EXPECT_EQ(std::string(response.json().at("type").as_string()), "/problems/" + type)
            << response.body;
    }
}

TEST(WriterLease, ASecondInstanceExitsWithCode2AndNamesTheHolder) {
    SKIP_UNLESS_FERRETDB();
    Service first({.extra_env = {kSecretEnv}});
    auto lease = latest_lease(first);
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->pid, first.process().pid());

    const Refusal second = start_another_instance(first);
    EXPECT_EQ(second.exit_code, 2);
    EXPECT_FALSE(second.listened) << "the refused instance opened its port";
    EXPECT_EQ(lines_containing(second.stderr_text, "flaskcart: another instance is the writer"), 1)
        << second.stderr_text;
    expect_holder_named(second.stderr_text, first.process().pid());
    EXPECT_NE(second.stderr_text.find("--read-only"), std::string::npos) << second.stderr_text;

    // The holder is undisturbed.
    HttpClient client(first.port());
    EXPECT_EQ(client
                  .post("/register", {{"name", "After"},
                                      {"email", unique_email("after")},
                                      {"password", kTestPassword}})
                  .status,
              201);
    EXPECT_EQ(latest_lease(first)->pid, first.process().pid());
}

TEST(WriterLease, AfterSigkillOfTheHolderASuccessorTakesOverWithinTheLeaseTime) {
    SKIP_UNLESS_FERRETDB();
    Service first({.extra_env = {kSecretEnv}});
    const auto dead_pid = first.process().pid();
    first.kill_now();
    const auto killed = std::chrono::steady_clock::now();
    Service second(
        {.database = first.database(), .extra_env = {kSecretEnv}, .wait_until_ready = false});
    const auto took_over = std::chrono::steady_clock::now() - killed;
    // It watched the dead holder's term for the lease time, then claimed (LISTENING follows the
    // claim). The slack covers process start-up on a loaded machine.
    EXPECT_GE(took_over, kLeaseTime);
    EXPECT_LT(took_over, kLeaseTime + 5s);
    auto lease = latest_lease(second);
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->pid, second.process().pid());
    EXPECT_NE(lease->pid, dead_pid);

    HttpClient client(second.port());
    for (int i = 0; i < 100 && client.get("/ready").status != 200; ++i)
        std::this_thread::sleep_for(100ms);
    EXPECT_EQ(client
                  .post("/register", {{"name", "Successor"},
                                      {"email", unique_email("successor")},
                                      {"password", kTestPassword}})
                  .status,
              201);
}

TEST(WriterLease, AfterSigtermOfTheHolderASuccessorStartsAtOnce) {
    SKIP_UNLESS_FERRETDB();
    Service first({.extra_env = {kSecretEnv}});
    const auto first_pid = first.process().pid();
    EXPECT_EQ(first.stop(), 0);
    auto released = latest_lease(first);
    ASSERT_TRUE(released);
    EXPECT_TRUE(released->released);
    EXPECT_EQ(released->pid, first_pid);

    const auto started = std::chrono::steady_clock::now();
    Service second(
        {.database = first.database(), .extra_env = {kSecretEnv}, .wait_until_ready = false});
    // No waiting for the lease time: the released term is claimed on the first look.
    EXPECT_LT(std::chrono::steady_clock::now() - started, kLeaseTime);
    auto lease = latest_lease(second);
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->term, released->term + 1);
    EXPECT_EQ(lease->pid, second.process().pid());
    EXPECT_EQ(read_file(second.log_path()).find("taking it over"), std::string::npos);
}

TEST(WriterLease, AFrozenHolderThatLostTheLeaseWritesNothingAndExits) {
    SKIP_UNLESS_FERRETDB();
    Service first({.extra_env = {kSecretEnv}});
    HttpClient first_client(first.port());
    const std::string token = register_and_login(first_client, unique_email("frozen"));
    first.process().send_signal(SIGSTOP);  // a holder that stops renewing without dying
    Service second({.database = first.database(), .extra_env = {kSecretEnv}});
    EXPECT_EQ(latest_lease(second)->pid, second.process().pid());
    first.process().send_signal(SIGCONT);

    // Whatever the woken holder does first — answer or shut down — it changes nothing.
    try {
        const auto change =
            first_client.put("/profile", {{"name", "Written by a stale writer"}}, token);
        EXPECT_EQ(change.status, 503) << change.body;
    } catch (const std::exception&) {
        // It had already closed its port.
    }
    EXPECT_EQ(first.process().wait_for_exit(20s), 2);
    const std::string log = read_file(first.log_path());
    EXPECT_EQ(lines_containing(log, "flaskcart: lost the writer lease"), 1) << log;
    expect_holder_named(log, second.process().pid());

    HttpClient second_client(second.port());
    auto profile = second_client.get("/profile", token);
    ASSERT_EQ(profile.status, 200) << profile.body;
    EXPECT_EQ(profile.json().at("name"), "Test User");
}

// An instance started while the database is down serves with every change refused, and decides
// when the database returns: here the writer is alive, so the newcomer exits 2 — and the writer,
// whose renewals failed during the outage, writes again.
TEST(WriterLease, AnInstanceStartedWhileTheDatabaseIsDownDecidesWhenItReturns) {
    SKIP_UNLESS_FERRETDB();
    FerretDbServer database;
    database.start();
    const std::string name = unique_database_name();
    Service writer({.mongodb_uri = database.uri(), .database = name, .extra_env = {kSecretEnv}});
    HttpClient writer_client(writer.port());
    const std::string token = register_and_login(writer_client, unique_email("outage"));

    database.stop();
    Service late({.mongodb_uri = database.uri(),
                  .database = name,
                  .extra_env = {kSecretEnv},
                  .wait_until_ready = false});
    HttpClient late_client(late.port());
    expect_refused_change(late_client.put("/profile", {{"name", "Late"}}, token),
                          "service-unavailable");
    expect_refused_change(writer_client.put("/profile", {{"name", "During"}}, token),
                          "service-unavailable");

    database.start();
    EXPECT_EQ(late.process().wait_for_exit(60s), 2);
    const std::string log = read_file(late.log_path());
    EXPECT_EQ(lines_containing(log, "flaskcart: another instance is the writer"), 1) << log;
    expect_holder_named(log, writer.process().pid());

    int status = 0;
    for (int i = 0; i < 60 && status != 200; ++i) {
        status = writer_client.put("/profile", {{"name", "Back"}}, token).status;
        if (status != 200) std::this_thread::sleep_for(500ms);
    }
    EXPECT_EQ(status, 200);
    EXPECT_TRUE(writer.process().is_running());
}

TEST(WriterLease, ReadOnlyInstanceServesCatalogReadsAndRefusesChanges) {
    SKIP_UNLESS_FERRETDB();
    Service writer({.extra_env = {kSecretEnv}});
    HttpClient writer_client(writer.port());
    const std::string admin = make_admin(writer, writer_client, unique_email("admin"));
    auto category = writer_client.post("/categories", {{"name", "Tools"}}, admin);
    ASSERT_EQ(category.status, 201) << category.body;
    const std::string category_id(category.json().at("_id").as_string());
    auto product = writer_client.post(
        "/products", {{"name", "Hammer"}, {"price", 12.5}, {"stock", 3}, {"category", category_id}},
        admin);
    ASSERT_EQ(product.status, 201) << product.body;
    const std::string product_id(product.json().at("_id").as_string());

    // The environment variable, as an operator would set it.
    Service reader(
        {.database = writer.database(), .extra_env = {kSecretEnv, "FLASKCART_READ_ONLY=true"}});
    HttpClient client(reader.port());
    EXPECT_EQ(client.get("/ready").status, 200);
    auto products = client.get("/products");
    ASSERT_EQ(products.status, 200) << products.body;
    EXPECT_NE(products.body.find(product_id), std::string::npos) << products.body;
    EXPECT_EQ(client.get("/products/" + product_id).status, 200);
    auto categories = client.get("/categories");
    ASSERT_EQ(categories.status, 200) << categories.body;
    EXPECT_NE(categories.body.find(category_id), std::string::npos) << categories.body;

    // Logging in only reads; the token then reads the account.
    const std::string email = unique_email("reader");
    register_and_login(writer_client, email);
    auto login = client.post("/login", {{"email", email}, {"password", kTestPassword}});
    ASSERT_EQ(login.status, 200) << login.body;
    const std::string token(login.json().at("token").as_string());
    EXPECT_EQ(client.get("/profile", token).status, 200);

    const std::string new_email = unique_email("refused");
    auto registered = client.post(
        "/register", {{"name", "Nope"}, {"email", new_email}, {"password", kTestPassword}});
    expect_refused_change(registered, "read-only");
    EXPECT_NE(registered.json().at("detail").as_string().find("read"), std::string::npos);
    EXPECT_TRUE(registered.header("retry-after").empty());
    expect_refused_change(
        client.post("/cart/add", {{"product_id", product_id}, {"quantity", 1}}, token),
        "read-only");
    expect_refused_change(client.post("/order", boost::json::object{}, token), "read-only");
    expect_refused_change(client.put("/profile", {{"name", "Changed"}}, token), "read-only");
    expect_refused_change(client.put("/products/" + product_id, {{"stock", 99}}, admin),
                          "read-only");
    expect_refused_change(client.del("/categories/" + category_id, admin), "read-only");
    // Unknown routes and wrong methods are still 404 and 405.
    EXPECT_EQ(client.post("/no-such-route", boost::json::object{}).status, 404);
    EXPECT_EQ(client.request("DELETE", "/login").status, 405);

    // Nothing reached the database.
    db::Db db({.uri = writer.mongodb_uri(), .database = writer.database()});
    EXPECT_EQ(
        db.collection("users").count(db::Bson(BCON_NEW("email", BCON_UTF8(new_email.c_str())))), 0);
    EXPECT_EQ(db.collection("carts").count(db::Bson()), 0);
    auto stored = writer_client.get("/products/" + product_id);
    EXPECT_EQ(stored.json().at("stock").as_int64(), 3);
    EXPECT_EQ(writer_client.get("/categories/" + category_id).status, 200);
    EXPECT_EQ(latest_lease(writer)->pid, writer.process().pid());
}

// The oversell of issue 15 — two instances, 30 buyers, 10 units — cannot be set up: the second
// writer refuses to start, and a read-only second instance refuses every checkout, so only the
// writer sells, exactly the 10 units there are.
TEST(WriterLease, TheTwoInstanceRaceForTenUnitsCannotBeSetUp) {
    SKIP_UNLESS_FERRETDB();
    Service writer({.extra_env = {kSecretEnv}});
    HttpClient writer_client(writer.port());
    const std::string admin = make_admin(writer, writer_client, unique_email("admin"));

    const Refusal second_writer = start_another_instance(writer);
    EXPECT_EQ(second_writer.exit_code, 2);
    EXPECT_FALSE(second_writer.listened);

    Service reader(
        {.database = writer.database(), .extra_args = {"--read-only"}, .extra_env = {kSecretEnv}});
    HttpClient reader_client(reader.port());
    constexpr int kBuyers = 30;
    std::vector<std::string> tokens(kBuyers);
    for (int i = 0; i < kBuyers; ++i)
        tokens[i] = register_and_login(writer_client, unique_email("buyer"));
    db::Db db({.uri = writer.mongodb_uri(), .database = writer.database()});

    for (int round = 0; round < 3; ++round) {
        auto created = writer_client.post(
            "/products",
            {{"name", "Last ten #" + std::to_string(round)}, {"price", 5.0}, {"stock", 10}}, admin);
        ASSERT_EQ(created.status, 201) << created.body;
        const std::string product(created.json().at("_id").as_string());
        for (const auto& token : tokens) {
            ASSERT_EQ(
                writer_client.post("/cart/add", {{"product_id", product}, {"quantity", 1}}, token)
                    .status,
                201);
        }
        std::atomic<bool> go{false};
        std::vector<std::future<int>> checkouts;
        for (int i = 0; i < kBuyers; ++i) {
            // Half of the buyers through each instance, all at once.
            const HttpClient& via = i % 2 == 0 ? writer_client : reader_client;
            checkouts.push_back(std::async(std::launch::async, [&go, &via, token = tokens[i]] {
                while (!go.load()) std::this_thread::yield();
                return via.post("/order", boost::json::object{}, token).status;
            }));
        }
        go = true;
        int placed = 0;
        int sold_out = 0;
        int refused_by_reader = 0;
        for (int i = 0; i < kBuyers; ++i) {
            const int status = checkouts[i].get();
            if (i % 2 == 0) {
                placed += status == 201;
                sold_out += status == 409;
            } else {
                refused_by_reader += status == 503;
            }
        }
        EXPECT_EQ(placed, 10) << "round " << round;
        EXPECT_EQ(sold_out, kBuyers / 2 - 10) << "round " << round;
        EXPECT_EQ(refused_by_reader, kBuyers / 2) << "round " << round;
        const bson_oid_t oid = *db::parse_oid(product);
        auto doc = db.collection("products").find_one(db::Bson(BCON_NEW("_id", BCON_OID(&oid))));
        ASSERT_TRUE(doc);
        EXPECT_EQ(doc->view().get_int64("stock").value_or(-1), 0) << "round " << round;
        EXPECT_EQ(units_in_orders(db, oid), 10) << "round " << round;
        for (const auto& token : tokens) {
            writer_client.request("DELETE", "/cart/remove?product_id=" + product, {},
                                  bearer(token));
        }
    }
}

TEST(WriterLease, OnMongoDbAnyNumberOfInstancesWrite) {
    if (database_is_ferretdb()) GTEST_SKIP() << "FerretDB: one writer per database";
    Service first({.extra_env = {kSecretEnv}});
    Service second({.database = first.database(), .extra_env = {kSecretEnv}});
    for (const Service* service : {&first, &second}) {
        HttpClient client(service->port());
        EXPECT_EQ(client
                      .post("/register", {{"name", "Both"},
                                          {"email", unique_email("both")},
                                          {"password", kTestPassword}})
                      .status,
                  201);
    }
    EXPECT_FALSE(latest_lease(first));
}

// A writer SIGKILLed after a write whose change notice it never published (the kill follows the
// reply within milliseconds; the sync interval is the longest allowed, 5 s): its successor must not
// start from the catalog snapshot, which would serve — and price checkout at — the old price. After
// a clean stop it uses the snapshot.
TEST(WriterLease, AfterSigkillTheSuccessorReadsTheProductsCollectionNotTheSnapshot) {
    Service writer({.extra_args = {"--sync-interval-ms", "5000"}, .extra_env = {kSecretEnv}});
    std::string admin;
    std::string product;
    {
        HttpClient client(writer.port());
        admin = make_admin(writer, client, unique_email("snapshot-admin"));
        auto created = client.post(
            "/products", {{"name", "Snapshot lamp"}, {"price", 3.5}, {"stock", 4}}, admin);
        ASSERT_EQ(created.status, 201);
        product = std::string(created.json().at("_id").as_string());
    }
    EXPECT_EQ(writer.stop(), 0);
    // A snapshot that already holds the product (a replayed batch would reload it by _id from
    // the database and hide the defect): drop the first one, so the next start reads the
    // collection and stores a new one (after /ready, before its clean stop).
    db::Db({.uri = writer.mongodb_uri(), .database = writer.database()})
        .collection("catalog_snapshot")
        .delete_many(db::Bson());
    writer.start();
    EXPECT_EQ(writer.stop(), 0);
    writer.start();
    EXPECT_NE(read_file(writer.log_path()).find("products from the snapshot"), std::string::npos);
    {
        HttpClient client(writer.port());
        EXPECT_EQ(client.get("/products/" + product).json().at("price"), 3.5);
        ASSERT_EQ(client.put("/products/" + product, {{"price", 9.25}}, admin).status, 200);
    }
    writer.kill_now();  // the price change is in the database, its notice in no change batch
    writer.start();
    HttpClient client(writer.port());
    EXPECT_EQ(client.get("/products/" + product).json().at("price"), 9.25);
    EXPECT_NE(read_file(writer.log_path()).find("did not stop cleanly"), std::string::npos);
}

}  // namespace
}  // namespace flaskcart::testing
