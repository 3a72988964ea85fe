#include "models/catalog_snapshot_model.hpp"

#include <spdlog/spdlog.h>

#include <cstring>
#include <map>
#include <stdexcept>

#include "utils/bson_document.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCollection = "catalog_snapshot";
constexpr const char* kMetaId = "meta";
constexpr const char* kWritersCollection = "catalog_writers";

// The binary field of a chunk document, copied out (empty when the field is missing).
std::string chunk_bytes(const db::BsonView& doc) {
    return std::string(doc.get_binary("bson").value_or(std::string_view()));
}

// Splits one chunk into its documents and converts each.
void unpack_chunk(const std::string& chunk, std::vector<Product>& out) {
    std::size_t offset = 0;
    while (offset < chunk.size()) {
        std::int32_t length = 0;
        if (chunk.size() - offset < sizeof length) throw std::runtime_error("truncated snapshot");
        std::memcpy(&length, chunk.data() + offset, sizeof length);  // little-endian, as BSON
        if (length < 5 || static_cast<std::size_t>(length) > chunk.size() - offset) {
            throw std::runtime_error("damaged snapshot document");
        }
        bson_t doc;
        if (!bson_init_static(&doc, reinterpret_cast<const std::uint8_t*>(chunk.data() + offset),
                              static_cast<std::size_t>(length))) {
            throw std::runtime_error("damaged snapshot document");
        }
        out.push_back(product_from_bson(db::BsonView(&doc)));
        offset += static_cast<std::size_t>(length);
    }
}

db::Bson chunk_document(const std::string& generation, std::size_t index,
                        const std::string& bytes) {
    return db::DocumentBuilder()
        .append("_id", generation + "-" + std::to_string(index))
        .append("generation", generation)
        .append("bson", db::Binary{bytes})
        .build();
}

}  // namespace

std::vector<std::string> pack_products(const std::vector<Product>& products,
                                       std::size_t max_chunk_bytes) {
    std::vector<std::string> chunks;
    std::string current;
    for (const Product& product : products) {
        const db::Bson doc = to_bson(product);
        const auto* data = reinterpret_cast<const char*>(bson_get_data(doc.get()));
        if (!current.empty() && current.size() + doc.get()->len > max_chunk_bytes) {
            chunks.push_back(std::move(current));
            current.clear();
        }
        current.append(data, doc.get()->len);
    }
    if (!current.empty()) chunks.push_back(std::move(current));
    return chunks;
}

std::vector<Product> unpack_products(const std::vector<std::string>& chunks) {
    std::vector<Product> products;
    for (const std::string& chunk : chunks) unpack_chunk(chunk, products);
    return products;
}

std::optional<CatalogSnapshot> CatalogSnapshotStore::read() {
    // One command: the meta document and every chunk (of this generation and any not yet
    // deleted); FerretDB hands binary fields over without decoding them.
    std::optional<db::Bson> meta;
    std::map<std::string, std::string> chunks_by_id;
    for (db::Bson& doc : db_.collection(kCollection).find(db::Bson())) {
        const auto id = doc.view().get_string("_id");
        if (!id) continue;
        if (*id == kMetaId) {
            meta = std::move(doc);
        } else {
            chunks_by_id.emplace(*id, chunk_bytes(doc.view()));
        }
    }
    if (!meta) return std::nullopt;
    const auto generation = meta->view().get_string("generation");
    const auto seq = meta->view().get_int64("seq");
    const auto count = meta->view().get_int64("chunks");
    if (!generation || !seq || !count || *count < 0) return std::nullopt;
    std::vector<std::string> chunks;
    for (std::int64_t i = 0; i < *count; ++i) {
        auto found = chunks_by_id.find(*generation + "-" + std::to_string(i));
        if (found == chunks_by_id.end() || found->second.empty()) return std::nullopt;
        chunks.push_back(std::move(found->second));
    }
    try {
        return CatalogSnapshot{*seq, unpack_products(chunks)};
    } catch (const std::exception& error) {
        spdlog::warn("catalog snapshot ignored: {}", error.what());
        return std::nullopt;
    }
}

void CatalogSnapshotStore::write(std::int64_t seq, const std::vector<std::string>& chunks,
                                 std::size_t product_count) {
    auto collection = db_.collection(kCollection);
    const std::string generation = crypto::random_hex(8);
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        collection.insert_one(chunk_document(generation, i, chunks[i]));
    }
    const db::Bson update =
        db::DocumentBuilder()
            .append_document("$set",
                             [&](db::DocumentBuilder& set) {
                                 set.append("generation", generation)
                                     .append("seq", seq)
                                     .append("chunks", static_cast<std::int64_t>(chunks.size()))
                                     .append("products", static_cast<std::int64_t>(product_count))
                                     .append("taken_at", db::now());
                             })
            .build();
    const db::Bson upsert = db::DocumentBuilder().append("upsert", true).build();
    collection.update_one(db::id_filter(kMetaId), update, &upsert);
    // Older generations, now unreferenced.
    collection.delete_many(
        db::DocumentBuilder()
            .append_document("_id", [](db::DocumentBuilder& id) { id.append("$ne", kMetaId); })
            .append_document("generation",
                             [&](db::DocumentBuilder& other) { other.append("$ne", generation); })
            .build());
}

namespace {

// {_id: {$ne: session}}: every writer session but this one.
db::Bson other_sessions(const std::string& session) {
    return db::DocumentBuilder()
        .append_document("_id", [&](db::DocumentBuilder& id) { id.append("$ne", session); })
        .build();
}

}  // namespace

std::int64_t CatalogSnapshotStore::count_writer_sessions_except(const std::string& session) {
    return db_.collection(kWritersCollection).count(other_sessions(session));
}

void CatalogSnapshotStore::open_writer_session(const std::string& session) {
    const db::Bson update =
        db::DocumentBuilder()
            .append_document("$set",
                             [](db::DocumentBuilder& set) { set.append("started_at", db::now()); })
            .build();
    const db::Bson upsert = db::DocumentBuilder().append("upsert", true).build();
    db_.collection(kWritersCollection).update_one(db::id_filter(session), update, &upsert);
}

void CatalogSnapshotStore::close_writer_session(const std::string& session) {
    db_.collection(kWritersCollection).delete_one(db::id_filter(session));
}

void CatalogSnapshotStore::close_writer_sessions_except(const std::string& session) {
    db_.collection(kWritersCollection).delete_many(other_sessions(session));
}

}  // namespace flaskcart::models
