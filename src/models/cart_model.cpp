#include "models/cart_model.hpp"

#include <algorithm>

#include "utils/crypto.hpp"
#include "utils/db.hpp"
#include "utils/errors.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCarts = "carts";
// Optimistic writes retry this often when other writes keep coming between read and write.
constexpr int kWriteAttempts = 8;

bson_oid_t require_oid(const std::string& id) {
    auto oid = db::parse_oid(id);
    if (!oid) throw std::invalid_argument("carts: not an ObjectId: " + id);
    return *oid;
}

db::Bson by_id(const bson_oid_t& id) {
    return db::Bson(BCON_NEW("_id", BCON_OID(&id)));
}

// Calls `visit(key, value)` for each field of the sub-document `key` of `doc` (none when it is
// absent); throws when present but not a document.
template <typename Visit>
void for_each_field(const bson_t* doc, const char* key, Visit&& visit) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, key)) return;
    bson_iter_t child;
    if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &child)) {
        throw std::runtime_error(std::string("carts: ") + key + " is not a document");
    }
    while (bson_iter_next(&child)) visit(std::string(bson_iter_key(&child)), child);
}

std::optional<db::Bson> sub_document(const bson_t* doc, const char* key) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_DOCUMENT(&it)) return std::nullopt;
    std::uint32_t length = 0;
    const std::uint8_t* data = nullptr;
    bson_iter_document(&it, &length, &data);
    return db::Bson(bson_new_from_data(data, length));
}

CartLine line_from(const std::string& user_id, const std::string& product_id,
                   const bson_iter_t& element) {
    bson_iter_t fields;
    if (!BSON_ITER_HOLDS_DOCUMENT(&element) || !bson_iter_recurse(&element, &fields) ||
        !db::parse_oid(product_id)) {
        throw std::runtime_error("carts: a line of the wrong shape");
    }
    std::uint32_t length = 0;
    const std::uint8_t* data = nullptr;
    bson_iter_document(&element, &length, &data);
    const db::Bson copy(bson_new_from_data(data, length));
    const db::BsonView view = copy.view();
    auto line_id = view.get_oid("line_id");
    auto quantity = view.get_int64("quantity");
    if (!line_id || !quantity) throw std::runtime_error("carts: a line of the wrong shape");
    return {db::oid_to_string(*line_id), user_id, product_id, *quantity,
            view.get_date_ms("added_at").value_or(0)};
}

void append_lines(bson_t* parent, const char* key, const std::vector<CartLine>& lines,
                  std::int64_t now) {
    bson_t doc;
    BSON_APPEND_DOCUMENT_BEGIN(parent, key, &doc);
    for (const auto& line : lines) {
        const bson_oid_t id = require_oid(line.id);
        require_oid(line.product_id);
        bson_t item;
        BSON_APPEND_DOCUMENT_BEGIN(&doc, line.product_id.c_str(), &item);
        BSON_APPEND_OID(&item, "line_id", &id);
        BSON_APPEND_INT64(&item, "quantity", line.quantity);
        BSON_APPEND_DATE_TIME(&item, "added_at", line.added_at_ms);
        BSON_APPEND_DATE_TIME(&item, "updated_at", now);
        bson_append_document_end(&doc, &item);
    }
    bson_append_document_end(parent, &doc);
}

void append_claim(bson_t* parent, const char* key, const CartClaim& claim) {
    const bson_oid_t order = require_oid(claim.order_id);
    bson_t doc;
    BSON_APPEND_DOCUMENT_BEGIN(parent, key, &doc);
    BSON_APPEND_UTF8(&doc, "token", claim.token.c_str());
    BSON_APPEND_OID(&doc, "order_id", &order);
    BSON_APPEND_DATE_TIME(&doc, "claimed_at", claim.claimed_at_ms);
    if (claim.key_digest) BSON_APPEND_UTF8(&doc, "key", claim.key_digest->c_str());
    BSON_APPEND_UTF8(&doc, "fingerprint", claim.fingerprint.c_str());
    if (claim.revoked) BSON_APPEND_BOOL(&doc, "revoked", true);
    if (claim.placed) BSON_APPEND_DOCUMENT(&doc, "order", to_bson(*claim.placed).get());
    bson_append_document_end(parent, &doc);
}

CartClaim claim_from(const db::BsonView& view) {
    auto token = view.get_string("token");
    auto order = view.get_oid("order_id");
    if (!token || !order) throw std::runtime_error("carts: a checkout claim of the wrong shape");
    CartClaim claim;
    claim.token = *token;
    claim.order_id = db::oid_to_string(*order);
    claim.claimed_at_ms = view.get_date_ms("claimed_at").value_or(0);
    claim.key_digest = view.get_string("key");
    claim.fingerprint = view.get_string("fingerprint").value_or("");
    claim.revoked = view.get_bool("revoked").value_or(false);
    if (auto placed = sub_document(view.get(), "order")) {
        claim.placed = order_from_bson(placed->view());
    }
    return claim;
}

void append_order_ids(bson_t* parent, const std::vector<std::string>& ids) {
    bson_t array;
    BSON_APPEND_ARRAY_BEGIN(parent, "order_ids", &array);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const bson_oid_t oid = require_oid(ids[i]);
        BSON_APPEND_OID(&array, std::to_string(i).c_str(), &oid);
    }
    bson_append_array_end(parent, &array);
}

void append_keys(bson_t* parent, const std::map<std::string, std::string>& keys) {
    bson_t doc;
    BSON_APPEND_DOCUMENT_BEGIN(parent, "keys", &doc);
    for (const auto& [digest, order_id] : keys) {
        const bson_oid_t oid = require_oid(order_id);
        BSON_APPEND_OID(&doc, digest.c_str(), &oid);
    }
    bson_append_document_end(parent, &doc);
}

// `lines` minus the products of `order`.
std::vector<CartLine> without_ordered(std::vector<CartLine> lines, const Order& order) {
    std::erase_if(lines, [&](const CartLine& line) {
        return std::any_of(order.lines.begin(), order.lines.end(), [&](const OrderLine& ordered) {
            return ordered.product_id == line.product_id;
        });
    });
    return lines;
}

DomainError checkout_in_progress() {
    return {ErrorKind::kConflict,
            "a checkout of this cart is in progress; retry when it has finished",
            {{"cart", "is being checked out"}},
            1};
}

}  // namespace

const CartLine* Cart::line_for(const std::string& product_id) const {
    for (const auto& line : lines) {
        if (line.product_id == product_id) return &line;
    }
    return nullptr;
}

std::string idempotency_key_digest(const std::string& key) {
    return "k" + crypto::digest_hex(key).substr(0, 32);
}

db::Bson to_bson(const Cart& cart) {
    const bson_oid_t user = require_oid(cart.user_id);
    const std::int64_t now = db::now_ms();
    db::Bson doc(BCON_NEW("_id", BCON_OID(&user), "version", BCON_INT64(cart.version), "updated_at",
                          BCON_DATE_TIME(now)));
    append_lines(doc.get(), "lines", cart.lines, now);
    if (cart.checkout) append_claim(doc.get(), "checkout", *cart.checkout);
    append_order_ids(doc.get(), cart.order_ids);
    append_keys(doc.get(), cart.keys);
    return doc;
}

Cart cart_from_bson(const db::BsonView& doc) {
    auto user = doc.get_oid("_id");
    auto version = doc.get_int64("version");
    if (!user || !version) throw std::runtime_error("carts: document of the wrong shape");
    Cart cart;
    cart.user_id = db::oid_to_string(*user);
    cart.stored = true;
    cart.version = *version;
    for_each_field(doc.get(), "lines", [&](const std::string& key, const bson_iter_t& element) {
        cart.lines.push_back(line_from(cart.user_id, key, element));
    });
    std::stable_sort(cart.lines.begin(), cart.lines.end(),
                     [](const CartLine& a, const CartLine& b) {
                         return std::tie(a.added_at_ms, a.id) < std::tie(b.added_at_ms, b.id);
                     });
    if (auto claim = sub_document(doc.get(), "checkout")) cart.checkout = claim_from(claim->view());
    for (const auto& oid : doc.get_oids("order_ids"))
        cart.order_ids.push_back(db::oid_to_string(oid));
    for_each_field(doc.get(), "keys", [&](const std::string& key, const bson_iter_t& element) {
        if (BSON_ITER_HOLDS_OID(&element)) {
            cart.keys.emplace(key, db::oid_to_string(*bson_iter_oid(&element)));
        }
    });
    return cart;
}

std::optional<Cart> CartStore::find(const std::string& user_id) {
    auto doc = db_.collection(kCarts).find_one(by_id(require_oid(user_id)));
    if (!doc) return std::nullopt;
    return cart_from_bson(doc->view());
}

std::vector<CartLine> CartStore::lines_for(const std::string& user_id) {
    auto cart = find(user_id);
    return cart ? cart->lines : std::vector<CartLine>{};
}

std::optional<CartLine> CartStore::find_line(const std::string& user_id,
                                             const std::string& product_id) {
    auto cart = find(user_id);
    if (!cart) return std::nullopt;
    const CartLine* line = cart->line_for(product_id);
    return line ? std::optional<CartLine>(*line) : std::nullopt;
}

bool CartStore::write_if_unchanged(db::Collection& carts, const Cart& before, const Cart& after) {
    if (!before.stored) {
        try {
            carts.insert_one(to_bson(after));
            return true;
        } catch (const db::DbError& error) {
            if (error.kind() != db::DbErrorKind::kDuplicateKey) throw;
            return false;  // created meanwhile (by another instance): read it again
        }
    }
    const bson_oid_t user = require_oid(after.user_id);
    db::Bson filter(BCON_NEW("_id", BCON_OID(&user), "version", BCON_INT64(before.version)));
    db::Bson update;
    bson_t set;
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
    append_lines(&set, "lines", after.lines, db::now_ms());
    BSON_APPEND_INT64(&set, "version", after.version);
    BSON_APPEND_DATE_TIME(&set, "updated_at", db::now_ms());
    bson_append_document_end(update.get(), &set);
    return carts.update_one(filter, update).matched > 0;
}

// The cart's lock is held from the read to the write, so writers of one cart in this process
// never race (on FerretDB that is what makes the write safe); the version condition covers
// other instances on MongoDB.
template <typename ChangeFn>
Cart CartStore::modify(const std::string& user_id, ChangeFn&& change) {
    const bson_oid_t user = require_oid(user_id);
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
        auto carts = db_.collection(kCarts);
        auto guard = db_.lock_document(kCarts, user);
        auto doc = carts.find_one(by_id(user));
        Cart before = doc ? cart_from_bson(doc->view()) : Cart{.user_id = user_id};
        if (before.checkout) throw checkout_in_progress();
        Cart after = before;
        if (change(after) == Change::kKeep) return before;
        after.stored = true;
        after.version = before.version + 1;
        if (write_if_unchanged(carts, before, after)) return after;
    }
    throw DomainError::unavailable("the cart is changing too often; retry", 1);
}

CartStore::AddResult CartStore::add(const std::string& user_id, const std::string& product_id,
                                    std::int64_t quantity, std::int64_t max_total) {
    AddResult outcome;
    const std::int64_t now = db::now_ms();
    const Cart written = modify(user_id, [&](Cart& cart) {
        outcome = AddResult{};
        for (auto& line : cart.lines) {
            if (line.product_id != product_id) continue;
            if (line.quantity + quantity > max_total) {
                outcome.previous_quantity = line.quantity;
                return Change::kKeep;
            }
            line.quantity += quantity;
            outcome.line = line;
            return Change::kWrite;
        }
        if (quantity > max_total) return Change::kKeep;
        CartLine line{db::oid_to_string(db::new_oid()), user_id, product_id, quantity, now};
        cart.lines.push_back(line);
        outcome.line = line;
        outcome.created = true;
        return Change::kWrite;
    });
    (void)written;
    return outcome;
}

std::optional<CartLine> CartStore::set_quantity(const std::string& user_id,
                                                const std::string& product_id,
                                                std::int64_t quantity) {
    std::optional<CartLine> updated;
    modify(user_id, [&](Cart& cart) {
        updated.reset();
        for (auto& line : cart.lines) {
            if (line.product_id != product_id) continue;
            line.quantity = quantity;
            updated = line;
            return Change::kWrite;
        }
        return Change::kKeep;
    });
    return updated;
}

bool CartStore::remove(const std::string& user_id, const std::string& product_id) {
    bool removed = false;
    modify(user_id, [&](Cart& cart) {
        removed = std::erase_if(cart.lines, [&](const CartLine& line) {
                      return line.product_id == product_id;
                  }) > 0;
        return removed ? Change::kWrite : Change::kKeep;
    });
    return removed;
}

std::int64_t CartStore::remove_product_everywhere(const std::string& product_id) {
    require_oid(product_id);
    const std::string field = "lines." + product_id;
    std::int64_t removed = 0;
    for (const auto& doc : db_.collection(kCarts).find(
             db::Bson(BCON_NEW(field.c_str(), "{", "$exists", BCON_BOOL(true), "}")))) {
        const auto user = doc.view().get_oid("_id");
        if (!user) continue;
        try {
            if (remove(db::oid_to_string(*user), product_id)) ++removed;
        } catch (const DomainError&) {
            // Held by a checkout: the line stays, and checkout refuses it as gone.
        }
    }
    return removed;
}

std::optional<Cart> CartStore::claim(const std::string& user_id, const CartClaim& claim) {
    const bson_oid_t user = require_oid(user_id);
    db::Bson filter(
        BCON_NEW("_id", BCON_OID(&user), "checkout", "{", "$exists", BCON_BOOL(false), "}"));
    db::Bson update;
    bson_t set;
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
    append_claim(&set, "checkout", claim);
    BSON_APPEND_DATE_TIME(&set, "updated_at", db::now_ms());
    bson_append_document_end(update.get(), &set);
    BCON_APPEND(update.get(), "$inc", "{", "version", BCON_INT64(1), "}");
    auto carts = db_.collection(kCarts);
    auto guard = db_.lock_document(kCarts, user);
    auto doc = carts.find_one_and_update(filter, update, false);
    if (!doc) return std::nullopt;
    return cart_from_bson(doc->view());
}

bool CartStore::update_claimed(const std::string& user_id, const db::Bson& condition,
                               const db::Bson& update) {
    return db_.update_if(kCarts, require_oid(user_id), condition, update);
}

bool CartStore::record_placed(const std::string& user_id, const std::string& token,
                              const Order& order) {
    db::Bson update;
    bson_t set;
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
    BSON_APPEND_DOCUMENT(&set, "checkout.order", to_bson(order).get());
    bson_append_document_end(update.get(), &set);
    BCON_APPEND(update.get(), "$inc", "{", "version", BCON_INT64(1), "}");
    return update_claimed(
        user_id,
        db::Bson(BCON_NEW("checkout.token", BCON_UTF8(token.c_str()), "checkout.revoked", "{",
                          "$ne", BCON_BOOL(true), "}", "checkout.order", "{", "$exists",
                          BCON_BOOL(false), "}")),
        update);
}

bool CartStore::revoke(const std::string& user_id, const std::string& token) {
    return update_claimed(
        user_id,
        db::Bson(BCON_NEW("checkout.token", BCON_UTF8(token.c_str()), "checkout.order", "{",
                          "$exists", BCON_BOOL(false), "}")),
        db::Bson(BCON_NEW("$set", "{", "checkout.revoked", BCON_BOOL(true), "}", "$inc", "{",
                          "version", BCON_INT64(1), "}")));
}

bool CartStore::release(const std::string& user_id, const std::string& token) {
    return update_claimed(user_id, db::Bson(BCON_NEW("checkout.token", BCON_UTF8(token.c_str()))),
                          db::Bson(BCON_NEW("$unset", "{", "checkout", BCON_UTF8(""), "}", "$inc",
                                            "{", "version", BCON_INT64(1), "}")));
}

bool CartStore::finish(const std::string& user_id, const std::string& token, const Order& order,
                       const std::optional<std::string>& key_digest, const Cart* known) {
    const bson_oid_t order_oid = require_oid(order.id);
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
        std::optional<Cart> cart =
            known != nullptr && attempt == 0 ? std::optional<Cart>(*known) : find(user_id);
        if (!cart || !cart->checkout || cart->checkout->token != token) return false;
        db::Bson update;
        bson_t set;
        BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
        append_lines(&set, "lines", without_ordered(cart->lines, order), db::now_ms());
        if (key_digest) {
            const std::string key_field = "keys." + *key_digest;
            BSON_APPEND_OID(&set, key_field.c_str(), &order_oid);
        }
        bson_append_document_end(update.get(), &set);
        BCON_APPEND(update.get(), "$unset", "{", "checkout", BCON_UTF8(""), "}", "$push", "{",
                    "order_ids", BCON_OID(&order_oid), "}", "$inc", "{", "version", BCON_INT64(1),
                    "}");
        if (update_claimed(user_id,
                           db::Bson(BCON_NEW("version", BCON_INT64(cart->version), "checkout.token",
                                             BCON_UTF8(token.c_str()))),
                           update)) {
            return true;
        }
    }
    throw DomainError::unavailable("the cart is changing too often; retry", 1);
}

std::vector<Cart> CartStore::find_claimed(std::int64_t limit) {
    db::Bson opts(BCON_NEW("limit", BCON_INT64(limit)));
    std::vector<Cart> carts;
    for (const auto& doc : db_.collection(kCarts).find(
             db::Bson(BCON_NEW("checkout", "{", "$exists", BCON_BOOL(true), "}")), &opts)) {
        carts.push_back(cart_from_bson(doc.view()));
    }
    return carts;
}

std::int64_t CartStore::migrate_lines(const std::string& user_id,
                                      const std::vector<CartLine>& lines) {
    bool changed = false;
    modify(user_id, [&](Cart& cart) {
        changed = false;
        for (const auto& line : lines) {
            if (cart.line_for(line.product_id) != nullptr) continue;
            cart.lines.push_back(line);
            changed = true;
        }
        return changed ? Change::kWrite : Change::kKeep;
    });
    return changed ? 1 : 0;
}

void CartStore::add_history(const std::string& user_id, const std::vector<std::string>& order_ids,
                            const std::map<std::string, std::string>& keys) {
    const bson_oid_t user = require_oid(user_id);
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
        Cart before = find(user_id).value_or(Cart{.user_id = user_id});
        Cart after = before;
        for (const auto& id : order_ids) {
            if (std::find(after.order_ids.begin(), after.order_ids.end(), id) ==
                after.order_ids.end()) {
                after.order_ids.push_back(id);
            }
        }
        after.keys.insert(keys.begin(), keys.end());
        after.version = before.version + 1;
        auto carts = db_.collection(kCarts);
        auto guard = db_.lock_document(kCarts, user);
        if (!before.stored) {
            try {
                carts.insert_one(to_bson(after));
                return;
            } catch (const db::DbError& error) {
                if (error.kind() != db::DbErrorKind::kDuplicateKey) throw;
                continue;
            }
        }
        db::Bson update;
        bson_t set;
        BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
        append_order_ids(&set, after.order_ids);
        append_keys(&set, after.keys);
        BSON_APPEND_INT64(&set, "version", after.version);
        bson_append_document_end(update.get(), &set);
        if (carts
                .update_one(db::Bson(BCON_NEW("_id", BCON_OID(&user), "version",
                                              BCON_INT64(before.version))),
                            update)
                .matched > 0) {
            return;
        }
    }
    throw std::runtime_error("carts: could not record the order history of " + user_id);
}

}  // namespace flaskcart::models
