#include "models/inventory_model.hpp"

#include "models/write_listener.hpp"
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

std::vector<ProductMarkers> products_with(db::Db& db, const char* field, std::int64_t limit) {
    // "field.0 exists" = a non-empty array; both MongoDB and FerretDB evaluate it.
    const std::string first = std::string(field) + ".0";
    db::Bson filter(BCON_NEW(first.c_str(), "{", "$exists", BCON_BOOL(true), "}"));
    db::Bson opts(BCON_NEW("limit", BCON_INT64(limit)));
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
    const bool reserved =
        db_.update_if(kProducts, ids.product,
                      db::Bson(BCON_NEW("stock", "{", "$gte", BCON_INT64(quantity), "}",
                                        "stock_holds", "{", "$ne", BCON_OID(&ids.order), "}")),
                      db::Bson(BCON_NEW("$inc", "{", "stock", BCON_INT64(-quantity), "}", "$push",
                                        "{", "stock_holds", BCON_OID(&ids.order), "}")),
                      on_stock_moved(product_id, -quantity));
    if (reserved) return ReserveResult::kReserved;
    const bool exists = db_.collection(kProducts)
                            .find_one(db::Bson(BCON_NEW("_id", BCON_OID(&ids.product))))
                            .has_value();
    return exists ? ReserveResult::kInsufficientStock : ReserveResult::kNotFound;
}

void ProductStockLedger::release_hold(const std::string& product_id, std::int64_t quantity,
                                      const std::string& order_id) {
    const Ids ids = parse_ids(product_id, order_id);
    db_.update_if(kProducts, ids.product, db::Bson(BCON_NEW("stock_holds", BCON_OID(&ids.order))),
                  db::Bson(BCON_NEW("$inc", "{", "stock", BCON_INT64(quantity), "}", "$pull", "{",
                                    "stock_holds", BCON_OID(&ids.order), "}")),
                  on_stock_moved(product_id, quantity));
}

void ProductStockLedger::commit_hold(const std::string& product_id, const std::string& order_id) {
    const Ids ids = parse_ids(product_id, order_id);
    db_.update_if(kProducts, ids.product, db::Bson(BCON_NEW("stock_holds", BCON_OID(&ids.order))),
                  db::Bson(BCON_NEW("$pull", "{", "stock_holds", BCON_OID(&ids.order), "}")));
}

void ProductStockLedger::return_stock(const std::string& product_id, std::int64_t quantity,
                                      const std::string& order_id) {
    const Ids ids = parse_ids(product_id, order_id);
    db_.update_if(kProducts, ids.product,
                  db::Bson(BCON_NEW("stock_returns", "{", "$ne", BCON_OID(&ids.order), "}")),
                  db::Bson(BCON_NEW("$inc", "{", "stock", BCON_INT64(quantity), "}", "$push", "{",
                                    "stock_returns", BCON_OID(&ids.order), "}")),
                  on_stock_moved(product_id, quantity));
}

void ProductStockLedger::forget_return(const std::string& product_id, const std::string& order_id) {
    const Ids ids = parse_ids(product_id, order_id);
    db_.update_if(kProducts, ids.product, db::Bson(BCON_NEW("stock_returns", BCON_OID(&ids.order))),
                  db::Bson(BCON_NEW("$pull", "{", "stock_returns", BCON_OID(&ids.order), "}")));
}

std::vector<ProductMarkers> ProductStockLedger::products_with_holds(std::int64_t limit) {
    return products_with(db_, "stock_holds", limit);
}

std::vector<ProductMarkers> ProductStockLedger::products_with_returns(std::int64_t limit) {
    return products_with(db_, "stock_returns", limit);
}

}  // namespace flaskcart::models
