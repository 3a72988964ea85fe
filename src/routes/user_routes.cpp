// Module 1: users and authentication (the assignment's user_routes.py).
#include <boost/json.hpp>

#include "config.hpp"
#include "http/client_address.hpp"
#include "http/context.hpp"
#include "models/user_model.hpp"
#include "routes/routes.hpp"
#include "services/account_service.hpp"
#include "services/auth_service.hpp"
#include "utils/text.hpp"
#include "utils/time.hpp"
#include "utils/validation.hpp"

namespace flaskcart::routes {

namespace {

using http::ApiError;
using http::RequestContext;
using http::Response;

boost::json::object user_json(const models::User& user) {
    return {{"_id", user.id},
            {"name", user.name},
            {"email", user.email},
            {"phone", user.phone},
            {"address", user.address},
            {"role", user.role},
            {"created_at", time_format::iso8601_utc(user.created_at_ms)},
            {"updated_at", time_format::iso8601_utc(user.updated_at_ms)}};
}

// Passwords are taken as given (not trimmed): spaces may be part of them.
std::optional<std::string> read_password(const boost::json::object& body, std::string_view name,
                                         validation::PresenceRule rule,
                                         validation::FieldReader& fields) {
    const auto* value = body.if_contains(name);
    if (value == nullptr || value->is_null()) {
        if (rule.required) fields.add_error(std::string(name), "is required");
        return std::nullopt;
    }
    if (!value->is_string()) {
        fields.add_error(std::string(name), "must be a string");
        return std::nullopt;
    }
    std::string password(value->as_string());
    const std::size_t length = text::utf8_length(password);
    if (password.find('\0') != std::string::npos) {
        fields.add_error(std::string(name), "must not contain NUL characters");
        return std::nullopt;
    }
    if (length < services::kMinPasswordLength || length > services::kMaxPasswordLength) {
        fields.add_error(std::string(name),
                         "must be " + std::to_string(services::kMinPasswordLength) + ".." +
                             std::to_string(services::kMaxPasswordLength) + " characters");
        return std::nullopt;
    }
    return password;
}

std::string client_address(const http::Request& request, const http::TrustedProxies& proxies) {
    return proxies.client_address(request.remote_address, request.header("x-forwarded-for"));
}

constexpr validation::TextRule kNameRule{.min_length = 1,
                                         .max_length = services::kMaxUserNameLength};
constexpr validation::TextRule kPhoneRule{.max_length = services::kMaxPhoneLength};
constexpr validation::TextRule kAddressRule{.max_length = services::kMaxAddressLength};

class UserHandlers {
  public:
    UserHandlers(models::UserStore& users, services::AuthService& auth,
                 http::TrustedProxies proxies)
        : users_(users),
          auth_(auth),
          proxies_(std::move(proxies)),
          stored_accounts_(users),
          accounts_(stored_accounts_, auth) {}

    Response register_user(RequestContext& ctx) {
        const auto body = ctx.json_body();
        validation::FieldReader fields(body, {"name", "email", "password", "phone", "address"});
        auto name = fields.string(
            "name",
            {.required = true, .min_length = 1, .max_length = services::kMaxUserNameLength});
        auto email = fields.email("email", {.required = true});
        auto password = read_password(body, "password", {.required = true}, fields);
        auto phone = fields.string("phone", kPhoneRule);
        auto address = fields.string("address", kAddressRule);
        fields.finish();
        auth_.service().admit_registration(client_address(ctx.request(), proxies_));
        const models::User created = accounts_.register_account({
            .name = *name,
            .email = *email,
            .password = *password,
            .phone = phone.value_or(""),
            .address = address.value_or(""),
        });
        Response response = Response::json(201, user_json(created));
        response.headers.emplace_back("Location", "/users/" + created.id);
        return response;
    }

    Response login(RequestContext& ctx) {
        const auto body = ctx.json_body();
        validation::FieldReader fields(body, {"email", "password"});
        auto email = fields.string(
            "email", {.required = true, .min_length = 1, .max_length = services::kMaxEmailLength});
        auto password = read_password(body, "password", {.required = true}, fields);
        fields.finish();
        auto signed_in =
            auth_.service().login(*email, *password, client_address(ctx.request(), proxies_));
        if (!signed_in) {
            throw ApiError(401, "invalid-credentials", "Unauthorized", "invalid email or password",
                           {}, {{"WWW-Authenticate", "Bearer realm=\"flaskcart\""}});
        }
        return Response::json(200, {{"token", signed_in->token.token},
                                    {"token_type", "Bearer"},
                                    {"expires_in", signed_in->token.expires_in},
                                    {"user", user_json(signed_in->user)}});
    }

    Response logout(RequestContext& ctx) {
        auth_.service().revoke(auth_.require_user(ctx));
        return Response::no_content();
    }

    Response get_profile(RequestContext& ctx) {
        const auto caller = auth_.require_user(ctx);
        return Response::json(200, user_json(accounts_.find(caller.user_id)));
    }

    Response update_profile(RequestContext& ctx) {
        const auto caller = auth_.require_user(ctx);
        const auto body = ctx.json_body();
        validation::FieldReader fields(
            body, {"name", "phone", "address", "password", "current_password"});
        services::ProfileUpdate update;
        update.name = fields.string("name", kNameRule);
        update.phone = fields.string("phone", kPhoneRule);
        update.address = fields.string("address", kAddressRule);
        update.new_password = read_password(body, "password", {}, fields);
        if (update.new_password) {
            update.current_password =
                read_password(body, "current_password", {.required = true}, fields).value_or("");
        } else if (const auto* current_value = body.if_contains("current_password");
                   current_value != nullptr && !current_value->is_null()) {
            fields.add_error("current_password", "is only used together with password");
        }
        fields.finish();
        return Response::json(200, user_json(accounts_.update_profile(caller.user_id, update)));
    }

    Response get_user(RequestContext& ctx) {
        const std::string& id = ctx.path_param("id");
        auth_.require_self_or_admin(ctx, id);
        return Response::json(200, user_json(accounts_.find(id)));
    }

    Response list_users(RequestContext& ctx) {
        auth_.require_admin(ctx);
        const auto page =
            validation::require_page(ctx.query_param("page"), ctx.query_param("limit"));
        boost::json::array items;
        for (const auto& user : users_.list(page.skip(), page.limit)) {
            items.push_back(user_json(user));
        }
        return Response::json(
            200, validation::page_json(std::move(items), page.page, page.limit, users_.count()));
    }

    Response set_role(RequestContext& ctx) {
        auth_.require_admin(ctx);
        const auto body = ctx.json_body();
        validation::FieldReader fields(body, {"role"});
        auto role = fields.string("role", {.required = true, .min_length = 1, .max_length = 20});
        if (role && *role != models::kRoleCustomer && *role != models::kRoleAdmin) {
            fields.add_error("role", "must be customer or admin");
        }
        fields.finish();
        return Response::json(200, user_json(accounts_.change_role(ctx.path_param("id"), *role)));
    }

  private:
    models::UserStore& users_;
    RequestAuth auth_;
    http::TrustedProxies proxies_;
    services::StoredAccounts stored_accounts_;
    services::AccountService accounts_;
};

}  // namespace

void register_user_routes(http::Router& router, models::UserStore& users,
                          services::AuthService& auth, const Config& config) {
    auto handlers = std::make_shared<UserHandlers>(
        users, auth, http::TrustedProxies::parse(config.trusted_proxies));
    // Their answers carry the new account's details or a token, without an Authorization header.
    router.add("POST", "/register", bind_handler(handlers, &UserHandlers::register_user),
               {.is_private = true});
    router.add("POST", "/login", bind_handler(handlers, &UserHandlers::login),
               {.is_private = true});
    router.add("POST", "/logout", bind_handler(handlers, &UserHandlers::logout));
    router.add("GET", "/profile", bind_handler(handlers, &UserHandlers::get_profile));
    router.add("PUT", "/profile", bind_handler(handlers, &UserHandlers::update_profile));
    router.add("GET", "/users", bind_handler(handlers, &UserHandlers::list_users));
    router.add("GET", "/users/{id}", bind_handler(handlers, &UserHandlers::get_user));
    router.add("PUT", "/users/{id}/role", bind_handler(handlers, &UserHandlers::set_role));
}

}  // namespace flaskcart::routes
