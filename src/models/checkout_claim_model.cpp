#include "models/checkout_claim_model.hpp"

#include "models/cart_model.hpp"
#include "utils/bson_document.hpp"
#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kClaims = "checkout_claims";
constexpr const char* kLegacyCart = "cart";
constexpr const char* kMigrations = "migrations";
constexpr const char* kCartsMigration = "carts-v1";

bson_oid_t require_oid(const std::string& id) {
    auto oid = db::parse_oid(id);
    if (!oid) throw std::invalid_argument("checkout_claims: not an ObjectId: " + id);
    return *oid;
}

CheckoutClaim claim_from_bson(const db::BsonView& doc) {
    auto user = doc.get_oid("_id");
    auto token = doc.get_string("token");
    if (!user || !token) throw std::runtime_error("checkout_claims: document of the wrong shape");
    CheckoutClaim claim;
    claim.user_id = db::oid_to_string(*user);
    claim.token = *token;
    if (auto order = doc.get_oid("order_id")) claim.order_id = db::oid_to_string(*order);
    claim.claimed_at_ms = doc.get_date_ms("claimed_at").value_or(0);
    return claim;
}

}  // namespace

void CheckoutClaimStore::ensure_indexes(db::Db&) {
    // None: the collection is only read, once, by the start-up migration.
}

bool CheckoutClaimStore::release(const CheckoutClaim& claim) {
    const bson_oid_t user = require_oid(claim.user_id);
    db::DocumentBuilder filter;
    filter.append("_id", user).append("token", claim.token);
    if (claim.order_id) {
        filter.append("order_id", require_oid(*claim.order_id));
    } else {
        filter.append_document(
            "order_id", [](db::DocumentBuilder& absent) { absent.append("$exists", false); });
    }
    // The delete must not interleave with attach_order's read-modify-write on FerretDB.
    auto claims = db_.collection(kClaims);
    auto guard = db_.lock_document(kClaims, user);
    return claims.delete_one(filter.build()) > 0;
}

std::vector<CheckoutClaim> CheckoutClaimStore::find_stale(std::int64_t claimed_before_ms,
                                                          std::int64_t limit) {
    const db::Bson filter =
        db::DocumentBuilder()
            .append_document("claimed_at",
                             [&](db::DocumentBuilder& range) {
                                 range.append("$lt", db::time_from_ms(claimed_before_ms));
                             })
            .build();
    const db::Bson opts = db::DocumentBuilder()
                              .append_document("sort",
                                               [](db::DocumentBuilder& sort) {
                                                   sort.append("claimed_at", std::int32_t{1});
                                               })
                              .append("limit", limit)
                              .build();
    std::vector<CheckoutClaim> claims;
    for (const auto& doc : db_.collection(kClaims).find(filter, &opts)) {
        claims.push_back(claim_from_bson(doc.view()));
    }
    return claims;
}

bool CheckoutClaimStore::has_legacy_documents() {
    return !db_.collection(kMigrations).find_one(db::id_filter(kCartsMigration)).has_value();
}

void CheckoutClaimStore::record_migrated() {
    try {
        db_.collection(kMigrations)
            .insert_one(db::DocumentBuilder()
                            .append("_id", kCartsMigration)
                            .append("at", db::now())
                            .build());
    } catch (const db::DbError& error) {
        if (error.kind() != db::DbErrorKind::kDuplicateKey) throw;
    }
}

std::vector<CartLine> CheckoutClaimStore::legacy_cart_lines() {
    std::vector<CartLine> lines;
    for (const auto& doc : db_.collection(kLegacyCart).find(db::Bson())) {
        const db::BsonView view = doc.view();
        auto id = view.get_oid("_id");
        auto user = view.get_oid("user_id");
        auto product = view.get_oid("product_id");
        auto quantity = view.get_int64("quantity");
        if (!id || !user || !product || !quantity) continue;  // unreadable: not migrated
        lines.push_back({db::oid_to_string(*id), db::oid_to_string(*user),
                         db::oid_to_string(*product), *quantity,
                         view.get_date_ms("added_at").value_or(0)});
    }
    return lines;
}

void CheckoutClaimStore::drop_legacy_cart_lines() {
    db_.collection(kLegacyCart).delete_many(db::Bson());
}

void CheckoutClaimStore::remove_legacy_cart_lines(const std::string& user_id,
                                                  const std::vector<std::string>& product_ids) {
    std::vector<bson_oid_t> products;
    products.reserve(product_ids.size());
    for (const auto& id : product_ids) products.push_back(require_oid(id));
    db_.collection(kLegacyCart)
        .delete_many(db::DocumentBuilder()
                         .append("user_id", require_oid(user_id))
                         .append("product_id", db::in_array(products))
                         .build());
}

}  // namespace flaskcart::models
