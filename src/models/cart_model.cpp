#include "models/cart_model.hpp"

#include <algorithm>

#include "utils/bson_document.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"
#include "utils/errors.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCarts = "carts";
constexpr const char* kLines = "lines";
constexpr const char* kLineIds = "line_ids";
// Optimistic writes retry this often when other writes keep coming between read and write.
constexpr int kWriteAttempts = 8;

bson_oid_t require_oid(const std::string& id) {
    auto oid = db::parse_oid(id);
    if (!oid) throw std::invalid_argument("carts: not an ObjectId: " + id);
    return *oid;
}

// {field: {$exists: present}}.
db::Bson exists(std::string_view field, bool present) {
    return db::DocumentBuilder()
        .append_document(
            field, [&](db::DocumentBuilder& condition) { condition.append("$exists", present); })
        .build();
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

// A line's id is an ObjectId made when the line is created; its timestamp is when it was added
// (to the second, as for any ObjectId).
std::int64_t added_at_of(const bson_oid_t& line_id) {
    return std::int64_t{bson_oid_get_time_t(&line_id)} * 1000;
}

// The ids of the lines: {<product id>: ObjectId} under line_ids.
std::unordered_map<std::string, bson_oid_t> line_ids_of(const bson_t* doc) {
    std::unordered_map<std::string, bson_oid_t> ids;
    for_each_field(doc, kLineIds, [&](const std::string& key, const bson_iter_t& element) {
        if (!BSON_ITER_HOLDS_OID(&element))
            throw std::runtime_error("carts: a line id not an ObjectId");
        ids.emplace(key, *bson_iter_oid(&element));
    });
    return ids;
}

// lines.<product id> is the quantity, and line_ids.<product id> the line's id. Lines written
// by earlier versions are sub-documents {line_id, quantity, added_at}; they read the same and
// take the flat shape when they next change.
CartLine line_from(const std::string& user_id, const std::string& product_id,
                   const bson_iter_t& element,
                   const std::unordered_map<std::string, bson_oid_t>& line_ids) {
    if (!db::parse_oid(product_id)) throw std::runtime_error("carts: a line of the wrong shape");
    if (BSON_ITER_HOLDS_INT32(&element) || BSON_ITER_HOLDS_INT64(&element)) {
        auto id = line_ids.find(product_id);
        if (id == line_ids.end()) throw std::runtime_error("carts: a line without its id");
        return {db::oid_to_string(id->second), user_id, product_id, bson_iter_as_int64(&element),
                added_at_of(id->second)};
    }
    if (!BSON_ITER_HOLDS_DOCUMENT(&element)) {
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
    // Its added_at was taken when its id was made: the id's timestamp says the same, to the
    // second, and stays what the line reads as once it is rewritten flat.
    return {db::oid_to_string(*line_id), user_id, product_id, *quantity, added_at_of(*line_id)};
}

// lines.<product id>: quantity and line_ids.<product id>: id, as fields of `set` (a $set).
void set_line(db::DocumentBuilder& set, const CartLine& line) {
    const bson_oid_t id = require_oid(line.id);
    require_oid(line.product_id);  // a field path of hex digits only: no dot, no $
    set.append(std::string(kLines) + "." + line.product_id, line.quantity)
        .append(std::string(kLineIds) + "." + line.product_id, id);
}

// The $unset fields that take the line of `product_id` out of the cart.
void unset_line(db::DocumentBuilder& unset, const std::string& product_id) {
    require_oid(product_id);
    unset.append(std::string(kLines) + "." + product_id, "")
        .append(std::string(kLineIds) + "." + product_id, "");
}

// Every line is two scalars, not a sub-document: FerretDB decodes and re-encodes the whole cart
// on every write, and a nested {line_id, quantity, added_at} per line made a 36-line cart's
// update cost about 1.4x what the flat shape costs (bench/README, "The cart line's shape").
void append_lines(db::DocumentBuilder& parent, const std::vector<CartLine>& lines) {
    parent.append_document(kLines, [&](db::DocumentBuilder& doc) {
        for (const auto& line : lines) {
            require_oid(line.product_id);
            doc.append(line.product_id, line.quantity);
        }
    });
    parent.append_document(kLineIds, [&](db::DocumentBuilder& doc) {
        for (const auto& line : lines) doc.append(line.product_id, require_oid(line.id));
    });
}

// The update that turns the stored `before` into `after` (the write is conditional on before's
// version, so the stored cart is exactly `before`): $set of each line added or changed, $unset
// of each line gone, by its paths lines.<product id> and line_ids.<product id> (both, so a line
// of the earlier nested shape becomes flat with its id when it changes). A cart
// change touches one line; sending that line alone keeps the command small however many lines
// the cart holds (FerretDB decodes every field of an update).
db::Bson line_changes(const Cart& before, const Cart& after) {
    std::unordered_map<std::string_view, const CartLine*> old_lines;
    for (const auto& line : before.lines) old_lines.emplace(line.product_id, &line);
    std::vector<const CartLine*> changed;
    for (const auto& line : after.lines) {
        auto it = old_lines.find(line.product_id);
        if (it == old_lines.end() || it->second->id != line.id ||
            it->second->quantity != line.quantity || it->second->added_at_ms != line.added_at_ms) {
            changed.push_back(&line);
        }
        if (it != old_lines.end()) old_lines.erase(it);
    }
    db::DocumentBuilder update;
    update.append_document("$set", [&](db::DocumentBuilder& set) {
        for (const CartLine* line : changed) set_line(set, *line);
        set.append("version", after.version).append("updated_at", db::now());
    });
    if (!old_lines.empty()) {
        update.append_document("$unset", [&](db::DocumentBuilder& unset) {
            for (const auto& removed : old_lines) unset_line(unset, removed.second->product_id);
        });
    }
    return update.build();
}

void append_claim(db::DocumentBuilder& parent, std::string_view key, const CartClaim& claim) {
    const bson_oid_t order = require_oid(claim.order_id);
    parent.append_document(key, [&](db::DocumentBuilder& doc) {
        doc.append("token", claim.token)
            .append("order_id", order)
            .append("claimed_at", db::time_from_ms(claim.claimed_at_ms))
            .append_if_present("key", claim.key_digest)
            .append("fingerprint", claim.fingerprint);
        if (claim.revoked) doc.append("revoked", true);
        if (claim.placed) doc.append("order", to_bson(*claim.placed));
    });
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
    if (auto placed = view.get_document("order")) claim.placed = order_from_bson(placed->view());
    return claim;
}

void append_order_ids(db::DocumentBuilder& parent, const std::vector<std::string>& ids) {
    parent.append_array("order_ids", [&](db::ArrayBuilder& array) {
        for (const auto& id : ids) array.append(require_oid(id));
    });
}

void append_keys(db::DocumentBuilder& parent, const std::map<std::string, std::string>& keys) {
    parent.append_document("keys", [&](db::DocumentBuilder& doc) {
        for (const auto& [digest, order_id] : keys) doc.append(digest, require_oid(order_id));
    });
}

// The operators `fill` appends, and {$inc: {version: 1}}: every write moves the version on.
template <typename Fill>
db::Bson versioned_update(Fill&& fill) {
    db::DocumentBuilder update;
    fill(update);
    update.append_document(
        "$inc", [](db::DocumentBuilder& inc) { inc.append("version", std::int64_t{1}); });
    return update.build();
}

bool is_ordered(const CartLine& line, const Order& order) {
    return std::any_of(order.lines.begin(), order.lines.end(), [&](const OrderLine& ordered) {
        return ordered.product_id == line.product_id;
    });
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
    // Built by append: GCC 12 at -O3 reports a false -Wrestrict for "k" + std::string&&.
    std::string digest = "k";
    digest.append(crypto::digest_hex(key), 0, 32);
    return digest;
}

db::Bson to_bson(const Cart& cart) {
    const std::int64_t now = db::now_ms();
    db::DocumentBuilder doc;
    doc.append("_id", require_oid(cart.user_id))
        .append("version", cart.version)
        .append("updated_at", db::time_from_ms(now));
    append_lines(doc, cart.lines);
    if (cart.checkout) append_claim(doc, "checkout", *cart.checkout);
    append_order_ids(doc, cart.order_ids);
    append_keys(doc, cart.keys);
    return doc.build();
}

Cart cart_from_bson(const db::BsonView& doc) {
    auto user = doc.get_oid("_id");
    auto version = doc.get_int64("version");
    if (!user || !version) throw std::runtime_error("carts: document of the wrong shape");
    Cart cart;
    cart.user_id = db::oid_to_string(*user);
    cart.stored = true;
    cart.version = *version;
    const auto line_ids = line_ids_of(doc.get());
    for_each_field(doc.get(), kLines, [&](const std::string& key, const bson_iter_t& element) {
        cart.lines.push_back(line_from(cart.user_id, key, element, line_ids));
    });
    std::stable_sort(cart.lines.begin(), cart.lines.end(),
                     [](const CartLine& a, const CartLine& b) {
                         return std::tie(a.added_at_ms, a.id) < std::tie(b.added_at_ms, b.id);
                     });
    if (auto claim = doc.get_document("checkout")) cart.checkout = claim_from(claim->view());
    for (const auto& oid : doc.get_oids("order_ids")) {
        cart.order_ids.push_back(db::oid_to_string(oid));
    }
    for_each_field(doc.get(), "keys", [&](const std::string& key, const bson_iter_t& element) {
        if (BSON_ITER_HOLDS_OID(&element)) {
            cart.keys.emplace(key, db::oid_to_string(*bson_iter_oid(&element)));
        }
    });
    return cart;
}

std::optional<Cart> CartStore::find(const std::string& user_id) {
    auto doc = db_.collection(kCarts).find_one(db::id_filter(require_oid(user_id)));
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
    const db::Bson filter = db::DocumentBuilder()
                                .append("_id", require_oid(after.user_id))
                                .append("version", before.version)
                                .build();
    return carts.update_one(filter, line_changes(before, after)).matched > 0;
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
        std::optional<Cart> remembered = attempt == 0 ? recent_.find(user_id) : std::nullopt;
        Cart before;
        if (remembered) {
            before = *remembered;
        } else {
            auto doc = carts.find_one(db::id_filter(user));
            before = doc ? cart_from_bson(doc->view()) : Cart{.user_id = user_id};
        }
        if (before.checkout) throw checkout_in_progress();
        Cart after = before;
        if (change(after) == Change::kKeep) {
            if (!remembered) return before;
            recent_.forget(user_id);  // nothing to write: decide it on the stored cart
            continue;
        }
        after.stored = true;
        after.version = before.version + 1;
        bool written = false;
        try {
            written = write_if_unchanged(carts, before, after);
        } catch (...) {
            recent_.forget(user_id);  // the outcome is unknown
            throw;
        }
        if (written) {
            recent_.remember(after);
            return after;
        }
        recent_.forget(user_id);
    }
    throw DomainError::unavailable("the cart is changing too often; retry", 1);
}

std::optional<Cart> CartStore::RecentCarts::find(const std::string& user_id) const {
    std::lock_guard lock(mutex_);
    auto it = carts_.find(user_id);
    if (it == carts_.end()) return std::nullopt;
    return it->second;
}

void CartStore::RecentCarts::remember(const Cart& cart) {
    std::lock_guard lock(mutex_);
    if (carts_.size() >= kCapacity && carts_.count(cart.user_id) == 0) carts_.clear();
    carts_.insert_or_assign(cart.user_id, cart);
}

void CartStore::RecentCarts::forget(const std::string& user_id) {
    std::lock_guard lock(mutex_);
    carts_.erase(user_id);
}

CartStore::AddResult CartStore::add(const std::string& user_id, const std::string& product_id,
                                    std::int64_t quantity, std::int64_t max_total) {
    AddResult outcome;
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
        const bson_oid_t id = db::new_oid();
        CartLine line{db::oid_to_string(id), user_id, product_id, quantity, added_at_of(id)};
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
    std::int64_t removed = 0;
    for (const auto& doc : db_.collection(kCarts).find(exists("lines." + product_id, true))) {
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
    db::DocumentBuilder filter;
    filter.append("_id", user).append_fields(exists("checkout", false));
    const db::Bson update = versioned_update([&](db::DocumentBuilder& ops) {
        ops.append_document("$set", [&](db::DocumentBuilder& set) {
            append_claim(set, "checkout", claim);
            set.append("updated_at", db::now());
        });
    });
    auto carts = db_.collection(kCarts);
    auto guard = db_.lock_document(kCarts, user);
    // The claim moves the version; the next cart change reads the cart as checkout left it.
    recent_.forget(user_id);
    auto doc = carts.find_one_and_update(filter.build(), update, false);
    if (!doc) return std::nullopt;
    return cart_from_bson(doc->view());
}

bool CartStore::update_claimed(const std::string& user_id, const db::Bson& condition,
                               const db::Bson& update, const std::function<void()>& on_matched) {
    return db_.update_if(kCarts, require_oid(user_id), condition, update, on_matched);
}

bool CartStore::revoke(const std::string& user_id, const std::string& token) {
    db::DocumentBuilder condition;
    condition.append("checkout.token", token).append_fields(exists("checkout.order", false));
    return update_claimed(
        user_id, condition.build(), versioned_update([](db::DocumentBuilder& ops) {
            ops.append_document(
                "$set", [](db::DocumentBuilder& set) { set.append("checkout.revoked", true); });
        }));
}

bool CartStore::release(const std::string& user_id, const std::string& token) {
    return update_claimed(user_id, db::DocumentBuilder().append("checkout.token", token).build(),
                          versioned_update([](db::DocumentBuilder& ops) {
                              ops.append_document("$unset", [](db::DocumentBuilder& unset) {
                                  unset.append("checkout", "");
                              });
                          }));
}

bool CartStore::finish(const std::string& user_id, const std::string& token, const Order& order,
                       const std::optional<std::string>& key_digest, const Cart* known) {
    const bson_oid_t order_oid = require_oid(order.id);
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
        std::optional<Cart> cart =
            known != nullptr && attempt == 0 ? std::optional<Cart>(*known) : find(user_id);
        if (!cart || !cart->checkout || cart->checkout->token != token) return false;
        const db::Bson update = versioned_update([&](db::DocumentBuilder& ops) {
            if (key_digest) {
                ops.append_document("$set", [&](db::DocumentBuilder& set) {
                    set.append("keys." + *key_digest, order_oid);
                });
            }
            // The ordered lines leave the cart; any other line stays.
            ops.append_document("$unset", [&](db::DocumentBuilder& unset) {
                for (const auto& line : cart->lines) {
                    if (is_ordered(line, order)) unset_line(unset, line.product_id);
                }
                unset.append("checkout", "");
            });
            ops.append_document(
                "$push", [&](db::DocumentBuilder& push) { push.append("order_ids", order_oid); });
        });
        const db::Bson condition = db::DocumentBuilder()
                                       .append("version", cart->version)
                                       .append("checkout.token", token)
                                       .build();
        // The cart as this write leaves it: the customer's next cart change starts from it
        // instead of reading the cart again.
        Cart finished = *cart;
        std::erase_if(finished.lines,
                      [&](const CartLine& line) { return is_ordered(line, order); });
        finished.checkout.reset();
        finished.order_ids.push_back(order.id);
        if (key_digest) finished.keys.insert_or_assign(*key_digest, order.id);
        finished.version = cart->version + 1;
        finished.stored = true;
        if (update_claimed(user_id, condition, update, [&] { recent_.remember(finished); })) {
            return true;
        }
    }
    throw DomainError::unavailable("the cart is changing too often; retry", 1);
}

std::vector<Cart> CartStore::find_claimed(std::int64_t limit) {
    const db::Bson opts = db::DocumentBuilder().append("limit", limit).build();
    std::vector<Cart> carts;
    for (const auto& doc : db_.collection(kCarts).find(exists("checkout", true), &opts)) {
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
        auto carts = db_.collection(kCarts);
        auto guard = db_.lock_document(kCarts, user);
        auto doc = carts.find_one(db::id_filter(user));
        Cart cart = doc ? cart_from_bson(doc->view()) : Cart{.user_id = user_id};
        const std::int64_t read_version = cart.version;
        for (const auto& id : order_ids) {
            if (std::find(cart.order_ids.begin(), cart.order_ids.end(), id) ==
                cart.order_ids.end()) {
                cart.order_ids.push_back(id);
            }
        }
        cart.keys.insert(keys.begin(), keys.end());
        cart.version = read_version + 1;
        if (!doc) {
            try {
                carts.insert_one(to_bson(cart));
                return;
            } catch (const db::DbError& error) {
                if (error.kind() != db::DbErrorKind::kDuplicateKey) throw;
                continue;
            }
        }
        db::DocumentBuilder update;
        update.append_document("$set", [&](db::DocumentBuilder& set) {
            append_order_ids(set, cart.order_ids);
            append_keys(set, cart.keys);
            set.append("version", cart.version);
        });
        const db::Bson filter =
            db::DocumentBuilder().append("_id", user).append("version", read_version).build();
        if (carts.update_one(filter, update.build()).matched > 0) return;
    }
    throw std::runtime_error("carts: could not record the order history of " + user_id);
}

}  // namespace flaskcart::models
