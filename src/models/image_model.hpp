#pragma once
// Collection `product_images`: one document per product, {_id: the product's ObjectId,
// content_type, data: BSON binary (subtype 0), sha256 (hex), size, updated_at}. GridFS is not
// used: FerretDB v1 does not support it reliably, and 5 MiB fits well inside one 16 MiB document.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flaskcart::db {
class Db;
class Bson;
class BsonView;
}  // namespace flaskcart::db

namespace flaskcart::models {

// The media type the bytes themselves announce (JPEG, PNG or WebP signatures), or std::nullopt.
// The client's Content-Type is never trusted on its own.
std::optional<std::string_view> detect_image_type(std::string_view bytes);

struct ProductImage {
    std::string content_type;
    std::string data;
    std::string sha256;  // hex
    std::int64_t size = 0;
    std::int64_t updated_at_ms = 0;
    // Strong validator for ETag / If-None-Match, quoted.
    std::string etag() const { return "\"" + sha256 + "\""; }
};

// The stored fields of an image, without _id (the product's id): {content_type, data,
// sha256, size, updated_at}.
db::Bson to_bson(const ProductImage& image);
// Throws std::runtime_error for a document of the wrong shape (no content_type or sha256
// string, data not binary); size is the length of data.
ProductImage image_from_bson(const db::BsonView& doc);

// Hex SHA-256 of `data` (libsodium).
std::string sha256_hex(std::string_view data);

// Does the If-None-Match header value (a list of entity tags, or "*") match `etag`? Weak
// comparison, as RFC 9110 asks for If-None-Match.
bool if_none_match_matches(std::string_view header, std::string_view etag);

// Data access for `product_images`. Thread-safe; throws db::DbError when the database fails.
class ImageStore {
  public:
    explicit ImageStore(db::Db& db) : db_(db) {}

    // Replaces the product's image (upsert by product id); returns what was stored.
    ProductImage put(std::string_view product_id, std::string content_type, std::string data);
    std::optional<ProductImage> find(std::string_view product_id);
    bool remove(std::string_view product_id);

  private:
    db::Db& db_;
};

}  // namespace flaskcart::models
