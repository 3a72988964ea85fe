// The category write rules (services/category_service) and the product image rule
// (services/product_image_service), driven through in-memory fakes: no database.
#include "services/category_service.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <vector>

#include "services/product_image_service.hpp"
#include "utils/errors.hpp"

namespace flaskcart::services {
namespace {

class FakeCategories : public CategoryRecords {
  public:
    std::optional<models::Category> create(const std::string& name,
                                           const std::string& description) override {
        for (const auto& [id, category] : categories) {
            if (category.name == name) return std::nullopt;
        }
        models::Category category{.id = "c" + std::to_string(categories.size() + 1),
                                  .name = name,
                                  .description = description};
        categories[category.id] = category;
        return category;
    }
    std::optional<models::Category> find_by_id(std::string_view id) override {
        auto it = categories.find(std::string(id));
        if (it == categories.end()) return std::nullopt;
        return it->second;
    }
    models::CategoryWrite update(std::string_view id,
                                 const models::CategoryChanges& changes) override {
        auto it = categories.find(std::string(id));
        if (it == categories.end()) return models::CategoryWrite::kNotFound;
        if (changes.name) {
            for (const auto& [other_id, other] : categories) {
                if (other_id != id && other.name == *changes.name) {
                    return models::CategoryWrite::kDuplicateName;
                }
            }
            it->second.name = *changes.name;
        }
        if (changes.description) it->second.description = *changes.description;
        return models::CategoryWrite::kDone;
    }
    bool remove(std::string_view id) override {
        const bool removed = categories.erase(std::string(id)) > 0;
        // What another request does between the delete and the recount.
        if (removed && after_remove) std::exchange(after_remove, nullptr)();
        return removed;
    }
    bool restore(const models::Category& category) override {
        ++restores;
        if (!restore_succeeds) return false;
        categories[category.id] = category;
        return true;
    }
    std::int64_t count_products(std::string_view category_id) override {
        auto it = products.find(std::string(category_id));
        return it == products.end() ? 0 : it->second;
    }

    std::map<std::string, models::Category> categories;
    std::map<std::string, std::int64_t> products;  // category id → products naming it
    std::function<void()> after_remove;
    bool restore_succeeds = true;
    int restores = 0;
};

template <typename Call>
DomainError error_of(Call&& call) {
    try {
        call();
    } catch (const DomainError& error) {
        return error;
    }
    ADD_FAILURE() << "no DomainError was thrown";
    return DomainError(ErrorKind::kInvalid, "none");
}

class CategoryServiceTest : public ::testing::Test {
  protected:
    FakeCategories records;
    CategoryService categories{records};
};

TEST_F(CategoryServiceTest, ATakenNameIsAConflictNamingTheField) {
    const auto books = categories.create("Books", "");
    const auto error = error_of([&] { categories.create("Books", "again"); });
    EXPECT_EQ(error.kind(), ErrorKind::kConflict);
    ASSERT_EQ(error.fields().size(), 1U);
    EXPECT_EQ(error.fields()[0].first, "name");
    const auto games = categories.create("Games", "");
    EXPECT_EQ(error_of([&] { categories.update(games.id, {.name = "Books"}); }).kind(),
              ErrorKind::kConflict);
    EXPECT_EQ(error_of([&] { categories.update("nope", {.name = "X"}); }).kind(),
              ErrorKind::kNotFound);
    EXPECT_EQ(records.categories.at(books.id).name, "Books");
}

TEST_F(CategoryServiceTest, AnUnusedCategoryIsDeleted) {
    const auto books = categories.create("Books", "");
    categories.remove(books.id);
    EXPECT_TRUE(records.categories.empty());
    EXPECT_EQ(error_of([&] { categories.remove(books.id); }).kind(), ErrorKind::kNotFound);
}

TEST_F(CategoryServiceTest, ACategoryInUseIsRefusedWithTheCountAndKept) {
    const auto books = categories.create("Books", "");
    records.products[books.id] = 2;
    const auto error = error_of([&] { categories.remove(books.id); });
    EXPECT_EQ(error.kind(), ErrorKind::kConflict);
    EXPECT_EQ(error.detail(), "the category is still used by 2 products");
    EXPECT_EQ(records.categories.count(books.id), 1U);
    records.products[books.id] = 1;
    EXPECT_EQ(error_of([&] { categories.remove(books.id); }).detail(),
              "the category is still used by 1 product");
}

TEST_F(CategoryServiceTest, AProductThatRacedTheDeleteGetsItsCategoryBack) {
    const auto books = categories.create("Books", "about books");
    records.after_remove = [&] { records.products[books.id] = 1; };
    const auto error = error_of([&] { categories.remove(books.id); });
    EXPECT_EQ(error.kind(), ErrorKind::kConflict);
    ASSERT_EQ(records.categories.count(books.id), 1U);
    EXPECT_EQ(records.categories.at(books.id).description, "about books");
    EXPECT_EQ(records.restores, 1);
}

TEST_F(CategoryServiceTest, WhenTheNameWasTakenMeanwhileTheDeleteStands) {
    const auto books = categories.create("Books", "");
    records.after_remove = [&] { records.products[books.id] = 1; };
    records.restore_succeeds = false;
    EXPECT_NO_THROW(categories.remove(books.id));
    EXPECT_EQ(records.restores, 1);
    EXPECT_TRUE(records.categories.empty());
}

class FakeImageRecords : public ProductImageRecords {
  public:
    void put_image(std::string_view product_id, std::string content_type,
                   std::string data) override {
        images[std::string(product_id)] = content_type + ":" + data;
    }
    void remove_image(std::string_view product_id) override {
        images.erase(std::string(product_id));
    }
    bool set_image_url(std::string_view product_id, const std::string& image_url) override {
        auto it = products.find(std::string(product_id));
        if (it == products.end()) return false;
        it->second = image_url;
        return true;
    }

    std::map<std::string, std::string> images;    // product id → content type ":" data
    std::map<std::string, std::string> products;  // product id → image_url
};

TEST(ProductImageService, StoresTheImageAndPointsTheProductAtIt) {
    FakeImageRecords records;
    records.products["p1"] = "";
    ProductImageService images(records);
    images.attach("p1", "image/png", "bytes");
    EXPECT_EQ(records.images.at("p1"), "image/png:bytes");
    EXPECT_EQ(records.products.at("p1"), "/products/p1/image");
}

TEST(ProductImageService, AnImageOfAProductDeletedMeanwhileIsRemovedAgain) {
    FakeImageRecords records;
    ProductImageService images(records);
    const auto error = error_of([&] { images.attach("gone", "image/png", "bytes"); });
    EXPECT_EQ(error.kind(), ErrorKind::kNotFound);
    EXPECT_EQ(error.detail(), "product not found");
    EXPECT_TRUE(records.images.empty());
}

}  // namespace
}  // namespace flaskcart::services
