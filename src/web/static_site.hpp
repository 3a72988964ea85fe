#pragma once
// The browser side of FlaskCart, served from the files compiled into the binary: the storefront
// (`/`, `/shop/...`), the admin console (`/admin`, `/admin/...`), the API reference (`/docs`)
// and their assets (`/assets/<version>/...`). Kept apart from the API router on purpose: these
// are not API operations (openapi.json does not list them) and they never touch the database.

#include <optional>
#include <string_view>

#include "http/message.hpp"

namespace flaskcart::web {

class StaticSite {
  public:
    StaticSite() = default;

    // The response when the request's path belongs to the site, else std::nullopt (the API
    // router answers then). GET (HEAD arrives as GET) is served with ETag, Cache-Control and a
    // strict Content-Security-Policy, and answers 304 to a matching If-None-Match; another
    // method is 405; an unknown asset is 404. Thread-safe (reads constant data only).
    std::optional<http::Response> serve(const http::Request& request) const;

    // Whether `path` is one of the site's paths (for the test that no API path is shadowed).
    static bool owns_path(std::string_view path);
};

// "text/javascript; charset=utf-8" for "shop.js"; application/octet-stream when unknown.
std::string_view content_type_for(std::string_view file_name);

}  // namespace flaskcart::web
