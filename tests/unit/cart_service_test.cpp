// The cart's rules (services/cart_service), driven through in-memory fakes of the cart lines
// and the product reads: no database.
#include "services/cart_service.hpp"

#include <gtest/gtest.h>

#include <map>
#include <utility>

#include "http/problem.hpp"

namespace flaskcart::services {
namespace {

constexpr const char* kUser = "aaaaaaaaaaaaaaaaaaaaaaaa";

class FakeCart : public models::CartLineStore {
  public:
    std::vector<models::CartLine> lines_for(const std::string& user_id) override {
        std::vector<models::CartLine> out;
        for (const auto& [key, line] : lines)
            if (key.first == user_id) out.push_back(line);
        return out;
    }
    std::optional<models::CartLine> find_line(const std::string& user_id,
                                              const std::string& product_id) override {
        auto it = lines.find({user_id, product_id});
        if (it == lines.end()) return std::nullopt;
        return it->second;
    }
    AddResult add(const std::string& user_id, const std::string& product_id, std::int64_t quantity,
                  std::int64_t max_total) override {
        last_max_total = max_total;
        AddResult result;
        auto it = lines.find({user_id, product_id});
        const std::int64_t previous = it == lines.end() ? 0 : it->second.quantity;
        if (previous + quantity > max_total) {
            result.previous_quantity = previous;
            return result;
        }
        result.created = it == lines.end();
        auto& line = lines[{user_id, product_id}];
        line.user_id = user_id;
        line.product_id = product_id;
        line.quantity = previous + quantity;
        line.added_at_ms = ++clock;
        result.line = line;
        return result;
    }
    std::optional<models::CartLine> set_quantity(const std::string& user_id,
                                                 const std::string& product_id,
                                                 std::int64_t quantity) override {
        auto it = lines.find({user_id, product_id});
        if (it == lines.end()) return std::nullopt;
        it->second.quantity = quantity;
        return it->second;
    }
    bool remove(const std::string& user_id, const std::string& product_id) override {
        return lines.erase({user_id, product_id}) > 0;
    }

    std::map<std::pair<std::string, std::string>, models::CartLine> lines;
    std::int64_t last_max_total = -1;
    std::int64_t clock = 0;
};

class FakeProducts : public ProductLookup {
  public:
    std::optional<models::Product> find_by_id(std::string_view id) override {
        auto it = products.find(std::string(id));
        if (it == products.end()) return std::nullopt;
        return it->second;
    }
    std::vector<models::Product> find_by_ids(const std::vector<std::string>& ids) override {
        std::vector<models::Product> out;
        for (const auto& id : ids)
            if (auto product = find_by_id(id)) out.push_back(*product);
        return out;
    }
    void put(const std::string& id, const std::string& name, std::int64_t price_cents,
             std::int64_t stock) {
        models::Product product;
        product.id = id;
        product.name = name;
        product.price_cents = price_cents;
        product.stock = stock;
        products[id] = product;
    }

    std::map<std::string, models::Product> products;
};

class CartServiceTest : public ::testing::Test {
  protected:
    // The DomainError `call` throws, as the HTTP layer answers it, or a failure.
    template <typename Call>
    static http::ApiError error_of(Call&& call) {
        try {
            call();
        } catch (const DomainError& error) {
            return http::to_api_error(error);
        }
        ADD_FAILURE() << "no DomainError was thrown";
        return http::ApiError::internal();
    }

    FakeCart cart;
    FakeProducts products;
    CartService service{cart, products};
};

TEST_F(CartServiceTest, AddCreatesALineThenGrowsIt) {
    products.put("p1", "Pen", 150, 10);
    bool created = false;
    auto line = service.add_item(kUser, "p1", 2, created);
    EXPECT_TRUE(created);
    EXPECT_EQ(line.quantity, 2);
    line = service.add_item(kUser, "p1", 3, created);
    EXPECT_FALSE(created);
    EXPECT_EQ(line.quantity, 5);
}

TEST_F(CartServiceTest, AddPassesTheSmallerOfStockAndLineMaximumAsTheLimit) {
    bool created = false;
    products.put("few", "Few", 100, 7);
    service.add_item(kUser, "few", 1, created);
    EXPECT_EQ(cart.last_max_total, 7);
    products.put("many", "Many", 100, 5000);
    service.add_item(kUser, "many", 1, created);
    EXPECT_EQ(cart.last_max_total, kMaxLineQuantity);
}

TEST_F(CartServiceTest, AddingAnUnknownProductIs404) {
    bool created = false;
    const auto error = error_of([&] { service.add_item(kUser, "nope", 1, created); });
    EXPECT_EQ(error.status(), 404);
    EXPECT_TRUE(cart.lines.empty());
}

TEST_F(CartServiceTest, AddingBeyondTheStockIs409NamingTheProductAndWhatIsLeft) {
    products.put("p1", "Pen", 150, 4);
    bool created = false;
    service.add_item(kUser, "p1", 3, created);
    const auto error = error_of([&] { service.add_item(kUser, "p1", 2, created); });
    EXPECT_EQ(error.status(), 409);
    ASSERT_EQ(error.errors().size(), 1U);
    EXPECT_EQ(error.errors()[0].first, "p1");
    EXPECT_EQ(error.errors()[0].second, "only 4 available");
    EXPECT_EQ(cart.lines.at({kUser, "p1"}).quantity, 3) << "a refused add changes nothing";
}

TEST_F(CartServiceTest, AddingBeyondTheLineMaximumIs409OnQuantity) {
    products.put("p1", "Pen", 150, 5000);
    bool created = false;
    service.add_item(kUser, "p1", 999, created);
    const auto error = error_of([&] { service.add_item(kUser, "p1", 2, created); });
    EXPECT_EQ(error.status(), 409);
    ASSERT_EQ(error.errors().size(), 1U);
    EXPECT_EQ(error.errors()[0].first, "quantity");
    EXPECT_EQ(cart.lines.at({kUser, "p1"}).quantity, 999);
}

TEST_F(CartServiceTest, UpdateSetsTheQuantityWithinTheStock) {
    products.put("p1", "Pen", 150, 10);
    bool created = false;
    service.add_item(kUser, "p1", 1, created);
    auto line = service.update_item(kUser, "p1", 10);
    ASSERT_TRUE(line);
    EXPECT_EQ(line->quantity, 10);
    const auto error = error_of([&] { service.update_item(kUser, "p1", 11); });
    EXPECT_EQ(error.status(), 409);
    EXPECT_EQ(cart.lines.at({kUser, "p1"}).quantity, 10);
}

TEST_F(CartServiceTest, UpdateToZeroRemovesTheLine) {
    products.put("p1", "Pen", 150, 10);
    bool created = false;
    service.add_item(kUser, "p1", 1, created);
    EXPECT_FALSE(service.update_item(kUser, "p1", 0));
    EXPECT_TRUE(cart.lines.empty());
}

TEST_F(CartServiceTest, UpdatingAMissingLineOrProductIs404) {
    products.put("p1", "Pen", 150, 10);
    EXPECT_EQ(error_of([&] { service.update_item(kUser, "p1", 2); }).status(), 404);
    bool created = false;
    service.add_item(kUser, "p1", 1, created);
    products.products.erase("p1");
    EXPECT_EQ(error_of([&] { service.update_item(kUser, "p1", 2); }).status(), 404);
    EXPECT_EQ(cart.lines.at({kUser, "p1"}).quantity, 1);
}

TEST_F(CartServiceTest, RemovingAMissingLineIs404) {
    EXPECT_EQ(error_of([&] { service.remove_item(kUser, "p1"); }).status(), 404);
}

TEST_F(CartServiceTest, TheViewPricesLinesAtCurrentPricesAndFlagsWhatCannotBeBought) {
    products.put("pen", "Pen", 150, 10);
    products.put("ink", "Ink", 1999, 2);
    products.put("gone", "Gone", 500, 5);
    bool created = false;
    service.add_item(kUser, "pen", 3, created);
    service.add_item(kUser, "ink", 2, created);
    service.add_item(kUser, "gone", 1, created);
    products.put("pen", "Pen", 175, 10);  // the price rose since it was added
    products.put("ink", "Ink", 1999, 1);  // one was sold meanwhile
    products.products.erase("gone");

    const CartView view = service.view(kUser);
    EXPECT_EQ(view.user_id, kUser);
    ASSERT_EQ(view.items.size(), 3U);
    std::map<std::string, CartItemView> by_id;
    for (const auto& item : view.items) by_id[item.product_id] = item;
    EXPECT_EQ(by_id["pen"].line_total_cents, 3 * 175);
    EXPECT_TRUE(by_id["pen"].available);
    EXPECT_EQ(by_id["ink"].line_total_cents, 2 * 1999);
    EXPECT_FALSE(by_id["ink"].available) << "2 in the cart, 1 in stock";
    EXPECT_TRUE(by_id["gone"].name.empty());
    EXPECT_FALSE(by_id["gone"].available);
    EXPECT_EQ(by_id["gone"].line_total_cents, 0);
    EXPECT_EQ(view.total_cents, 3 * 175 + 2 * 1999);
}

TEST_F(CartServiceTest, AnEmptyCartViewsAsNoItemsAndZero) {
    const CartView view = service.view(kUser);
    EXPECT_TRUE(view.items.empty());
    EXPECT_EQ(view.total_cents, 0);
}

}  // namespace
}  // namespace flaskcart::services
