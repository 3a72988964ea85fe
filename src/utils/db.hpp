#pragma once
// The only header (with models/*.cpp) that sees libmongoc/libbson. Every C handle is owned by a
// small RAII type here; nothing outside src/utils calls a *_destroy or bson_free.

#include <bson/bson.h>
#include <mongoc/mongoc.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flaskcart::db {

template <auto DestroyFn>
struct CDeleter {
    template <typename T>
    void operator()(T* handle) const noexcept {
        if (handle != nullptr) DestroyFn(handle);
    }
};

using UriPtr = std::unique_ptr<mongoc_uri_t, CDeleter<&mongoc_uri_destroy>>;
using PoolPtr = std::unique_ptr<mongoc_client_pool_t, CDeleter<&mongoc_client_pool_destroy>>;
using CollectionPtr = std::unique_ptr<mongoc_collection_t, CDeleter<&mongoc_collection_destroy>>;
using CursorPtr = std::unique_ptr<mongoc_cursor_t, CDeleter<&mongoc_cursor_destroy>>;
using DatabasePtr = std::unique_ptr<mongoc_database_t, CDeleter<&mongoc_database_destroy>>;

// What a driver failure means to the service; classified once, in classify_error().
enum class DbErrorKind { kDuplicateKey, kUnavailable, kTimeout, kBadQuery, kOther };

// Thrown by every wrapper below. `what()` holds the driver's message: log it, never send it.
class DbError : public std::runtime_error {
  public:
    DbError(DbErrorKind kind, std::uint32_t domain, std::uint32_t code, const std::string& message);
    DbErrorKind kind() const noexcept { return kind_; }
    std::uint32_t code() const noexcept { return code_; }
    bool is_unavailable() const noexcept {
        return kind_ == DbErrorKind::kUnavailable || kind_ == DbErrorKind::kTimeout;
    }

  private:
    DbErrorKind kind_;
    std::uint32_t domain_;
    std::uint32_t code_;
};

DbErrorKind classify_error(const bson_error_t& error) noexcept;
// "duplicate_key", "unavailable", ... (the metrics label).
std::string_view error_kind_name(DbErrorKind kind) noexcept;
[[noreturn]] void throw_db_error(const bson_error_t& error, std::string_view context);

class BsonView;

// Move-only owner of a heap bson_t. (bson_t is 128-byte aligned; under -Werror GCC 12 rejects
// it as a template argument — -Wignored-attributes — so no unique_ptr<bson_t, ...> here.)
class Bson {
  public:
    Bson();
    explicit Bson(bson_t* adopted) noexcept;  // takes ownership (e.g. of BCON_NEW's result)
    static Bson copy_of(const bson_t* doc);
    ~Bson();
    Bson(Bson&& other) noexcept;
    Bson& operator=(Bson&& other) noexcept;
    Bson(const Bson&) = delete;
    Bson& operator=(const Bson&) = delete;

    bson_t* get() noexcept { return doc_; }
    const bson_t* get() const noexcept { return doc_; }
    BsonView view() const noexcept;

  private:
    bson_t* doc_;
};

// A reply document that libmongoc always initialises and the caller must always destroy, even
// on failure. Lives on the stack; pass out() to the driver.
class ScopedReply {
  public:
    ScopedReply() noexcept;
    ~ScopedReply();
    ScopedReply(const ScopedReply&) = delete;
    ScopedReply& operator=(const ScopedReply&) = delete;
    bson_t* out() noexcept { return &reply_; }
    const bson_t* get() const noexcept { return &reply_; }

  private:
    bson_t reply_;
};

// Non-owning, typed reads of a document. Missing or mistyped fields are std::nullopt, so a
// document of the wrong shape becomes an error at the mapping site rather than a crash.
class BsonView {
  public:
    explicit BsonView(const bson_t* doc) noexcept : doc_(doc) {}
    const bson_t* get() const noexcept { return doc_; }

    bool has(const char* key) const;
    std::optional<std::string> get_string(const char* key) const;
    std::optional<std::int64_t> get_int64(const char* key) const;  // int32 or int64
    std::optional<bool> get_bool(const char* key) const;
    std::optional<bson_oid_t> get_oid(const char* key) const;
    std::optional<std::int64_t> get_date_ms(const char* key) const;
    // Embedded documents of an array field, copied out.
    std::vector<Bson> get_documents(const char* key) const;
    std::vector<bson_oid_t> get_oids(const char* key) const;
    std::string to_debug_json() const;

  private:
    const bson_t* doc_;
};

std::string oid_to_string(const bson_oid_t& oid);
// Parses a 24-hex-digit id; std::nullopt for anything else (never throws, never a query).
std::optional<bson_oid_t> parse_oid(std::string_view text);
bson_oid_t new_oid();
std::int64_t now_ms();

struct UpdateResult {
    std::int64_t matched = 0;
    std::int64_t modified = 0;
    std::optional<bson_oid_t> upserted_id;
};

struct IndexSpec {
    std::string name;
    std::vector<std::pair<std::string, int>> keys;  // field → 1 or -1, in order
    bool unique = false;
};

class Db;

// One collection on a client borrowed from the pool; returns the client when destroyed.
// Not thread-safe (like the client it holds): use one per call, per thread.
class Collection {
  public:
    Collection(Db& db, mongoc_client_t* client, const std::string& name);
    ~Collection();
    Collection(Collection&&) noexcept;
    Collection& operator=(Collection&&) = delete;
    Collection(const Collection&) = delete;
    Collection& operator=(const Collection&) = delete;

    std::optional<Bson> find_one(const Bson& filter, const Bson* opts = nullptr);
    std::vector<Bson> find(const Bson& filter, const Bson* opts = nullptr);
    std::int64_t count(const Bson& filter);
    std::vector<Bson> aggregate(const Bson& pipeline);
    void insert_one(const Bson& doc);
    UpdateResult update_one(const Bson& filter, const Bson& update, const Bson* opts = nullptr);
    // findAndModify returning the document after the update (std::nullopt when none matched
    // and `upsert` is false).
    std::optional<Bson> find_one_and_update(const Bson& filter, const Bson& update, bool upsert);
    std::int64_t delete_one(const Bson& filter);
    std::int64_t delete_many(const Bson& filter);
    void create_indexes(const std::vector<IndexSpec>& indexes);
    const std::string& name() const noexcept { return name_; }

  private:
    Db* db_;
    mongoc_client_t* client_;
    CollectionPtr collection_;
    std::string name_;
};

// Striped in-process locks keyed by (collection, _id). FerretDB v1 does not make a
// single-document update atomic (it reads, applies operators in Go, then overwrites by _id:
// upstream #3040, #2168), so every write to one document is serialized here as well. On real
// MongoDB the conditional update is atomic on its own, so many instances stay correct there.
class DocumentLocks {
  public:
    std::unique_lock<std::mutex> lock(std::string_view collection, const bson_oid_t& id);
    // For a document known by a unique key before it has an _id (an upsert's target).
    std::unique_lock<std::mutex> lock(std::string_view collection, std::string_view key);

  private:
    std::array<std::mutex, 512> stripes_;
};

// Owns the driver for the process lifetime (mongoc_init/mongoc_cleanup): create it first,
// destroy it last.
class DriverLifetime {
  public:
    DriverLifetime();
    ~DriverLifetime();
    DriverLifetime(const DriverLifetime&) = delete;
    DriverLifetime& operator=(const DriverLifetime&) = delete;
};

struct DbOptions {
    std::string uri = "mongodb://127.0.0.1:27017";
    std::string database = "flaskcart";
    int max_pool_size = 32;
    int server_selection_timeout_ms = 2000;
    int socket_timeout_ms = 10000;
    int connect_timeout_ms = 2000;
};

// The database handle: a thread-safe client pool plus the per-document write serializer.
class Db {
  public:
    explicit Db(const DbOptions& options);  // throws std::invalid_argument on a bad URI
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    Collection collection(const std::string& name);
    // True when a server answers {ping: 1} within the selection timeout.
    bool ping();
    void drop_database();
    const std::string& database_name() const noexcept { return database_; }

    // The storage primitive for conditional single-document writes (stock, order status, cart
    // quantity): `{_id: id} ∪ condition` + `update`, serialized per document in-process.
    // Returns true when a document matched (and so was updated).
    // `on_matched` runs before the document's lock is released (read models apply the write
    // there, so no reload of the same document can come between).
    bool update_if(const std::string& collection, const bson_oid_t& id, const Bson& condition,
                   const Bson& update, const std::function<void()>& on_matched = {});
    // Unconditional single-document write under the same per-document lock; every other
    // update of a document that update_if() guards must come through here too.
    UpdateResult update_by_id(const std::string& collection, const bson_oid_t& id,
                              const Bson& update);

    // Serializes in-process writes to the document `collection`/`key` (see DocumentLocks);
    // for upserts, whose _id is not known in advance.
    std::unique_lock<std::mutex> lock_document(std::string_view collection, std::string_view key) {
        return locks_.lock(collection, key);
    }
    std::unique_lock<std::mutex> lock_document(std::string_view collection, const bson_oid_t& id) {
        return locks_.lock(collection, id);
    }

    mongoc_client_t* pop_client();
    void push_client(mongoc_client_t* client) noexcept;

  private:
    UriPtr uri_;
    PoolPtr pool_;
    std::string database_;
    DocumentLocks locks_;
};

}  // namespace flaskcart::db
