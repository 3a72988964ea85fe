#include "models/checkout_claim_model.hpp"

#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kClaims = "checkout_claims";

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

void CheckoutClaimStore::ensure_indexes(db::Db& db) {
    // checkout_claims_claimed_at: the recovery sweep's scan for claims a crash left behind.
    db.collection(kClaims).create_indexes(
        {{"checkout_claims_claimed_at", {{"claimed_at", 1}}, false}});
}

bool CheckoutClaimStore::try_claim(const std::string& user_id, const std::string& token,
                                   std::int64_t now_ms) {
    const bson_oid_t user = require_oid(user_id);
    try {
        db_.collection(kClaims).insert_one(
            db::Bson(BCON_NEW("_id", BCON_OID(&user), "token", BCON_UTF8(token.c_str()),
                              "claimed_at", BCON_DATE_TIME(now_ms))));
    } catch (const db::DbError& error) {
        if (error.kind() == db::DbErrorKind::kDuplicateKey) return false;
        throw;
    }
    return true;
}

std::optional<CheckoutClaim> CheckoutClaimStore::find(const std::string& user_id) {
    const bson_oid_t user = require_oid(user_id);
    auto doc = db_.collection(kClaims).find_one(db::Bson(BCON_NEW("_id", BCON_OID(&user))));
    if (!doc) return std::nullopt;
    return claim_from_bson(doc->view());
}

bool CheckoutClaimStore::attach_order(const std::string& user_id, const std::string& token,
                                      const std::string& order_id) {
    const bson_oid_t user = require_oid(user_id);
    const bson_oid_t order = require_oid(order_id);
    return db_.update_if(kClaims, user,
                         db::Bson(BCON_NEW("token", BCON_UTF8(token.c_str()), "order_id", "{",
                                           "$exists", BCON_BOOL(false), "}")),
                         db::Bson(BCON_NEW("$set", "{", "order_id", BCON_OID(&order), "}")));
}

bool CheckoutClaimStore::release(const CheckoutClaim& claim) {
    const bson_oid_t user = require_oid(claim.user_id);
    db::Bson filter(BCON_NEW("_id", BCON_OID(&user), "token", BCON_UTF8(claim.token.c_str())));
    if (claim.order_id) {
        const bson_oid_t order = require_oid(*claim.order_id);
        BSON_APPEND_OID(filter.get(), "order_id", &order);
    } else {
        db::Bson absent(BCON_NEW("$exists", BCON_BOOL(false)));
        BSON_APPEND_DOCUMENT(filter.get(), "order_id", absent.get());
    }
    // The delete must not interleave with attach_order's read-modify-write on FerretDB.
    auto claims = db_.collection(kClaims);
    auto guard = db_.lock_document(kClaims, user);
    return claims.delete_one(filter) > 0;
}

bool CheckoutClaimStore::release_own(const std::string& user_id, const std::string& token) {
    const bson_oid_t user = require_oid(user_id);
    const db::Bson filter(BCON_NEW("_id", BCON_OID(&user), "token", BCON_UTF8(token.c_str())));
    auto claims = db_.collection(kClaims);
    auto guard = db_.lock_document(kClaims, user);
    return claims.delete_one(filter) > 0;
}

std::vector<CheckoutClaim> CheckoutClaimStore::find_stale(std::int64_t claimed_before_ms,
                                                          std::int64_t limit) {
    db::Bson opts(
        BCON_NEW("sort", "{", "claimed_at", BCON_INT32(1), "}", "limit", BCON_INT64(limit)));
    std::vector<CheckoutClaim> claims;
    for (const auto& doc : db_.collection(kClaims).find(
             db::Bson(BCON_NEW("claimed_at", "{", "$lt", BCON_DATE_TIME(claimed_before_ms), "}")),
             &opts)) {
        claims.push_back(claim_from_bson(doc.view()));
    }
    return claims;
}

}  // namespace flaskcart::models
