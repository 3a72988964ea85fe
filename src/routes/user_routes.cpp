// Module 1: users and authentication (the assignment's user_routes.py).
#include <boost/json.hpp>

#include "http/context.hpp"
#include "models/user_model.hpp"
#include "routes/routes.hpp"
#include "services/account_service.hpp"
#include "services/auth_service.hpp"
#include "utils/helpers.hpp"

namespace flaskcart::routes {

namespace {

using http::ApiError;
using http::RequestContext;
using http::Response;

constexpr std::size_t kMinPassword = 8;
constexpr std::size_t kMaxPassword = 128;

boost::json::object user_json(const models::User& user) {
    return {{"_id", user.id},
            {"name", user.name},
            {"email", user.email},
            {"phone", user.phone},
            {"address", user.address},
            {"role", user.role},
            {"created_at", helpers::iso8601_utc(user.created_at_ms)},
            {"updated_at", helpers::iso8601_utc(user.updated_at_ms)}};
}

// Passwords are taken as given (not trimmed): spaces may be part of them.
std::optional<std::string> read_password(const boost::json::object& body, std::string_view name,
                                         bool required, helpers::FieldReader& fields) {
    const auto* value = body.if_contains(name);
    if (value == nullptr || value->is_null()) {
        if (required) fields.add_error(std::string(name), "is required");
        return std::nullopt;
    }
    if (!value->is_string()) {
        fields.add_error(std::string(name), "must be a string");
        return std::nullopt;
    }
    std::string password(value->as_string());
    const std::size_t length = helpers::utf8_length(password);
    if (password.find('\0') != std::string::npos) {
        fields.add_error(std::string(name), "must not contain NUL characters");
        return std::nullopt;
    }
    if (length < kMinPassword || length > kMaxPassword) {
        fields.add_error(std::string(name), "must be 8..128 characters");
        return std::nullopt;
    }
    return password;
}

class UserHandlers {
  public:
    UserHandlers(models::UserStore& users, services::AuthService& auth)
        : users_(users), auth_(auth), accounts_(users) {}

    Response register_user(RequestContext& ctx) {
        const auto body = ctx.json_body();
        helpers::FieldReader fields(body, {"name", "email", "password", "phone", "address"});
        auto name = fields.string("name", true, 1, 100);
        auto email = fields.email("email", true);
        auto password = read_password(body, "password", true, fields);
        auto phone = fields.string("phone", false, 0, 32);
        auto address = fields.string("address", false, 0, 500);
        fields.finish();
        auth_.admit_registration(ctx.request());

        models::NewUser user;
        user.name = *name;
        user.email = *email;
        user.password_hash = auth_.hash_password(*password);
        user.phone = phone.value_or("");
        user.address = address.value_or("");
        auto created = users_.create(user);
        if (!created) {
            throw ApiError::conflict("an account with this email already exists",
                                     {{"email", "is already registered"}});
        }
        Response response = Response::json(201, user_json(*created));
        response.headers.emplace_back("Location", "/users/" + created->id);
        return response;
    }

    Response login(RequestContext& ctx) {
        const auto body = ctx.json_body();
        helpers::FieldReader fields(body, {"email", "password"});
        auto email = fields.string("email", true, 1, 254);
        auto password = read_password(body, "password", true, fields);
        fields.finish();
        auto signed_in = auth_.login(helpers::to_lower_ascii(*email), *password,
                                     auth_.client_address(ctx.request()));
        return Response::json(200, {{"token", signed_in.token.token},
                                    {"token_type", "Bearer"},
                                    {"expires_in", signed_in.token.expires_in},
                                    {"user", user_json(signed_in.user)}});
    }

    Response logout(RequestContext& ctx) {
        auth_.revoke(auth_.require_user(ctx));
        return Response::no_content();
    }

    Response get_profile(RequestContext& ctx) {
        const auto principal = auth_.require_user(ctx);
        auto user = users_.find_by_id(principal.user_id);
        if (!user) throw ApiError::not_found("user");
        return Response::json(200, user_json(*user));
    }

    Response update_profile(RequestContext& ctx) {
        const auto principal = auth_.require_user(ctx);
        const auto body = ctx.json_body();
        helpers::FieldReader fields(body,
                                    {"name", "phone", "address", "password", "current_password"});
        models::ProfileChanges changes;
        changes.name = fields.string("name", false, 1, 100);
        changes.phone = fields.string("phone", false, 0, 32);
        changes.address = fields.string("address", false, 0, 500);
        auto password = read_password(body, "password", false, fields);
        std::optional<std::string> current;
        if (password) {
            current = read_password(body, "current_password", true, fields);
        } else if (const auto* current_value = body.if_contains("current_password");
                   current_value != nullptr && !current_value->is_null()) {
            fields.add_error("current_password", "is only used together with password");
        }
        fields.finish();
        if (password) {
            auto user = users_.find_by_id(principal.user_id);
            if (!user) throw ApiError::not_found("user");
            // A well-formed request whose proof of identity fails: forbidden, not invalid. Not
            // 401, which would tell the client its token is bad.
            if (!auth_.verify_password(user->password_hash, *current)) {
                throw ApiError(403, "forbidden", "Forbidden", "current_password does not match",
                               {{"current_password", "does not match"}});
            }
            changes.password_hash = auth_.hash_password(*password);
        }
        auto updated = users_.update_profile(principal.user_id, changes);
        if (!updated) throw ApiError::not_found("user");
        return Response::json(200, user_json(*updated));
    }

    Response get_user(RequestContext& ctx) {
        const std::string& id = ctx.path_param("id");
        auth_.require_self_or_admin(ctx, id);
        auto user = users_.find_by_id(id);
        if (!user) throw ApiError::not_found("user");
        return Response::json(200, user_json(*user));
    }

    Response list_users(RequestContext& ctx) {
        auth_.require_admin(ctx);
        const auto page = helpers::require_page(ctx.query_param("page"), ctx.query_param("limit"));
        boost::json::array items;
        for (const auto& user : users_.list(page.skip(), page.limit)) {
            items.push_back(user_json(user));
        }
        return Response::json(
            200, helpers::page_json(std::move(items), page.page, page.limit, users_.count()));
    }

    Response set_role(RequestContext& ctx) {
        auth_.require_admin(ctx);
        const auto body = ctx.json_body();
        helpers::FieldReader fields(body, {"role"});
        auto role = fields.string("role", true, 1, 20);
        if (role && *role != models::kRoleCustomer && *role != models::kRoleAdmin) {
            fields.add_error("role", "must be customer or admin");
        }
        fields.finish();
        return Response::json(200, user_json(accounts_.change_role(ctx.path_param("id"), *role)));
    }

  private:
    models::UserStore& users_;
    services::AuthService& auth_;
    services::AccountService accounts_;
};

}  // namespace

void register_user_routes(http::Router& router, models::UserStore& users,
                          services::AuthService& auth) {
    auto handlers = std::make_shared<UserHandlers>(users, auth);
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
