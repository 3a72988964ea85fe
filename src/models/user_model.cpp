#include "models/user_model.hpp"

#include "models/write_listener.hpp"
#include "utils/bson_document.hpp"
#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kUsers = "users";
constexpr const char* kRevokedTokens = "revoked_tokens";

// {$set: {role, updated_at}}
db::Bson role_update(std::string_view role, db::TimePoint at) {
    return db::DocumentBuilder()
        .append("$set", db::DocumentBuilder().append("role", role).append("updated_at", at).build())
        .build();
}

// {expires_at: {<comparison>: date}}
db::Bson expires_at_filter(std::string_view comparison, std::int64_t at_ms) {
    return db::DocumentBuilder()
        .append("expires_at",
                db::DocumentBuilder().append(comparison, db::time_from_ms(at_ms)).build())
        .build();
}

}  // namespace

db::Bson to_bson(const User& user) {
    const auto id = db::parse_oid(user.id);
    if (!id) throw std::invalid_argument("users: not an ObjectId: " + user.id);
    return db::DocumentBuilder()
        .append("_id", *id)
        .append("name", user.name)
        .append("email", user.email)
        .append("password", user.password_hash)
        .append("phone", user.phone)
        .append("address", user.address)
        .append("role", user.role)
        .append("created_at", db::time_from_ms(user.created_at_ms))
        .append("updated_at", db::time_from_ms(user.updated_at_ms))
        .build();
}

User user_from_bson(const db::BsonView& doc) {
    User user;
    auto id = doc.get_oid("_id");
    auto email = doc.get_string("email");
    auto hash = doc.get_string("password");
    if (!id || !email || !hash) throw std::runtime_error("users: document of the wrong shape");
    user.id = db::oid_to_string(*id);
    user.email = *email;
    user.password_hash = *hash;
    user.name = doc.get_string("name").value_or("");
    user.phone = doc.get_string("phone").value_or("");
    user.address = doc.get_string("address").value_or("");
    user.role = doc.get_string("role").value_or(std::string(kRoleCustomer));
    user.created_at_ms = doc.get_date_ms("created_at").value_or(0);
    user.updated_at_ms = doc.get_date_ms("updated_at").value_or(user.created_at_ms);
    return user;
}

void UserStore::ensure_indexes(db::Db& db) {
    // users_email_unique serves login (find by email) and decides duplicate registrations.
    db.collection(kUsers).create_indexes({{"users_email_unique", {{"email", 1}}, true}});
    // revoked_tokens is looked up by _id only; purge_expired scans by expires_at.
    db.collection(kRevokedTokens)
        .create_indexes({{"revoked_expires_at", {{"expires_at", 1}}, false}});
}

std::optional<User> UserStore::create(const NewUser& user) {
    const std::int64_t now = db::now_ms();
    const User created{.id = db::oid_to_string(db::new_oid()),
                       .name = user.name,
                       .email = user.email,
                       .password_hash = user.password_hash,
                       .phone = user.phone,
                       .address = user.address,
                       .role = user.role,
                       .created_at_ms = now,
                       .updated_at_ms = now};
    try {
        db_.collection(kUsers).insert_one(to_bson(created));
    } catch (const db::DbError& error) {
        if (error.kind() == db::DbErrorKind::kDuplicateKey) return std::nullopt;
        throw;
    }
    return created;
}

std::optional<User> UserStore::find_by_id(std::string_view id) {
    auto oid = db::parse_oid(id);
    if (!oid) return std::nullopt;
    auto doc = db_.collection(kUsers).find_one(db::id_filter(*oid));
    if (!doc) return std::nullopt;
    return user_from_bson(doc->view());
}

std::optional<User> UserStore::find_by_email(const std::string& normalized_email) {
    auto doc = db_.collection(kUsers).find_one(
        db::DocumentBuilder().append("email", normalized_email).build());
    if (!doc) return std::nullopt;
    return user_from_bson(doc->view());
}

std::vector<User> UserStore::list(std::int64_t skip, std::int64_t limit) {
    const db::Bson opts =
        db::DocumentBuilder()
            .append("sort", db::DocumentBuilder().append("created_at", 1).append("_id", 1).build())
            .append("skip", skip)
            .append("limit", limit)
            .build();
    std::vector<User> users;
    for (const db::Bson& doc : db_.collection(kUsers).find(db::Bson(), &opts)) {
        users.push_back(user_from_bson(doc.view()));
    }
    return users;
}

std::int64_t UserStore::count() {
    return db_.collection(kUsers).count(db::Bson());
}

std::int64_t UserStore::count_admins() {
    return db_.collection(kUsers).count(db::DocumentBuilder().append("role", "admin").build());
}

std::optional<User> UserStore::update_profile(std::string_view id, const ProfileChanges& changes) {
    auto oid = db::parse_oid(id);
    if (!oid) return std::nullopt;
    db::DocumentBuilder set;
    set.append("updated_at", db::now())
        .append_if_present("name", changes.name)
        .append_if_present("phone", changes.phone)
        .append_if_present("address", changes.address)
        .append_if_present("password", changes.password_hash);
    const db::Bson update = db::DocumentBuilder().append("$set", set.build()).build();
    if (db_.update_by_id(kUsers, *oid, update).matched == 0) return std::nullopt;
    return find_by_id(id);
}

std::optional<User> UserStore::set_role(std::string_view id, std::string_view role) {
    auto oid = db::parse_oid(id);
    if (!oid) return std::nullopt;
    const db::Bson update = role_update(role, db::now());
    // Db::update_by_id's lock, held until the token check's cache has the new role (the
    // client first: no lock is held while waiting for the pool).
    db::Collection users = db_.collection(kUsers);
    auto guard = db_.lock_document(kUsers, *oid);
    if (users.update_one(db::id_filter(*oid), update).matched == 0) {
        return std::nullopt;
    }
    auto user = find_by_id(id);
    if (user && listener_ != nullptr) {
        listener_->user_saved(user->id, user->role, user->updated_at_ms);
    }
    return user;
}

bool UserStore::set_role_if(std::string_view id, std::string_view from, std::string_view to) {
    auto oid = db::parse_oid(id);
    if (!oid) return false;
    const std::string to_text(to);
    const db::TimePoint now = db::now();
    // The token check's cache learns the new role before the document's lock is released.
    return db_.update_if(kUsers, *oid, db::DocumentBuilder().append("role", from).build(),
                         role_update(to, now), [&] {
                             if (listener_ != nullptr) {
                                 listener_->user_saved(std::string(id), to_text,
                                                       now.time_since_epoch().count());
                             }
                         });
}

void RevokedTokenStore::revoke(const std::string& token_id, std::int64_t expires_at_ms) {
    try {
        db_.collection(kRevokedTokens)
            .insert_one(db::DocumentBuilder()
                            .append("_id", token_id)
                            .append("expires_at", db::time_from_ms(expires_at_ms))
                            .build());
    } catch (const db::DbError& error) {
        // Logging out twice is not an error: the token is revoked either way.
        if (error.kind() != db::DbErrorKind::kDuplicateKey) throw;
    }
    if (listener_ != nullptr) listener_->token_revoked(token_id, expires_at_ms);
}

std::vector<std::pair<std::string, std::int64_t>> RevokedTokenStore::list_unexpired(
    std::int64_t now_ms) {
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const db::Bson& doc :
         db_.collection(kRevokedTokens).find(expires_at_filter("$gte", now_ms))) {
        auto id = doc.view().get_string("_id");
        if (id) out.emplace_back(*id, doc.view().get_date_ms("expires_at").value_or(now_ms));
    }
    return out;
}

bool RevokedTokenStore::is_revoked(const std::string& token_id) {
    return db_.collection(kRevokedTokens).find_one(db::id_filter(token_id)).has_value();
}

std::int64_t RevokedTokenStore::purge_expired(std::int64_t now_ms) {
    return db_.collection(kRevokedTokens).delete_many(expires_at_filter("$lt", now_ms));
}

}  // namespace flaskcart::models
