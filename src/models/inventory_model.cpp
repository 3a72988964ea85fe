#include "models/inventory_model.hpp"

#include "models/write_listener.hpp"
#include "utils/bson_document.hpp"
#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kProducts = "products";

struct Ids {
    bson_oid_t product;
    bson_oid_t order;
};

Ids parse_ids(const std::string& product_id, const std::string& order_id) {
    auto product = db::parse_oid(product_id);
    auto order = db::parse_oid(order_id);
    if (!product || !order) throw std::invalid_argument("inventory: not an ObjectId");
    return {*product, *order};
}

// {field: order}: the order's marker is in the array `field`.
db::Bson marked(const char* field, const bson_oid_t& order) {
    return db::DocumentBuilder().append(field, order).build();
}

// {field: {$ne: order}}: the order's marker is not in the array `field`.
db::Bson not_marked(const char* field, const bson_oid_t& order) {
    return db::DocumentBuilder()
        .append_document(field,
                         [&](db::DocumentBuilder& condition) { condition.append("$ne", order); })
        .build();
}

// {$pull: {field: order}}.
db::Bson unmark(const char* field, const bson_oid_t& order) {
    return db::DocumentBuilder()
        .append_document("$pull", [&](db::DocumentBuilder& pull) { pull.append(field, order); })
        .build();
}

// {$inc: {stock: delta}, marker_op: {field: order}} (marker_op is $push or $pull).
db::Bson move_stock(std::int64_t delta, const char* marker_op, const char* field,
                    const bson_oid_t& order) {
    return db::DocumentBuilder()
        .append_document("$inc", [&](db::DocumentBuilder& inc) { inc.append("stock", delta); })
        .append_document(marker_op,
                         [&](db::DocumentBuilder& marker) { marker.append(field, order); })
        .build();
}

std::vector<ProductMarkers> products_with(db::Db& db, const char* field, std::int64_t limit) {
    // "field.0 exists" = a non-empty array; both MongoDB and FerretDB evaluate it.
    const std::string first = std::string(field) + ".0";
    const db::Bson filter =
        db::DocumentBuilder()
            .append_document(
                first, [](db::DocumentBuilder& condition) { condition.append("$exists", true); })
            .build();
    const db::Bson opts = db::DocumentBuilder().append("limit", limit).build();
    std::vector<ProductMarkers> out;
    for (const auto& doc : db.collection(kProducts).find(filter, &opts)) {
        const db::BsonView view = doc.view();
        ProductMarkers markers;
        markers.product_id = db::oid_to_string(*view.get_oid("_id"));
        for (const auto& oid : view.get_oids(field))
            markers.order_ids.push_back(db::oid_to_string(oid));
        out.push_back(std::move(markers));
    }
    return out;
}

}  // namespace

std::function<void()> ProductStockLedger::on_stock_moved(const std::string& product_id,
                                                         std::int64_t delta) {
    if (listener_ == nullptr) return {};
    return [this, &product_id, delta] { listener_->stock_moved(product_id, delta); };
}

ReserveResult ProductStockLedger::reserve(const std::string& product_id, std::int64_t quantity,
                                          const std::string& order_id) {
    const Ids ids = parse_ids(product_id, order_id);
    const db::Bson condition =
        db::DocumentBuilder()
            .append_document("stock",
                             [&](db::DocumentBuilder& stock) { stock.append("$gte", quantity); })
            .append_document("stock_holds",
                             [&](db::DocumentBuilder& holds) { holds.append("$ne", ids.order); })
            .build();
    const bool reserved = db_.update_if(kProducts, ids.product, condition,
                                        move_stock(-quantity, "$push", "stock_holds", ids.order),
                                        on_stock_moved(product_id, -quantity));
    if (reserved) return ReserveResult::kReserved;
    const bool exists = db_.collection(kProducts).find_one(db::id_filter(ids.product)).has_value();
    return exists ? ReserveResult::kInsufficientStock : ReserveResult::kNotFound;
}

void ProductStockLedger::release_hold(const std::string& product_id, std::int64_t quantity,
                                      const std::string& order_id) {
    const Ids ids = parse_ids(product_id, order_id);
    db_.update_if(kProducts, ids.product, marked("stock_holds", ids.order),
                  move_stock(quantity, "$pull", "stock_holds", ids.order),
                  on_stock_moved(product_id, quantity));
}

void ProductStockLedger::commit_holds(const std::string& product_id,
                                      const std::vector<std::string>& order_ids) {
    if (order_ids.empty()) return;
    std::vector<bson_oid_t> orders;
    orders.reserve(order_ids.size());
    for (const auto& order_id : order_ids) orders.push_back(parse_ids(product_id, order_id).order);
    // {$pullAll: {stock_holds: [orders]}}: a marker already gone is skipped, so no condition.
    const db::Bson update =
        db::DocumentBuilder()
            .append_document("$pullAll",
                             [&](db::DocumentBuilder& pull) {
                                 pull.append_array("stock_holds", [&](db::ArrayBuilder& array) {
                                     for (const auto& order : orders) array.append(order);
                                 });
                             })
            .build();
    db_.update_by_id(kProducts, parse_ids(product_id, order_ids.front()).product, update);
}

void ProductStockLedger::return_stock(const std::string& product_id, std::int64_t quantity,
                                      const std::string& order_id) {
    const Ids ids = parse_ids(product_id, order_id);
    db_.update_if(kProducts, ids.product, not_marked("stock_returns", ids.order),
                  move_stock(quantity, "$push", "stock_returns", ids.order),
                  on_stock_moved(product_id, quantity));
}

void ProductStockLedger::forget_return(const std::string& product_id, const std::string& order_id) {
    const Ids ids = parse_ids(product_id, order_id);
    db_.update_if(kProducts, ids.product, marked("stock_returns", ids.order),
                  unmark("stock_returns", ids.order));
}

std::vector<ProductMarkers> ProductStockLedger::products_with_holds(std::int64_t limit) {
    return products_with(db_, "stock_holds", limit);
}

std::vector<ProductMarkers> ProductStockLedger::products_with_returns(std::int64_t limit) {
    return products_with(db_, "stock_returns", limit);
}

}  // namespace flaskcart::models
