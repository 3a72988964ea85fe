// Products: public reads with search, filters and pagination; admin-only writes; product images.
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "config.hpp"
#include "http/context.hpp"
#include "models/image_model.hpp"
#include "models/product_model.hpp"
#include "routes/product_query.hpp"
#include "routes/routes.hpp"
#include "services/auth_service.hpp"
#include "services/catalog_read_model.hpp"
#include "services/product_image_service.hpp"
#include "utils/money.hpp"
#include "utils/object_id.hpp"
#include "utils/text.hpp"
#include "utils/time.hpp"
#include "utils/validation.hpp"

namespace flaskcart::routes {

namespace {

using http::ApiError;
using http::RequestContext;
using http::Response;

constexpr std::size_t kMaxUrlLength = 2048;

bool is_web_url(const std::string& text) {
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed) return false;
    const auto scheme = parsed->scheme_id();
    return (scheme == boost::urls::scheme::http || scheme == boost::urls::scheme::https) &&
           parsed->has_authority() && !parsed->host().empty();
}

// The media type without parameters, lower-cased ("Image/PNG; x=y" → "image/png").
std::string media_type(std::string_view content_type) {
    return text::to_lower_ascii(text::trim(content_type.substr(0, content_type.find(';'))));
}

// A create needs every required field; an update changes the fields it names.
enum class ProductBody { kCreate, kPartialUpdate };

// Reads a create or a partial update. A JSON null clears the optional fields (description,
// category, image_url) and is refused for the others.
models::ProductChanges read_product(const http::JsonBody& document, ProductBody kind,
                                    const services::CatalogReadModel& catalog) {
    const bool is_create = kind == ProductBody::kCreate;
    validation::FieldReader reader(
        document, {"name", "description", "price", "category", "stock", "image_url"});
    const boost::json::object& body = document.fields;
    if (!is_create) {
        for (std::string_view name : {"name", "price", "stock"}) reader.refuse_null(name);
    }
    models::ProductChanges changes;
    changes.name = reader.string(
        "name",
        {.required = is_create, .min_length = 1, .max_length = models::kMaxProductNameLength});
    changes.description =
        reader.string("description", {.max_length = models::kMaxDescriptionLength});
    if (reader.is_null("description")) changes.description = "";
    changes.price_cents = reader.price("price", {.required = is_create});
    changes.stock =
        reader.integer("stock", {.required = is_create, .min = 0, .max = models::kMaxStock});

    if (const auto* category = body.if_contains("category")) {
        if (category->is_null()) {
            changes.category_id = "";
        } else if (category->is_string() && db::ObjectId::parse(category->as_string())) {
            changes.category_id = std::string(category->as_string());
        } else {
            reader.add_error("category", "must be a category id (24 hexadecimal digits)");
        }
    }
    if (reader.is_null("image_url")) {
        changes.image_url = "";
    } else if (auto url =
                   reader.string("image_url", {.min_length = 1, .max_length = kMaxUrlLength})) {
        if (is_web_url(*url)) {
            changes.image_url = std::move(url);
        } else {
            reader.add_error("image_url", "must be an http or https URL");
        }
    }
    reader.finish();
    if (!is_create) validation::require_some_change(!changes.is_empty());
    // A well-formed id of a category that does not exist: the body conflicts with the catalog's
    // current state. Not 404, which would say the product itself is missing.
    if (changes.category_id && !changes.category_id->empty() &&
        !catalog.has_category(*changes.category_id)) {
        throw ApiError::conflict("the category does not exist", {{"category", "no such category"}});
    }
    return changes;
}

boost::json::object product_json(const models::Product& product) {
    boost::json::object out;
    out["_id"] = product.id;
    out["name"] = product.name;
    out["description"] = product.description;
    out["price"] = money::cents_to_json(product.price_cents);
    out["category"] = product.category_id.empty() ? boost::json::value(nullptr)
                                                  : boost::json::value(product.category_id);
    out["stock"] = product.stock;
    out["image_url"] = product.image_url.empty() ? boost::json::value(nullptr)
                                                 : boost::json::value(product.image_url);
    out["created_at"] = time_format::iso8601_utc(product.created_at_ms);
    out["updated_at"] = time_format::iso8601_utc(product.updated_at_ms);
    return out;
}

boost::json::array category_facets_json(
    const std::vector<services::ListingFacets::CategoryCount>& categories) {
    boost::json::array out;
    out.reserve(categories.size());
    for (const auto& category : categories) {
        out.push_back({{"_id", category.id}, {"name", category.name}, {"count", category.count}});
    }
    return out;
}

// {"categories":[...],"price":{"min":…,"max":…},"in_stock":N}; the categories as the read model
// kept them rendered when it did.
std::string facets_json_text(const services::ListingFacets& facets) {
    const auto price = [](const std::optional<std::int64_t>& cents) {
        return cents ? money::cents_to_json(*cents) : boost::json::value(nullptr);
    };
    std::string out = "{\"categories\":";
    out += facets.categories_json ? *facets.categories_json
                                  : render_category_facets_json(facets.categories);
    out += ",\"price\":";
    out += http::to_json_text(boost::json::object{{"min", price(facets.min_price_cents)},
                                                  {"max", price(facets.max_price_cents)}});
    out += ",\"in_stock\":" + std::to_string(facets.in_stock) + "}";
    return out;
}

class ProductHandlers {
  public:
    ProductHandlers(models::ProductStore& products, models::ImageStore& images,
                    const services::CatalogReadModel& catalog, services::AuthService& auth,
                    std::size_t max_image_bytes)
        : products_(products),
          images_(images),
          image_records_(images, products),
          product_images_(image_records_),
          catalog_(catalog),
          auth_(auth),
          max_image_bytes_(max_image_bytes) {}

    Response create(RequestContext& ctx) {
        auth_.require_admin(ctx);
        require_loaded(catalog_);
        const auto changes = read_product(ctx.exact_json_body(), ProductBody::kCreate, catalog_);
        const models::Product product = products_.create({
            .name = *changes.name,
            .description = changes.description.value_or(""),
            .price_cents = *changes.price_cents,
            .category_id = changes.category_id.value_or(""),
            .stock = *changes.stock,
            .image_url = changes.image_url.value_or(""),
        });
        Response response = Response::json(201, product_json(product));
        response.headers.emplace_back("Location", "/products/" + product.id);
        return response;
    }

    Response list(RequestContext& ctx) {
        http::FieldErrors errors;
        const models::ProductQuery query = parse_product_query(ctx, errors);
        if (!errors.empty()) throw ApiError::validation(std::move(errors));
        require_loaded(catalog_);
        // The products are kept rendered: the page is a concatenation, byte for byte what
        // validation::page_json() would give, followed by the facets.
        const services::RenderedPage page = catalog_.list_rendered(query);
        Response response;
        std::size_t size = 256;
        for (const auto& item : page.items) size += item.size() + 1;
        response.body.reserve(size);
        response.body += "{\"items\":[";
        for (std::size_t i = 0; i < page.items.size(); ++i) {
            if (i > 0) response.body += ',';
            response.body += page.items[i];
        }
        response.body += "],\"page\":" + std::to_string(query.page) +
                         ",\"limit\":" + std::to_string(query.limit) +
                         ",\"total\":" + std::to_string(page.total) +
                         ",\"facets\":" + facets_json_text(page.facets) + "}";
        return response;
    }

    Response suggest(RequestContext& ctx) {
        http::FieldErrors errors;
        const SuggestQuery query = parse_suggest_query(ctx, errors);
        if (!errors.empty()) throw ApiError::validation(std::move(errors));
        require_loaded(catalog_);
        boost::json::array items;
        for (const auto& suggestion : catalog_.suggest(query.text, query.limit)) {
            items.push_back({{"_id", suggestion.id}, {"name", suggestion.name}});
        }
        return Response::json(200, boost::json::object{{"items", std::move(items)}});
    }

    Response get(RequestContext& ctx) {
        require_loaded(catalog_);
        auto rendered = catalog_.find_rendered(ctx.path_param("id"));
        if (!rendered) throw ApiError::not_found("product");
        Response response;
        response.body = std::move(*rendered);
        return with_etag(std::move(response), ctx);
    }

    Response update(RequestContext& ctx) {
        auth_.require_admin(ctx);
        const std::string& id = ctx.path_param("id");
        require_loaded(catalog_);
        if (!catalog_.find_product(id)) throw ApiError::not_found("product");
        const auto changes =
            read_product(ctx.exact_json_body(), ProductBody::kPartialUpdate, catalog_);
        auto product = products_.update(id, changes);
        if (!product) throw ApiError::not_found("product");
        return Response::json(200, product_json(*product));
    }

    Response remove(RequestContext& ctx) {
        auth_.require_admin(ctx);
        if (!products_.remove(ctx.path_param("id")).deleted) throw ApiError::not_found("product");
        return Response::no_content();
    }

    Response upload_image(RequestContext& ctx) {
        auth_.require_admin(ctx);
        const std::string& id = ctx.path_param("id");
        require_loaded(catalog_);
        if (!catalog_.find_product(id)) throw ApiError::not_found("product");
        const std::string& body = ctx.request().body;
        if (body.size() > max_image_bytes_) {
            throw ApiError::payload_too_large("an image may be at most " +
                                              std::to_string(max_image_bytes_) + " bytes");
        }
        const std::string declared = media_type(ctx.header("content-type").value_or(""));
        if (declared != "image/jpeg" && declared != "image/png" && declared != "image/webp") {
            throw ApiError::unsupported_media_type(
                "send the image as image/jpeg, image/png or image/webp");
        }
        const auto detected = models::detect_image_type(body);
        if (!detected || *detected != declared) {
            throw ApiError::unsupported_media_type("the body is not a " + declared + " image");
        }
        product_images_.attach(id, declared, body);
        auto product = catalog_.find_product(id);
        if (!product) throw ApiError::not_found("product");
        return Response::json(200, product_json(*product));
    }

    Response get_image(RequestContext& ctx) {
        auto image = images_.find(ctx.path_param("id"));
        if (!image) throw ApiError::not_found("image");
        Response response;
        response.headers.emplace_back("ETag", image->etag());
        // The URL stays the same when the image is replaced: caches keep a copy but revalidate
        // each time, which costs a 304 without the bytes.
        response.headers.emplace_back("Cache-Control", "public, no-cache");
        response.headers.emplace_back("X-Content-Type-Options", "nosniff");
        const auto if_none_match = ctx.header("if-none-match");
        if (if_none_match && models::if_none_match_matches(*if_none_match, image->etag())) {
            response.status = 304;
            response.content_type.clear();
            return response;
        }
        response.content_type = image->content_type;
        response.body = std::move(image->data);
        return response;
    }

  private:
    models::ProductStore& products_;
    models::ImageStore& images_;
    services::StoredProductImageRecords image_records_;
    services::ProductImageService product_images_;
    const services::CatalogReadModel& catalog_;
    RequestAuth auth_;
    std::size_t max_image_bytes_;
};

}  // namespace

std::string render_category_facets_json(
    const std::vector<services::ListingFacets::CategoryCount>& categories) {
    return http::to_json_text(category_facets_json(categories));
}

std::string render_product_json(const models::Product& product) {
    return http::to_json_text(product_json(product));
}

void register_product_routes(http::Router& router, models::ProductStore& products,
                             models::ImageStore& images, const services::CatalogReadModel& catalog,
                             services::AuthService& auth, const Config& config) {
    auto handlers =
        std::make_shared<ProductHandlers>(products, images, catalog, auth, config.max_image_bytes);
    router.add("POST", "/products", bind_handler(handlers, &ProductHandlers::create));
    // Catalog reads are served from the read model, never from the database: they run on the
    // network thread, without a hop to the worker pool.
    router.add("GET", "/products", bind_handler(handlers, &ProductHandlers::list),
               {.runs_on_network_thread = true});
    router.add("GET", "/products/suggest", bind_handler(handlers, &ProductHandlers::suggest),
               {.runs_on_network_thread = true});
    router.add("GET", "/products/{id}", bind_handler(handlers, &ProductHandlers::get),
               {.runs_on_network_thread = true});
    router.add("PUT", "/products/{id}", bind_handler(handlers, &ProductHandlers::update));
    router.add("DELETE", "/products/{id}", bind_handler(handlers, &ProductHandlers::remove));
    router.add("POST", "/products/{id}/image",
               bind_handler(handlers, &ProductHandlers::upload_image));
    router.add("GET", "/products/{id}/image", bind_handler(handlers, &ProductHandlers::get_image));
}

}  // namespace flaskcart::routes
