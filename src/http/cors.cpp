#include "http/cors.hpp"

#include <algorithm>

namespace flaskcart::http {

namespace {

// Bearer tokens, not cookies, authenticate: no Access-Control-Allow-Credentials.
constexpr const char* kAllowedMethods = "GET, HEAD, POST, PUT, DELETE";
constexpr const char* kAllowedHeaders =
    "Authorization, Content-Type, Idempotency-Key, X-Request-Id";
constexpr const char* kExposedHeaders =
    "X-Request-Id, Retry-After, Location, Allow, WWW-Authenticate, Idempotent-Replayed, ETag";
constexpr const char* kPreflightMaxAgeSeconds = "600";

std::string lower_ascii(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

}  // namespace

CorsPolicy::CorsPolicy(std::vector<std::string> allowed_origins) {
    for (auto& origin : allowed_origins) {
        while (!origin.empty() && origin.back() == '/') origin.pop_back();
        if (!origin.empty()) allowed_origins_.push_back(lower_ascii(std::move(origin)));
    }
}

bool CorsPolicy::is_allowed(const Request& request) const {
    const auto origin = request.header("origin");
    if (!origin || allowed_origins_.empty()) return false;
    const std::string wanted = lower_ascii(std::string(*origin));
    return std::find(allowed_origins_.begin(), allowed_origins_.end(), wanted) !=
           allowed_origins_.end();
}

std::optional<Response> CorsPolicy::answer_preflight(const Request& request) const {
    if (request.method != "OPTIONS" || !request.header("access-control-request-method") ||
        !is_allowed(request)) {
        return std::nullopt;
    }
    Response response = Response::no_content();
    response.headers = {
        {"Access-Control-Allow-Origin", std::string(*request.header("origin"))},
        {"Access-Control-Allow-Methods", kAllowedMethods},
        {"Access-Control-Allow-Headers", kAllowedHeaders},
        {"Access-Control-Max-Age", kPreflightMaxAgeSeconds},
        {"Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
    };
    return response;
}

void CorsPolicy::add_headers(const Request& request, Response& response) const {
    if (!is_enabled()) return;
    const auto has = [&response](std::string_view name) {
        return std::any_of(response.headers.begin(), response.headers.end(),
                           [name](const auto& header) { return header.first == name; });
    };
    if (has("Access-Control-Allow-Origin")) return;  // a preflight answer, complete already
    if (is_allowed(request)) {
        response.headers.emplace_back("Access-Control-Allow-Origin",
                                      std::string(*request.header("origin")));
        response.headers.emplace_back("Access-Control-Expose-Headers", kExposedHeaders);
    }
    if (!has("Vary")) response.headers.emplace_back("Vary", "Origin");
}

}  // namespace flaskcart::http
