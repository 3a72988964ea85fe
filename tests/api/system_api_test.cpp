// The HTTP core and operational endpoints, through the real binary.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <csignal>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "support/api_helpers.hpp"
#include "support/database.hpp"
#include "support/http_client.hpp"
#include "support/service.hpp"

namespace flaskcart::testing {
namespace {

TEST(SystemApi, HealthReadyAndOpenApi) {
    Service service;
    HttpClient client(service.port());
    auto health = client.get("/health");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.json().at("status"), "ok");
    EXPECT_FALSE(health.header("x-request-id").empty());
    auto ready = client.get("/ready");
    EXPECT_EQ(ready.status, 200);
    auto openapi = client.get("/openapi.json");
    EXPECT_EQ(openapi.status, 200);
    EXPECT_EQ(std::string(openapi.json().at("openapi").as_string()).substr(0, 2), "3.");
}

TEST(SystemApi, EchoesASafeRequestIdAndReplacesAnUnsafeOne) {
    Service service;
    HttpClient client(service.port());
    auto echoed = client.request("GET", "/health", {}, {{"X-Request-Id", "abc-123"}});
    EXPECT_EQ(echoed.header("x-request-id"), "abc-123");
    auto replaced = client.request("GET", "/health", {}, {{"X-Request-Id", "bad id\" <x>"}});
    EXPECT_NE(replaced.header("x-request-id"), "bad id\" <x>");
    EXPECT_EQ(replaced.header("x-request-id").size(), 16U);
}

TEST(SystemApi, ErrorsAreProblemJson) {
    Service service;
    HttpClient client(service.port());
    auto unknown = client.get("/no/such/path");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.header("content-type"), "application/problem+json");
    EXPECT_EQ(unknown.json().at("status"), 404);

    auto wrong_method = client.request("DELETE", "/health");
    EXPECT_EQ(wrong_method.status, 405);
    EXPECT_EQ(wrong_method.header("allow"), "GET, HEAD");
    EXPECT_EQ(wrong_method.header("content-type"), "application/problem+json");

    auto malformed = client.request("POST", "/register", "{\"name\": ");
    EXPECT_EQ(malformed.status, 400);
    EXPECT_EQ(malformed.header("content-type"), "application/problem+json");
    auto not_object = client.request("POST", "/register", "[1,2,3]");
    EXPECT_EQ(not_object.status, 400);
    auto wrong_type = client.request("POST", "/register", "{}", {}, "text/plain");
    EXPECT_EQ(wrong_type.status, 415);
}

TEST(SystemApi, OversizedBodyIs413WithoutReadingIt) {
    Service service({.extra_args = {"--max-body-bytes=2048", "--max-image-bytes=2048"}});
    HttpClient client(service.port());
    // Declares 10 MiB but sends only the headers: the answer must come without the body.
    const std::string reply = client.raw(
        "POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 10485760\r\n\r\n");
    EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0U) << reply;
    EXPECT_NE(reply.find("application/problem+json"), std::string::npos);

    auto big = client.request("POST", "/register", std::string(4096, ' ') + "{}");
    EXPECT_EQ(big.status, 413);
    // Chunked bodies are limited too.
    const std::string chunked = client.raw(
        "POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n1000\r\n" +
        std::string(4096, 'a') + "\r\n0\r\n\r\n");
    EXPECT_EQ(chunked.rfind("HTTP/1.1 413", 0), 0U) << chunked;
}

TEST(SystemApi, JsonRoutesKeepTheirOwnLimitWhenImagesMayBeLarger) {
    Service service({.extra_args = {"--max-body-bytes=2048", "--max-image-bytes=1048576"}});
    HttpClient client(service.port());
    auto json =
        client.request("POST", "/register", "{\"name\": \"" + std::string(4096, 'x') + "\"}");
    EXPECT_EQ(json.status, 413);
    const std::string reply = client.raw(
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000\r\n\r\n");
    EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0U) << reply;
    // The image route accepts more than 2048 bytes (and then asks for a token).
    auto image = client.request("POST", "/products/000000000000000000000000/image",
                                std::string(8192, 'x'), {}, "image/png");
    EXPECT_EQ(image.status, 401);
}

TEST(SystemApi, ExpectContinueIsAnsweredBeforeTheBody) {
    Service service;
    RawConnection connection(service.port());
    const std::string body = R"({"email": "nobody@example.com", "password": "wrong-password"})";
    connection.send(
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Expect: 100-continue\r\nConnection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n");
    const std::string interim = connection.read_some();
    EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue", 0), 0U) << interim;
    connection.send(body);
    const std::string reply = interim + connection.read_until_closed();
    EXPECT_NE(reply.find("HTTP/1.1 401"), std::string::npos) << reply;
}

TEST(SystemApi, MalformedHttpIs400) {
    Service service;
    HttpClient client(service.port());
    const std::string reply = client.raw("THIS IS NOT HTTP\r\n\r\n");
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0U) << reply;
}

TEST(SystemApi, ReadyFollowsTheDatabaseAndRecoversWithoutRestart) {
    FerretDbServer database;
    database.start();
    Service service(
        {.mongodb_uri = database.uri(), .database = unique_database_name(), .extra_args = {}});
    HttpClient client(service.port());
    EXPECT_EQ(client.get("/ready").status, 200);

    database.stop();
    auto down = client.get("/ready");
    EXPECT_EQ(down.status, 503);
    EXPECT_EQ(down.header("content-type"), "application/problem+json");
    EXPECT_FALSE(down.header("retry-after").empty());
    EXPECT_EQ(client.get("/health").status, 200);

    database.start();
    int status = 0;
    for (int i = 0; i < 60 && status != 200; ++i) {
        status = client.get("/ready").status;
        if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    EXPECT_EQ(status, 200);
    EXPECT_TRUE(service.process().is_running());
}

TEST(SystemApi, DatabaseOutageFailsFastWhileKnownDownAndRecoversByItself) {
    // The driver waits up to serverSelectionTimeoutMS for a server on every call; once the
    // outage is known, database routes must answer without that wait.
    // Long, so that "well within it" stays true on a machine loaded by parallel builds.
    constexpr auto kSelectionTimeout = std::chrono::milliseconds(10000);
    FerretDbServer database;
    database.start();
    Service service({.mongodb_uri = database.uri() + "?serverSelectionTimeoutMS=" +
                                    std::to_string(kSelectionTimeout.count()),
                     .database = unique_database_name(),
                     .extra_args = {}});
    HttpClient client(service.port());
    // A cart and an order history are read from the database on every request.
    const std::string token = register_and_login(client, "outage@example.com");
    ASSERT_EQ(client.get("/cart", token).status, 200);
    ASSERT_EQ(client.get("/orders", token).status, 200);

    database.stop();
    // A few requests find out the hard way (each waits for the selection timeout): that
    // opens the circuit.
    std::vector<std::future<HttpResponse>> discovering;
    for (int i = 0; i < 3; ++i) {
        discovering.push_back(
            std::async(std::launch::async, [&] { return client.get("/cart", token); }));
    }
    for (auto& response : discovering) EXPECT_EQ(response.get().status, 503);

    for (int round = 0; round < 3; ++round) {
        constexpr int kClients = 120;
        std::vector<std::future<std::pair<HttpResponse, std::chrono::steady_clock::duration>>>
            burst;
        for (int i = 0; i < kClients; ++i) {
            burst.push_back(std::async(std::launch::async, [&, i] {
                const auto started = std::chrono::steady_clock::now();
                auto response = client.get(i % 2 == 0 ? "/cart" : "/orders", token);
                return std::make_pair(std::move(response),
                                      std::chrono::steady_clock::now() - started);
            }));
        }
        for (auto& pending : burst) {
            const auto [response, took] = pending.get();
            EXPECT_EQ(response.status, 503) << response.body;
            EXPECT_EQ(response.header("content-type"), "application/problem+json");
            EXPECT_FALSE(response.header("retry-after").empty());
            // Generous: well within one selection timeout, which is what each request waited
            // before.
            EXPECT_LT(took, kSelectionTimeout / 2) << "round " << round;
        }
        const auto started = std::chrono::steady_clock::now();
        auto ready = client.get("/ready");
        EXPECT_EQ(ready.status, 503);
        EXPECT_LT(std::chrono::steady_clock::now() - started, kSelectionTimeout / 2);
        EXPECT_EQ(client.get("/health").status, 200);
    }

    database.start();
    int status = 0;
    for (int i = 0; i < 120 && status != 200; ++i) {
        status = client.get("/cart", token).status;
        if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    EXPECT_EQ(status, 200);
    EXPECT_EQ(client.get("/orders", token).status, 200);
    EXPECT_EQ(client.get("/ready").status, 200);
    EXPECT_TRUE(service.process().is_running());
}

TEST(SystemApi, StartsWithTheDatabaseDownAndAnswers503) {
    const int dead_port = find_free_port();
    Service service({.mongodb_uri = "mongodb://127.0.0.1:" + std::to_string(dead_port) + "/",
                     .database = unique_database_name(),
                     .wait_until_ready = false});
    HttpClient client(service.port());
    EXPECT_EQ(client.get("/health").status, 200);
    auto ready = client.get("/ready");
    EXPECT_EQ(ready.status, 503);
    auto login = client.post("/login", {{"email", "a@example.com"}, {"password", "whatever-1"}});
    EXPECT_EQ(login.status, 503);
    EXPECT_EQ(login.header("content-type"), "application/problem+json");
    EXPECT_FALSE(login.header("retry-after").empty());
    EXPECT_EQ(login.body.find("mongoc"), std::string::npos);
    EXPECT_EQ(login.body.find("127.0.0.1"), std::string::npos);
}

// Waits until the service's log holds `text` (the service writes it as an event happens).
bool wait_for_log(Service& service, std::string_view text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(service.log_path());
        std::stringstream log;
        log << in.rdbuf();
        if (log.str().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

TEST(SystemApi, SigtermLetsARequestBeingSentComplete) {
    Service service;
    RawConnection connection(service.port());
    const std::string body = R"({"email": "nobody@example.com", "password": "wrong-password"})";
    // "100 Continue" proves the server has read the headers and is waiting for the body.
    connection.send(
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Expect: 100-continue\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10));
    const std::string interim = connection.read_some();
    ASSERT_EQ(interim.rfind("HTTP/1.1 100 Continue", 0), 0U) << interim;
    service.process().send_signal(SIGTERM);
    // Logged once the server has stopped accepting and closed its idle connections.
    ASSERT_TRUE(wait_for_log(service, "draining in-flight requests"));
    connection.send(body.substr(10));
    const std::string reply = connection.read_until_closed();
    EXPECT_EQ(reply.rfind("HTTP/1.1 401", 0), 0U) << reply;
    EXPECT_EQ(service.process().wait_for_exit(std::chrono::seconds(20)), 0);
}

TEST(SystemApi, IdleKeepAliveConnectionsDoNotDelayShutdown) {
    Service service;
    RawConnection connection(service.port());
    connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(connection.read_some().rfind("HTTP/1.1 200", 0), 0U);
    const auto started = std::chrono::steady_clock::now();
    service.process().send_signal(SIGTERM);
    EXPECT_EQ(service.process().wait_for_exit(std::chrono::seconds(20)), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(SystemCli, HelpListsTheSettingsAndBadValuesExitNonZero) {
    auto run = [](std::vector<std::string> args, std::string& output) {
        args.insert(args.begin(), service_binary());
        ChildProcess process(args, {}, test_log_dir() + "/cli-errors.log");
        output.clear();
        while (auto line = process.read_line(std::chrono::seconds(30))) output += *line + "\n";
        return process.wait_for_exit(std::chrono::seconds(30)).value_or(-1);
    };
    std::string output;
    EXPECT_EQ(run({"--help"}, output), 0);
    for (const char* option :
         {"--bind", "--port", "--mongodb-uri", "--database", "--workers", "--log-level",
          "--log-format", "--jwt-secret", "--read-only", "--max-connections",
          "FLASKCART_MAX_CONNECTIONS", "--network-threads", "--cors-allowed-origins",
          "create-admin", "seed-demo"}) {
        EXPECT_NE(output.find(option), std::string::npos) << option;
    }
    EXPECT_EQ(run({"--port=70000"}, output), 2);
    EXPECT_EQ(run({"--bind=localhost-ish"}, output), 2);
    EXPECT_EQ(run({"--workers=0"}, output), 2);
    EXPECT_EQ(run({"--log-level=loud"}, output), 2);
    EXPECT_EQ(run({"--mode=production"}, output), 2);  // no JWT secret
    EXPECT_EQ(run({"--jwt-secret=short"}, output), 2);
    EXPECT_EQ(run({"--no-such-flag"}, output), 2);
    EXPECT_EQ(run({"--max-connections=0"}, output), 2);
    EXPECT_EQ(run({"--network-threads=-1"}, output), 2);
    EXPECT_EQ(run({"--cors-allowed-origins=shop.example.com"}, output), 2);
    EXPECT_EQ(run({"--cors-allowed-origins=https://shop.example.com/path"}, output), 2);
}

TEST(SystemApi, SaturatedWorkerPoolAnswers503AtOnceWhileHealthStillAnswers) {
    // One worker, one request in flight: a /ready against a dead database holds the worker for
    // the server-selection timeout, so requests that need the pool find it saturated. /health
    // never needs it: it runs on the network thread and answers all the same.
    const int dead_port = find_free_port();
    Service service({.mongodb_uri = "mongodb://127.0.0.1:" + std::to_string(dead_port) +
                                    "/?serverSelectionTimeoutMS=10000",
                     .database = unique_database_name(),
                     .extra_args = {"--workers=1", "--max-in-flight=1"},
                     .wait_until_ready = false});
    HttpClient client(service.port());
    const auto start_slow = [&] {
        return std::async(std::launch::async, [&] { return client.get("/ready"); });
    };
    // A pool request that needs no database: 422 when the pool is free, the busy 503 while the
    // slow /ready holds it.
    const auto probe = [&] { return client.post("/login", boost::json::object{}); };
    const auto is_busy = [](const HttpResponse& response) {
        return response.status == 503 &&
               response.body.find("the server is busy") != std::string::npos;
    };
    auto slow = start_slow();
    HttpResponse busy;
    for (;;) {
        busy = probe();
        if (is_busy(busy)) break;
        ASSERT_EQ(busy.status, 422) << busy.body;
        // The probe may have held the slot when /ready arrived: then /ready was the one refused.
        if (slow.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
            ASSERT_TRUE(is_busy(slow.get()));
            slow = start_slow();
        }
    }
    EXPECT_EQ(busy.header("retry-after"), "1");
    EXPECT_EQ(busy.header("content-type"), "application/problem+json");

    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
        const auto health = client.get("/health");
        EXPECT_EQ(health.status, 200);
        EXPECT_EQ(client.get("/openapi.json").status, 200);
    }
    // Generous: the slow request holds the pool for 10 s; /health waited for none of it.
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    // Still saturated after those answers: they were given while the pool was full.
    EXPECT_TRUE(is_busy(probe()));
    EXPECT_EQ(slow.get().status, 503);
    EXPECT_EQ(probe().status, 422);
}

}  // namespace
}  // namespace flaskcart::testing
