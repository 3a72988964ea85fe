#include "models/order_model.hpp"

#include <algorithm>

#include "utils/bson_document.hpp"
#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kOrders = "orders";

bson_oid_t require_oid(const std::string& id) {
    auto oid = db::parse_oid(id);
    if (!oid) throw std::invalid_argument("orders: not an ObjectId: " + id);
    return *oid;
}

// The embedded documents of the array `key`. A present field must be an array of documents; an
// absent one is an error only when `required`.
std::vector<db::Bson> documents_of(const db::BsonView& doc, const char* key, bool required) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc.get(), key)) {
        if (required) throw std::runtime_error(std::string("orders: no ") + key + " array");
        return {};
    }
    bson_iter_t child;
    if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &child)) {
        throw std::runtime_error(std::string("orders: ") + key + " is not an array");
    }
    std::size_t count = 0;
    while (bson_iter_next(&child)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&child)) {
            throw std::runtime_error(std::string("orders: an element of ") + key +
                                     " is not a document");
        }
        ++count;
    }
    auto documents = doc.get_documents(key);
    if (documents.size() != count)
        throw std::runtime_error("orders: unreadable " + std::string(key));
    return documents;
}

std::vector<Order> map_orders(const std::vector<db::Bson>& docs) {
    std::vector<Order> orders;
    orders.reserve(docs.size());
    for (const auto& doc : docs) orders.push_back(order_from_bson(doc.view()));
    return orders;
}

}  // namespace

Order order_from_bson(const db::BsonView& doc) {
    Order order;
    auto id = doc.get_oid("_id");
    auto user = doc.get_oid("user_id");
    auto status = doc.get_string("status");
    auto total = doc.get_int64("total_price_cents");
    if (!id || !user || !status || !total) {
        throw std::runtime_error("orders: document of the wrong shape");
    }
    order.id = db::oid_to_string(*id);
    order.user_id = db::oid_to_string(*user);
    order.status = *status;
    order.total_cents = *total;
    for (const auto& line_doc : documents_of(doc, "products", true)) {
        const db::BsonView line = line_doc.view();
        auto product = line.get_oid("product_id");
        auto quantity = line.get_int64("quantity");
        auto price = line.get_int64("price_cents");
        if (!product || !quantity || !price) {
            throw std::runtime_error("orders: line of the wrong shape");
        }
        order.lines.push_back(
            {db::oid_to_string(*product), line.get_string("name").value_or(""), *quantity, *price});
    }
    for (const auto& change_doc : documents_of(doc, "status_history", false)) {
        const db::BsonView change = change_doc.view();
        order.history.push_back(
            {change.get_string("status").value_or(""), change.get_date_ms("at").value_or(0)});
    }
    order.idempotency_key = doc.get_string("idempotency_key").value_or("");
    order.request_fingerprint = doc.get_string("request_fingerprint").value_or("");
    order.restocked = doc.get_bool("restocked").value_or(false);
    order.restocked_at_ms = doc.get_date_ms("restocked_at").value_or(0);
    order.created_at_ms = doc.get_date_ms("created_at").value_or(0);
    order.updated_at_ms = doc.get_date_ms("updated_at").value_or(order.created_at_ms);
    return order;
}

db::Bson to_bson(const Order& order) {
    const bson_oid_t id = require_oid(order.id);
    const bson_oid_t user = require_oid(order.user_id);
    db::Bson doc(BCON_NEW("_id", BCON_OID(&id), "user_id", BCON_OID(&user)));
    bson_t lines;
    BSON_APPEND_ARRAY_BEGIN(doc.get(), "products", &lines);
    int i = 0;
    for (const OrderLine& line : order.lines) {
        const std::string key = std::to_string(i++);
        const bson_oid_t product = require_oid(line.product_id);
        bson_t item;
        BSON_APPEND_DOCUMENT_BEGIN(&lines, key.c_str(), &item);
        BSON_APPEND_OID(&item, "product_id", &product);
        BSON_APPEND_UTF8(&item, "name", line.name.c_str());
        BSON_APPEND_INT64(&item, "quantity", line.quantity);
        BSON_APPEND_INT64(&item, "price_cents", line.price_cents);
        bson_append_document_end(&lines, &item);
    }
    bson_append_array_end(doc.get(), &lines);
    BSON_APPEND_INT64(doc.get(), "total_price_cents", order.total_cents);
    BSON_APPEND_UTF8(doc.get(), "status", order.status.c_str());
    bson_t history;
    BSON_APPEND_ARRAY_BEGIN(doc.get(), "status_history", &history);
    i = 0;
    for (const StatusChange& change : order.history) {
        const std::string key = std::to_string(i++);
        bson_t item;
        BSON_APPEND_DOCUMENT_BEGIN(&history, key.c_str(), &item);
        BSON_APPEND_UTF8(&item, "status", change.status.c_str());
        BSON_APPEND_DATE_TIME(&item, "at", change.at_ms);
        bson_append_document_end(&history, &item);
    }
    bson_append_array_end(doc.get(), &history);
    BSON_APPEND_UTF8(doc.get(), "idempotency_key", order.idempotency_key.c_str());
    BSON_APPEND_UTF8(doc.get(), "request_fingerprint", order.request_fingerprint.c_str());
    BSON_APPEND_BOOL(doc.get(), "restocked", order.restocked);
    if (order.restocked_at_ms != 0) {
        BSON_APPEND_DATE_TIME(doc.get(), "restocked_at", order.restocked_at_ms);
    }
    BSON_APPEND_DATE_TIME(doc.get(), "created_at", order.created_at_ms);
    BSON_APPEND_DATE_TIME(doc.get(), "updated_at", order.updated_at_ms);
    return doc;
}

void OrderStore::ensure_indexes(db::Db& db) {
    // orders_user_key_unique: one order per (user, Idempotency-Key); every order has a key
    // (generated when the client sends none), so no partial index is needed. The keys a
    // checkout looks up live in the customer's cart document (models/cart_model.hpp); this
    // index stays as a second guard. No index serves history: it is the cart's order_ids.
    // orders_status_created: the full recovery pass's scans of cancelled (and, from earlier
    // versions, reserving/failed) orders.
    db.collection(kOrders).create_indexes(
        {{"orders_user_key_unique", {{"user_id", 1}, {"idempotency_key", 1}}, true},
         {"orders_status_created", {{"status", 1}, {"created_at", 1}}, false}});
}

bool OrderStore::insert(Order& order) {
    Order stored = order;
    if (stored.id.empty()) stored.id = db::oid_to_string(db::new_oid());
    try {
        db_.collection(kOrders).insert_one(to_bson(stored));
    } catch (const db::DbError& error) {
        if (error.kind() == db::DbErrorKind::kDuplicateKey) return false;
        throw;
    }
    order.id = std::move(stored.id);
    return true;
}

std::optional<Order> OrderStore::find_by_id(const std::string& id) {
    auto oid = db::parse_oid(id);
    if (!oid) return std::nullopt;
    auto doc = db_.collection(kOrders).find_one(db::Bson(BCON_NEW("_id", BCON_OID(&*oid))));
    if (!doc) return std::nullopt;
    return order_from_bson(doc->view());
}

std::vector<Order> OrderStore::find_by_ids(const std::vector<std::string>& ids) {
    if (ids.empty()) return {};
    std::vector<bson_oid_t> oids;
    oids.reserve(ids.size());
    for (const auto& id : ids) oids.push_back(require_oid(id));
    const db::Bson filter = db::DocumentBuilder().append("_id", db::in_array(oids)).build();
    auto found = map_orders(db_.collection(kOrders).find(filter));
    std::vector<Order> ordered;
    for (const auto& id : ids) {
        auto it = std::find_if(found.begin(), found.end(),
                               [&](const Order& order) { return order.id == id; });
        if (it != found.end()) ordered.push_back(std::move(*it));
    }
    return ordered;
}

std::vector<Order> OrderStore::find_all() {
    return map_orders(db_.collection(kOrders).find(db::Bson()));
}

bool OrderStore::transition(const std::string& id, const std::string& from, const std::string& to) {
    auto oid = db::parse_oid(id);
    if (!oid) return false;
    const std::int64_t now = db::now_ms();
    return db_.update_if(
        kOrders, *oid, db::Bson(BCON_NEW("status", BCON_UTF8(from.c_str()))),
        db::Bson(BCON_NEW("$set", "{", "status", BCON_UTF8(to.c_str()), "updated_at",
                          BCON_DATE_TIME(now), "}", "$push", "{", "status_history", "{", "status",
                          BCON_UTF8(to.c_str()), "at", BCON_DATE_TIME(now), "}", "}")));
}

bool OrderStore::mark_restocked(const std::string& id) {
    auto oid = db::parse_oid(id);
    if (!oid) return false;
    return db_.update_if(kOrders, *oid, db::Bson(BCON_NEW("restocked", BCON_BOOL(false))),
                         db::Bson(BCON_NEW("$set", "{", "restocked", BCON_BOOL(true),
                                           "restocked_at", BCON_DATE_TIME(db::now_ms()), "}")));
}

bool OrderStore::delete_failed(const std::string& id) {
    auto oid = db::parse_oid(id);
    if (!oid) return false;
    const db::Bson filter(
        BCON_NEW("_id", BCON_OID(&*oid), "status", BCON_UTF8(order_status::kFailed)));
    auto orders = db_.collection(kOrders);
    auto guard = db_.lock_document(kOrders, *oid);
    return orders.delete_one(filter) > 0;
}

std::vector<Order> OrderStore::find_by_status(const std::string& status,
                                              std::int64_t created_before_ms, std::int64_t limit) {
    db::Bson filter(BCON_NEW("status", BCON_UTF8(status.c_str())));
    if (created_before_ms > 0) {
        bson_t range;
        BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "created_at", &range);
        BSON_APPEND_DATE_TIME(&range, "$lt", created_before_ms);
        bson_append_document_end(filter.get(), &range);
    }
    db::Bson opts(
        BCON_NEW("sort", "{", "created_at", BCON_INT32(1), "}", "limit", BCON_INT64(limit)));
    return map_orders(db_.collection(kOrders).find(filter, &opts));
}

std::vector<Order> OrderStore::find_unrestocked_cancellations(std::int64_t cancelled_before_ms,
                                                              std::int64_t limit) {
    db::Bson opts(BCON_NEW("limit", BCON_INT64(limit)));
    return map_orders(db_.collection(kOrders).find(
        db::Bson(BCON_NEW("status", BCON_UTF8(order_status::kCancelled), "restocked",
                          BCON_BOOL(false), "updated_at", "{", "$lt",
                          BCON_DATE_TIME(cancelled_before_ms), "}")),
        &opts));
}

}  // namespace flaskcart::models
