#include "models/category_model.hpp"

#include <stdexcept>

#include "models/write_listener.hpp"
#include "utils/bson_document.hpp"
#include "utils/db.hpp"
#include "utils/text.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCollection = "categories";

std::optional<Category> category_from_bson(db::BsonView doc) {
    auto id = doc.get_oid("_id");
    auto name = doc.get_string("name");
    if (!id || !name) return std::nullopt;
    Category category;
    category.id = db::oid_to_string(*id);
    category.name = *name;
    category.description = doc.get_string("description").value_or("");
    category.created_at_ms = doc.get_date_ms("created_at").value_or(0);
    category.updated_at_ms = doc.get_date_ms("updated_at").value_or(category.created_at_ms);
    return category;
}

Category checked(const db::Bson& doc) {
    auto category = category_from_bson(doc.view());
    if (!category) throw std::runtime_error("malformed category: " + doc.view().to_debug_json());
    return *category;
}

db::Bson document_for(const bson_oid_t& id, const Category& category) {
    return db::DocumentBuilder()
        .append("_id", id)
        .append("name", category.name)
        .append("name_key", category_name_key(category.name))
        .append("description", category.description)
        .append("created_at", db::time_from_ms(category.created_at_ms))
        .append("updated_at", db::time_from_ms(category.updated_at_ms))
        .build();
}

}  // namespace

std::string category_name_key(std::string_view name) {
    std::string key;
    bool pending_space = false;
    for (char c : text::trim(name)) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            pending_space = true;
            continue;
        }
        if (pending_space) key += ' ';
        pending_space = false;
        key += c;
    }
    return text::to_lower_ascii(key);
}

// name_key_1 (unique): duplicate detection on create and rename, and find_by_name (seed).
// GET /categories sorts by name_key over that same index.
void CategoryStore::ensure_indexes(db::Db& db) {
    db.collection(kCollection).create_indexes({{"name_key_1", {{"name_key", 1}}, true}});
}

std::optional<Category> CategoryStore::create(const std::string& name,
                                              const std::string& description) {
    const bson_oid_t id = db::new_oid();
    const std::int64_t now = db::now_ms();
    Category category{.id = db::oid_to_string(id),
                      .name = name,
                      .description = description,
                      .created_at_ms = now,
                      .updated_at_ms = now};
    auto guard = db_.lock_document(kCollection, id);
    try {
        db_.collection(kCollection).insert_one(document_for(id, category));
    } catch (const db::DbError& error) {
        if (error.kind() == db::DbErrorKind::kDuplicateKey) return std::nullopt;
        throw;
    }
    if (listener_ != nullptr) listener_->category_saved(category);
    return category;
}

std::optional<Category> CategoryStore::find_by_id(std::string_view id) {
    const auto oid = db::parse_oid(id);
    if (!oid) return std::nullopt;
    auto doc = db_.collection(kCollection).find_one(db::id_filter(*oid));
    if (!doc) return std::nullopt;
    return checked(*doc);
}

std::optional<Category> CategoryStore::find_by_name(std::string_view name) {
    auto doc =
        db_.collection(kCollection)
            .find_one(db::DocumentBuilder().append("name_key", category_name_key(name)).build());
    if (!doc) return std::nullopt;
    return checked(*doc);
}

bool CategoryStore::exists(std::string_view id) {
    return find_by_id(id).has_value();
}

std::vector<Category> CategoryStore::list() {
    const db::Bson opts = db::DocumentBuilder()
                              .append("sort", db::DocumentBuilder().append("name_key", 1).build())
                              .build();
    std::vector<Category> out;
    for (const db::Bson& doc : db_.collection(kCollection).find(db::Bson(), &opts)) {
        out.push_back(checked(doc));
    }
    return out;
}

CategoryWrite CategoryStore::update(std::string_view id, const CategoryChanges& changes) {
    const auto oid = db::parse_oid(id);
    if (!oid) return CategoryWrite::kNotFound;
    if (changes.name) {
        // FerretDB reports a unique violation caused by $set as a generic InternalError
        // (code 1), not 11000, so a taken name is looked up first and again after a failure.
        auto holder = find_by_name(*changes.name);
        if (holder && holder->id != id) return CategoryWrite::kDuplicateName;
    }
    db::DocumentBuilder set;
    if (changes.name) {
        set.append("name", *changes.name).append("name_key", category_name_key(*changes.name));
    }
    set.append_if_present("description", changes.description).append("updated_at", db::now());
    const db::Bson update = db::DocumentBuilder().append("$set", set.build()).build();
    try {
        // Db::update_by_id's lock, held until the read model has the state read back.
        auto guard = db_.lock_document(kCollection, *oid);
        if (db_.collection(kCollection).update_one(db::id_filter(*oid), update).matched == 0) {
            return CategoryWrite::kNotFound;
        }
        if (listener_ != nullptr) {
            if (auto category = find_by_id(id)) listener_->category_saved(*category);
        }
    } catch (const db::DbError& error) {
        if (error.is_unavailable() || !changes.name) throw;
        auto holder = find_by_name(*changes.name);
        if (holder && holder->id != id) return CategoryWrite::kDuplicateName;
        throw;
    }
    return CategoryWrite::kDone;
}

bool CategoryStore::remove(std::string_view id) {
    const auto oid = db::parse_oid(id);
    if (!oid) return false;
    auto guard = db_.lock_document(kCollection, *oid);
    const bool removed = db_.collection(kCollection).delete_one(db::id_filter(*oid)) > 0;
    if (removed && listener_ != nullptr) listener_->category_removed(id);
    return removed;
}

bool CategoryStore::restore(const Category& category) {
    const auto oid = db::parse_oid(category.id);
    if (!oid) return false;
    auto guard = db_.lock_document(kCollection, *oid);
    try {
        db_.collection(kCollection).insert_one(document_for(*oid, category));
    } catch (const db::DbError& error) {
        if (error.kind() == db::DbErrorKind::kDuplicateKey) return false;
        throw;
    }
    if (listener_ != nullptr) listener_->category_saved(category);
    return true;
}

}  // namespace flaskcart::models
