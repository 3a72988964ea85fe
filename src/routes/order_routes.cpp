// Module 4: orders (the assignment's order_routes.py). Rules live in services/checkout_service.
#include <boost/json.hpp>

#include "http/context.hpp"
#include "models/order_model.hpp"
#include "routes/routes.hpp"
#include "services/auth_service.hpp"
#include "services/checkout_service.hpp"
#include "services/order_rules.hpp"
#include "utils/crypto.hpp"
#include "utils/object_id.hpp"
#include "utils/money.hpp"
#include "utils/time.hpp"
#include "utils/validation.hpp"

namespace flaskcart::routes {

namespace {

using http::ApiError;
using http::RequestContext;
using http::Response;

boost::json::object order_json(const models::Order& order) {
    boost::json::array lines;
    for (const auto& line : order.lines) {
        lines.push_back({{"product_id", line.product_id},
                         {"name", line.name},
                         {"quantity", line.quantity},
                         {"price", money::cents_to_json(line.price_cents)},
                         {"line_total", money::cents_to_json(line.price_cents * line.quantity)}});
    }
    boost::json::array history;
    for (const auto& change : order.history) {
        // `reserving` is checkout's internal step, not a status the client ever saw.
        if (!services::is_client_status(change.status)) continue;
        history.push_back(
            {{"status", change.status}, {"at", time_format::iso8601_utc(change.at_ms)}});
    }
    return {{"_id", order.id},
            {"user_id", order.user_id},
            {"products", std::move(lines)},
            {"total_price", money::cents_to_json(order.total_cents)},
            {"status", order.status},
            {"status_history", std::move(history)},
            {"created_at", time_format::iso8601_utc(order.created_at_ms)},
            {"updated_at", time_format::iso8601_utc(order.updated_at_ms)}};
}

services::Actor actor_of(const http::Principal& caller) {
    return {caller.user_id, caller.is_admin()};
}

std::optional<std::string> read_idempotency_key(const RequestContext& ctx) {
    auto key = ctx.header("idempotency-key");
    if (!key) return std::nullopt;
    // The draft's key is a string; a quoted sf-string is accepted as well.
    std::string_view text = *key;
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
        text = text.substr(1, text.size() - 2);
    }
    const bool printable =
        std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7F; });
    if (text.empty() || text.size() > 255 || !printable) {
        throw ApiError::validation("Idempotency-Key", "must be 1..255 visible ASCII characters");
    }
    return std::string(text);
}

class OrderHandlers {
  public:
    OrderHandlers(services::CheckoutService& checkout, services::AuthService& auth)
        : checkout_(checkout), auth_(auth) {}

    Response place(RequestContext& ctx) {
        const auto caller = auth_.require_user(ctx);
        const auto body = ctx.optional_json_body();
        validation::FieldReader fields(body, {"user_id"});
        auto user_id = fields.string("user_id", {.min_length = 1, .max_length = 64});
        fields.finish();
        if (user_id && *user_id != caller.user_id) {
            throw ApiError::forbidden("you may only place orders for yourself");
        }
        services::PlaceOrderRequest request;
        request.user_id = caller.user_id;
        request.idempotency_key = read_idempotency_key(ctx);
        // The parsed body, re-serialized: formatting does not make a request different, and an
        // absent body is the same request as {}.
        request.fingerprint = crypto::digest_hex(boost::json::serialize(body));
        auto result = checkout_.place_order(request);
        Response response = Response::json(201, order_json(result.order));
        response.headers.emplace_back("Location", "/order/" + result.order.id);
        if (result.is_replay) response.headers.emplace_back("Idempotent-Replayed", "true");
        return response;
    }

    Response list_for_user(RequestContext& ctx) {
        const std::string& user_id = ctx.path_param("user_id");
        auth_.require_self_or_admin(ctx, user_id);
        if (!db::ObjectId::parse(user_id)) throw ApiError::not_found("user");
        return list(ctx, user_id);
    }

    Response list_own(RequestContext& ctx) { return list(ctx, auth_.require_user(ctx).user_id); }

    Response get(RequestContext& ctx) {
        const auto caller = auth_.require_user(ctx);
        return Response::json(
            200, order_json(checkout_.order_for(ctx.path_param("order_id"), actor_of(caller))));
    }

    Response set_status(RequestContext& ctx) {
        const auto caller = auth_.require_user(ctx);
        const auto body = ctx.json_body();
        validation::FieldReader fields(body, {"status"});
        auto status =
            fields.string("status", {.required = true, .min_length = 1, .max_length = 20});
        if (status && !services::is_client_status(*status)) {
            fields.add_error("status", "must be pending, paid, shipped, delivered or cancelled");
        }
        fields.finish();
        auto order = checkout_.change_status(ctx.path_param("order_id"), *status, actor_of(caller));
        return Response::json(200, order_json(order));
    }

  private:
    Response list(RequestContext& ctx, const std::string& user_id) {
        const auto page =
            validation::require_page(ctx.query_param("page"), ctx.query_param("limit"));
        auto orders = checkout_.orders_of(user_id, page.skip(), page.limit);
        boost::json::array items;
        for (const auto& order : orders.orders) items.push_back(order_json(order));
        return Response::json(
            200, validation::page_json(std::move(items), page.page, page.limit, orders.total));
    }

    services::CheckoutService& checkout_;
    RequestAuth auth_;
};

}  // namespace

void register_order_routes(http::Router& router, services::CheckoutService& checkout,
                           services::AuthService& auth) {
    auto handlers = std::make_shared<OrderHandlers>(checkout, auth);
    router.add("POST", "/order", bind_handler(handlers, &OrderHandlers::place));
    router.add("GET", "/orders", bind_handler(handlers, &OrderHandlers::list_own));
    router.add("GET", "/orders/{user_id}", bind_handler(handlers, &OrderHandlers::list_for_user));
    router.add("GET", "/order/{order_id}", bind_handler(handlers, &OrderHandlers::get));
    router.add("PUT", "/order/{order_id}/status",
               bind_handler(handlers, &OrderHandlers::set_status));
}

}  // namespace flaskcart::routes
