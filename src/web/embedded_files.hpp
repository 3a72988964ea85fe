#pragma once
// The browser files compiled into the binary (cmake/embed_web_assets.cmake writes the table).

#include <span>
#include <string_view>

namespace flaskcart::web {

struct EmbeddedFile {
    std::string_view name;  // file name: "index.html", "shop.js"
    bool is_page;           // an HTML page (served at its own paths) rather than an asset
    std::string_view etag;  // quoted digest of the content
    std::string_view body;
};

std::span<const EmbeddedFile> embedded_files();
// Digest of every asset; assets are served under /assets/<version>/.
std::string_view embedded_asset_version();

}  // namespace flaskcart::web
