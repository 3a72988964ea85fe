#include "models/change_model.hpp"

#include "utils/bson_document.hpp"
#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCounters = "change_counter";
constexpr const char* kChanges = "changes";
constexpr const char* kCounterId = "changes";

// {_id: seq, at, origin, items: [{k, id, x (only when it expires)}...]}
db::Bson batch_document(std::int64_t seq, const std::string& origin,
                        const std::vector<ChangeItem>& items) {
    return db::DocumentBuilder()
        .append("_id", seq)
        .append("at", db::now())
        .append("origin", origin)
        .append_array(
            "items",
            [&](db::ArrayBuilder& array) {
                for (const ChangeItem& change : items) {
                    array.append_document([&](db::DocumentBuilder& item) {
                        item.append("k", std::string_view(&change.kind, 1)).append("id", change.id);
                        if (change.expires_at_ms != 0) {
                            item.append("x", change.expires_at_ms);
                        }
                    });
                }
            })
        .build();
}

}  // namespace

// changes_at_1: the purge by age (MongoDB; FerretDB scans the small collection anyway).
void ChangeLogStore::ensure_indexes(db::Db& db) {
    db.collection(kChanges).create_indexes({{"changes_at_1", {{"at", 1}}, false}});
}

std::int64_t ChangeLogStore::last_seq() {
    auto doc = db_.collection(kCounters).find_one(db::id_filter(kCounterId));
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
                db::id_filter(kCounterId),
                db::DocumentBuilder()
                    .append("$inc", db::DocumentBuilder().append("seq", std::int64_t{1}).build())
                    .build(),
                true);
            seq = counter ? counter->view().get_int64("seq").value_or(0) : 0;
        }
        if (seq <= 0) throw std::runtime_error("change_counter: no seq returned");
        try {
            db_.collection(kChanges).insert_one(batch_document(seq, origin, items));
            return seq;
        } catch (const db::DbError& error) {
            if (error.kind() != db::DbErrorKind::kDuplicateKey || attempt >= 10) throw;
        }
    }
}

std::vector<ChangeBatch> ChangeLogStore::read(std::int64_t after, std::int64_t up_to) {
    const db::Bson filter =
        db::DocumentBuilder()
            .append("_id", db::DocumentBuilder().append("$gt", after).append("$lte", up_to).build())
            .build();
    const db::Bson opts = db::DocumentBuilder()
                              .append("sort", db::DocumentBuilder().append("_id", 1).build())
                              .build();
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
        db::DocumentBuilder()
            .append("at", db::DocumentBuilder().append("$lt", db::time_from_ms(before_ms)).build())
            .build());
}

}  // namespace flaskcart::models
