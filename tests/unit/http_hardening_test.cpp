// Hostile input at the HTTP layer: bytes that are not UTF-8, log injection, error amplification,
// duplicate JSON keys, private responses, CORS, and the log throttle.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/context.hpp"
#include "http/cors.hpp"
#include "http/log_throttle.hpp"
#include "http/router.hpp"
#include "utils/text.hpp"

namespace flaskcart::http {
namespace {

using namespace std::chrono_literals;

TEST(Utf8, AcceptsValidTextAndRefusesEveryKindOfInvalidSequence) {
    EXPECT_TRUE(text::is_valid_utf8(""));
    EXPECT_TRUE(text::is_valid_utf8("plain ascii"));
    EXPECT_TRUE(text::is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x9B\x92"));  // é € 🛒
    EXPECT_TRUE(text::is_valid_utf8("\xF4\x8F\xBF\xBF"));                           // U+10FFFF
    EXPECT_FALSE(text::is_valid_utf8("\xFF"));
    EXPECT_FALSE(text::is_valid_utf8("abc\xFF"));
    EXPECT_FALSE(text::is_valid_utf8("\xC0\xAE"));          // overlong '.'
    EXPECT_FALSE(text::is_valid_utf8("\xE0\x80\xAE"));      // overlong, three bytes
    EXPECT_FALSE(text::is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
    EXPECT_FALSE(text::is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(text::is_valid_utf8("\xC3"));              // truncated
    EXPECT_FALSE(text::is_valid_utf8("\xE2\x82"));          // truncated
    EXPECT_FALSE(text::is_valid_utf8("\x80"));              // a lone continuation byte
}

TEST(Utf8, ReplacesInvalidBytesAndKeepsValidOnes) {
    EXPECT_EQ(text::to_valid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
    EXPECT_EQ(text::to_valid_utf8("a\xFF"
                                  "b"),
              "a\xEF\xBF\xBD"
              "b");
    EXPECT_TRUE(text::is_valid_utf8(text::to_valid_utf8("\xC0\xAE\xED\xA0\x80\xC3")));
}

TEST(LogEscaping, ControlCharactersAndInvalidBytesCannotForgeOrColourALine) {
    EXPECT_EQ(text::escape_for_log("/nope\nFAKE-LOG-LINE"), "/nope\\x0aFAKE-LOG-LINE");
    EXPECT_EQ(text::escape_for_log("\r\t\x1B[31m"), "\\x0d\\x09\\x1b[31m");
    EXPECT_EQ(text::escape_for_log("a\xFF"), "a\\xff");
    EXPECT_EQ(text::escape_for_log("\x7F"), "\\x7f");
    EXPECT_EQ(text::escape_for_log("\xC2\x9B"), "\\u{9b}");  // C1 CSI
    EXPECT_EQ(text::escape_for_log("back\\slash"), "back\\\\slash");
    EXPECT_EQ(text::escape_for_log("caf\xC3\xA9"), "caf\xC3\xA9");
    EXPECT_EQ(text::escape_for_log(std::string_view("nul\0x", 5)), "nul\\x00x");
}

TEST(ProblemDocument, IsValidUtf8JsonWhateverTheClientSent) {
    const ApiError error = ApiError::not_found("resource /nope\xFF");
    const std::string body = render_problem(error, "/nope\xFF\xC0\xAE");
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(body, ec);  // refuses invalid UTF-8
    ASSERT_FALSE(ec) << body;
    EXPECT_EQ(parsed.at("instance"), "/nope\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    const std::string fields = render_problem(ApiError::validation("q\xFF", "bad \xFF"), "/");
    EXPECT_FALSE(boost::json::parse(fields, ec).is_null());
    EXPECT_FALSE(ec) << fields;
}

TEST(ProblemDocument, ListsTheFirstTwentyFieldErrorsAndCountsTheRest) {
    FieldErrors errors;
    for (int i = 0; i < 90'000; ++i) errors.emplace_back("k" + std::to_string(i), "unknown");
    const ApiError error = ApiError::validation(std::move(errors));
    EXPECT_EQ(error.errors().size(), kMaxListedFieldErrors);
    EXPECT_EQ(error.omitted_errors(), 90'000U - kMaxListedFieldErrors);
    const auto body = boost::json::parse(render_problem(error, "/register"));
    EXPECT_EQ(body.at("errors").as_object().size(), kMaxListedFieldErrors);
    EXPECT_TRUE(body.at("errors").as_object().contains("k0"));
    EXPECT_TRUE(body.at("errors").as_object().contains("k19"));
    EXPECT_EQ(body.at("errors_omitted"), 90'000 - 20);
    EXPECT_LT(render_problem(error, "/register").size(), 2048U);

    const auto few = boost::json::parse(render_problem(ApiError::validation("a", "b"), "/"));
    EXPECT_FALSE(few.as_object().contains("errors_omitted"));
}

ApiError target_error(std::string_view target) {
    Request request;
    try {
        parse_target(target, request);
    } catch (const ApiError& error) {
        return error;
    }
    ADD_FAILURE() << "no error for " << target;
    return ApiError::internal();
}

TEST(ParseTarget, InvalidUtf8InAQueryParameterIs422NamingIt) {
    for (const char* target : {"/products?q=%FF", "/products?q=abc%FF", "/products?q=%C0%AE",
                               "/products?q=%ED%A0%80", "/products?limit=2&q=%E2%82"}) {
        const ApiError error = target_error(target);
        EXPECT_EQ(error.status(), 422) << target;
        ASSERT_EQ(error.errors().size(), 1U) << target;
        EXPECT_EQ(error.errors()[0].first, "q");
    }
    const ApiError bad_name = target_error("/products?%FF=1");
    EXPECT_EQ(bad_name.status(), 422);
    EXPECT_TRUE(text::is_valid_utf8(bad_name.errors().at(0).first));
    EXPECT_EQ(target_error("/products?q=a%00b").status(), 422);
}

TEST(ParseTarget, InvalidUtf8InThePathIs400) {
    EXPECT_EQ(target_error("/nope%FF").status(), 400);
    EXPECT_EQ(target_error("/products/%C0%AE").status(), 400);
    EXPECT_EQ(target_error("/a%00b").status(), 400);
}

TEST(ParseTarget, ValidUtf8IsDecoded) {
    Request request;
    parse_target("/caf%C3%A9?q=%E2%82%AC&limit=2", request);
    EXPECT_EQ(request.path, "/caf\xC3\xA9");
    EXPECT_EQ(request.query.find("q")->second, "\xE2\x82\xAC");
    EXPECT_EQ(request.query.find("limit")->second, "2");
    EXPECT_EQ(request.path_segments, std::vector<std::string>{"caf\xC3\xA9"});
}

TEST(ParseTarget, SegmentsAreSplitBeforeTheyAreDecoded) {
    Request request;
    parse_target("/products/a%2Fb%3Fc/image?x=%2F", request);
    EXPECT_EQ(request.path, "/products/a/b?c/image");
    EXPECT_EQ(request.path_segments, (std::vector<std::string>{"products", "a/b?c", "image"}));
    EXPECT_EQ(request.query.find("x")->second, "/");
    parse_target("//products//x/", request);
    EXPECT_EQ(request.path_segments, (std::vector<std::string>{"products", "x"}));
    parse_target("/", request);
    EXPECT_TRUE(request.path_segments.empty());
}

Request json_request(std::string body) {
    Request request;
    request.method = "POST";
    request.path = "/echo";
    request.body = std::move(body);
    request.headers["content-type"] = "application/json";
    return request;
}

TEST(JsonBody, RefusesARepeatedKeyAtAnyDepth) {
    for (const char* body : {R"({"name":"a","name":"b"})", R"({"a":{"x":1,"y":2,"x":3}})",
                             R"({"items":[{"q":1},{"q":1,"q":2}]})"}) {
        Request request = json_request(body);
        RequestContext context(request, {});
        try {
            context.json_body();
            ADD_FAILURE() << "accepted " << body;
        } catch (const ApiError& error) {
            EXPECT_EQ(error.status(), 400) << body;
        }
    }
}

TEST(JsonBody, TheSameKeyInDifferentObjectsIsFine) {
    Request request = json_request(R"({"a":{"id":1},"b":{"id":2},"id":[{"id":3},{"id":4}]})");
    RequestContext context(request, {});
    EXPECT_EQ(context.json_body().size(), 3U);
}

TEST(RouteOptions, TellTheServerWhichHandlersRunOnTheNetworkThread) {
    Router router;
    router.add("GET", "/health", [](RequestContext&) { return Response::json(200, "ok"); },
               {.runs_on_network_thread = true});
    router.add("GET", "/products", [](RequestContext&) { return Response::json(200, "list"); });
    const auto request = [](std::string method, std::string path) {
        Request out;
        out.method = std::move(method);
        parse_target(path, out);
        return out;
    };
    EXPECT_TRUE(router.runs_on_network_thread(request("GET", "/health")));
    EXPECT_FALSE(router.runs_on_network_thread(request("GET", "/products")));
    // 404 and 405 are answered without a handler, so without the database.
    EXPECT_TRUE(router.runs_on_network_thread(request("GET", "/nope")));
    EXPECT_TRUE(router.runs_on_network_thread(request("DELETE", "/products")));
}

TEST(RouteOptions, PrivateResponsesAreNeverStored) {
    Router router;
    router.add("POST", "/login", [](RequestContext&) { return Response::json(200, "token"); },
               {.is_private = true});
    router.add("GET", "/products", [](RequestContext&) { return Response::json(200, "list"); });
    router.add("GET", "/cached", [](RequestContext&) {
        Response response = Response::json(200, "doc");
        response.headers.emplace_back("Cache-Control", "public, max-age=300");
        return response;
    });
    const auto cache_control = [&router](std::string method, std::string path, bool with_token) {
        Request request;
        request.method = std::move(method);
        parse_target(path, request);
        if (with_token) request.headers["authorization"] = "Bearer x";
        std::string value;
        for (const auto& [name, header] : router.dispatch(request).headers) {
            if (name == "Cache-Control") value += header;
        }
        return value;
    };
    EXPECT_EQ(cache_control("POST", "/login", false), "no-store");
    EXPECT_EQ(cache_control("GET", "/products", true), "no-store");
    EXPECT_EQ(cache_control("GET", "/products", false), "");
    EXPECT_EQ(cache_control("GET", "/cached", false), "public, max-age=300");
}

Request cors_request(std::string method, std::string origin, bool is_preflight) {
    Request request;
    request.method = std::move(method);
    request.path = "/products";
    if (!origin.empty()) request.headers["origin"] = std::move(origin);
    if (is_preflight) request.headers["access-control-request-method"] = "POST";
    return request;
}

std::string header_of(const Response& response, std::string_view name) {
    for (const auto& [key, value] : response.headers) {
        if (key == name) return value;
    }
    return {};
}

TEST(Cors, OffByDefault) {
    const CorsPolicy cors;
    EXPECT_FALSE(cors.answer_preflight(cors_request("OPTIONS", "https://a.example", true)));
    Response response = Response::json(200, "x");
    cors.add_headers(cors_request("GET", "https://a.example", false), response);
    EXPECT_TRUE(response.headers.empty());
}

TEST(Cors, AnswersPreflightsOnlyForAllowedOrigins) {
    const CorsPolicy cors({"https://Shop.example.com/"});
    const auto preflight =
        cors.answer_preflight(cors_request("OPTIONS", "https://shop.example.com", true));
    ASSERT_TRUE(preflight);
    EXPECT_EQ(preflight->status, 204);
    EXPECT_EQ(header_of(*preflight, "Access-Control-Allow-Origin"), "https://shop.example.com");
    EXPECT_NE(header_of(*preflight, "Access-Control-Allow-Methods").find("POST"),
              std::string::npos);
    EXPECT_NE(header_of(*preflight, "Access-Control-Allow-Headers").find("Authorization"),
              std::string::npos);
    EXPECT_FALSE(cors.answer_preflight(cors_request("OPTIONS", "https://evil.example", true)));
    EXPECT_FALSE(cors.answer_preflight(cors_request("OPTIONS", "", true)));
    EXPECT_FALSE(cors.answer_preflight(cors_request("OPTIONS", "https://shop.example.com", false)));

    Response allowed = Response::json(200, "x");
    cors.add_headers(cors_request("GET", "https://shop.example.com", false), allowed);
    EXPECT_EQ(header_of(allowed, "Access-Control-Allow-Origin"), "https://shop.example.com");
    EXPECT_EQ(header_of(allowed, "Vary"), "Origin");
    Response other = Response::json(200, "x");
    cors.add_headers(cors_request("GET", "https://evil.example", false), other);
    EXPECT_EQ(header_of(other, "Access-Control-Allow-Origin"), "");
    EXPECT_EQ(header_of(other, "Vary"), "Origin");
}

TEST(LogThrottle, LetsOneMessageThroughPerIntervalAndCountsTheRest) {
    LogThrottle throttle(10s);
    const auto start = LogThrottle::Clock::time_point{} + 1h;
    EXPECT_EQ(throttle.admit(start), 0U);
    for (int i = 0; i < 1000; ++i) EXPECT_FALSE(throttle.admit(start + 1ms * i));
    EXPECT_EQ(throttle.admit(start + 10s), 1000U);
    EXPECT_FALSE(throttle.admit(start + 11s));
    EXPECT_EQ(throttle.admit(start + 25s), 1U);
}

}  // namespace
}  // namespace flaskcart::http
