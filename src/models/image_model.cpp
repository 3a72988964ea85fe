#include "models/image_model.hpp"

#include <sodium.h>

#include <stdexcept>

#include "utils/bson_document.hpp"
#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCollection = "product_images";

bool starts_with_bytes(std::string_view bytes, std::string_view signature, std::size_t at = 0) {
    return bytes.size() >= at + signature.size() && bytes.substr(at, signature.size()) == signature;
}

}  // namespace

std::optional<std::string_view> detect_image_type(std::string_view bytes) {
    using namespace std::string_view_literals;
    if (starts_with_bytes(bytes, "\xFF\xD8\xFF"sv)) return "image/jpeg";
    if (starts_with_bytes(bytes, "\x89PNG\r\n\x1A\n"sv)) return "image/png";
    if (starts_with_bytes(bytes, "RIFF"sv) && starts_with_bytes(bytes, "WEBP"sv, 8)) {
        return "image/webp";
    }
    return std::nullopt;
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

bool if_none_match_matches(std::string_view header, std::string_view etag) {
    const auto opaque = [](std::string_view tag) {
        if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
        return tag;
    };
    std::size_t start = 0;
    while (start <= header.size()) {
        std::size_t comma = header.find(',', start);
        if (comma == std::string_view::npos) comma = header.size();
        std::string_view item = header.substr(start, comma - start);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item == "*" || (!item.empty() && opaque(item) == opaque(etag))) return true;
        start = comma + 1;
    }
    return false;
}

db::Bson to_bson(const ProductImage& image) {
    return db::DocumentBuilder()
        .append("content_type", image.content_type)
        .append("data", db::Binary{image.data})
        .append("sha256", image.sha256)
        .append("size", image.size)
        .append("updated_at", db::time_from_ms(image.updated_at_ms))
        .build();
}

ProductImage image_from_bson(const db::BsonView& doc) {
    ProductImage image;
    image.content_type = doc.get_string("content_type").value_or("");
    image.sha256 = doc.get_string("sha256").value_or("");
    image.updated_at_ms = doc.get_date_ms("updated_at").value_or(0);
    const auto data = doc.get_binary("data");
    if (!data || image.content_type.empty() || image.sha256.empty()) {
        throw std::runtime_error("product_images: document of the wrong shape");
    }
    image.data.assign(*data);
    image.size = static_cast<std::int64_t>(data->size());
    return image;
}

ProductImage ImageStore::put(std::string_view product_id, std::string content_type,
                             std::string data) {
    const auto oid = db::parse_oid(product_id);
    if (!oid) throw std::invalid_argument("not a product id");
    ProductImage image;
    image.content_type = std::move(content_type);
    image.sha256 = sha256_hex(data);
    image.size = static_cast<std::int64_t>(data.size());
    image.updated_at_ms = db::now_ms();
    image.data = std::move(data);

    const db::Bson update = db::DocumentBuilder().append("$set", to_bson(image)).build();
    const db::Bson opts = db::DocumentBuilder().append("upsert", true).build();
    // Two first uploads for one product can both take the insert branch of the upsert; the
    // loser gets a duplicate _id, and its retry is a plain update.
    for (int attempt = 0;; ++attempt) {
        try {
            db_.collection(kCollection).update_one(db::id_filter(*oid), update, &opts);
            return image;
        } catch (const db::DbError& error) {
            if (error.kind() != db::DbErrorKind::kDuplicateKey || attempt > 0) throw;
        }
    }
}

std::optional<ProductImage> ImageStore::find(std::string_view product_id) {
    const auto oid = db::parse_oid(product_id);
    if (!oid) return std::nullopt;
    auto doc = db_.collection(kCollection).find_one(db::id_filter(*oid));
    if (!doc) return std::nullopt;
    return image_from_bson(doc->view());
}

bool ImageStore::remove(std::string_view product_id) {
    const auto oid = db::parse_oid(product_id);
    if (!oid) return false;
    return db_.collection(kCollection).delete_one(db::id_filter(*oid)) > 0;
}

}  // namespace flaskcart::models
