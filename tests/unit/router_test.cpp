#include "http/router.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/context.hpp"

namespace flaskcart::http {
namespace {

Router make_router() {
    Router router;
    router.add("GET", "/products", [](RequestContext&) { return Response::json(200, "list"); });
    router.add("POST", "/products", [](RequestContext&) { return Response::json(201, "made"); });
    router.add("GET", "/products/{id}", [](RequestContext& ctx) {
        return Response::json(200, boost::json::string(ctx.path_param("id")));
    });
    router.add("GET", "/orders/{user_id}",
               [](RequestContext&) { return Response::json(200, "x"); });
    router.add("GET", "/orders/mine", [](RequestContext&) { return Response::json(200, "mine"); });
    router.add("POST", "/echo",
               [](RequestContext& ctx) { return Response::json(200, ctx.json_body()); });
    router.add("GET", "/boom",
               [](RequestContext&) -> Response { throw std::runtime_error("secret internals"); });
    return router;
}

Request make_request(std::string method, std::string path, std::string body = {},
                     std::string content_type = "application/json") {
    Request request;
    request.method = std::move(method);
    parse_target(path, request);  // path and path_segments, as the server fills them
    request.body = std::move(body);
    if (!content_type.empty()) request.headers["content-type"] = content_type;
    return request;
}

TEST(Router, MatchesTemplatesSegmentBySegment) {
    Router router = make_router();
    auto request = make_request("GET", "/products/abc123");
    Response response = router.dispatch(request);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "\"abc123\"");
    EXPECT_EQ(router.match("GET", "/products/").handler, router.match("GET", "/products").handler);
}

// The path is split before it is decoded: a %2F belongs to its segment, so it can neither
// join two segments into another route nor split an id in two.
TEST(Router, AnEncodedSlashStaysInsideItsSegment) {
    Router router = make_router();
    auto inside_id = make_request("GET", "/products/a%2Fb");
    Response response = router.dispatch(inside_id);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "\"a/b\"");
    auto joined = make_request("GET", "/products%2Fabc123");
    EXPECT_EQ(router.dispatch(joined).status, 404);
    EXPECT_EQ(joined.path, "/products/abc123");  // still shown decoded (problem instance, logs)
    auto leading = make_request("GET", "/%2Fproducts");
    EXPECT_EQ(router.dispatch(leading).status, 404);
    auto trailing = make_request("GET", "/products/abc%2F");
    EXPECT_EQ(router.dispatch(trailing).body, "\"abc/\"");
}

TEST(Router, EmptySegmentsAreIgnored) {
    Router router = make_router();
    for (const char* path : {"/products/abc123/", "//products/abc123", "/products//abc123"}) {
        auto request = make_request("GET", path);
        EXPECT_EQ(router.dispatch(request).body, "\"abc123\"") << path;
    }
}

TEST(Router, PrefersLiteralSegmentsOverParameters) {
    Router router = make_router();
    auto request = make_request("GET", "/orders/mine");
    EXPECT_EQ(router.dispatch(request).body, "\"mine\"");
}

TEST(Router, ALiteralPathIsNotCapturedByAParameterOfAnotherMethod) {
    Router router = make_router();
    router.add("POST", "/orders/place",
               [](RequestContext&) { return Response::json(201, "placed"); });
    auto get = make_request("GET", "/orders/place");
    Response response = router.dispatch(get);
    EXPECT_EQ(response.status, 405);
    EXPECT_EQ(response.headers.at(0).second, "POST");
    auto other = make_request("GET", "/orders/123");
    EXPECT_EQ(router.dispatch(other).status, 200);
}

TEST(Router, UnknownPathIs404ProblemJson) {
    Router router = make_router();
    auto request = make_request("GET", "/nothing/here");
    Response response = router.dispatch(request);
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.content_type, "application/problem+json");
    auto body = boost::json::parse(response.body).as_object();
    EXPECT_EQ(body["status"].as_int64(), 404);
    EXPECT_EQ(body["title"].as_string(), "Not Found");
}

TEST(Router, WrongMethodIs405WithAllow) {
    Router router = make_router();
    auto request = make_request("DELETE", "/products");
    Response response = router.dispatch(request);
    EXPECT_EQ(response.status, 405);
    ASSERT_EQ(response.headers.size(), 1U);
    EXPECT_EQ(response.headers[0].first, "Allow");
    EXPECT_EQ(response.headers[0].second, "GET, HEAD, POST");
}

TEST(Router, RejectsDuplicateRoutes) {
    Router router = make_router();
    EXPECT_THROW(router.add("GET", "/products", [](RequestContext&) { return Response{}; }),
                 std::logic_error);
}

TEST(Router, MalformedJsonIs400AndNonObjectIs400) {
    Router router = make_router();
    auto bad = make_request("POST", "/echo", "{\"a\": ");
    EXPECT_EQ(router.dispatch(bad).status, 400);
    auto array = make_request("POST", "/echo", "[1, 2]");
    EXPECT_EQ(router.dispatch(array).status, 400);
    auto ok = make_request("POST", "/echo", "{\"a\": 1}", "application/json; charset=utf-8");
    EXPECT_EQ(router.dispatch(ok).status, 200);
}

TEST(Router, WrongContentTypeIs415) {
    Router router = make_router();
    auto request = make_request("POST", "/echo", "{}", "text/plain");
    EXPECT_EQ(router.dispatch(request).status, 415);
    auto missing = make_request("POST", "/echo", "{}", "");
    EXPECT_EQ(router.dispatch(missing).status, 415);
}

TEST(Router, UnexpectedErrorsAre500WithoutInternals) {
    Router router = make_router();
    auto request = make_request("GET", "/boom");
    Response response = router.dispatch(request);
    EXPECT_EQ(response.status, 500);
    EXPECT_EQ(response.body.find("secret"), std::string::npos);
}

TEST(Problem, RendersFieldErrors) {
    const std::string body =
        render_problem(ApiError::validation({{"email", "must be a valid address"}}), "/register");
    auto json = boost::json::parse(body).as_object();
    EXPECT_EQ(json["status"].as_int64(), 422);
    EXPECT_EQ(json["instance"].as_string(), "/register");
    EXPECT_EQ(json["errors"].as_object()["email"].as_string(), "must be a valid address");
    EXPECT_TRUE(json.contains("type"));
    EXPECT_TRUE(json.contains("detail"));
}

}  // namespace
}  // namespace flaskcart::http
