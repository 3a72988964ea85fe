#include "services/cart_service.hpp"

#include <algorithm>
#include <map>

#include "services/order_rules.hpp"

namespace flaskcart::services {

std::optional<models::Product> CatalogProductLookup::find_by_id(std::string_view id) {
    return catalog_.find_product(id);
}

std::vector<models::Product> CatalogProductLookup::find_by_ids(
    const std::vector<std::string>& ids) {
    std::vector<models::Product> found;
    for (const auto& id : ids) {
        if (auto product = catalog_.find_product(id)) found.push_back(std::move(*product));
    }
    return found;
}

models::CartLine CartService::add_item(const std::string& user_id, const std::string& product_id,
                                       std::int64_t quantity, bool& created) {
    auto product = products_.find_by_id(product_id);
    if (!product) throw DomainError::not_found("product");
    auto result =
        cart_.add(user_id, product_id, quantity, std::min(kMaxLineQuantity, product->stock));
    if (!result.line) {
        if (result.previous_quantity + quantity > kMaxLineQuantity) {
            // The quantity is valid on its own; it conflicts with what the line already holds.
            throw DomainError::conflict("a cart line holds at most 1000 units",
                                        {{"quantity", "a cart line holds at most 1000 units"}});
        }
        throw short_of_stock(product->id, product->name, product->stock);
    }
    created = result.created;
    return *result.line;
}

std::optional<models::CartLine> CartService::update_item(const std::string& user_id,
                                                         const std::string& product_id,
                                                         std::int64_t quantity) {
    if (quantity == 0) {
        remove_item(user_id, product_id);
        return std::nullopt;
    }
    // The product first (from memory); the line is checked by the write itself, so the
    // update costs the cart's read and write only.
    auto product = products_.find_by_id(product_id);
    if (!product) {
        if (!cart_.find_line(user_id, product_id)) throw DomainError::not_found("cart line");
        throw DomainError::not_found("product");
    }
    if (quantity > product->stock) {
        if (!cart_.find_line(user_id, product_id)) throw DomainError::not_found("cart line");
        throw short_of_stock(product->id, product->name, product->stock);
    }
    auto line = cart_.set_quantity(user_id, product_id, quantity);
    if (!line) throw DomainError::not_found("cart line");
    return line;
}

void CartService::remove_item(const std::string& user_id, const std::string& product_id) {
    if (!cart_.remove(user_id, product_id)) throw DomainError::not_found("cart line");
}

CartView CartService::view(const std::string& user_id) {
    CartView view;
    view.user_id = user_id;
    const auto lines = cart_.lines_for(user_id);
    std::vector<std::string> ids;
    ids.reserve(lines.size());
    for (const auto& line : lines) ids.push_back(line.product_id);
    std::map<std::string, models::Product> products;
    for (auto& product : products_.find_by_ids(ids)) products.emplace(product.id, product);
    for (const auto& line : lines) {
        CartItemView item;
        item.product_id = line.product_id;
        item.quantity = line.quantity;
        item.added_at_ms = line.added_at_ms;
        if (auto it = products.find(line.product_id); it != products.end()) {
            item.name = it->second.name;
            item.price_cents = it->second.price_cents;
            item.line_total_cents = item.price_cents * line.quantity;
            item.available = it->second.stock >= line.quantity;
            view.total_cents += item.line_total_cents;
        }
        view.items.push_back(std::move(item));
    }
    return view;
}

}  // namespace flaskcart::services
