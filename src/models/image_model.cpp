#include "models/image_model.hpp"

#include <sodium.h>

#include <stdexcept>

#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCollection = "product_images";

bool starts_with_bytes(std::string_view bytes, std::string_view signature, std::size_t at = 0) {
    return bytes.size() >= at + signature.size() && bytes.substr(at, signature.size()) == signature;
}

db::Bson id_filter(const bson_oid_t& id) {
    db::Bson filter;
    BSON_APPEND_OID(filter.get(), "_id", &id);
    return filter;
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
    db::Bson doc;
    BSON_APPEND_UTF8(doc.get(), "content_type", image.content_type.c_str());
    BSON_APPEND_BINARY(doc.get(), "data", BSON_SUBTYPE_BINARY,
                       reinterpret_cast<const std::uint8_t*>(image.data.data()),
                       static_cast<std::uint32_t>(image.data.size()));
    BSON_APPEND_UTF8(doc.get(), "sha256", image.sha256.c_str());
    BSON_APPEND_INT64(doc.get(), "size", image.size);
    BSON_APPEND_DATE_TIME(doc.get(), "updated_at", image.updated_at_ms);
    return doc;
}

ProductImage image_from_bson(const db::BsonView& doc) {
    ProductImage image;
    image.content_type = doc.get_string("content_type").value_or("");
    image.sha256 = doc.get_string("sha256").value_or("");
    image.updated_at_ms = doc.get_date_ms("updated_at").value_or(0);
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc.get(), "data") || !BSON_ITER_HOLDS_BINARY(&it) ||
        image.content_type.empty() || image.sha256.empty()) {
        throw std::runtime_error("product_images: document of the wrong shape");
    }
    bson_subtype_t subtype;
    std::uint32_t length = 0;
    const std::uint8_t* bytes = nullptr;
    bson_iter_binary(&it, &subtype, &length, &bytes);
    image.data.assign(reinterpret_cast<const char*>(bytes), length);
    image.size = length;
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

    db::Bson update;
    const db::Bson fields = to_bson(image);
    BSON_APPEND_DOCUMENT(update.get(), "$set", fields.get());
    db::Bson opts(BCON_NEW("upsert", BCON_BOOL(true)));
    // Two first uploads for one product can both take the insert branch of the upsert; the
    // loser gets a duplicate _id, and its retry is a plain update.
    for (int attempt = 0;; ++attempt) {
        try {
            db_.collection(kCollection).update_one(id_filter(*oid), update, &opts);
            return image;
        } catch (const db::DbError& error) {
            if (error.kind() != db::DbErrorKind::kDuplicateKey || attempt > 0) throw;
        }
    }
}

std::optional<ProductImage> ImageStore::find(std::string_view product_id) {
    const auto oid = db::parse_oid(product_id);
    if (!oid) return std::nullopt;
    auto doc = db_.collection(kCollection).find_one(id_filter(*oid));
    if (!doc) return std::nullopt;
    return image_from_bson(doc->view());
}

bool ImageStore::remove(std::string_view product_id) {
    const auto oid = db::parse_oid(product_id);
    if (!oid) return false;
    return db_.collection(kCollection).delete_one(id_filter(*oid)) > 0;
}

}  // namespace flaskcart::models
