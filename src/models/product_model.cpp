#include "models/product_model.hpp"

#include <stdexcept>

#include "models/cart_model.hpp"
#include "models/write_listener.hpp"
#include "utils/bson_document.hpp"
#include "utils/db.hpp"
#include "utils/money.hpp"
#include "utils/text.hpp"
#include "utils/validation.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCollection = "products";

std::vector<Product> products_from(const std::vector<db::Bson>& docs) {
    std::vector<Product> out;
    out.reserve(docs.size());
    for (const db::Bson& doc : docs) out.push_back(product_from_bson(doc.view()));
    return out;
}

// The checkout bookkeeping arrays are internal and may grow; reads never ship them.
void append_projection(db::DocumentBuilder& opts) {
    opts.append_document("projection", [](db::DocumentBuilder& projection) {
        projection.append("stock_holds", 0).append("stock_returns", 0);
    });
}

db::Bson projection_opts() {
    db::DocumentBuilder opts;
    append_projection(opts);
    return opts.build();
}

void append_catalog_fields(db::DocumentBuilder& doc, const NewProduct& product) {
    doc.append("name", product.name)
        .append("name_lower", text::to_lower_ascii(product.name))
        .append("description", product.description)
        .append("price_cents", product.price_cents);
}

const char* sort_field(ProductSortKey key) {
    switch (key) {
        case ProductSortKey::kName:
            return "name_lower";
        case ProductSortKey::kPrice:
            return "price_cents";
        case ProductSortKey::kCreatedAt:
        case ProductSortKey::kRelevance:
            break;
    }
    return "created_at";
}

db::Bson list_filter(const ProductQuery& query) {
    db::DocumentBuilder filter;
    if (!query.text.empty()) {
        // Escaped, so the user's text matches literally and cannot be a costly pattern.
        const std::string pattern = text::escape_regex(query.text);
        filter.append_array("$or", [&](db::ArrayBuilder& any) {
            for (const char* field : {"name", "description"}) {
                any.append_document([&](db::DocumentBuilder& clause) {
                    clause.append_document(field, [&](db::DocumentBuilder& condition) {
                        condition.append("$regex", pattern).append("$options", "i");
                    });
                });
            }
        });
    }
    if (!query.category_id.empty()) {
        const auto category = db::parse_oid(query.category_id);
        if (category) filter.append("category_id", *category);
    }
    if (query.min_price_cents || query.max_price_cents) {
        filter.append_document("price_cents", [&](db::DocumentBuilder& range) {
            range.append_if_present("$gte", query.min_price_cents)
                .append_if_present("$lte", query.max_price_cents);
        });
    }
    if (query.in_stock_only) {
        filter.append_document("stock", [](db::DocumentBuilder& positive) {
            positive.append("$gt", std::int64_t{0});
        });
    }
    return filter.build();
}

// {$set: the changed fields and updated_at, $unset: the cleared ones} for ProductStore::update.
db::Bson update_document(const ProductChanges& changes) {
    const auto category = changes.category_id ? db::parse_oid(*changes.category_id) : std::nullopt;
    const bool clear_category = changes.category_id && !category;
    const bool clear_image = changes.image_url && changes.image_url->empty();
    db::DocumentBuilder update;
    update.append_document("$set", [&](db::DocumentBuilder& set) {
        if (changes.name) {
            set.append("name", *changes.name)
                .append("name_lower", text::to_lower_ascii(*changes.name));
        }
        set.append_if_present("description", changes.description)
            .append_if_present("price_cents", changes.price_cents)
            .append_if_present("stock", changes.stock)
            .append_if_present("category_id", category);
        if (changes.image_url && !changes.image_url->empty()) {
            set.append("image_url", *changes.image_url);
        }
        set.append("updated_at", db::now());
    });
    if (clear_category || clear_image) {
        update.append_document("$unset", [&](db::DocumentBuilder& unset) {
            if (clear_category) unset.append("category_id", "");
            if (clear_image) unset.append("image_url", "");
        });
    }
    return update.build();
}

// {pipeline: [{$match: {category_id: {$exists: true}}},
//            {$group: {_id: "$category_id", count: {$sum: 1}}}]}
// Only $match/$group/$sum: FerretDB v1 implements little else.
db::Bson category_counts_pipeline() {
    const db::Bson has_category =
        db::DocumentBuilder()
            .append("category_id", db::DocumentBuilder().append("$exists", true).build())
            .build();
    const db::Bson count_by_id =
        db::DocumentBuilder()
            .append("_id", "$category_id")
            .append("count", db::DocumentBuilder().append("$sum", 1).build())
            .build();
    return db::DocumentBuilder()
        .append_array("pipeline",
                      [&](db::ArrayBuilder& stages) {
                          stages
                              .append(db::DocumentBuilder().append("$match", has_category).build())
                              .append(db::DocumentBuilder().append("$group", count_by_id).build());
                      })
        .build();
}

}  // namespace

db::Bson to_bson(const Product& product) {
    const auto id = db::parse_oid(product.id);
    if (!id) throw std::invalid_argument("products: not an ObjectId: " + product.id);
    db::DocumentBuilder doc;
    doc.append("_id", *id);
    append_catalog_fields(doc, {.name = product.name,
                                .description = product.description,
                                .price_cents = product.price_cents});
    doc.append_if_present("category_id", db::parse_oid(product.category_id));
    doc.append("stock", product.stock);
    if (!product.image_url.empty()) doc.append("image_url", product.image_url);
    doc.append("created_at", db::time_from_ms(product.created_at_ms))
        .append("updated_at", db::time_from_ms(product.updated_at_ms));
    return doc.build();
}

Product product_from_bson(const db::BsonView& doc) {
    auto id = doc.get_oid("_id");
    auto name = doc.get_string("name");
    auto price = doc.get_int64("price_cents");
    if (!id || !name || !price) throw std::runtime_error("products: document of the wrong shape");
    Product product;
    product.id = db::oid_to_string(*id);
    product.name = *name;
    product.description = doc.get_string("description").value_or("");
    product.price_cents = *price;
    if (auto category = doc.get_oid("category_id")) {
        product.category_id = db::oid_to_string(*category);
    }
    product.stock = doc.get_int64("stock").value_or(0);
    product.image_url = doc.get_string("image_url").value_or("");
    product.created_at_ms = doc.get_date_ms("created_at").value_or(0);
    product.updated_at_ms = doc.get_date_ms("updated_at").value_or(product.created_at_ms);
    return product;
}

// Indexes, and the queries each one serves on MongoDB (FerretDB's SQLite backend uses only the
// _id index and scans for everything else, so these matter for production only):
// - name_lower_1__id_1: sort=name/-name (walked forwards or backwards; _id breaks ties so pages
//   are stable) and the seed's lookup by name.
// - price_cents_1__id_1: sort=price/-price and the min_price/max_price range, alone or together.
// - created_at_1__id_1: the default sort (-created_at) and sort=created_at.
// - category_id_1_{name_lower,price_cents,created_at}_1: category=<id> combined with each sort
//   (equality prefix, then the sort key, so no in-memory sort), the price range inside one
//   category, the product_count $group and the "category still in use" check on delete.
// - stock_1: in_stock=true when few products are in stock; otherwise the sort index is walked
//   and stock > 0 is a cheap residual filter.
// q is an unanchored case-insensitive regex, which no B-tree index can serve (and FerretDB has
// no text index); it is a residual filter over whichever index above serves the rest.
void ProductStore::ensure_indexes(db::Db& db) {
    db.collection(kCollection)
        .create_indexes({
            {"name_lower_1__id_1", {{"name_lower", 1}, {"_id", 1}}},
            {"price_cents_1__id_1", {{"price_cents", 1}, {"_id", 1}}},
            {"created_at_1__id_1", {{"created_at", 1}, {"_id", 1}}},
            {"category_id_1_name_lower_1", {{"category_id", 1}, {"name_lower", 1}}},
            {"category_id_1_price_cents_1", {{"category_id", 1}, {"price_cents", 1}}},
            {"category_id_1_created_at_1", {{"category_id", 1}, {"created_at", 1}}},
            {"stock_1", {{"stock", 1}}},
        });
}

Product ProductStore::create(const NewProduct& product) {
    const std::int64_t now = db::now_ms();
    const bson_oid_t id = db::new_oid();
    Product created{.id = db::oid_to_string(id),
                    .name = product.name,
                    .description = product.description,
                    .price_cents = product.price_cents,
                    .category_id = product.category_id,
                    .stock = product.stock,
                    .image_url = product.image_url,
                    .created_at_ms = now,
                    .updated_at_ms = now};
    db::Collection products = db_.collection(kCollection);
    // Under the document's lock, so the read model sees this before any later write of it.
    auto guard = db_.lock_document(kCollection, id);
    products.insert_one(to_bson(created));
    if (listener_ != nullptr) listener_->product_saved(created);
    return created;
}

std::optional<Product> ProductStore::find_by_id(std::string_view id) {
    const auto oid = db::parse_oid(id);
    if (!oid) return std::nullopt;
    const db::Bson opts = projection_opts();
    auto doc = db_.collection(kCollection).find_one(db::id_filter(*oid), &opts);
    if (!doc) return std::nullopt;
    return product_from_bson(doc->view());
}

std::vector<Product> ProductStore::find_by_ids(const std::vector<std::string>& ids) {
    std::vector<bson_oid_t> oids;
    oids.reserve(ids.size());
    for (const std::string& id : ids) {
        if (auto oid = db::parse_oid(id)) oids.push_back(*oid);
    }
    if (oids.empty()) return {};
    const db::Bson filter = db::DocumentBuilder().append("_id", db::in_array(oids)).build();
    const db::Bson opts = projection_opts();
    return products_from(db_.collection(kCollection).find(filter, &opts));
}

std::vector<Product> ProductStore::list_all() {
    const db::Bson opts = projection_opts();
    return products_from(db_.collection(kCollection).find(db::Bson(), &opts));
}

ProductPage ProductStore::list(const ProductQuery& query) {
    const db::Bson filter = list_filter(query);
    auto collection = db_.collection(kCollection);
    ProductPage page;
    page.total = collection.count(filter);
    const std::int64_t skip = (query.page - 1) * query.limit;
    if (skip >= page.total) return page;

    const int direction = query.descending ? -1 : 1;
    db::DocumentBuilder opts;
    opts.append_document(
            "sort",
            [&](db::DocumentBuilder& sort) {
                sort.append(sort_field(query.sort_key), direction).append("_id", direction);
            })
        .append("skip", skip)
        .append("limit", query.limit);
    append_projection(opts);
    const db::Bson built = opts.build();
    page.items = products_from(collection.find(filter, &built));
    return page;
}

std::optional<Product> ProductStore::update(std::string_view id, const ProductChanges& changes) {
    const auto oid = db::parse_oid(id);
    if (!oid) return std::nullopt;
    const db::Bson update = update_document(changes);
    // The same per-document lock as Db::update_by_id, held until the read model has the
    // state read back (see models/write_listener.hpp).
    auto guard = db_.lock_document(kCollection, *oid);
    if (db_.collection(kCollection).update_one(db::id_filter(*oid), update).matched == 0) {
        return std::nullopt;
    }
    auto product = find_by_id(id);
    if (product && listener_ != nullptr) listener_->product_saved(*product);
    return product;
}

DeleteProductResult ProductStore::remove(std::string_view id) {
    DeleteProductResult result;
    const auto oid = db::parse_oid(id);
    if (!oid) return result;
    {
        auto guard = db_.lock_document(kCollection, *oid);
        result.deleted = db_.collection(kCollection).delete_one(db::id_filter(*oid)) > 0;
        if (result.deleted && listener_ != nullptr) listener_->product_removed(id);
    }
    if (!result.deleted) return result;
    // No transactions on FerretDB (and none needed): the product is gone first, so carts can
    // no longer gain it; a crash between the steps leaves cart lines that checkout already
    // refuses as "product not found", and an orphan image nobody can reach.
    result.cart_items_removed = CartStore(db_).remove_product_everywhere(std::string(id));
    db_.collection("product_images").delete_one(db::id_filter(*oid));
    return result;
}

bool ProductStore::set_image_url(std::string_view id, const std::string& image_url) {
    const auto oid = db::parse_oid(id);
    if (!oid) return false;
    const db::Bson update = db::DocumentBuilder()
                                .append("$set", db::DocumentBuilder()
                                                    .append("image_url", image_url)
                                                    .append("updated_at", db::now())
                                                    .build())
                                .build();
    auto guard = db_.lock_document(kCollection, *oid);
    if (db_.collection(kCollection).update_one(db::id_filter(*oid), update).matched == 0) {
        return false;
    }
    if (listener_ != nullptr) {
        if (auto product = find_by_id(id)) listener_->product_saved(*product);
    }
    return true;
}

std::int64_t ProductStore::count_in_category(std::string_view category_id) {
    const auto oid = db::parse_oid(category_id);
    if (!oid) return 0;
    return db_.collection(kCollection)
        .count(db::DocumentBuilder().append("category_id", *oid).build());
}

std::map<std::string, std::int64_t> ProductStore::count_by_category() {
    const db::Bson pipeline = category_counts_pipeline();
    std::map<std::string, std::int64_t> counts;
    for (const db::Bson& row : db_.collection(kCollection).aggregate(pipeline)) {
        const auto id = row.view().get_oid("_id");
        if (id) counts[db::oid_to_string(*id)] = row.view().get_int64("count").value_or(0);
    }
    return counts;
}

std::map<std::string, std::string> ProductStore::ids_by_lower_name() {
    const db::Bson opts =
        db::DocumentBuilder()
            .append("projection", db::DocumentBuilder().append("name_lower", 1).build())
            .build();
    std::map<std::string, std::string> out;
    for (const db::Bson& doc : db_.collection(kCollection).find(db::Bson(), &opts)) {
        const auto id = doc.view().get_oid("_id");
        const auto name = doc.view().get_string("name_lower");
        if (id && name) out.emplace(*name, db::oid_to_string(*id));
    }
    return out;
}

void ProductStore::refresh(std::string_view id, const NewProduct& product) {
    const auto oid = db::parse_oid(id);
    if (!oid) return;
    // Stock is left alone: it belongs to the running shop once the product exists.
    db::DocumentBuilder set;
    append_catalog_fields(set, product);
    set.append_if_present("category_id", db::parse_oid(product.category_id))
        .append("updated_at", db::now());
    db_.update_by_id(kCollection, *oid, db::DocumentBuilder().append("$set", set.build()).build());
}

}  // namespace flaskcart::models
