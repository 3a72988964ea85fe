// Module 3: the shopping cart (the assignment's cart_routes.py).
#include <boost/json.hpp>

#include "http/context.hpp"
#include "routes/routes.hpp"
#include "services/auth_service.hpp"
#include "services/cart_service.hpp"
#include "utils/object_id.hpp"
#include "utils/money.hpp"
#include "utils/time.hpp"
#include "utils/validation.hpp"

namespace flaskcart::routes {

namespace {

using http::ApiError;
using http::RequestContext;
using http::Response;

boost::json::object line_json(const models::CartLine& line) {
    return {{"_id", line.id},
            {"user_id", line.user_id},
            {"product_id", line.product_id},
            {"quantity", line.quantity},
            {"added_at", time_format::iso8601_utc(line.added_at_ms)}};
}

boost::json::object cart_json(const services::CartView& cart) {
    boost::json::array items;
    for (const auto& item : cart.items) {
        items.push_back({{"product_id", item.product_id},
                         {"name", item.name.empty() ? boost::json::value(nullptr)
                                                    : boost::json::value(item.name)},
                         {"price", money::cents_to_json(item.price_cents)},
                         {"quantity", item.quantity},
                         {"line_total", money::cents_to_json(item.line_total_cents)},
                         {"available", item.available},
                         {"added_at", time_format::iso8601_utc(item.added_at_ms)}});
    }
    return {{"user_id", cart.user_id},
            {"items", std::move(items)},
            {"total_price", money::cents_to_json(cart.total_cents)}};
}

// A product id in a body: a string of 24 hex digits, or a field error.
std::optional<std::string> read_product_id(validation::FieldReader& fields) {
    auto id = fields.string("product_id", {.required = true, .min_length = 1, .max_length = 64});
    if (id && !db::ObjectId::parse(*id)) {
        fields.add_error("product_id", "must be a product id (24 hexadecimal digits)");
        return std::nullopt;
    }
    return id;
}

// Bodies may name the user for clarity; it must be the caller.
void check_body_user(validation::FieldReader& fields, const http::Principal& caller) {
    auto user_id = fields.string("user_id", {.min_length = 1, .max_length = 64});
    if (user_id && *user_id != caller.user_id) {
        fields.finish();
        throw ApiError::forbidden("you may only change your own cart");
    }
}

class CartHandlers {
  public:
    CartHandlers(services::CartService& cart, services::AuthService& auth)
        : cart_(cart), auth_(auth) {}

    Response add(RequestContext& ctx) {
        const auto caller = auth_.require_user(ctx);
        const auto body = ctx.json_body();
        validation::FieldReader fields(body, {"product_id", "quantity", "user_id"});
        check_body_user(fields, caller);
        auto product_id = read_product_id(fields);
        auto quantity = fields.integer(
            "quantity", {.required = true, .min = 1, .max = services::kMaxLineQuantity});
        fields.finish();
        bool created = false;
        auto line = cart_.add_item(caller.user_id, *product_id, *quantity, created);
        return Response::json(created ? 201 : 200, line_json(line));
    }

    Response view_own(RequestContext& ctx) {
        const auto caller = auth_.require_user(ctx);
        return Response::json(200, cart_json(cart_.view(caller.user_id)));
    }

    Response view_user(RequestContext& ctx) {
        const std::string& user_id = ctx.path_param("user_id");
        auth_.require_self_or_admin(ctx, user_id);
        if (!db::ObjectId::parse(user_id)) throw ApiError::not_found("user");
        return Response::json(200, cart_json(cart_.view(user_id)));
    }

    Response update(RequestContext& ctx) {
        const auto caller = auth_.require_user(ctx);
        const auto body = ctx.json_body();
        validation::FieldReader fields(body, {"product_id", "quantity", "user_id"});
        check_body_user(fields, caller);
        auto product_id = read_product_id(fields);
        auto quantity = fields.integer(
            "quantity", {.required = true, .min = 0, .max = services::kMaxLineQuantity});
        fields.finish();
        auto line = cart_.update_item(caller.user_id, *product_id, *quantity);
        if (!line) return Response::no_content();
        return Response::json(200, line_json(*line));
    }

    Response remove(RequestContext& ctx) {
        const auto caller = auth_.require_user(ctx);
        std::optional<std::string> product_id;
        if (auto from_query = ctx.query_param("product_id")) {
            if (!ctx.request().body.empty()) {
                throw ApiError::validation("product_id",
                                           "give it in the body or the query, not both");
            }
            if (!db::ObjectId::parse(*from_query)) {
                throw ApiError::validation("product_id",
                                           "must be a product id (24 hexadecimal digits)");
            }
            product_id = *from_query;
        } else if (ctx.request().body.empty()) {
            throw ApiError::validation("product_id", "is required (in the body or the query)");
        } else {
            const auto body = ctx.json_body();
            validation::FieldReader fields(body, {"product_id", "user_id"});
            check_body_user(fields, caller);
            product_id = read_product_id(fields);
            fields.finish();
        }
        cart_.remove_item(caller.user_id, *product_id);
        return Response::no_content();
    }

  private:
    services::CartService& cart_;
    RequestAuth auth_;
};

}  // namespace

void register_cart_routes(http::Router& router, services::CartService& cart,
                          services::AuthService& auth) {
    auto handlers = std::make_shared<CartHandlers>(cart, auth);
    router.add("POST", "/cart/add", bind_handler(handlers, &CartHandlers::add));
    router.add("GET", "/cart", bind_handler(handlers, &CartHandlers::view_own));
    router.add("GET", "/cart/{user_id}", bind_handler(handlers, &CartHandlers::view_user));
    router.add("PUT", "/cart/update", bind_handler(handlers, &CartHandlers::update));
    router.add("DELETE", "/cart/remove", bind_handler(handlers, &CartHandlers::remove));
}

}  // namespace flaskcart::routes
