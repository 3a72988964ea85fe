#include "services/category_service.hpp"

#include "utils/errors.hpp"

namespace flaskcart::services {

namespace {

DomainError name_taken() {
    return DomainError::conflict("a category with this name already exists",
                                 {{"name", "is already taken"}});
}

}  // namespace

models::Category CategoryService::create(const std::string& name, const std::string& description) {
    auto category = records_.create(name, description);
    if (!category) throw name_taken();
    return *category;
}

void CategoryService::update(const std::string& id, const models::CategoryChanges& changes) {
    switch (records_.update(id, changes)) {
        case models::CategoryWrite::kNotFound:
            throw DomainError::not_found("category");
        case models::CategoryWrite::kDuplicateName:
            throw name_taken();
        case models::CategoryWrite::kDone:
            break;
    }
}

void CategoryService::remove(const std::string& id) {
    auto category = records_.find_by_id(id);
    if (!category) throw DomainError::not_found("category");
    refuse_if_in_use(id);
    if (!records_.remove(id)) throw DomainError::not_found("category");
    // Look again after the delete: a product that raced in has claimed a category that no
    // longer exists, so put it back (when its name is still free) and refuse.
    if (records_.count_products(id) > 0 && records_.restore(*category)) refuse_if_in_use(id);
}

void CategoryService::refuse_if_in_use(const std::string& id) {
    if (const std::int64_t n = records_.count_products(id); n > 0) {
        throw DomainError::conflict("the category is still used by " + std::to_string(n) +
                                    (n == 1 ? " product" : " products"));
    }
}

}  // namespace flaskcart::services
