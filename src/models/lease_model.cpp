#include "models/lease_model.hpp"

#include "utils/bson_document.hpp"
#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCollection = "writer_lease";

std::string id_of(std::int64_t term) {
    return "writer/" + std::to_string(term);
}

std::optional<LeaseTerm> lease_from_bson(const db::BsonView& doc) {
    LeaseTerm lease;
    auto term = doc.get_int64("term");
    if (!term) return std::nullopt;
    lease.term = *term;
    lease.holder_id = doc.get_string("holder_id").value_or("");
    lease.host = doc.get_string("host").value_or("?");
    lease.pid = doc.get_int64("pid").value_or(0);
    lease.started_at_ms = doc.get_date_ms("started_at").value_or(0);
    lease.released = doc.get_bool("released").value_or(false);
    return lease;
}

}  // namespace

std::optional<LeaseTerm> LeaseStore::latest() {
    // A handful of documents at most (the holder prunes all but the last two terms).
    const db::Bson opts = db::DocumentBuilder()
                              .append("sort", db::DocumentBuilder().append("term", -1).build())
                              .build();
    auto doc = db_.collection(kCollection).find_one(db::Bson(), &opts);
    if (!doc) return std::nullopt;
    return lease_from_bson(doc->view());
}

std::optional<LeaseTerm> LeaseStore::find(std::int64_t term) {
    const std::string id = id_of(term);
    auto doc = db_.collection(kCollection).find_one(db::id_filter(id));
    if (!doc) return std::nullopt;
    return lease_from_bson(doc->view());
}

LeaseInsertResult LeaseStore::insert(const LeaseTerm& lease) {
    const std::string id = id_of(lease.term);
    const db::Bson doc = db::DocumentBuilder()
                             .append("_id", id)
                             .append("term", lease.term)
                             .append("holder_id", lease.holder_id)
                             .append("host", lease.host)
                             .append("pid", lease.pid)
                             .append("started_at", db::time_from_ms(lease.started_at_ms))
                             .append("released", lease.released)
                             .append("written_at", db::now())
                             .build();
    try {
        db_.collection(kCollection).insert_one(doc);
    } catch (const db::DbError& error) {
        if (error.kind() == db::DbErrorKind::kDuplicateKey) return LeaseInsertResult::kTermTaken;
        throw;
    }
    return LeaseInsertResult::kInserted;
}

void LeaseStore::prune_below(std::int64_t term) {
    db_.collection(kCollection)
        .delete_many(db::DocumentBuilder()
                         .append("term", db::DocumentBuilder().append("$lt", term).build())
                         .build());
}

ServerKind classify_build_info(const db::BsonView& build_info) {
    return build_info.has("ferretdbVersion") || build_info.has("ferretdbFeatures")
               ? ServerKind::kFerretDb
               : ServerKind::kAtomicUpdates;
}

ServerKind detect_server_kind(db::Db& db) {
    return classify_build_info(db.build_info().view());
}

}  // namespace flaskcart::models
