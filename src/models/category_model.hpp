#pragma once
// Collection `categories`: {_id: ObjectId, name, name_key, description, created_at, updated_at}.
// Names are unique regardless of case: `name_key` (trimmed, inner whitespace collapsed, ASCII
// lower-cased) carries a unique index, so the index — not a read-then-write — decides duplicates.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flaskcart::db {
class Db;
}

namespace flaskcart::models {

class WriteListener;

inline constexpr std::size_t kMaxCategoryNameLength = 100;
inline constexpr std::size_t kMaxCategoryDescriptionLength = 2000;

struct Category {
    std::string id;
    std::string name;
    std::string description;
    std::int64_t created_at_ms = 0;
    std::int64_t updated_at_ms = 0;
};

struct CategoryChanges {
    std::optional<std::string> name;
    std::optional<std::string> description;
};

// "  Home   & Kitchen " → "home & kitchen".
std::string category_name_key(std::string_view name);

enum class CategoryWrite { kDone, kNotFound, kDuplicateName };

// Data access for `categories`. Thread-safe; throws db::DbError when the database fails.
class CategoryStore {
  public:
    explicit CategoryStore(db::Db& db) : db_(db) {}
    static void ensure_indexes(db::Db& db);
    // Told about every write after it reached the database; set before serving.
    void set_listener(WriteListener* listener) noexcept { listener_ = listener; }

    // std::nullopt when the name (case-insensitively) is taken.
    std::optional<Category> create(const std::string& name, const std::string& description);
    std::optional<Category> find_by_id(std::string_view id);
    std::optional<Category> find_by_name(std::string_view name);
    bool exists(std::string_view id);
    // Sorted by name_key.
    std::vector<Category> list();
    CategoryWrite update(std::string_view id, const CategoryChanges& changes);
    // Deletes the category; false when it did not exist.
    bool remove(std::string_view id);
    // Puts back a category removed by remove() (same _id), when a product raced in and claimed
    // it; false when its name has been taken meanwhile.
    bool restore(const Category& category);

  private:
    db::Db& db_;
    WriteListener* listener_ = nullptr;
};

}  // namespace flaskcart::models
