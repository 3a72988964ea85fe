#pragma once
// The cart's rules: quantities, stock limits, and the priced view of a cart. A cart line is not
// a reservation (checkout reserves); these checks tell the customer early.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/cart_model.hpp"
#include "models/product_model.hpp"
#include "services/catalog_read_model.hpp"

namespace flaskcart::services {

inline constexpr std::int64_t kMaxLineQuantity = 1000;

struct CartItemView {
    std::string product_id;
    std::string name;  // empty when the product no longer exists
    std::int64_t price_cents = 0;
    std::int64_t quantity = 0;
    std::int64_t line_total_cents = 0;
    bool available = false;  // the product exists and has the quantity in stock
    std::int64_t added_at_ms = 0;
};

struct CartView {
    std::string user_id;
    std::vector<CartItemView> items;
    std::int64_t total_cents = 0;  // current prices of the lines whose product exists
};

// The product reads the cart's rules need; the seam CartService's unit tests fake.
class ProductLookup {
  public:
    virtual ~ProductLookup() = default;
    virtual std::optional<models::Product> find_by_id(std::string_view id) = 0;
    // The products that exist among `ids`, in no particular order.
    virtual std::vector<models::Product> find_by_ids(const std::vector<std::string>& ids) = 0;
};

// ProductLookup over the in-memory catalog (services/catalog_read_model.hpp): no database
// command. The read model holds what the database holds (this instance's writes at once,
// others' within the sync bound); the stock it shows is advisory, checkout's reservation is
// what decides.
class CatalogProductLookup final : public ProductLookup {
  public:
    explicit CatalogProductLookup(const CatalogReadModel& catalog) : catalog_(catalog) {}
    std::optional<models::Product> find_by_id(std::string_view id) override;
    std::vector<models::Product> find_by_ids(const std::vector<std::string>& ids) override;

  private:
    const CatalogReadModel& catalog_;
};

// Thread-safe when its stores are.
class CartService {
  public:
    CartService(models::CartLineStore& cart, ProductLookup& products)
        : cart_(cart), products_(products) {}

    // Throws DomainError: not_found unknown product, conflict more than the stock or a line
    // above kMaxLineQuantity (or a checkout of the cart in progress). `created` says whether
    // the line is new. Database: the cart's read and write (2 commands).
    models::CartLine add_item(const std::string& user_id, const std::string& product_id,
                              std::int64_t quantity, bool& created);
    // Quantity 0 removes the line. not_found when the line or product does not exist.
    std::optional<models::CartLine> update_item(const std::string& user_id,
                                                const std::string& product_id,
                                                std::int64_t quantity);
    void remove_item(const std::string& user_id, const std::string& product_id);
    CartView view(const std::string& user_id);

  private:
    models::CartLineStore& cart_;
    ProductLookup& products_;
};

}  // namespace flaskcart::services
