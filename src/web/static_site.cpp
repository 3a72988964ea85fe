#include "web/static_site.hpp"

#include <string>

#include "models/image_model.hpp"
#include "web/embedded_files.hpp"

namespace flaskcart::web {

namespace {

constexpr std::string_view kAssetsPrefix = "/assets/";

// Pages may load scripts, styles and fonts from this origin only: no inline script or style,
// no eval. Product images may also come from an https image_url the shop owner entered, and
// blob: URLs show the admin a preview of a photo before it is uploaded.
constexpr std::string_view kShopPolicy =
    "default-src 'self'; img-src 'self' https: blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";
// Swagger UI's stylesheet draws its icons as data: images.
constexpr std::string_view kDocsPolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

bool has_prefix_segment(std::string_view path, std::string_view prefix) {
    return path == prefix ||
           (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
            path[prefix.size()] == '/');
}

// The page for a path, or empty when the path is not a page.
std::string_view page_for(std::string_view path) {
    if (path == "/" || has_prefix_segment(path, "/shop")) return "index.html";
    if (has_prefix_segment(path, "/admin")) return "admin.html";
    if (path == "/docs" || path == "/docs/") return "docs.html";
    return {};
}

const EmbeddedFile* find_file(std::string_view name, bool is_page) {
    for (const EmbeddedFile& file : embedded_files()) {
        if (file.name == name && file.is_page == is_page) return &file;
    }
    return nullptr;
}

http::Response file_response(const http::Request& request, const EmbeddedFile& file,
                             std::string_view cache_control, std::string_view policy) {
    http::Response response;
    response.headers = {{"ETag", std::string(file.etag)},
                        {"Cache-Control", std::string(cache_control)},
                        {"Content-Security-Policy", std::string(policy)},
                        {"X-Content-Type-Options", "nosniff"},
                        {"Referrer-Policy", "same-origin"},
                        {"X-Frame-Options", "DENY"}};
    const auto if_none_match = request.header("if-none-match");
    if (if_none_match && models::if_none_match_matches(*if_none_match, file.etag)) {
        response.status = 304;
        response.content_type.clear();
        return response;
    }
    response.content_type = std::string(content_type_for(file.name));
    response.body = std::string(file.body);
    return response;
}

}  // namespace

std::string_view content_type_for(std::string_view file_name) {
    const auto dot = file_name.rfind('.');
    const std::string_view extension =
        dot == std::string_view::npos ? std::string_view() : file_name.substr(dot + 1);
    if (extension == "html") return "text/html; charset=utf-8";
    if (extension == "js") return "text/javascript; charset=utf-8";
    if (extension == "css") return "text/css; charset=utf-8";
    if (extension == "svg") return "image/svg+xml";
    if (extension == "png") return "image/png";
    if (extension == "json") return "application/json";
    return "application/octet-stream";
}

bool StaticSite::owns_path(std::string_view path) {
    return !page_for(path).empty() || path.substr(0, kAssetsPrefix.size()) == kAssetsPrefix;
}

std::optional<http::Response> StaticSite::serve(const http::Request& request) const {
    const std::string_view path = request.path;
    if (!owns_path(path)) return std::nullopt;
    if (request.method != "GET") {
        return http::Response::problem(http::ApiError::method_not_allowed("GET, HEAD"),
                                       request.path);
    }
    if (const std::string_view page = page_for(path); !page.empty()) {
        const EmbeddedFile* file = find_file(page, true);
        if (file == nullptr) {
            return http::Response::problem(http::ApiError::internal(), request.path);
        }
        // Pages are small and name the current asset version: always revalidated.
        return file_response(request, *file, "no-cache",
                             page == "docs.html" ? kDocsPolicy : kShopPolicy);
    }
    // /assets/<version>/<name>: only the current version exists; its content never changes.
    const std::string_view rest = path.substr(kAssetsPrefix.size());
    const auto slash = rest.find('/');
    const EmbeddedFile* file = nullptr;
    if (slash != std::string_view::npos && rest.substr(0, slash) == embedded_asset_version()) {
        file = find_file(rest.substr(slash + 1), false);
    }
    if (file == nullptr) {
        return http::Response::problem(http::ApiError::not_found("asset " + request.path),
                                       request.path);
    }
    return file_response(request, *file, "public, max-age=31536000, immutable", kShopPolicy);
}

}  // namespace flaskcart::web
