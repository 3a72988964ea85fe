#include "models/product_model.hpp"

#include <stdexcept>

#include "models/write_listener.hpp"
#include "utils/db.hpp"
#include "utils/helpers.hpp"

namespace flaskcart::models {

namespace {

constexpr const char* kCollection = "products";

std::vector<Product> products_from(const std::vector<db::Bson>& docs) {
    std::vector<Product> out;
    out.reserve(docs.size());
    for (const db::Bson& doc : docs) out.push_back(product_from_bson(doc.view()));
    return out;
}

db::Bson id_filter(const bson_oid_t& id) {
    db::Bson filter;
    BSON_APPEND_OID(filter.get(), "_id", &id);
    return filter;
}

// The checkout bookkeeping arrays are internal and may grow; reads never ship them.
void append_projection(bson_t* opts) {
    bson_t projection;
    BSON_APPEND_DOCUMENT_BEGIN(opts, "projection", &projection);
    BSON_APPEND_INT32(&projection, "stock_holds", 0);
    BSON_APPEND_INT32(&projection, "stock_returns", 0);
    bson_append_document_end(opts, &projection);
}

void append_catalog_fields(bson_t* doc, const NewProduct& product) {
    BSON_APPEND_UTF8(doc, "name", product.name.c_str());
    BSON_APPEND_UTF8(doc, "name_lower", helpers::to_lower_ascii(product.name).c_str());
    BSON_APPEND_UTF8(doc, "description", product.description.c_str());
    BSON_APPEND_INT64(doc, "price_cents", product.price_cents);
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
    db::Bson filter;
    if (!query.text.empty()) {
        // Escaped, so the user's text matches literally and cannot be a costly pattern.
        const std::string pattern = helpers::escape_regex(query.text);
        bson_t any;
        BSON_APPEND_ARRAY_BEGIN(filter.get(), "$or", &any);
        const char* fields[] = {"name", "description"};
        for (int i = 0; i < 2; ++i) {
            bson_t clause;
            bson_t condition;
            const std::string key = std::to_string(i);
            BSON_APPEND_DOCUMENT_BEGIN(&any, key.c_str(), &clause);
            BSON_APPEND_DOCUMENT_BEGIN(&clause, fields[i], &condition);
            BSON_APPEND_UTF8(&condition, "$regex", pattern.c_str());
            BSON_APPEND_UTF8(&condition, "$options", "i");
            bson_append_document_end(&clause, &condition);
            bson_append_document_end(&any, &clause);
        }
        bson_append_array_end(filter.get(), &any);
    }
    if (!query.category_id.empty()) {
        const auto category = db::parse_oid(query.category_id);
        if (category) BSON_APPEND_OID(filter.get(), "category_id", &*category);
    }
    if (query.min_price_cents || query.max_price_cents) {
        bson_t range;
        BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "price_cents", &range);
        if (query.min_price_cents) BSON_APPEND_INT64(&range, "$gte", *query.min_price_cents);
        if (query.max_price_cents) BSON_APPEND_INT64(&range, "$lte", *query.max_price_cents);
        bson_append_document_end(filter.get(), &range);
    }
    if (query.in_stock_only) {
        bson_t positive;
        BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "stock", &positive);
        BSON_APPEND_INT64(&positive, "$gt", 0);
        bson_append_document_end(filter.get(), &positive);
    }
    return filter;
}

}  // namespace

db::Bson to_bson(const Product& product) {
    const auto id = db::parse_oid(product.id);
    if (!id) throw std::invalid_argument("products: not an ObjectId: " + product.id);
    db::Bson doc;
    BSON_APPEND_OID(doc.get(), "_id", &*id);
    append_catalog_fields(doc.get(), {.name = product.name,
                                      .description = product.description,
                                      .price_cents = product.price_cents});
    if (auto category = db::parse_oid(product.category_id)) {
        BSON_APPEND_OID(doc.get(), "category_id", &*category);
    }
    BSON_APPEND_INT64(doc.get(), "stock", product.stock);
    if (!product.image_url.empty()) {
        BSON_APPEND_UTF8(doc.get(), "image_url", product.image_url.c_str());
    }
    BSON_APPEND_DATE_TIME(doc.get(), "created_at", product.created_at_ms);
    BSON_APPEND_DATE_TIME(doc.get(), "updated_at", product.updated_at_ms);
    return doc;
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
    db::Bson opts;
    append_projection(opts.get());
    auto doc = db_.collection(kCollection).find_one(id_filter(*oid), &opts);
    if (!doc) return std::nullopt;
    return product_from_bson(doc->view());
}

std::vector<Product> ProductStore::find_by_ids(const std::vector<std::string>& ids) {
    db::Bson filter;
    bson_t in_clause;
    bson_t list;
    BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "_id", &in_clause);
    BSON_APPEND_ARRAY_BEGIN(&in_clause, "$in", &list);
    int n = 0;
    for (const std::string& id : ids) {
        if (auto oid = db::parse_oid(id)) {
            const std::string key = std::to_string(n++);
            BSON_APPEND_OID(&list, key.c_str(), &*oid);
        }
    }
    bson_append_array_end(&in_clause, &list);
    bson_append_document_end(filter.get(), &in_clause);
    if (n == 0) return {};
    db::Bson opts;
    append_projection(opts.get());
    return products_from(db_.collection(kCollection).find(filter, &opts));
}

std::vector<Product> ProductStore::list_all() {
    db::Bson opts;
    append_projection(opts.get());
    return products_from(db_.collection(kCollection).find(db::Bson(), &opts));
}

ProductPage ProductStore::list(const ProductQuery& query) {
    const db::Bson filter = list_filter(query);
    auto collection = db_.collection(kCollection);
    ProductPage page;
    page.total = collection.count(filter);
    const std::int64_t skip = (query.page - 1) * query.limit;
    if (skip >= page.total) return page;

    db::Bson opts;
    const int direction = query.descending ? -1 : 1;
    bson_t sort;
    BSON_APPEND_DOCUMENT_BEGIN(opts.get(), "sort", &sort);
    BSON_APPEND_INT32(&sort, sort_field(query.sort_key), direction);
    BSON_APPEND_INT32(&sort, "_id", direction);
    bson_append_document_end(opts.get(), &sort);
    BSON_APPEND_INT64(opts.get(), "skip", skip);
    BSON_APPEND_INT64(opts.get(), "limit", query.limit);
    append_projection(opts.get());
    page.items = products_from(collection.find(filter, &opts));
    return page;
}

std::optional<Product> ProductStore::update(std::string_view id, const ProductChanges& changes) {
    const auto oid = db::parse_oid(id);
    if (!oid) return std::nullopt;
    db::Bson update;
    bson_t set;
    bson_t unset;
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
    if (changes.name) {
        BSON_APPEND_UTF8(&set, "name", changes.name->c_str());
        BSON_APPEND_UTF8(&set, "name_lower", helpers::to_lower_ascii(*changes.name).c_str());
    }
    if (changes.description) BSON_APPEND_UTF8(&set, "description", changes.description->c_str());
    if (changes.price_cents) BSON_APPEND_INT64(&set, "price_cents", *changes.price_cents);
    if (changes.stock) BSON_APPEND_INT64(&set, "stock", *changes.stock);
    const auto category = changes.category_id ? db::parse_oid(*changes.category_id) : std::nullopt;
    if (category) BSON_APPEND_OID(&set, "category_id", &*category);
    if (changes.image_url && !changes.image_url->empty()) {
        BSON_APPEND_UTF8(&set, "image_url", changes.image_url->c_str());
    }
    BSON_APPEND_DATE_TIME(&set, "updated_at", db::now_ms());
    bson_append_document_end(update.get(), &set);

    const bool clear_category = changes.category_id && !category;
    const bool clear_image = changes.image_url && changes.image_url->empty();
    if (clear_category || clear_image) {
        BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$unset", &unset);
        if (clear_category) BSON_APPEND_UTF8(&unset, "category_id", "");
        if (clear_image) BSON_APPEND_UTF8(&unset, "image_url", "");
        bson_append_document_end(update.get(), &unset);
    }
    // The same per-document lock as Db::update_by_id, held until the read model has the
    // state read back (see models/write_listener.hpp).
    auto guard = db_.lock_document(kCollection, *oid);
    if (db_.collection(kCollection).update_one(id_filter(*oid), update).matched == 0) {
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
        result.deleted = db_.collection(kCollection).delete_one(id_filter(*oid)) > 0;
        if (result.deleted && listener_ != nullptr) listener_->product_removed(id);
    }
    if (!result.deleted) return result;
    // No transactions on FerretDB (and none needed): the product is gone first, so carts can
    // no longer gain it; a crash between the steps leaves cart lines that checkout already
    // refuses as "product not found", and an orphan image nobody can reach.
    db::Bson cart_filter;
    BSON_APPEND_OID(cart_filter.get(), "product_id", &*oid);
    result.cart_items_removed = db_.collection("cart").delete_many(cart_filter);
    db_.collection("product_images").delete_one(id_filter(*oid));
    return result;
}

bool ProductStore::set_image_url(std::string_view id, const std::string& image_url) {
    const auto oid = db::parse_oid(id);
    if (!oid) return false;
    db::Bson update;
    bson_t set;
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
    BSON_APPEND_UTF8(&set, "image_url", image_url.c_str());
    BSON_APPEND_DATE_TIME(&set, "updated_at", db::now_ms());
    bson_append_document_end(update.get(), &set);
    auto guard = db_.lock_document(kCollection, *oid);
    if (db_.collection(kCollection).update_one(id_filter(*oid), update).matched == 0) {
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
    db::Bson filter;
    BSON_APPEND_OID(filter.get(), "category_id", &*oid);
    return db_.collection(kCollection).count(filter);
}

std::map<std::string, std::int64_t> ProductStore::count_by_category() {
    // Only $match/$group/$sum: FerretDB v1 implements little else.
    db::Bson pipeline(BCON_NEW("pipeline", "[",                                       //
                               "{", "$match", "{", "category_id", "{", "$exists",     //
                               BCON_BOOL(true), "}", "}", "}",                        //
                               "{", "$group", "{", "_id", BCON_UTF8("$category_id"),  //
                               "count", "{", "$sum", BCON_INT32(1), "}", "}", "}", "]"));
    std::map<std::string, std::int64_t> counts;
    for (const db::Bson& row : db_.collection(kCollection).aggregate(pipeline)) {
        const auto id = row.view().get_oid("_id");
        if (id) counts[db::oid_to_string(*id)] = row.view().get_int64("count").value_or(0);
    }
    return counts;
}

std::map<std::string, std::string> ProductStore::ids_by_lower_name() {
    db::Bson opts(BCON_NEW("projection", "{", "name_lower", BCON_INT32(1), "}"));
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
    db::Bson update;
    bson_t set;
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
    append_catalog_fields(&set, product);
    if (auto category = db::parse_oid(product.category_id)) {
        BSON_APPEND_OID(&set, "category_id", &*category);
    }
    BSON_APPEND_DATE_TIME(&set, "updated_at", db::now_ms());
    bson_append_document_end(update.get(), &set);
    db_.update_by_id(kCollection, *oid, update);
}

}  // namespace flaskcart::models
