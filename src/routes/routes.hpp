#pragma once
// One register_<module>_routes() per module; app.cpp calls them explicitly, in order.

#include <string_view>

#include "http/router.hpp"

namespace flaskcart {
namespace db {
class Db;
}
namespace services {
class AuthService;
class CheckoutService;
}  // namespace services
namespace models {
class UserStore;
class ProductStore;
class CategoryStore;
class ImageStore;
class CartStore;
class OrderStore;
}  // namespace models
struct Config;

namespace routes {

void register_system_routes(http::Router& router, db::Db& db, std::string_view openapi_json);
void register_user_routes(http::Router& router, models::UserStore& users,
                          services::AuthService& auth);
void register_category_routes(http::Router& router, models::CategoryStore& categories,
                              models::ProductStore& products, services::AuthService& auth);
void register_product_routes(http::Router& router, models::ProductStore& products,
                             models::CategoryStore& categories, models::ImageStore& images,
                             services::AuthService& auth, const Config& config);

}  // namespace routes
}  // namespace flaskcart
