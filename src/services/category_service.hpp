#pragma once
// The category write rules: names are unique (case-insensitively), and a category in use by a
// product cannot be deleted — also when a product claims it while the delete runs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "models/category_model.hpp"
#include "models/product_model.hpp"

namespace flaskcart::services {

// The category records and the one product read the rules need; the seam CategoryService's
// unit tests fake.
class CategoryRecords {
  public:
    virtual ~CategoryRecords() = default;
    // std::nullopt when the name is taken.
    virtual std::optional<models::Category> create(const std::string& name,
                                                   const std::string& description) = 0;
    virtual std::optional<models::Category> find_by_id(std::string_view id) = 0;
    virtual models::CategoryWrite update(std::string_view id,
                                         const models::CategoryChanges& changes) = 0;
    // False when the category did not exist.
    virtual bool remove(std::string_view id) = 0;
    // Puts back a removed category (same id); false when its name has been taken meanwhile.
    virtual bool restore(const models::Category& category) = 0;
    // How many products name the category.
    virtual std::int64_t count_products(std::string_view category_id) = 0;
};

// CategoryRecords over the `categories` and `products` collections.
class StoredCategoryRecords final : public CategoryRecords {
  public:
    StoredCategoryRecords(models::CategoryStore& categories, models::ProductStore& products)
        : categories_(categories), products_(products) {}
    std::optional<models::Category> create(const std::string& name,
                                           const std::string& description) override {
        return categories_.create(name, description);
    }
    std::optional<models::Category> find_by_id(std::string_view id) override {
        return categories_.find_by_id(id);
    }
    models::CategoryWrite update(std::string_view id,
                                 const models::CategoryChanges& changes) override {
        return categories_.update(id, changes);
    }
    bool remove(std::string_view id) override { return categories_.remove(id); }
    bool restore(const models::Category& category) override {
        return categories_.restore(category);
    }
    std::int64_t count_products(std::string_view category_id) override {
        return products_.count_in_category(category_id);
    }

  private:
    models::CategoryStore& categories_;
    models::ProductStore& products_;
};

// Thread-safe when its records are. Refusals are DomainErrors.
class CategoryService {
  public:
    explicit CategoryService(CategoryRecords& records) : records_(records) {}

    // Conflict (field name) when the name is taken.
    models::Category create(const std::string& name, const std::string& description);
    // Not found, or conflict (field name) when the new name is taken.
    void update(const std::string& id, const models::CategoryChanges& changes);
    // Not found, or conflict while any product uses the category. No transactions: a product
    // created between the check and the delete may still claim the category; then it is put
    // back and the delete is refused as if the product had come first.
    void remove(const std::string& id);

  private:
    void refuse_if_in_use(const std::string& id);

    CategoryRecords& records_;
};

}  // namespace flaskcart::services
