#include "utils/db.hpp"

#include <spdlog/spdlog.h>

#include <functional>
#include <system_error>
#include <utility>

#include "utils/metrics.hpp"

namespace flaskcart::db {

DbError::DbError(DbErrorKind kind, std::uint32_t domain, std::uint32_t code,
                 const std::string& message, int retry_after_seconds)
    : std::runtime_error(message),
      kind_(kind),
      domain_(domain),
      code_(code),
      retry_after_seconds_(retry_after_seconds) {}

namespace {

// Server-reported codes arrive under several domains (MONGOC_ERROR_SERVER with error API v2,
// QUERY/COLLECTION with the legacy API, WRITE_CONCERN for write-concern errors): rows with
// this pseudo-domain match any of them. No real domain is 0.
constexpr std::uint32_t kServerDomain = 0;
constexpr std::uint32_t kAnyCode = 0xFFFFFFFF;

bool is_server_domain(std::uint32_t domain) noexcept {
    return domain == MONGOC_ERROR_SERVER || domain == MONGOC_ERROR_QUERY ||
           domain == MONGOC_ERROR_COLLECTION || domain == MONGOC_ERROR_WRITE_CONCERN;
}

struct ErrorRule {
    std::uint32_t domain;
    std::uint32_t code;
    DbErrorKind kind;
};

// The one classification table: the first row matching (domain, code) wins; no row → kOther.
// Transient server codes are the retryable-error codes of the MongoDB retryable reads/writes
// specifications. Client-side driver errors are unavailability only when they mean the server
// could not be reached (selection, stream); the rest — bad credentials (CLIENT_AUTHENTICATE,
// SASL, SCRAM), invalid BSON, wrong arguments, protocol errors — are defects or
// misconfiguration that retrying cannot fix: 500, and they do not open the circuit.
constexpr ErrorRule kErrorRules[] = {
    {kServerDomain, 11000, DbErrorKind::kDuplicateKey},  // DuplicateKey
    {kServerDomain, 11001, DbErrorKind::kDuplicateKey},  // legacy DuplicateKey on update
    {kServerDomain, 12582, DbErrorKind::kDuplicateKey},  // legacy DuplicateKeyValue
    {kServerDomain, 50, DbErrorKind::kTimeout},          // MaxTimeMSExpired
    {kServerDomain, 89, DbErrorKind::kTimeout},          // NetworkTimeout
    {kServerDomain, 262, DbErrorKind::kTimeout},         // ExceededTimeLimit
    {kServerDomain, 6, DbErrorKind::kUnavailable},       // HostUnreachable
    {kServerDomain, 7, DbErrorKind::kUnavailable},       // HostNotFound
    {kServerDomain, 91, DbErrorKind::kUnavailable},      // ShutdownInProgress
    {kServerDomain, 134, DbErrorKind::kUnavailable},     // ReadConcernMajorityNotAvailableYet
    {kServerDomain, 189, DbErrorKind::kUnavailable},     // PrimarySteppedDown
    {kServerDomain, 9001, DbErrorKind::kUnavailable},    // SocketException
    {kServerDomain, 10058, DbErrorKind::kUnavailable},   // LegacyNotPrimary
    {kServerDomain, 10107, DbErrorKind::kUnavailable},   // NotWritablePrimary
    {kServerDomain, 11600, DbErrorKind::kUnavailable},   // InterruptedAtShutdown
    {kServerDomain, 11602, DbErrorKind::kUnavailable},   // InterruptedDueToReplStateChange
    {kServerDomain, 13435, DbErrorKind::kUnavailable},   // NotPrimaryNoSecondaryOk
    {kServerDomain, 13436, DbErrorKind::kUnavailable},   // NotPrimaryOrSecondary
    {kServerDomain, 2, DbErrorKind::kBadQuery},          // BadValue
    {kServerDomain, 9, DbErrorKind::kBadQuery},          // FailedToParse
    {kServerDomain, 14, DbErrorKind::kBadQuery},         // TypeMismatch
    {kServerDomain, 238, DbErrorKind::kBadQuery},        // NotImplemented (FerretDB)
    {kServerDomain, 13, DbErrorKind::kOther},            // Unauthorized
    {kServerDomain, 18, DbErrorKind::kOther},            // AuthenticationFailed
    {MONGOC_ERROR_SERVER_SELECTION, kAnyCode, DbErrorKind::kUnavailable},
    {MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET, DbErrorKind::kTimeout},  // read/write failed
    {MONGOC_ERROR_STREAM, kAnyCode, DbErrorKind::kUnavailable},  // resolve, connect, closed
    {MONGOC_ERROR_CLIENT, MONGOC_ERROR_CLIENT_AUTHENTICATE, DbErrorKind::kOther},
    {MONGOC_ERROR_CLIENT, kAnyCode, DbErrorKind::kOther},
};

}  // namespace

DbErrorKind classify_error(const bson_error_t& error, const bson_t* reply) noexcept {
    DbErrorKind kind = DbErrorKind::kOther;
    for (const ErrorRule& rule : kErrorRules) {
        const bool domain_matches = rule.domain == kServerDomain ? is_server_domain(error.domain)
                                                                 : rule.domain == error.domain;
        if (domain_matches && (rule.code == kAnyCode || rule.code == error.code)) {
            kind = rule.kind;
            break;
        }
    }
    // The server marks transient write failures with this label whatever their code.
    if (kind == DbErrorKind::kOther && reply != nullptr &&
        mongoc_error_has_label(reply, "RetryableWriteError")) {
        kind = DbErrorKind::kUnavailable;
    }
    return kind;
}

std::string_view error_kind_name(DbErrorKind kind) noexcept {
    switch (kind) {
        case DbErrorKind::kDuplicateKey:
            return "duplicate_key";
        case DbErrorKind::kUnavailable:
            return "unavailable";
        case DbErrorKind::kTimeout:
            return "timeout";
        case DbErrorKind::kBadQuery:
            return "bad_query";
        case DbErrorKind::kCircuitOpen:
            return "circuit_open";
        case DbErrorKind::kBusy:
            return "busy";
        case DbErrorKind::kOther:
            break;
    }
    return "other";
}

void throw_db_error(const bson_error_t& error, std::string_view context, const bson_t* reply) {
    const DbErrorKind kind = classify_error(error, reply);
    metrics::process_registry().count_db_error(error_kind_name(kind));
    throw DbError(kind, error.domain, error.code, std::string(context) + ": " + error.message);
}

// --- Bson -------------------------------------------------------------------------------------

Bson::Bson() : doc_(bson_new()) {}
Bson::Bson(bson_t* adopted) noexcept : doc_(adopted) {}
Bson Bson::copy_of(const bson_t* doc) {
    return Bson(bson_copy(doc));
}
Bson::~Bson() {
    if (doc_ != nullptr) bson_destroy(doc_);
}
Bson::Bson(Bson&& other) noexcept : doc_(std::exchange(other.doc_, nullptr)) {}
Bson& Bson::operator=(Bson&& other) noexcept {
    if (this != &other) {
        if (doc_ != nullptr) bson_destroy(doc_);
        doc_ = std::exchange(other.doc_, nullptr);
    }
    return *this;
}
BsonView Bson::view() const noexcept {
    return BsonView(doc_);
}

ScopedReply::ScopedReply() noexcept {
    bson_init(&reply_);
}
ScopedReply::~ScopedReply() {
    bson_destroy(&reply_);
}

// --- BsonView ---------------------------------------------------------------------------------

bool BsonView::has(const char* key) const {
    bson_iter_t it;
    return bson_iter_init_find(&it, doc_, key);
}

std::optional<std::string> BsonView::get_string(const char* key) const {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc_, key) || !BSON_ITER_HOLDS_UTF8(&it)) return std::nullopt;
    std::uint32_t length = 0;
    const char* text = bson_iter_utf8(&it, &length);
    return std::string(text, length);
}

std::optional<std::int64_t> BsonView::get_int64(const char* key) const {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc_, key)) return std::nullopt;
    if (BSON_ITER_HOLDS_INT64(&it)) return bson_iter_int64(&it);
    if (BSON_ITER_HOLDS_INT32(&it)) return bson_iter_int32(&it);
    return std::nullopt;
}

std::optional<bool> BsonView::get_bool(const char* key) const {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc_, key) || !BSON_ITER_HOLDS_BOOL(&it)) return std::nullopt;
    return bson_iter_bool(&it);
}

std::optional<bson_oid_t> BsonView::get_oid(const char* key) const {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc_, key) || !BSON_ITER_HOLDS_OID(&it)) return std::nullopt;
    bson_oid_t oid;
    bson_oid_copy(bson_iter_oid(&it), &oid);
    return oid;
}

std::optional<std::int64_t> BsonView::get_date_ms(const char* key) const {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc_, key) || !BSON_ITER_HOLDS_DATE_TIME(&it)) {
        return std::nullopt;
    }
    return bson_iter_date_time(&it);
}

std::optional<TimePoint> BsonView::get_time(const char* key) const {
    const auto ms = get_date_ms(key);
    if (!ms) return std::nullopt;
    return TimePoint(std::chrono::milliseconds(*ms));
}

std::optional<double> BsonView::get_double(const char* key) const {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc_, key) || !BSON_ITER_HOLDS_DOUBLE(&it)) return std::nullopt;
    return bson_iter_double(&it);
}

std::optional<std::string_view> BsonView::get_binary(const char* key) const {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc_, key) || !BSON_ITER_HOLDS_BINARY(&it)) return std::nullopt;
    bson_subtype_t subtype = BSON_SUBTYPE_BINARY;
    std::uint32_t length = 0;
    const std::uint8_t* bytes = nullptr;
    bson_iter_binary(&it, &subtype, &length, &bytes);
    if (bytes == nullptr) return std::string_view();
    return std::string_view(reinterpret_cast<const char*>(bytes), length);
}

namespace {

// A copy of the document `element` holds (it must hold one).
Bson copy_document(const bson_iter_t& element) {
    std::uint32_t length = 0;
    const std::uint8_t* data = nullptr;
    bson_iter_document(&element, &length, &data);
    return Bson(bson_new_from_data(data, length));
}

}  // namespace

std::optional<Bson> BsonView::get_document(const char* key) const {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc_, key) || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
        return std::nullopt;
    }
    return copy_document(it);
}

namespace {

// Calls `visit` with an iterator on each element of the array field `key`, if it is an array.
template <typename Visit>
void for_each_element(const bson_t* doc, const char* key, Visit&& visit) {
    bson_iter_t it;
    bson_iter_t child;
    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &child)) {
        return;
    }
    while (bson_iter_next(&child)) visit(child);
}

}  // namespace

std::vector<Bson> BsonView::get_documents(const char* key) const {
    std::vector<Bson> out;
    for_each_element(doc_, key, [&](const bson_iter_t& element) {
        if (BSON_ITER_HOLDS_DOCUMENT(&element)) out.push_back(copy_document(element));
    });
    return out;
}

std::vector<bson_oid_t> BsonView::get_oids(const char* key) const {
    std::vector<bson_oid_t> out;
    for_each_element(doc_, key, [&](const bson_iter_t& element) {
        if (!BSON_ITER_HOLDS_OID(&element)) return;
        bson_oid_t oid;
        bson_oid_copy(bson_iter_oid(&element), &oid);
        out.push_back(oid);
    });
    return out;
}

std::string BsonView::to_debug_json() const {
    std::size_t length = 0;
    char* text = bson_as_relaxed_extended_json(doc_, &length);
    std::string out(text != nullptr ? text : "", text != nullptr ? length : 0);
    bson_free(text);
    return out;
}

std::string oid_to_string(const bson_oid_t& oid) {
    char buffer[25];
    bson_oid_to_string(&oid, buffer);
    return std::string(buffer, 24);
}

std::optional<bson_oid_t> parse_oid(std::string_view text) {
    if (text.size() != 24) return std::nullopt;
    for (char c : text) {
        const bool is_hex =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!is_hex) return std::nullopt;
    }
    const std::string copy(text);
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, copy.c_str());
    return oid;
}

bson_oid_t new_oid() {
    bson_oid_t oid;
    bson_oid_init(&oid, nullptr);
    return oid;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// --- Collection -------------------------------------------------------------------------------

Collection::Collection(Db& db, mongoc_client_t* client, const std::string& name)
    : db_(&db),
      client_(client),
      collection_(mongoc_client_get_collection(client, db.database_name().c_str(), name.c_str())),
      name_(name) {}

Collection::~Collection() {
    collection_.reset();
    if (client_ != nullptr) db_->push_client(client_);
}

Collection::Collection(Collection&& other) noexcept
    : db_(other.db_),
      client_(std::exchange(other.client_, nullptr)),
      collection_(std::move(other.collection_)),
      name_(std::move(other.name_)) {}

void Collection::succeeded() noexcept {
    try {
        db_->record_answer();
    } catch (const std::system_error&) {
        // A mutex that cannot be locked: the circuit closes on the next answer instead.
    }
}

void Collection::fail(const bson_error_t& error, std::string_view context, const bson_t* reply) {
    DbError failure(classify_error(error, reply), error.domain, error.code,
                    std::string(context) + ": " + error.message);
    db_->record_failure(failure);
    throw failure;
}

std::vector<Bson> Collection::drain(mongoc_cursor_t* raw, std::string_view context) {
    CursorPtr cursor(raw);
    std::vector<Bson> out;
    const bson_t* doc = nullptr;
    while (mongoc_cursor_next(cursor.get(), &doc)) out.push_back(Bson::copy_of(doc));
    bson_error_t error;
    const bson_t* reply = nullptr;
    if (mongoc_cursor_error_document(cursor.get(), &error, &reply)) fail(error, context, reply);
    succeeded();
    return out;
}

namespace {

std::int64_t reply_count(const ScopedReply& reply, const char* key) {
    return BsonView(reply.get()).get_int64(key).value_or(0);
}

}  // namespace

std::optional<Bson> Collection::find_one(const Bson& filter, const Bson* opts) {
    Bson limited = opts != nullptr ? Bson::copy_of(opts->get()) : Bson();
    if (!BsonView(limited.get()).has("limit")) BSON_APPEND_INT64(limited.get(), "limit", 1);
    auto docs = drain(
        mongoc_collection_find_with_opts(collection_.get(), filter.get(), limited.get(), nullptr),
        "find_one " + name_);
    if (docs.empty()) return std::nullopt;
    return std::move(docs.front());
}

std::vector<Bson> Collection::find(const Bson& filter, const Bson* opts) {
    return drain(mongoc_collection_find_with_opts(collection_.get(), filter.get(),
                                                  opts != nullptr ? opts->get() : nullptr, nullptr),
                 "find " + name_);
}

std::int64_t Collection::count(const Bson& filter) {
    ScopedReply reply;
    bson_error_t error;
    const std::int64_t n = mongoc_collection_count_documents(collection_.get(), filter.get(),
                                                             nullptr, nullptr, reply.out(), &error);
    if (n < 0) fail(error, "count " + name_, reply.get());
    succeeded();
    return n;
}

std::vector<Bson> Collection::aggregate(const Bson& pipeline) {
    return drain(mongoc_collection_aggregate(collection_.get(), MONGOC_QUERY_NONE, pipeline.get(),
                                             nullptr, nullptr),
                 "aggregate " + name_);
}

void Collection::insert_one(const Bson& doc) {
    ScopedReply reply;
    bson_error_t error;
    if (!mongoc_collection_insert_one(collection_.get(), doc.get(), nullptr, reply.out(), &error)) {
        fail(error, "insert_one " + name_, reply.get());
    }
    succeeded();
}

UpdateResult Collection::update_one(const Bson& filter, const Bson& update, const Bson* opts) {
    ScopedReply reply;
    bson_error_t error;
    if (!mongoc_collection_update_one(collection_.get(), filter.get(), update.get(),
                                      opts != nullptr ? opts->get() : nullptr, reply.out(),
                                      &error)) {
        fail(error, "update_one " + name_, reply.get());
    }
    succeeded();
    UpdateResult result;
    result.matched = reply_count(reply, "matchedCount");
    result.modified = reply_count(reply, "modifiedCount");
    result.upserted_id = BsonView(reply.get()).get_oid("upsertedId");
    return result;
}

std::optional<Bson> Collection::find_one_and_update(const Bson& filter, const Bson& update,
                                                    bool upsert) {
    using OptsPtr = std::unique_ptr<mongoc_find_and_modify_opts_t,
                                    CDeleter<&mongoc_find_and_modify_opts_destroy>>;
    OptsPtr opts(mongoc_find_and_modify_opts_new());
    mongoc_find_and_modify_opts_set_update(opts.get(), update.get());
    const int flags =
        MONGOC_FIND_AND_MODIFY_RETURN_NEW | (upsert ? MONGOC_FIND_AND_MODIFY_UPSERT : 0);
    mongoc_find_and_modify_opts_set_flags(opts.get(),
                                          static_cast<mongoc_find_and_modify_flags_t>(flags));
    ScopedReply reply;
    bson_error_t error;
    if (!mongoc_collection_find_and_modify_with_opts(collection_.get(), filter.get(), opts.get(),
                                                     reply.out(), &error)) {
        throw_db_error(error, "findAndModify " + name_);
    }
    bson_iter_t it;
    if (!bson_iter_init_find(&it, reply.get(), "value") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
        return std::nullopt;
    }
    std::uint32_t length = 0;
    const std::uint8_t* data = nullptr;
    bson_iter_document(&it, &length, &data);
    return Bson(bson_new_from_data(data, length));
}

std::int64_t Collection::delete_one(const Bson& filter) {
    ScopedReply reply;
    bson_error_t error;
    if (!mongoc_collection_delete_one(collection_.get(), filter.get(), nullptr, reply.out(),
                                      &error)) {
        fail(error, "delete_one " + name_, reply.get());
    }
    succeeded();
    return reply_count(reply, "deletedCount");
}

std::int64_t Collection::delete_many(const Bson& filter) {
    ScopedReply reply;
    bson_error_t error;
    if (!mongoc_collection_delete_many(collection_.get(), filter.get(), nullptr, reply.out(),
                                       &error)) {
        fail(error, "delete_many " + name_, reply.get());
    }
    succeeded();
    return reply_count(reply, "deletedCount");
}

void Collection::create_indexes(const std::vector<IndexSpec>& indexes) {
    // One createIndexes command per index, with only key, name and unique (all FerretDB
    // accepts, and all these indexes need). FerretDB v1.24 drops the connection (a panic in
    // its handler) when one command re-creates several indexes that already exist.
    for (const IndexSpec& spec : indexes) {
        Bson command;
        BSON_APPEND_UTF8(command.get(), "createIndexes", name_.c_str());
        bson_t array;
        bson_t index;
        bson_t keys;
        BSON_APPEND_ARRAY_BEGIN(command.get(), "indexes", &array);
        BSON_APPEND_DOCUMENT_BEGIN(&array, "0", &index);
        BSON_APPEND_DOCUMENT_BEGIN(&index, "key", &keys);
        for (const auto& [field, direction] : spec.keys) {
            BSON_APPEND_INT32(&keys, field.c_str(), direction);
        }
        bson_append_document_end(&index, &keys);
        BSON_APPEND_UTF8(&index, "name", spec.name.c_str());
        if (spec.unique) BSON_APPEND_BOOL(&index, "unique", true);
        bson_append_document_end(&array, &index);
        bson_append_array_end(command.get(), &array);
        ScopedReply reply;
        bson_error_t error;
        if (!mongoc_collection_write_command_with_opts(collection_.get(), command.get(), nullptr,
                                                       reply.out(), &error)) {
            fail(error, "createIndexes " + name_ + "." + spec.name, reply.get());
        }
        succeeded();
    }
}

// --- DocumentLocks, Db ------------------------------------------------------------------------

DocumentLocks::Guard DocumentLocks::lock(std::string_view collection, const bson_oid_t& id) {
    return lock(collection,
                std::string_view(reinterpret_cast<const char*>(id.bytes), sizeof id.bytes));
}

DocumentLocks::Guard DocumentLocks::lock(std::string_view collection, std::string_view key) {
    std::string name;
    name.reserve(collection.size() + 1 + key.size());
    name.append(collection).append(1, '\0').append(key);
    std::unique_lock lock(mutex_);
    auto& entry = *entries_.try_emplace(std::move(name)).first;
    ++entry.second.users;
    if (!entry.second.released.wait_for(lock, max_wait_, [&] { return !entry.second.held; })) {
        if (--entry.second.users == 0) entries_.erase(entry.first);
        throw DbError(DbErrorKind::kBusy, 0, 0,
                      "waited " + std::to_string(max_wait_.count()) + " ms for a lock on a " +
                          std::string(collection) + " document");
    }
    entry.second.held = true;
    return Guard(*this, entry);
}

void DocumentLocks::release(Entries::value_type& entry) noexcept {
    std::lock_guard lock(mutex_);
    entry.second.held = false;
    if (--entry.second.users == 0) {
        entries_.erase(entry.first);
    } else {
        entry.second.released.notify_one();
    }
}

namespace {

// Routes the driver's own log lines into spdlog, so they share the format and the level filter.
void log_driver_message(mongoc_log_level_t level, const char* domain, const char* message, void*) {
    switch (level) {
        case MONGOC_LOG_LEVEL_ERROR:
        case MONGOC_LOG_LEVEL_CRITICAL:
            spdlog::error("mongoc {}: {}", domain, message);
            break;
        case MONGOC_LOG_LEVEL_WARNING:
            // FerretDB has no endSessions; the driver's farewell to it is not worth a warning.
            if (std::string_view(message).find("endSessions") != std::string_view::npos) {
                spdlog::debug("mongoc {}: {}", domain, message);
            } else {
                spdlog::warn("mongoc {}: {}", domain, message);
            }
            break;
        case MONGOC_LOG_LEVEL_MESSAGE:
        case MONGOC_LOG_LEVEL_INFO:
            spdlog::debug("mongoc {}: {}", domain, message);
            break;
        default:
            spdlog::trace("mongoc {}: {}", domain, message);
            break;
    }
}

// Command monitoring runs on the thread that issues the command, so the count lands on the
// request that thread is serving (metrics::RequestScope).
void count_started_command(const mongoc_apm_command_started_t* event) {
    metrics::note_db_command(mongoc_apm_command_started_get_command_name(event));
}

using ApmCallbacksPtr =
    std::unique_ptr<mongoc_apm_callbacks_t, CDeleter<&mongoc_apm_callbacks_destroy>>;

}  // namespace

DriverLifetime::DriverLifetime() {
    mongoc_log_set_handler(&log_driver_message, nullptr);
    mongoc_init();
}
DriverLifetime::~DriverLifetime() {
    mongoc_cleanup();
}

Db::Db(const DbOptions& options)
    : database_(options.database),
      locks_(std::chrono::milliseconds(options.lock_wait_timeout_ms)),
      breaker_({options.circuit_failure_threshold,
                std::chrono::milliseconds(options.circuit_probe_interval_ms)}) {
    bson_error_t error;
    uri_.reset(mongoc_uri_new_with_error(options.uri.c_str(), &error));
    if (!uri_) throw std::invalid_argument(std::string("invalid MongoDB URI: ") + error.message);
    // Bounded waits so a dead database turns into a quick 503, never a hung request. Options
    // the operator put in the URI win.
    auto set_default = [&](const char* name, int value) {
        if (mongoc_uri_get_option_as_int32(uri_.get(), name, -1) == -1) {
            mongoc_uri_set_option_as_int32(uri_.get(), name, value);
        }
    };
    set_default(MONGOC_URI_SERVERSELECTIONTIMEOUTMS, options.server_selection_timeout_ms);
    set_default(MONGOC_URI_SOCKETTIMEOUTMS, options.socket_timeout_ms);
    set_default(MONGOC_URI_CONNECTTIMEOUTMS, options.connect_timeout_ms);
    // Without it mongoc_client_pool_pop() blocks for as long as the pool stays exhausted.
    set_default(MONGOC_URI_WAITQUEUETIMEOUTMS, options.pool_wait_timeout_ms);
    pool_.reset(mongoc_client_pool_new(uri_.get()));
    if (!pool_) throw std::invalid_argument("cannot create a MongoDB client pool from the URI");
    mongoc_client_pool_set_error_api(pool_.get(), MONGOC_ERROR_API_VERSION_2);
    mongoc_client_pool_set_appname(pool_.get(), "flaskcart");
    mongoc_client_pool_max_size(pool_.get(), static_cast<std::uint32_t>(options.max_pool_size));
    // The pool copies the callbacks; set before the first client is popped.
    ApmCallbacksPtr callbacks(mongoc_apm_callbacks_new());
    mongoc_apm_set_command_started_cb(callbacks.get(), &count_started_command);
    mongoc_client_pool_set_apm_callbacks(pool_.get(), callbacks.get(), nullptr);
    prober_ = std::thread([this] { run_prober(); });
}

mongoc_client_t* Db::pop_client() {
    // With waitQueueTimeoutMS set, the driver returns NULL once the wait has run out.
    mongoc_client_t* client = mongoc_client_pool_pop(pool_.get());
    if (client == nullptr) {
        throw DbError(DbErrorKind::kBusy, 0, 0,
                      "no database client became free in the pool within the wait limit");
    }
    return client;
}
void Db::push_client(mongoc_client_t* client) noexcept {
    mongoc_client_pool_push(pool_.get(), client);
}

Db::~Db() {
    {
        std::lock_guard lock(prober_mutex_);
        is_stopping_ = true;
    }
    prober_wakeup_.notify_all();
    if (prober_.joinable()) prober_.join();
}

void Db::record_failure(const DbError& error) {
    // Neither says anything about the database: a refusal by the open circuit itself, or this
    // process giving up on its own lock or pool wait (local load).
    if (error.kind() == DbErrorKind::kCircuitOpen || error.kind() == DbErrorKind::kBusy) return;
    if (!error.is_unavailable()) {
        breaker_.record_success();  // the database answered, with an error of its own
        return;
    }
    breaker_.record_failure(utils::CircuitBreaker::Clock::now());
    if (breaker_.allow()) return;
    // Taking the prober's mutex orders this wake-up after its check of the state: none is lost.
    { std::lock_guard lock(prober_mutex_); }
    prober_wakeup_.notify_all();
}

void Db::run_prober() {
    std::unique_lock lock(prober_mutex_);
    while (!is_stopping_) {
        if (breaker_.allow()) {
            prober_wakeup_.wait(lock, [this] { return is_stopping_ || !breaker_.allow(); });
            continue;
        }
        const auto due = breaker_.next_probe_at();
        if (prober_wakeup_.wait_until(lock, due, [this] { return is_stopping_; })) break;
        if (!breaker_.begin_probe(utils::CircuitBreaker::Clock::now())) continue;
        lock.unlock();
        ping_and_record();
        lock.lock();
    }
}

Collection Db::collection(const std::string& name) {
    if (!breaker_.allow()) {
        throw DbError(DbErrorKind::kCircuitOpen, 0, 0,
                      "circuit open: the database is known to be unavailable",
                      breaker_.retry_after_seconds(utils::CircuitBreaker::Clock::now()));
    }
    return Collection(*this, pop_client(), name);
}

bool Db::ping() {
    if (!breaker_.allow()) return false;
    return ping_and_record();
}

bool Db::ping_and_record() {
    mongoc_client_t* client = nullptr;
    try {
        client = pop_client();
    } catch (const DbError& error) {
        spdlog::debug("database ping skipped: {}", error.what());
        return false;
    }
    Bson command(BCON_NEW("ping", BCON_INT32(1)));
    ScopedReply reply;
    bson_error_t error;
    const bool ok =
        mongoc_client_command_simple(client, "admin", command.get(), nullptr, reply.out(), &error);
    push_client(client);
    if (ok) {
        breaker_.record_success();
    } else {
        spdlog::debug("database ping failed: {}", error.message);
        record_failure(
            DbError(classify_error(error, reply.get()), error.domain, error.code, error.message));
    }
    return ok;
}

Bson Db::build_info() {
    mongoc_client_t* client = pop_client();
    Bson command(BCON_NEW("buildInfo", BCON_INT32(1)));
    ScopedReply reply;
    bson_error_t error;
    const bool ok =
        mongoc_client_command_simple(client, "admin", command.get(), nullptr, reply.out(), &error);
    push_client(client);
    if (!ok) throw_db_error(error, "buildInfo");
    return Bson::copy_of(reply.get());
}

void Db::drop_database() {
    mongoc_client_t* client = pop_client();
    DatabasePtr database(mongoc_client_get_database(client, database_.c_str()));
    bson_error_t error;
    const bool ok = mongoc_database_drop(database.get(), &error);
    database.reset();
    push_client(client);
    if (!ok && error.code != 26) throw_db_error(error, "dropDatabase " + database_);
}

bool Db::update_if(const std::string& collection, const bson_oid_t& id, const Bson& condition,
                   const Bson& update, const std::function<void()>& on_matched) {
    Bson filter;
    BSON_APPEND_OID(filter.get(), "_id", &id);
    bson_concat(filter.get(), condition.get());
    Collection target = this->collection(collection);
    auto guard = locks_.lock(collection, id);
    check_write_fence();  // after the wait for the lock, right before the write
    const bool matched = target.update_one(filter, update).matched > 0;
    if (matched && on_matched) on_matched();
    return matched;
}

UpdateResult Db::update_by_id(const std::string& collection, const bson_oid_t& id,
                              const Bson& update) {
    Bson filter;
    BSON_APPEND_OID(filter.get(), "_id", &id);
    Collection target = this->collection(collection);
    auto guard = locks_.lock(collection, id);
    check_write_fence();  // after the wait for the lock, right before the write
    return target.update_one(filter, update);
}

}  // namespace flaskcart::db
