// Categories: public reads with product counts; admin-only writes.
#include <boost/json.hpp>

#include "http/context.hpp"
#include "models/category_model.hpp"
#include "models/product_model.hpp"
#include "routes/routes.hpp"
#include "services/auth_service.hpp"
#include "services/catalog_read_model.hpp"
#include "services/category_service.hpp"
#include "utils/time.hpp"
#include "utils/validation.hpp"

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
            {"created_at", time_format::iso8601_utc(category.created_at_ms)},
            {"updated_at", time_format::iso8601_utc(category.updated_at_ms)}};
}

class CategoryHandlers {
  public:
    CategoryHandlers(models::CategoryStore& categories, models::ProductStore& products,
                     const services::CatalogReadModel& catalog, services::AuthService& auth)
        : records_(categories, products), categories_(records_), catalog_(catalog), auth_(auth) {}

    Response create(RequestContext& ctx) {
        auth_.require_admin(ctx);
        const auto body = ctx.json_body();
        validation::FieldReader fields(body, {"name", "description"});
        auto name = fields.string(
            "name",
            {.required = true, .min_length = 1, .max_length = models::kMaxCategoryNameLength});
        auto description =
            fields.string("description", {.max_length = models::kMaxCategoryDescriptionLength});
        fields.finish();
        const models::Category category = categories_.create(*name, description.value_or(""));
        Response response = Response::json(201, category_json(category, 0));
        response.headers.emplace_back("Location", "/categories/" + category.id);
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
        validation::FieldReader fields(body, {"name", "description"});
        models::CategoryChanges changes;
        fields.refuse_null("name");
        changes.name =
            fields.string("name", {.min_length = 1, .max_length = models::kMaxCategoryNameLength});
        changes.description =
            fields.string("description", {.max_length = models::kMaxCategoryDescriptionLength});
        if (fields.is_null("description")) changes.description = "";
        fields.finish();
        validation::require_some_change(changes.name || changes.description);
        categories_.update(id, changes);
        auto category = catalog_.find_category(id);
        if (!category) throw ApiError::not_found("category");
        return Response::json(200, category_json(*category, catalog_.count_in_category(id)));
    }

    Response remove(RequestContext& ctx) {
        auth_.require_admin(ctx);
        categories_.remove(ctx.path_param("id"));
        return Response::no_content();
    }

  private:
    services::StoredCategoryRecords records_;
    services::CategoryService categories_;
    const services::CatalogReadModel& catalog_;
    RequestAuth auth_;
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
