// The HTTP core under hostile clients, through the real binary: connection floods, bytes that
// are not UTF-8, log injection, error amplification, request framing, and response headers.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "support/api_helpers.hpp"
#include "support/http_client.hpp"
#include "support/service.hpp"

namespace flaskcart::testing {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

std::size_t count_occurrences(const std::string& text, std::string_view needle) {
    std::size_t count = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++count;
    }
    return count;
}

bool is_utf8_json(const std::string& body) {
    boost::system::error_code ec;
    boost::json::parse(body, ec);  // refuses invalid UTF-8 as well as invalid JSON
    return !ec;
}

// --- Item 3: connection floods -------------------------------------------------------------

TEST(ConnectionFlood, AConnectionThatSendsNothingIsClosedAfterTheHeaderTimeout) {
    Service service({.extra_args = {"--header-timeout-ms=500", "--idle-timeout-ms=600000"}});
    RawConnection silent(service.port());
    // Not the keep-alive idle timeout (10 minutes): the header timeout applies from the start.
    const auto closed = silent.read_until_closed_within(60s);
    ASSERT_TRUE(closed.has_value());
    EXPECT_EQ(*closed, "");
}

TEST(ConnectionFlood, OverTheCapANewClientIsRefusedAtOnceAndServedWhenRoomReturns) {
    Service service({.extra_args = {"--max-connections=8", "--idle-timeout-ms=600000"}});
    // Fill the cap with keep-alive connections that have been served once and then sit idle,
    // until the next one is refused.
    std::vector<std::unique_ptr<RawConnection>> idle;
    std::string refusal;
    for (int i = 0; i < 100 && refusal.empty(); ++i) {
        auto connection = std::make_unique<RawConnection>(service.port());
        connection->send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        const std::string reply = connection->read_some();
        if (reply.rfind("HTTP/1.1 503", 0) == 0) {
            refusal = reply;
        } else {
            ASSERT_EQ(reply.rfind("HTTP/1.1 200", 0), 0U) << reply;
            idle.push_back(std::move(connection));
        }
    }
    ASSERT_FALSE(refusal.empty());
    EXPECT_GE(idle.size(), 1U);
    EXPECT_LE(idle.size(), 8U);
    for (int round = 0; round < 5; ++round) {
        auto refused = HttpClient(service.port()).get("/health");
        EXPECT_EQ(refused.status, 503);
        EXPECT_EQ(refused.header("retry-after"), "1");
        EXPECT_EQ(refused.header("content-type"), "application/problem+json");
        EXPECT_TRUE(is_utf8_json(refused.body));
    }
    idle.clear();
    // The server sees the closes asynchronously: wait for a slot to come back.
    int status = 0;
    for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
        status = HttpClient(service.port()).get("/health").status;
        if (status != 200) std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(status, 200);
}

TEST(ConnectionFlood, AtTheDescriptorLimitItKeepsServingAndDoesNotFloodTheLog) {
    // 256 descriptors and the default cap of 10,000: the cap is lowered to what the limit
    // allows (at most 256 - 70 - 32 = 154 here), so accept() never runs out of descriptors.
    Service service({.extra_args = {"--header-timeout-ms=600000", "--workers=2"},
                     .command_prefix = {"/usr/bin/prlimit", "--nofile=256:256"}});
    std::vector<std::unique_ptr<RawConnection>> flood;
    for (int i = 0; i < 400; ++i) flood.push_back(std::make_unique<RawConnection>(service.port()));
    // Every new client is answered at once: served, refused with a 503, or — while 32 refusals
    // are being written — closed without an answer. None waits in the backlog.
    for (int round = 0; round < 20; ++round) {
        int status = 0;
        try {
            status = HttpClient(service.port()).get("/health").status;
        } catch (const std::exception&) {
            status = -1;  // closed unanswered: also a refusal, and a fast one
        }
        EXPECT_TRUE(status == 200 || status == 503 || status == -1) << status;
    }
    flood.clear();
    int status = 0;
    for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
        status = HttpClient(service.port()).get("/products?limit=1").status;
        if (status != 200) std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(status, 200);
    service.stop();
    const std::string log = read_file(service.log_path());
    EXPECT_NE(log.find("file-descriptor limit is 256"), std::string::npos);
    EXPECT_EQ(count_occurrences(log, "accept failed"), 0U);
    EXPECT_LE(count_occurrences(log, "refusing connections"), 3U);
}

TEST(ConnectionFlood, OutOfDescriptorsAcceptBacksOffAndLogsOncePerInterval) {
    // 30 descriptors: about 15 are the process's own, so the refusals of a flood (up to 32 at
    // once) run accept() out of descriptors, which the cap alone cannot prevent here.
    Service service({.extra_args = {"--workers=1", "--header-timeout-ms=600000"},
                     .command_prefix = {"/usr/bin/prlimit", "--nofile=30:30"}});
    std::vector<std::unique_ptr<RawConnection>> flood;
    for (int i = 0; i < 300; ++i) flood.push_back(std::make_unique<RawConnection>(service.port()));
    const auto log_has = [&service](std::string_view text) {
        return read_file(service.log_path()).find(text) != std::string::npos;
    };
    for (int attempt = 0; attempt < 600 && !log_has("accept failed"); ++attempt) {
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(log_has("accept failed"));
    // Hold the flood for a while: the failures go on, the log lines do not.
    std::this_thread::sleep_for(3s);
    flood.clear();
    int status = 0;
    for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
        try {
            status = HttpClient(service.port()).get("/health").status;
        } catch (const std::exception&) {
            status = -1;
        }
        if (status != 200) std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(status, 200);
    service.stop();
    const std::string log = read_file(service.log_path());
    EXPECT_LE(count_occurrences(log, "accept failed"), 2U);
    EXPECT_LT(log.size(), 64U * 1024);
}

// --- Item 4 / issue 10 item 4: several network threads ----------------------------------

TEST(NetworkThreads, ConcurrentClientsOnFourThreadsAllGetTheirAnswersAndShutdownDrains) {
    for (int repetition = 0; repetition < 3; ++repetition) {
        Service service({.extra_args = {"--network-threads=4", "--workers=4"}});
        constexpr int kClients = 12;
        constexpr int kRequestsPerClient = 30;
        std::atomic<int> answered{0};
        std::vector<std::string> failures(kClients);
        std::vector<std::thread> clients;
        for (int c = 0; c < kClients; ++c) {
            clients.emplace_back([&, c] {
                HttpClient client(service.port());
                for (int i = 0; i < kRequestsPerClient; ++i) {
                    // Network-thread routes and pool routes interleaved.
                    const char* target = i % 3 == 0   ? "/health"
                                         : i % 3 == 1 ? "/products?limit=2"
                                                      : "/nope";
                    const int expected = i % 3 == 2 ? 404 : 200;
                    const auto response = client.get(target);
                    if (response.status != expected) {
                        failures[c] = std::string(target) + " → " +
                                      std::to_string(response.status) + " " + response.body;
                        return;
                    }
                    ++answered;
                }
            });
        }
        for (auto& client : clients) client.join();
        for (const auto& failure : failures) EXPECT_EQ(failure, "");
        EXPECT_EQ(answered.load(), kClients * kRequestsPerClient);

        // Idle keep-alive connections spread over the threads are closed by SIGTERM.
        std::vector<std::unique_ptr<RawConnection>> idle;
        for (int i = 0; i < 8; ++i) {
            idle.push_back(std::make_unique<RawConnection>(service.port()));
            idle.back()->send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            ASSERT_EQ(idle.back()->read_some().rfind("HTTP/1.1 200", 0), 0U);
        }
        EXPECT_EQ(service.stop(), 0);
        for (auto& connection : idle) EXPECT_TRUE(connection->read_until_closed_within(30s));
    }
}

// --- Items 7 and 8: bytes that are not UTF-8 -----------------------------------------------

TEST(InvalidUtf8, InAQueryParameterIs422BeforeTheDatabase) {
    Service service;
    HttpClient client(service.port());
    for (const char* query : {"%FF", "abc%FF", "%C0%AE", "%ED%A0%80"}) {
        const auto response = client.get(std::string("/products?q=") + query);
        EXPECT_EQ(response.status, 422) << query;
        EXPECT_EQ(response.header("content-type"), "application/problem+json");
        ASSERT_TRUE(is_utf8_json(response.body)) << response.body;
        EXPECT_TRUE(response.json().at("errors").as_object().contains("q")) << response.body;
    }
    EXPECT_EQ(client.get("/products?q=caf%C3%A9").status, 200);
}

TEST(InvalidUtf8, InThePathIs400AndEveryProblemIsValidJson) {
    Service service;
    HttpClient client(service.port());
    const auto invalid = client.get("/nope%FF");
    EXPECT_EQ(invalid.status, 400);
    EXPECT_TRUE(is_utf8_json(invalid.body)) << invalid.body;
    const auto unknown = client.get("/nope%C3%A9%0A");
    EXPECT_EQ(unknown.status, 404);
    ASSERT_TRUE(is_utf8_json(unknown.body)) << unknown.body;
    EXPECT_EQ(unknown.json().at("instance"), "/nope\xC3\xA9\n");
    // Raw (not percent-encoded) high bytes in the target.
    const std::string raw =
        HttpClient(service.port())
            .raw("GET /nope\xFF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const auto body_start = raw.find("\r\n\r\n");
    ASSERT_NE(body_start, std::string::npos) << raw;
    EXPECT_TRUE(is_utf8_json(raw.substr(body_start + 4))) << raw;
}

// --- Path segments are split before they are decoded --------------------------------------

TEST(PathSegments, AnEncodedSlashStaysInsideItsSegment) {
    Service service;
    HttpClient client(service.port());
    const std::string token = register_and_login(client, "segments@example.com");
    const std::string id = user_id_of(client, token);
    ASSERT_EQ(client.get("/users/" + id, token).status, 200);
    // Decoded first and split after, these were GET /users/{id} and GET /health.
    const auto joined = client.get("/users%2F" + id, token);
    EXPECT_EQ(joined.status, 404);
    EXPECT_EQ(joined.json().at("instance").as_string(), "/users/" + id);  // decoded, as before
    EXPECT_EQ(client.get("/%2Fhealth").status, 404);
    EXPECT_EQ(client.get("/health%2F").status, 404);
    // Empty segments are still ignored.
    EXPECT_EQ(client.get("/health/").status, 200);
    EXPECT_EQ(client.get("//users/" + id, token).status, 200);
}

TEST(RequestIds, GeneratedOnesAre16HexDigitsAndNeverRepeat) {
    Service service;
    HttpClient client(service.port());
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        const std::string id = client.get("/health").header("x-request-id");
        ASSERT_EQ(id.size(), 16U) << id;
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
        EXPECT_TRUE(seen.insert(id).second) << "repeated " << id;
    }
}

// --- Item 9: log injection -----------------------------------------------------------------

TEST(LogInjection, TextLogsEscapeControlCharactersAndInvalidBytes) {
    Service service;
    HttpClient client(service.port());
    client.get("/nope%0AFAKE-LOG-LINE");
    client.get("/nope%1B%5B31mred");
    client.get("/nope%FF");
    client.request("GET", "/health", {}, {{"X-Request-Id", "ok-id"}});
    service.stop();
    const std::string log = read_file(service.log_path());
    EXPECT_EQ(log.find("\nFAKE-LOG-LINE"), std::string::npos);
    EXPECT_NE(log.find("/nope\\x0aFAKE-LOG-LINE"), std::string::npos);
    EXPECT_EQ(log.find("\x1B[31mred"), std::string::npos);
    EXPECT_NE(log.find("\\x1b[31mred"), std::string::npos);
    EXPECT_EQ(log.find('\xFF'), std::string::npos);
}

TEST(LogInjection, JsonLogsStayOneValidJsonObjectPerLine) {
    Service service({.extra_args = {"--log-format=json"}});
    HttpClient client(service.port());
    client.get("/nope%0A%22%7D%FF");
    client.get("/products?q=%FF");
    client.get("/nope%1B%5B31m");
    service.stop();
    std::istringstream lines(read_file(service.log_path()));
    int json_lines = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line.front() != '{') continue;  // sanitizer or driver output
        EXPECT_TRUE(is_utf8_json(line)) << line;
        ++json_lines;
    }
    EXPECT_GE(json_lines, 3);
}

// --- Item 10: error amplification ----------------------------------------------------------

TEST(ErrorAmplification, ThousandsOfUnknownFieldsGetASmallAnswer) {
    Service service;
    HttpClient client(service.port());
    boost::json::object body{
        {"name", "Ann"}, {"email", "ann@example.com"}, {"password", "correct-horse-1"}};
    for (int i = 0; i < 20'000; ++i) body["unknown_" + std::to_string(i)] = i;
    const auto response = client.post("/register", body);
    EXPECT_EQ(response.status, 422);
    EXPECT_LT(response.body.size(), 4096U);
    const auto problem = response.json();
    EXPECT_EQ(problem.at("errors").as_object().size(), 20U);
    EXPECT_EQ(problem.at("errors_omitted"), 20'000 - 20);
}

// --- Item 11: request framing and duplicate keys -------------------------------------------

TEST(Framing, AnUnknownTransferEncodingIs501NeverFramedByContentLength) {
    Service service;
    HttpClient client(service.port());
    const std::string reply = client.raw(
        "POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\n{}");
    EXPECT_EQ(reply.rfind("HTTP/1.1 501", 0), 0U) << reply;
    const std::string layered = client.raw(
        "POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    EXPECT_EQ(layered.rfind("HTTP/1.1 501", 0), 0U) << layered;
    const std::string both = client.raw(
        "POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    EXPECT_EQ(both.rfind("HTTP/1.1 400", 0), 0U) << both;
}

// The server parses what it has already read and writes each response straight to the socket:
// requests sent back to back are still answered one by one, in order, HEAD without a body, an
// HTTP/1.0 request without keep-alive last before the close.
TEST(Framing, PipelinedRequestsAreAnsweredInOrderHeadWithoutABody) {
    Service service;
    HttpClient client(service.port());
    const std::string reply = client.raw(
        "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /health HTTP/1.0\r\n\r\n"
        "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");  // after the close: never answered
    EXPECT_EQ(count_occurrences(reply, "HTTP/1.1 200 OK\r\n"), 2U) << reply;
    EXPECT_EQ(count_occurrences(reply, "HTTP/1.1 404 Not Found\r\n"), 1U) << reply;
    EXPECT_EQ(count_occurrences(reply, "HTTP/1.0 200 OK\r\n"), 1U) << reply;
    EXPECT_EQ(count_occurrences(reply, "{\"status\":\"ok\"}"), 2U) << reply;  // not after HEAD
    EXPECT_EQ(count_occurrences(reply, "Content-Length: 15\r\n"), 3U) << reply;
    const auto first_ok = reply.find("HTTP/1.1 200");
    const auto not_found = reply.find("HTTP/1.1 404");
    const auto last = reply.find("HTTP/1.0 200");
    EXPECT_LT(first_ok, not_found);
    EXPECT_LT(not_found, last);
    EXPECT_TRUE(reply.ends_with("{\"status\":\"ok\"}")) << reply;
}

// A response larger than the socket takes at once (a client that is slow to read) is finished
// asynchronously, whole.
TEST(Framing, ResponsesLargerThanTheSocketBufferArriveWholeToASlowReader) {
    Service service;
    HttpClient client(service.port());
    const auto document = client.get("/openapi.json");
    ASSERT_EQ(document.status, 200);
    ASSERT_GT(document.body.size(), 100'000U);
    RawConnection connection(service.port());
    connection.send(
        "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::this_thread::sleep_for(300ms);  // both responses wait on a full socket meanwhile
    const std::string reply = connection.read_until_closed();
    EXPECT_EQ(count_occurrences(reply, "HTTP/1.1 200 OK\r\n"), 2U);
    EXPECT_EQ(count_occurrences(reply, "Content-Length: " + std::to_string(document.body.size())),
              2U);
    EXPECT_EQ(count_occurrences(reply, document.body), 2U);
    EXPECT_TRUE(reply.ends_with(document.body));
}

TEST(Framing, AnOversizedChunkSizeIsAnswered400) {
    Service service;
    HttpClient client(service.port());
    const std::string reply = client.raw(
        "POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n");
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0U) << reply;
    EXPECT_NE(reply.find("application/problem+json"), std::string::npos);
    // A well-formed chunked body still works.
    const std::string fine = client.raw(
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    EXPECT_EQ(fine.rfind("HTTP/1.1 422", 0), 0U) << fine;
}

TEST(Framing, DuplicateJsonKeysAre400) {
    Service service;
    HttpClient client(service.port());
    const auto response = client.request(
        "POST", "/register",
        R"({"name":"a","email":"dup@example.com","password":"correct-horse-1","name":"b"})");
    EXPECT_EQ(response.status, 400);
    EXPECT_NE(response.json().at("detail").as_string().find("name"), std::string::npos);
}

// --- Item 15: response headers -------------------------------------------------------------

TEST(ResponseHeaders, NosniffEverywhereAndNoStoreOnPrivateAnswers) {
    Service service;
    HttpClient client(service.port());
    EXPECT_EQ(client.get("/health").header("x-content-type-options"), "nosniff");
    EXPECT_EQ(client.get("/nope").header("x-content-type-options"), "nosniff");
    EXPECT_EQ(client.get("/products").header("x-content-type-options"), "nosniff");
    const std::string rejected = client.raw("THIS IS NOT HTTP\r\n\r\n");
    EXPECT_NE(rejected.find("X-Content-Type-Options: nosniff"), std::string::npos) << rejected;

    const auto registered = client.post(
        "/register",
        {{"name", "Ann"}, {"email", "nostore@example.com"}, {"password", "correct-horse-1"}});
    EXPECT_EQ(registered.status, 201);
    EXPECT_EQ(registered.header("cache-control"), "no-store");
    const auto login =
        client.post("/login", {{"email", "nostore@example.com"}, {"password", "correct-horse-1"}});
    ASSERT_EQ(login.status, 200);
    EXPECT_EQ(login.header("cache-control"), "no-store");
    const std::string token(login.json().at("token").as_string());
    for (const char* path : {"/profile", "/cart", "/orders"}) {
        EXPECT_EQ(client.get(path, token).header("cache-control"), "no-store") << path;
    }
    EXPECT_EQ(client.get("/health").header("cache-control"), "");
}

TEST(Cors, OffByDefault) {
    Service service;
    HttpClient client(service.port());
    const auto preflight = client.request(
        "OPTIONS", "/products", {},
        {{"Origin", "https://shop.example.com"}, {"Access-Control-Request-Method", "GET"}});
    EXPECT_EQ(preflight.status, 405);
    EXPECT_EQ(preflight.header("access-control-allow-origin"), "");
    const auto get = client.request("GET", "/health", {}, {{"Origin", "https://shop.example.com"}});
    EXPECT_EQ(get.header("access-control-allow-origin"), "");
}

TEST(Cors, AnAllowListAnswersPreflightsFromItsOriginsOnly) {
    Service service({.extra_env = {"FLASKCART_CORS_ALLOWED_ORIGINS=https://shop.example.com,"
                                   "http://localhost:3000"}});
    HttpClient client(service.port());
    const auto preflight = client.request("OPTIONS", "/cart/add", {},
                                          {{"Origin", "https://shop.example.com"},
                                           {"Access-Control-Request-Method", "POST"},
                                           {"Access-Control-Request-Headers", "authorization"}});
    EXPECT_EQ(preflight.status, 204);
    EXPECT_EQ(preflight.header("access-control-allow-origin"), "https://shop.example.com");
    EXPECT_NE(preflight.header("access-control-allow-methods").find("POST"), std::string::npos);
    EXPECT_NE(preflight.header("access-control-allow-headers").find("Authorization"),
              std::string::npos);
    EXPECT_FALSE(preflight.header("access-control-max-age").empty());

    const auto other = client.request(
        "OPTIONS", "/cart/add", {},
        {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
    EXPECT_EQ(other.status, 405);
    EXPECT_EQ(other.header("access-control-allow-origin"), "");

    const auto get = client.request("GET", "/health", {}, {{"Origin", "http://localhost:3000"}});
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(get.header("access-control-allow-origin"), "http://localhost:3000");
    EXPECT_NE(get.header("vary").find("Origin"), std::string::npos);
    const auto evil = client.request("GET", "/health", {}, {{"Origin", "https://evil.example"}});
    EXPECT_EQ(evil.header("access-control-allow-origin"), "");
}

}  // namespace
}  // namespace flaskcart::testing
