#pragma once
// Collection `catalog_snapshot`: the products of the catalog as they were at change seq `seq`,
// packed as BSON documents back to back in a few binary fields, so that a restart reads a handful
// of documents instead of every product. FerretDB decodes every document it returns in Go
// (≈ 4 s of its CPU for 20,000 products on either backend); a binary field costs it almost
// nothing. The products collection stays the source of truth: a snapshot is only used together
// with every change batch published after its seq (services::ChangeFeed::load).
//   {_id: "meta", generation, seq: int64, chunks: int64, products: int64, taken_at: date}
//   {_id: "<generation>-<i>", generation, bson: BinData}   (i = 0 .. chunks - 1)
// A new generation's chunks are inserted before "meta" points at them, and the old ones are
// deleted afterwards: a reader sees one whole generation or reports none.
//
// Collection `catalog_writers`: one document per writer that may have written since it started
// and has not yet stopped cleanly, {_id: "<session>", started_at: date}. A writer killed between
// a write and publishing its change notice leaves its document behind, which tells the next
// start-up that the change batches may be incomplete (services::ChangeFeed::begin_writing).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/product_model.hpp"

namespace flaskcart::db {
class Db;
}

namespace flaskcart::models {

struct CatalogSnapshot {
    std::int64_t seq = 0;
    std::vector<Product> products;
};

// Products as BSON documents (to_bson) back to back, cut into chunks of at most about
// `max_chunk_bytes` (a product larger than that gets a chunk of its own).
std::vector<std::string> pack_products(const std::vector<Product>& products,
                                       std::size_t max_chunk_bytes = std::size_t{2} * 1024 * 1024);
// The inverse; throws std::runtime_error when a chunk is not a sequence of whole BSON documents
// of the product shape.
std::vector<Product> unpack_products(const std::vector<std::string>& chunks);

// Thread-safe; throws db::DbError when the database fails.
class CatalogSnapshotStore {
  public:
    explicit CatalogSnapshotStore(db::Db& db) : db_(db) {}

    // The current snapshot, or std::nullopt when there is none or it is incomplete or damaged
    // (then the caller loads the products collection).
    std::optional<CatalogSnapshot> read();
    // Replaces the snapshot with `chunks` (from pack_products) taken at `seq`.
    void write(std::int64_t seq, const std::vector<std::string>& chunks, std::size_t product_count);

    // Writer sessions (`catalog_writers`); opening one again is harmless (a retried call).
    std::int64_t count_writer_sessions_except(const std::string& session);
    void open_writer_session(const std::string& session);
    void close_writer_session(const std::string& session);
    void close_writer_sessions_except(const std::string& session);

  private:
    db::Db& db_;
};

}  // namespace flaskcart::models
