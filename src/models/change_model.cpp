#include "models/change_model.hpp"

#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCounters = "change_counter";
constexpr const char* kChanges = "changes";
constexpr const char* kCounterId = "changes";

}  // namespace

// changes_at_1: the purge by age (MongoDB; FerretDB scans the small collection anyway).
void ChangeLogStore::ensure_indexes(db::Db& db) {
    db.collection(kChanges).create_indexes({{"changes_at_1", {{"at", 1}}, false}});
}

std::int64_t ChangeLogStore::last_seq() {
    auto doc = db_.collection(kCounters).find_one(db::Bson(BCON_NEW("_id", BCON_UTF8(kCounterId))));
    if (!doc) return 0;
    return doc->view().get_int64("seq").value_or(0);
}

std::int64_t ChangeLogStore::publish(const std::string& origin,
                                     const std::vector<ChangeItem>& items) {
    for (int attempt = 0;; ++attempt) {
        std::int64_t seq = 0;
        {
            // In-process serialization: FerretDB's $inc is not atomic between two callers.
            auto guard = db_.lock_document(kCounters, kCounterId);
            auto counter = db_.collection(kCounters).find_one_and_update(
                db::Bson(BCON_NEW("_id", BCON_UTF8(kCounterId))),
                db::Bson(BCON_NEW("$inc", "{", "seq", BCON_INT64(1), "}")), true);
            seq = counter ? counter->view().get_int64("seq").value_or(0) : 0;
        }
        if (seq <= 0) throw std::runtime_error("change_counter: no seq returned");
        db::Bson doc;
        BSON_APPEND_INT64(doc.get(), "_id", seq);
        BSON_APPEND_DATE_TIME(doc.get(), "at", db::now_ms());
        BSON_APPEND_UTF8(doc.get(), "origin", origin.c_str());
        bson_t array;
        BSON_APPEND_ARRAY_BEGIN(doc.get(), "items", &array);
        for (std::size_t i = 0; i < items.size(); ++i) {
            const std::string key = std::to_string(i);
            const char kind[2] = {items[i].kind, '\0'};
            bson_t item;
            BSON_APPEND_DOCUMENT_BEGIN(&array, key.c_str(), &item);
            BSON_APPEND_UTF8(&item, "k", kind);
            BSON_APPEND_UTF8(&item, "id", items[i].id.c_str());
            if (items[i].expires_at_ms != 0) BSON_APPEND_INT64(&item, "x", items[i].expires_at_ms);
            bson_append_document_end(&array, &item);
        }
        bson_append_array_end(doc.get(), &array);
        try {
            db_.collection(kChanges).insert_one(doc);
            return seq;
        } catch (const db::DbError& error) {
            if (error.kind() != db::DbErrorKind::kDuplicateKey || attempt >= 10) throw;
        }
    }
}

std::vector<ChangeBatch> ChangeLogStore::read(std::int64_t after, std::int64_t up_to) {
    db::Bson filter(BCON_NEW("_id", "{", "$gt", BCON_INT64(after), "$lte", BCON_INT64(up_to), "}"));
    db::Bson opts(BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}"));
    std::vector<ChangeBatch> out;
    for (const db::Bson& doc : db_.collection(kChanges).find(filter, &opts)) {
        const db::BsonView view = doc.view();
        ChangeBatch batch;
        batch.seq = view.get_int64("_id").value_or(0);
        batch.at_ms = view.get_date_ms("at").value_or(0);
        batch.origin = view.get_string("origin").value_or("");
        for (const db::Bson& item : view.get_documents("items")) {
            const db::BsonView fields = item.view();
            const auto kind = fields.get_string("k");
            const auto id = fields.get_string("id");
            if (!kind || kind->size() != 1 || !id) continue;
            batch.items.push_back({(*kind)[0], *id, fields.get_int64("x").value_or(0)});
        }
        if (batch.seq > 0) out.push_back(std::move(batch));
    }
    return out;
}

std::int64_t ChangeLogStore::purge_older_than(std::int64_t before_ms) {
    return db_.collection(kChanges).delete_many(
        db::Bson(BCON_NEW("at", "{", "$lt", BCON_DATE_TIME(before_ms), "}")));
}

}  // namespace flaskcart::models
