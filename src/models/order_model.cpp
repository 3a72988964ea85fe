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

namespace {

// {product_id, name, quantity, price_cents} per line, in order.
void append_lines(db::DocumentBuilder& doc, const std::vector<OrderLine>& lines) {
    doc.append_array("products", [&](db::ArrayBuilder& array) {
        for (const OrderLine& line : lines) {
            const bson_oid_t product = require_oid(line.product_id);
            array.append_document([&](db::DocumentBuilder& item) {
                item.append("product_id", product)
                    .append("name", line.name)
                    .append("quantity", line.quantity)
                    .append("price_cents", line.price_cents);
            });
        }
    });
}

// {status, at} per change, in order.
void append_history(db::DocumentBuilder& doc, const std::vector<StatusChange>& history) {
    doc.append_array("status_history", [&](db::ArrayBuilder& array) {
        for (const StatusChange& change : history) {
            array.append_document([&](db::DocumentBuilder& item) {
                item.append("status", change.status).append("at", db::time_from_ms(change.at_ms));
            });
        }
    });
}

}  // namespace

db::Bson to_bson(const Order& order) {
    db::DocumentBuilder doc;
    doc.append("_id", require_oid(order.id)).append("user_id", require_oid(order.user_id));
    append_lines(doc, order.lines);
    doc.append("total_price_cents", order.total_cents).append("status", order.status);
    append_history(doc, order.history);
    doc.append("idempotency_key", order.idempotency_key)
        .append("request_fingerprint", order.request_fingerprint)
        .append("restocked", order.restocked);
    if (order.restocked_at_ms != 0) {
        doc.append("restocked_at", db::time_from_ms(order.restocked_at_ms));
    }
    doc.append("created_at", db::time_from_ms(order.created_at_ms))
        .append("updated_at", db::time_from_ms(order.updated_at_ms));
    return doc.build();
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
    auto doc = db_.collection(kOrders).find_one(db::id_filter(*oid));
    if (!doc) return std::nullopt;
    return order_from_bson(doc->view());
}

std::vector<Order> OrderStore::find_of_user(const std::string& user_id,
                                            const std::vector<std::string>& ids) {
    if (ids.empty()) return {};
    std::vector<bson_oid_t> oids;
    oids.reserve(ids.size());
    for (const auto& id : ids) oids.push_back(require_oid(id));
    const db::Bson filter = db::DocumentBuilder()
                                .append("user_id", require_oid(user_id))
                                .append("_id", db::in_array(oids))
                                .build();
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
    const db::TimePoint now = db::now();
    const db::Bson update =
        db::DocumentBuilder()
            .append_document("$set",
                             [&](db::DocumentBuilder& set) {
                                 set.append("status", to).append("updated_at", now);
                             })
            .append_document("$push",
                             [&](db::DocumentBuilder& push) {
                                 push.append_document(
                                     "status_history", [&](db::DocumentBuilder& change) {
                                         change.append("status", to).append("at", now);
                                     });
                             })
            .build();
    return db_.update_if(kOrders, *oid, db::DocumentBuilder().append("status", from).build(),
                         update);
}

bool OrderStore::mark_restocked(const std::string& id) {
    auto oid = db::parse_oid(id);
    if (!oid) return false;
    return db_.update_if(
        kOrders, *oid, db::DocumentBuilder().append("restocked", false).build(),
        db::DocumentBuilder()
            .append_document("$set",
                             [](db::DocumentBuilder& set) {
                                 set.append("restocked", true).append("restocked_at", db::now());
                             })
            .build());
}

bool OrderStore::delete_failed(const std::string& id) {
    auto oid = db::parse_oid(id);
    if (!oid) return false;
    const db::Bson filter =
        db::DocumentBuilder().append("_id", *oid).append("status", order_status::kFailed).build();
    auto orders = db_.collection(kOrders);
    auto guard = db_.lock_document(kOrders, *oid);
    return orders.delete_one(filter) > 0;
}

std::vector<Order> OrderStore::find_by_status(const std::string& status,
                                              std::int64_t created_before_ms, std::int64_t limit) {
    db::DocumentBuilder filter;
    filter.append("status", status);
    if (created_before_ms > 0) {
        filter.append_document("created_at", [&](db::DocumentBuilder& range) {
            range.append("$lt", db::time_from_ms(created_before_ms));
        });
    }
    const db::Bson opts = db::DocumentBuilder()
                              .append_document("sort",
                                               [](db::DocumentBuilder& sort) {
                                                   sort.append("created_at", std::int32_t{1});
                                               })
                              .append("limit", limit)
                              .build();
    return map_orders(db_.collection(kOrders).find(filter.build(), &opts));
}

std::vector<Order> OrderStore::find_unrestocked_cancellations(std::int64_t cancelled_before_ms,
                                                              std::int64_t limit) {
    const db::Bson filter =
        db::DocumentBuilder()
            .append("status", order_status::kCancelled)
            .append("restocked", false)
            .append_document("updated_at",
                             [&](db::DocumentBuilder& range) {
                                 range.append("$lt", db::time_from_ms(cancelled_before_ms));
                             })
            .build();
    const db::Bson opts = db::DocumentBuilder().append("limit", limit).build();
    return map_orders(db_.collection(kOrders).find(filter, &opts));
}

}  // namespace flaskcart::models
