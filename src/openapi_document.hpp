#pragma once
#include <string_view>

namespace flaskcart {
// openapi/openapi.json, embedded at build time (cmake/embed_openapi.cmake).
extern const std::string_view kOpenApiDocument;
}  // namespace flaskcart
