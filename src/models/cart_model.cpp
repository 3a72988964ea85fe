#include "models/cart_model.hpp"

#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCart = "cart";

bson_oid_t require_oid(const std::string& id) {
    auto oid = db::parse_oid(id);
    if (!oid) throw std::invalid_argument("cart: not an ObjectId: " + id);
    return *oid;
}

db::Bson line_filter(const bson_oid_t& user, const bson_oid_t& product) {
    return db::Bson(BCON_NEW("user_id", BCON_OID(&user), "product_id", BCON_OID(&product)));
}

}  // namespace

db::Bson to_bson(const CartLine& line) {
    const bson_oid_t id = require_oid(line.id);
    const bson_oid_t user = require_oid(line.user_id);
    const bson_oid_t product = require_oid(line.product_id);
    return db::Bson(BCON_NEW("_id", BCON_OID(&id), "user_id", BCON_OID(&user), "product_id",
                             BCON_OID(&product), "quantity", BCON_INT64(line.quantity), "added_at",
                             BCON_DATE_TIME(line.added_at_ms)));
}

CartLine cart_line_from_bson(const db::BsonView& doc) {
    auto id = doc.get_oid("_id");
    auto user = doc.get_oid("user_id");
    auto product = doc.get_oid("product_id");
    auto quantity = doc.get_int64("quantity");
    if (!id || !user || !product || !quantity) {
        throw std::runtime_error("cart: document of the wrong shape");
    }
    return {db::oid_to_string(*id), db::oid_to_string(*user), db::oid_to_string(*product),
            *quantity, doc.get_date_ms("added_at").value_or(0)};
}

void CartStore::ensure_indexes(db::Db& db) {
    // cart_user_product_unique: one line per (user, product); serves the cart view (prefix
    // user_id), the upsert, and checkout's clean-up.
    // cart_product: DELETE /products/{id} removes the product from every cart.
    db.collection(kCart).create_indexes(
        {{"cart_user_product_unique", {{"user_id", 1}, {"product_id", 1}}, true},
         {"cart_product", {{"product_id", 1}}, false}});
}

std::vector<CartLine> CartStore::lines_for(const std::string& user_id) {
    const bson_oid_t user = require_oid(user_id);
    db::Bson opts(BCON_NEW("sort", "{", "added_at", BCON_INT32(1), "_id", BCON_INT32(1), "}"));
    std::vector<CartLine> lines;
    for (const auto& doc :
         db_.collection(kCart).find(db::Bson(BCON_NEW("user_id", BCON_OID(&user))), &opts)) {
        lines.push_back(cart_line_from_bson(doc.view()));
    }
    return lines;
}

std::optional<CartLine> CartStore::find_line(const std::string& user_id,
                                             const std::string& product_id) {
    auto doc =
        db_.collection(kCart).find_one(line_filter(require_oid(user_id), require_oid(product_id)));
    if (!doc) return std::nullopt;
    return cart_line_from_bson(doc->view());
}

CartStore::AddResult CartStore::add(const std::string& user_id, const std::string& product_id,
                                    std::int64_t quantity, std::int64_t max_total) {
    const bson_oid_t user = require_oid(user_id);
    const bson_oid_t product = require_oid(product_id);
    const std::string lock_key = user_id + product_id;
    AddResult outcome;
    if (quantity <= max_total) {
        for (int attempt = 0; attempt < 4 && !outcome.line; ++attempt) {
            const std::int64_t now = db::now_ms();
            // Only a line that stays within max_total grows: check and write in one step.
            db::Bson grow_filter(BCON_NEW("user_id", BCON_OID(&user), "product_id",
                                          BCON_OID(&product), "quantity", "{", "$lte",
                                          BCON_INT64(max_total - quantity), "}"));
            db::Bson grow(BCON_NEW("$inc", "{", "quantity", BCON_INT64(quantity), "}", "$set", "{",
                                   "updated_at", BCON_DATE_TIME(now), "}"));
            bool grown = false;
            {
                auto cart = db_.collection(kCart);
                auto guard = db_.lock_document(kCart, lock_key);
                grown = cart.update_one(grow_filter, grow).matched > 0;
            }
            if (grown) {
                outcome.line = find_line(user_id, product_id);
                if (outcome.line) break;
                continue;  // removed right after it grew: start again from nothing
            }
            // No line within the limit: either there is none (insert it) or it is full. The
            // unique index decides between two concurrent inserts; a loser tries again.
            const bson_oid_t id = db::new_oid();
            try {
                db_.collection(kCart).insert_one(db::Bson(
                    BCON_NEW("_id", BCON_OID(&id), "user_id", BCON_OID(&user), "product_id",
                             BCON_OID(&product), "quantity", BCON_INT64(quantity), "added_at",
                             BCON_DATE_TIME(now), "updated_at", BCON_DATE_TIME(now))));
                outcome.created = true;
                outcome.line = CartLine{db::oid_to_string(id), user_id, product_id, quantity, now};
            } catch (const db::DbError& error) {
                if (error.kind() != db::DbErrorKind::kDuplicateKey) throw;
                auto existing = find_line(user_id, product_id);
                if (existing && existing->quantity + quantity > max_total) {
                    outcome.previous_quantity = existing->quantity;
                    return outcome;
                }
            }
        }
        if (outcome.line) return outcome;
    }
    if (auto existing = find_line(user_id, product_id)) {
        outcome.previous_quantity = existing->quantity;
    }
    return outcome;
}

std::optional<CartLine> CartStore::set_quantity(const std::string& user_id,
                                                const std::string& product_id,
                                                std::int64_t quantity) {
    const db::Bson filter = line_filter(require_oid(user_id), require_oid(product_id));
    const db::Bson update(BCON_NEW("$set", "{", "quantity", BCON_INT64(quantity), "updated_at",
                                   BCON_DATE_TIME(db::now_ms()), "}"));
    std::int64_t matched = 0;
    {
        auto cart = db_.collection(kCart);
        auto guard = db_.lock_document(kCart, user_id + product_id);
        matched = cart.update_one(filter, update).matched;
    }
    if (matched == 0) return std::nullopt;
    return find_line(user_id, product_id);
}

bool CartStore::remove(const std::string& user_id, const std::string& product_id) {
    const db::Bson filter = line_filter(require_oid(user_id), require_oid(product_id));
    auto cart = db_.collection(kCart);
    auto guard = db_.lock_document(kCart, user_id + product_id);
    return cart.delete_one(filter) > 0;
}

std::int64_t CartStore::remove_products(const std::string& user_id,
                                        const std::vector<std::string>& product_ids) {
    const bson_oid_t user = require_oid(user_id);
    db::Bson filter(BCON_NEW("user_id", BCON_OID(&user)));
    bson_t in_doc;
    bson_t array;
    BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "product_id", &in_doc);
    BSON_APPEND_ARRAY_BEGIN(&in_doc, "$in", &array);
    int i = 0;
    for (const auto& id : product_ids) {
        const bson_oid_t product = require_oid(id);
        const std::string key = std::to_string(i++);
        BSON_APPEND_OID(&array, key.c_str(), &product);
    }
    bson_append_array_end(&in_doc, &array);
    bson_append_document_end(filter.get(), &in_doc);
    return db_.collection(kCart).delete_many(filter);
}

}  // namespace flaskcart::models
