// Categories: public reads with product counts; admin-only writes.
#include <boost/json.hpp>

#include "http/context.hpp"
#include "models/category_model.hpp"
#include "models/product_model.hpp"
#include "routes/routes.hpp"
#include "services/auth_service.hpp"
#include "services/catalog_read_model.hpp"
#include "utils/helpers.hpp"

namespace flaskcart::routes {

namespace {

using http::ApiError;
using http::RequestContext;
using http::Response;

boost::json::object category_json(const models::Category& category, std::int64_t product_count) {
    return {{"_id", category.id},
            {"name", category.name},
            {"description", category.description},
            {"product_count", product_count},
            {"created_at", helpers::iso8601_utc(category.created_at_ms)},
            {"updated_at", helpers::iso8601_utc(category.updated_at_ms)}};
}

ApiError name_taken() {
    return ApiError::conflict("a category with this name already exists",
                              {{"name", "is already taken"}});
}

class CategoryHandlers {
  public:
    CategoryHandlers(models::CategoryStore& categories, models::ProductStore& products,
                     const services::CatalogReadModel& catalog, services::AuthService& auth)
        : categories_(categories), products_(products), catalog_(catalog), auth_(auth) {}

    Response create(RequestContext& ctx) {
        auth_.require_admin(ctx);
        const auto body = ctx.json_body();
        helpers::FieldReader fields(body, {"name", "description"});
        auto name = fields.string("name", true, 1, models::kMaxCategoryNameLength);
        auto description =
            fields.string("description", false, 0, models::kMaxCategoryDescriptionLength);
        fields.finish();
        auto category = categories_.create(*name, description.value_or(""));
        if (!category) throw name_taken();
        Response response = Response::json(201, category_json(*category, 0));
        response.headers.emplace_back("Location", "/categories/" + category->id);
        return response;
    }

    Response list(RequestContext& ctx) {
        require_loaded(catalog_);
        boost::json::array items;
        for (const auto& item : catalog_.categories()) {
            items.push_back(category_json(item.category, item.product_count));
        }
        return with_etag(Response::json(200, {{"items", std::move(items)}}), ctx);
    }

    Response get(RequestContext& ctx) {
        const std::string& id = ctx.path_param("id");
        require_loaded(catalog_);
        auto category = catalog_.find_category(id);
        if (!category) throw ApiError::not_found("category");
        return Response::json(200, category_json(*category, catalog_.count_in_category(id)));
    }

    Response update(RequestContext& ctx) {
        auth_.require_admin(ctx);
        const std::string& id = ctx.path_param("id");
        require_loaded(catalog_);
        if (!catalog_.has_category(id)) throw ApiError::not_found("category");
        const auto body = ctx.json_body();
        helpers::FieldReader fields(body, {"name", "description"});
        models::CategoryChanges changes;
        if (const auto* name = body.if_contains("name"); name != nullptr && name->is_null()) {
            fields.add_error("name", "must not be null");
        }
        changes.name = fields.string("name", false, 1, models::kMaxCategoryNameLength);
        changes.description =
            fields.string("description", false, 0, models::kMaxCategoryDescriptionLength);
        if (const auto* text = body.if_contains("description"); text && text->is_null()) {
            changes.description = "";
        }
        fields.finish();
        if (!changes.name && !changes.description) {
            throw ApiError::validation("body", "must contain at least one field to change");
        }
        switch (categories_.update(id, changes)) {
            case models::CategoryWrite::kNotFound:
                throw ApiError::not_found("category");
            case models::CategoryWrite::kDuplicateName:
                throw name_taken();
            case models::CategoryWrite::kDone:
                break;
        }
        auto category = catalog_.find_category(id);
        if (!category) throw ApiError::not_found("category");
        return Response::json(200, category_json(*category, catalog_.count_in_category(id)));
    }

    Response remove(RequestContext& ctx) {
        auth_.require_admin(ctx);
        const std::string& id = ctx.path_param("id");
        auto category = categories_.find_by_id(id);
        if (!category) throw ApiError::not_found("category");
        throw_if_in_use(id);
        if (!categories_.remove(id)) throw ApiError::not_found("category");
        // No transactions: a product created between the check and the delete may still have
        // claimed the category. Look again and put the category back if one did.
        if (products_.count_in_category(id) > 0 && categories_.restore(*category)) {
            throw_if_in_use(id);
        }
        return Response::no_content();
    }

  private:
    void throw_if_in_use(const std::string& id) {
        if (const std::int64_t n = products_.count_in_category(id); n > 0) {
            throw ApiError::conflict("the category is still used by " + std::to_string(n) +
                                     (n == 1 ? " product" : " products"));
        }
    }

    models::CategoryStore& categories_;
    models::ProductStore& products_;
    const services::CatalogReadModel& catalog_;
    services::AuthService& auth_;
};

}  // namespace

void register_category_routes(http::Router& router, models::CategoryStore& categories,
                              models::ProductStore& products,
                              const services::CatalogReadModel& catalog,
                              services::AuthService& auth) {
    auto handlers = std::make_shared<CategoryHandlers>(categories, products, catalog, auth);
    router.add("POST", "/categories", bind_handler(handlers, &CategoryHandlers::create));
    // Served from the read model (see register_product_routes): on the network thread.
    router.add("GET", "/categories", bind_handler(handlers, &CategoryHandlers::list),
               {.runs_on_network_thread = true});
    router.add("GET", "/categories/{id}", bind_handler(handlers, &CategoryHandlers::get),
               {.runs_on_network_thread = true});
    router.add("PUT", "/categories/{id}", bind_handler(handlers, &CategoryHandlers::update));
    router.add("DELETE", "/categories/{id}", bind_handler(handlers, &CategoryHandlers::remove));
}

}  // namespace flaskcart::routes
