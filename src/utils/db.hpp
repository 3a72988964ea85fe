#pragma once
// The only header (with models/*.cpp) that sees libmongoc/libbson. Every C handle is owned by a
// small RAII type here; nothing outside src/utils calls a *_destroy or bson_free.

#include <bson/bson.h>
#include <mongoc/mongoc.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "utils/circuit_breaker.hpp"

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
// kUnavailable and kTimeout are transient (503 + Retry-After, and they open the circuit);
// kCircuitOpen is a call refused without reaching the driver while the circuit is open.
// kBusy is never a driver error: this process gave up waiting for one of its own resources
// (a document lock or a pooled client), so the database itself may be healthy.
enum class DbErrorKind {
    kDuplicateKey,
    kUnavailable,
    kTimeout,
    kBadQuery,
    kCircuitOpen,
    kOther,
    kBusy
};

// Thrown by every wrapper below. `what()` holds the driver's message: log it, never send it.
class DbError : public std::runtime_error {
  public:
    DbError(DbErrorKind kind, std::uint32_t domain, std::uint32_t code, const std::string& message,
            int retry_after_seconds = 2);
    DbErrorKind kind() const noexcept { return kind_; }
    std::uint32_t domain() const noexcept { return domain_; }
    std::uint32_t code() const noexcept { return code_; }
    bool is_unavailable() const noexcept {
        return kind_ == DbErrorKind::kUnavailable || kind_ == DbErrorKind::kTimeout ||
               kind_ == DbErrorKind::kCircuitOpen || kind_ == DbErrorKind::kBusy;
    }
    // For the 503's Retry-After when is_unavailable().
    int retry_after_seconds() const noexcept { return retry_after_seconds_; }

  private:
    DbErrorKind kind_;
    std::uint32_t domain_;
    std::uint32_t code_;
    int retry_after_seconds_;
};

// Classifies by (domain, code) through one table (db.cpp); `reply`, when the driver gave one,
// adds its error labels (RetryableWriteError marks a transient failure).
DbErrorKind classify_error(const bson_error_t& error, const bson_t* reply = nullptr) noexcept;
// "duplicate_key", "unavailable", ... (the metrics label).
std::string_view error_kind_name(DbErrorKind kind) noexcept;
[[noreturn]] void throw_db_error(const bson_error_t& error, std::string_view context,
                                 const bson_t* reply = nullptr);

class BsonView;

// A BSON date: milliseconds since the Unix epoch (finer clocks are floored when appended).
using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

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
    std::optional<TimePoint> get_time(const char* key) const;  // a BSON date
    std::optional<double> get_double(const char* key) const;
    // The bytes of a binary field (any subtype). The view points into this document: it is
    // valid while the document it was read from lives.
    std::optional<std::string_view> get_binary(const char* key) const;
    // An embedded document, copied out.
    std::optional<Bson> get_document(const char* key) const;
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
    std::vector<Bson> drain(mongoc_cursor_t* raw, std::string_view context);
    // Report the outcome of one driver call to the circuit breaker (and throw, on failure).
    void succeeded() noexcept;
    [[noreturn]] void fail(const bson_error_t& error, std::string_view context,
                           const bson_t* reply = nullptr);

    Db* db_;
    mongoc_client_t* client_;
    CollectionPtr collection_;
    std::string name_;
};

// In-process write locks, one per document, keyed by the exact (collection, key): unrelated
// documents never share a lock. FerretDB v1 does not make a single-document update atomic (it
// reads, applies operators in Go, then overwrites by _id: upstream #3040, #2168), so every
// write to one document is serialized here as well. On real MongoDB the conditional update is
// atomic on its own, so many instances stay correct there.
//
// A lock is held only around the one write that needs it (the pooled client is taken before
// it), and a wait is bounded: past `max_wait` lock() throws DbError(kBusy), which the router
// answers with 503 + Retry-After. Entries exist only while a document is locked or waited for.
// Thread-safe.
class DocumentLocks {
  public:
    explicit DocumentLocks(std::chrono::milliseconds max_wait) : max_wait_(max_wait) {}
    DocumentLocks(const DocumentLocks&) = delete;
    DocumentLocks& operator=(const DocumentLocks&) = delete;

    struct Entry {
        bool held = false;
        int users = 0;  // the holder and the waiters
        std::condition_variable released;
    };
    using Entries = std::unordered_map<std::string, Entry>;

    // Holds one document's lock; releases it when destroyed. Move-only.
    class [[nodiscard]] Guard {
      public:
        Guard(DocumentLocks& owner, Entries::value_type& entry) noexcept
            : owner_(&owner), entry_(&entry) {}
        Guard(Guard&& other) noexcept
            : owner_(other.owner_), entry_(std::exchange(other.entry_, nullptr)) {}
        Guard& operator=(Guard&&) = delete;
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;
        ~Guard() {
            if (entry_ != nullptr) owner_->release(*entry_);
        }

      private:
        DocumentLocks* owner_;
        Entries::value_type* entry_;
    };

    // Throws DbError(kBusy) when the lock is not free within max_wait.
    Guard lock(std::string_view collection, const bson_oid_t& id);
    // For a document known by a unique key before it has an _id (an upsert's target).
    Guard lock(std::string_view collection, std::string_view key);

  private:
    void release(Entries::value_type& entry) noexcept;

    std::chrono::milliseconds max_wait_;
    std::mutex mutex_;  // guards entries_; never held across a database call
    Entries entries_;
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
    // Longest wait for a pooled client (waitQueueTimeoutMS) and for a document lock; beyond
    // it the request is answered 503 + Retry-After instead of queueing without bound. Each
    // worker holds at most one client, so the pool wait only runs out when the service is
    // saturated; a lock waits behind other writes of one document (a best-selling product at
    // a sale), each up to a round trip, hence the longer bound (still below the 10 s socket
    // timeout a single stuck holder could take).
    int pool_wait_timeout_ms = 2000;
    int lock_wait_timeout_ms = 5000;
    // Consecutive unavailability failures that open the circuit, and how often it then lets
    // one call through to probe the database.
    int circuit_failure_threshold = 3;
    int circuit_probe_interval_ms = 1000;
};

// The database handle: a thread-safe client pool, the per-document write serializer, and the
// circuit breaker every call passes. While the database is known to be down, collection() and
// ping() refuse at once (DbError kCircuitOpen → 503 + Retry-After) instead of each waiting for
// the driver's server-selection timeout; a prober thread owned by Db pings once per probe
// interval meanwhile, and its first answer closes the circuit.
class Db {
  public:
    explicit Db(const DbOptions& options);  // throws std::invalid_argument on a bad URI
    ~Db();                                  // stops the prober
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    // Throws DbError kCircuitOpen while the circuit is open (unless this call is the probe).
    Collection collection(const std::string& name);
    // True when a server answers {ping: 1} within the selection timeout. While the circuit is
    // open it answers false at once: the prober's last ping failed less than a probe interval
    // (plus one selection timeout) ago.
    bool ping();
    // The server's buildInfo reply (how FerretDB is told from MongoDB). Throws DbError.
    Bson build_info();
    void drop_database();
    const std::string& database_name() const noexcept { return database_; }

    // Called before every write that relies on the in-process serialization below (update_if,
    // update_by_id, lock_document); it throws DbError to refuse, e.g. when this instance no
    // longer holds the writer lease. Set once, before the first request.
    void set_write_fence(std::function<void()> fence) { write_fence_ = std::move(fence); }

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
    // for upserts, whose _id is not known in advance. Take the Collection first, then the
    // lock, and hold it only around the write. Throws DbError(kBusy) after a bounded wait, and
    // whatever check_write_fence() throws when this instance may not write now.
    DocumentLocks::Guard lock_document(std::string_view collection, std::string_view key) {
        auto guard = locks_.lock(collection, key);
        check_write_fence();
        return guard;
    }
    DocumentLocks::Guard lock_document(std::string_view collection, const bson_oid_t& id) {
        auto guard = locks_.lock(collection, id);
        check_write_fence();
        return guard;
    }
    // The same lock without the write fence, for a read that must be ordered with this
    // process's writes of the document (a read model reloading it): nothing is written, so a
    // read-only instance, or one without the writer lease, may take it.
    DocumentLocks::Guard lock_document_for_reading(std::string_view collection,
                                                   const bson_oid_t& id) {
        return locks_.lock(collection, id);
    }

    // A client from the pool, never null: throws DbError(kBusy) when none is free within
    // pool_wait_timeout_ms.
    mongoc_client_t* pop_client();
    void push_client(mongoc_client_t* client) noexcept;

    // Outcomes of driver calls, for the circuit breaker (Collection reports every call).
    void record_answer() { breaker_.record_success(); }
    void record_failure(const DbError& error);
    utils::CircuitBreaker::State circuit_state() const { return breaker_.state(); }

  private:
    void check_write_fence() const {
        if (write_fence_) write_fence_();
    }
    bool ping_and_record();
    void run_prober();

    UriPtr uri_;
    PoolPtr pool_;
    std::string database_;
    DocumentLocks locks_;
    std::function<void()> write_fence_;
    utils::CircuitBreaker breaker_;
    std::mutex prober_mutex_;
    std::condition_variable prober_wakeup_;
    bool is_stopping_ = false;
    std::thread prober_;
};

}  // namespace flaskcart::db
