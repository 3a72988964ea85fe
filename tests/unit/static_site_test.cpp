// The browser pages and assets compiled into the binary: what they are served with, that they
// never shadow an API path, and that the files themselves keep the promises the CSP relies on.
#include "web/static_site.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <string>

#include "openapi_document.hpp"
#include "web/embedded_files.hpp"

namespace flaskcart::web {
namespace {

http::Request get(std::string path, std::string method = "GET") {
    http::Request request;
    request.method = std::move(method);
    request.path = path;
    request.target = std::move(path);
    return request;
}

std::string header(const http::Response& response, std::string_view name) {
    for (const auto& [key, value] : response.headers) {
        if (key == name) return value;
    }
    return {};
}

std::string asset_path(std::string_view name) {
    return "/assets/" + std::string(embedded_asset_version()) + "/" + std::string(name);
}

bool is_own_file(const EmbeddedFile& file) {
    return file.name.substr(0, 11) != "swagger-ui-" && file.name != "swagger-ui.css";
}

TEST(StaticSite, ServesTheStorefrontAtTheRootAndUnderShop) {
    const StaticSite site;
    for (const char* path : {"/", "/shop/cart", "/shop/product/665f1c2e8a1b2c3d4e5f6a7b"}) {
        const auto response = site.serve(get(path));
        ASSERT_TRUE(response) << path;
        EXPECT_EQ(response->status, 200) << path;
        EXPECT_EQ(response->content_type, "text/html; charset=utf-8");
        EXPECT_NE(response->body.find("shop.js"), std::string::npos) << path;
        EXPECT_EQ(header(*response, "Cache-Control"), "no-cache");
        EXPECT_EQ(header(*response, "X-Content-Type-Options"), "nosniff");
        EXPECT_EQ(header(*response, "Content-Security-Policy").rfind("default-src 'self';", 0), 0u);
        EXPECT_EQ(header(*response, "ETag").front(), '"');
    }
}

TEST(StaticSite, ServesTheAdminConsoleAndTheApiReference) {
    const StaticSite site;
    for (const char* path : {"/admin", "/admin/", "/admin/products/new"}) {
        const auto response = site.serve(get(path));
        ASSERT_TRUE(response) << path;
        EXPECT_NE(response->body.find("admin.js"), std::string::npos) << path;
    }
    const auto docs = site.serve(get("/docs"));
    ASSERT_TRUE(docs);
    EXPECT_NE(docs->body.find("swagger-ui-bundle.js"), std::string::npos);
    const std::string policy = header(*docs, "Content-Security-Policy");
    EXPECT_NE(policy.find("default-src 'self'"), std::string::npos);
    EXPECT_EQ(policy.find("unsafe-"), std::string::npos) << policy;
}

TEST(StaticSite, NoPageAllowsInlineCodeOrOtherHosts) {
    const StaticSite site;
    for (const char* path : {"/", "/admin", "/docs"}) {
        const std::string policy = header(*site.serve(get(path)), "Content-Security-Policy");
        EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << path;
        EXPECT_EQ(policy.find("unsafe-eval"), std::string::npos) << path;
        EXPECT_NE(policy.find("object-src 'none'"), std::string::npos) << path;
        EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << path;
    }
}

TEST(StaticSite, AssetsHaveTheirTypeAndAreCachedForAYear) {
    const StaticSite site;
    const std::pair<const char*, const char*> expected[] = {
        {"shop.js", "text/javascript; charset=utf-8"},
        {"site.css", "text/css; charset=utf-8"},
        {"placeholder.svg", "image/svg+xml"},
        {"swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
    };
    for (const auto& [name, type] : expected) {
        const auto response = site.serve(get(asset_path(name)));
        ASSERT_TRUE(response) << name;
        EXPECT_EQ(response->status, 200) << name;
        EXPECT_EQ(response->content_type, type) << name;
        EXPECT_EQ(header(*response, "Cache-Control"), "public, max-age=31536000, immutable");
        EXPECT_FALSE(response->body.empty()) << name;
    }
}

TEST(StaticSite, AMatchingIfNoneMatchIsAnswered304WithoutABody) {
    const StaticSite site;
    for (const std::string& path : {std::string("/"), asset_path("shop.js")}) {
        const auto first = site.serve(get(path));
        ASSERT_TRUE(first);
        auto again = get(path);
        again.headers["if-none-match"] = header(*first, "ETag");
        const auto revalidated = site.serve(again);
        ASSERT_TRUE(revalidated);
        EXPECT_EQ(revalidated->status, 304) << path;
        EXPECT_TRUE(revalidated->body.empty());
        EXPECT_EQ(header(*revalidated, "ETag"), header(*first, "ETag"));

        auto stale = get(path);
        stale.headers["if-none-match"] = "\"something-else\"";
        EXPECT_EQ(site.serve(stale)->status, 200) << path;
    }
}

TEST(StaticSite, UnknownAssetsAndOldVersionsAre404Problems) {
    const StaticSite site;
    for (const std::string& path :
         {asset_path("nope.js"), std::string("/assets/0000000000000000/shop.js"),
          std::string("/assets/shop.js"), asset_path("index.html")}) {
        const auto response = site.serve(get(path));
        ASSERT_TRUE(response) << path;
        EXPECT_EQ(response->status, 404) << path;
        EXPECT_EQ(response->content_type, "application/problem+json") << path;
    }
}

TEST(StaticSite, OtherMethodsAre405WithAllow) {
    const StaticSite site;
    for (const char* method : {"POST", "PUT", "DELETE"}) {
        const auto response = site.serve(get("/admin", method));
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 405) << method;
        EXPECT_EQ(header(*response, "Allow"), "GET, HEAD");
    }
}

TEST(StaticSite, LeavesEveryOtherPathToTheApi) {
    const StaticSite site;
    for (const char* path : {"/products", "/health", "/openapi.json", "/docsx", "/shopping",
                             "/administrator", "/cart", "/login", "/docs/x"}) {
        EXPECT_FALSE(site.serve(get(path))) << path;
    }
}

TEST(StaticSite, ShadowsNoDocumentedApiPath) {
    const auto document = boost::json::parse(kOpenApiDocument).as_object();
    const std::regex parameter(R"(\{[^}]+\})");
    for (const auto& [path, item] : document.at("paths").as_object()) {
        const std::string concrete =
            std::regex_replace(std::string(path), parameter, "665f1c2e8a1b2c3d4e5f6a7b");
        EXPECT_FALSE(StaticSite::owns_path(concrete)) << concrete;
    }
}

TEST(StaticSite, PagesReferenceOnlyEmbeddedFilesAndHaveNoInlineCode) {
    const StaticSite site;
    const std::regex reference(R"re((?:src|href)="([^"]*)")re");
    const std::regex inline_script(R"(<script(?![^>]*\bsrc=)[^>]*>)");
    const std::regex handler_attribute(R"(\son[a-z]+=)");
    for (const char* path : {"/", "/admin", "/docs"}) {
        const std::string body = site.serve(get(path))->body;
        for (std::sregex_iterator it(body.begin(), body.end(), reference), end; it != end; ++it) {
            const std::string target = (*it)[1];
            if (target.rfind('#', 0) == 0) continue;  // a link within the page
            ASSERT_EQ(target.rfind('/', 0), 0u) << path << " loads " << target;
            ASSERT_NE(target.rfind("//", 0), 0u) << path << " loads " << target;
            if (target.rfind("/assets/", 0) == 0) {
                EXPECT_EQ(site.serve(get(target))->status, 200) << path << " loads " << target;
            }
        }
        EXPECT_FALSE(std::regex_search(body, inline_script)) << path;
        EXPECT_FALSE(std::regex_search(body, handler_attribute)) << path;
        EXPECT_EQ(body.find("<style"), std::string::npos) << path;
        EXPECT_EQ(body.find(" style="), std::string::npos) << path;
    }
}

TEST(StaticSite, OwnScriptsImportOnlyEmbeddedModulesAndNeverWriteHtml) {
    const std::regex import_from(R"(from '\./([^']+)')");
    const std::regex html_sink(
        R"(innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function)");
    for (const EmbeddedFile& file : embedded_files()) {
        if (!is_own_file(file) || content_type_for(file.name).rfind("text/javascript", 0) != 0)
            continue;
        const std::string body(file.body);
        EXPECT_FALSE(std::regex_search(body, html_sink)) << file.name;
        for (std::sregex_iterator it(body.begin(), body.end(), import_from), end; it != end; ++it) {
            bool found = false;
            for (const EmbeddedFile& other : embedded_files())
                found |= other.name == (*it)[1].str();
            EXPECT_TRUE(found) << file.name << " imports " << (*it)[1];
        }
    }
}

TEST(StaticSite, OwnFilesStayUnder150KB) {
    std::size_t total = 0;
    for (const EmbeddedFile& file : embedded_files()) {
        if (is_own_file(file)) total += file.body.size();
    }
    EXPECT_GT(total, 0u);
    EXPECT_LE(total, 150u * 1024u);
}

}  // namespace
}  // namespace flaskcart::web
