#include "models/user_model.hpp"

#include "models/write_listener.hpp"
#include "utils/db.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kUsers = "users";
constexpr const char* kRevokedTokens = "revoked_tokens";

db::Bson id_filter(const bson_oid_t& id) {
    return db::Bson(BCON_NEW("_id", BCON_OID(&id)));
}

}  // namespace

db::Bson to_bson(const User& user) {
    const auto id = db::parse_oid(user.id);
    if (!id) throw std::invalid_argument("users: not an ObjectId: " + user.id);
    return db::Bson(BCON_NEW(
        "_id", BCON_OID(&*id), "name", BCON_UTF8(user.name.c_str()), "email",
        BCON_UTF8(user.email.c_str()), "password", BCON_UTF8(user.password_hash.c_str()), "phone",
        BCON_UTF8(user.phone.c_str()), "address", BCON_UTF8(user.address.c_str()), "role",
        BCON_UTF8(user.role.c_str()), "created_at", BCON_DATE_TIME(user.created_at_ms),
        "updated_at", BCON_DATE_TIME(user.updated_at_ms)));
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
    auto doc = db_.collection(kUsers).find_one(id_filter(*oid));
    if (!doc) return std::nullopt;
    return user_from_bson(doc->view());
}

std::optional<User> UserStore::find_by_email(const std::string& normalized_email) {
    auto doc = db_.collection(kUsers).find_one(
        db::Bson(BCON_NEW("email", BCON_UTF8(normalized_email.c_str()))));
    if (!doc) return std::nullopt;
    return user_from_bson(doc->view());
}

std::vector<User> UserStore::list(std::int64_t skip, std::int64_t limit) {
    db::Bson opts(BCON_NEW("sort", "{", "created_at", BCON_INT32(1), "_id", BCON_INT32(1), "}",
                           "skip", BCON_INT64(skip), "limit", BCON_INT64(limit)));
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
    return db_.collection(kUsers).count(db::Bson(BCON_NEW("role", BCON_UTF8("admin"))));
}

std::optional<User> UserStore::update_profile(std::string_view id, const ProfileChanges& changes) {
    auto oid = db::parse_oid(id);
    if (!oid) return std::nullopt;
    db::Bson set(BCON_NEW("updated_at", BCON_DATE_TIME(db::now_ms())));
    if (changes.name) BSON_APPEND_UTF8(set.get(), "name", changes.name->c_str());
    if (changes.phone) BSON_APPEND_UTF8(set.get(), "phone", changes.phone->c_str());
    if (changes.address) BSON_APPEND_UTF8(set.get(), "address", changes.address->c_str());
    if (changes.password_hash)
        BSON_APPEND_UTF8(set.get(), "password", changes.password_hash->c_str());
    db::Bson update;
    BSON_APPEND_DOCUMENT(update.get(), "$set", set.get());
    if (db_.update_by_id(kUsers, *oid, update).matched == 0) return std::nullopt;
    return find_by_id(id);
}

std::optional<User> UserStore::set_role(std::string_view id, std::string_view role) {
    auto oid = db::parse_oid(id);
    if (!oid) return std::nullopt;
    const std::string role_text(role);
    db::Bson update(BCON_NEW("$set", "{", "role", BCON_UTF8(role_text.c_str()), "updated_at",
                             BCON_DATE_TIME(db::now_ms()), "}"));
    // Db::update_by_id's lock, held until the token check's cache has the new role (the
    // client first: no lock is held while waiting for the pool).
    db::Collection users = db_.collection(kUsers);
    auto guard = db_.lock_document(kUsers, *oid);
    if (users.update_one(id_filter(*oid), update).matched == 0) {
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
    const std::string from_text(from);
    const std::string to_text(to);
    const std::int64_t now = db::now_ms();
    // The token check's cache learns the new role before the document's lock is released.
    return db_.update_if(kUsers, *oid, db::Bson(BCON_NEW("role", BCON_UTF8(from_text.c_str()))),
                         db::Bson(BCON_NEW("$set", "{", "role", BCON_UTF8(to_text.c_str()),
                                           "updated_at", BCON_DATE_TIME(now), "}")),
                         [&] {
                             if (listener_ != nullptr)
                                 listener_->user_saved(std::string(id), to_text, now);
                         });
}

void RevokedTokenStore::revoke(const std::string& token_id, std::int64_t expires_at_ms) {
    try {
        db_.collection(kRevokedTokens)
            .insert_one(db::Bson(BCON_NEW("_id", BCON_UTF8(token_id.c_str()), "expires_at",
                                          BCON_DATE_TIME(expires_at_ms))));
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
         db_.collection(kRevokedTokens)
             .find(db::Bson(BCON_NEW("expires_at", "{", "$gte", BCON_DATE_TIME(now_ms), "}")))) {
        auto id = doc.view().get_string("_id");
        if (id) out.emplace_back(*id, doc.view().get_date_ms("expires_at").value_or(now_ms));
    }
    return out;
}

bool RevokedTokenStore::is_revoked(const std::string& token_id) {
    return db_.collection(kRevokedTokens)
        .find_one(db::Bson(BCON_NEW("_id", BCON_UTF8(token_id.c_str()))))
        .has_value();
}

std::int64_t RevokedTokenStore::purge_expired(std::int64_t now_ms) {
    return db_.collection(kRevokedTokens)
        .delete_many(db::Bson(BCON_NEW("expires_at", "{", "$lt", BCON_DATE_TIME(now_ms), "}")));
}

}  // namespace flaskcart::models
