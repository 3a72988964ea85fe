#include "services/catalog_read_model.hpp"

#include <algorithm>
#include <mutex>
#include <tuple>

#include "utils/text.hpp"

namespace flaskcart::services {

namespace {

template <typename Set, typename Visit>
void walk(const Set& set, bool descending, Visit&& visit) {
    if (descending) {
        for (auto it = set.rbegin(); it != set.rend(); ++it) {
            if (!visit(*it)) return;
        }
    } else {
        for (auto it = set.begin(); it != set.end(); ++it) {
            if (!visit(*it)) return;
        }
    }
}

}  // namespace

bool CatalogReadModel::ByName::operator()(const Entry* a, const Entry* b) const {
    return std::tie(a->name_lower, a->product.id) < std::tie(b->name_lower, b->product.id);
}
bool CatalogReadModel::ByPrice::operator()(const Entry* a, const Entry* b) const {
    return std::tie(a->product.price_cents, a->product.id) <
           std::tie(b->product.price_cents, b->product.id);
}
bool CatalogReadModel::ByCreatedAt::operator()(const Entry* a, const Entry* b) const {
    return std::tie(a->product.created_at_ms, a->product.id) <
           std::tie(b->product.created_at_ms, b->product.id);
}

void CatalogReadModel::Indexes::insert(const Entry* entry) {
    by_name.insert(entry);
    by_price.insert(entry);
    by_created_at.insert(entry);
    if (entry->product.stock > 0) ++in_stock;
}

void CatalogReadModel::Indexes::erase(const Entry* entry) {
    if (by_name.erase(entry) > 0 && entry->product.stock > 0) --in_stock;
    by_price.erase(entry);
    by_created_at.erase(entry);
}

void CatalogReadModel::index(const Entry& entry) {
    all_.insert(&entry);
    if (!entry.product.category_id.empty()) {
        by_category_[entry.product.category_id].insert(&entry);
    }
}

void CatalogReadModel::unindex(const Entry& entry) {
    all_.erase(&entry);
    if (entry.product.category_id.empty()) return;
    auto it = by_category_.find(entry.product.category_id);
    if (it == by_category_.end()) return;
    it->second.erase(&entry);
    if (it->second.size() == 0) by_category_.erase(it);
}

CatalogReadModel::Entry CatalogReadModel::make_entry(models::Product product) const {
    Entry entry;
    entry.name_lower = text::to_lower_ascii(product.name);
    if (renderer_) entry.json = renderer_(product);
    entry.product = std::move(product);
    return entry;
}

void CatalogReadModel::add_to_search(Entry& entry) {
    if (entry.doc_id == 0) {
        by_doc_id_.push_back(&entry);
        entry.doc_id = static_cast<SearchDocId>(by_doc_id_.size() - 1);
    } else {
        by_doc_id_[entry.doc_id] = &entry;
    }
    // Ties among suggestions go by name, then _id, as ranks_before() orders them.
    std::string tie_break = entry.name_lower;
    tie_break.push_back('\0');
    tie_break += entry.product.id;
    search_.add(entry.doc_id, entry.product.name, entry.product.description, tie_break);
}

void CatalogReadModel::remove_from_search(const Entry& entry) {
    search_.remove(entry.doc_id, entry.product.name, entry.product.description);
}

void CatalogReadModel::replace_all(std::vector<models::Product> products,
                                   std::vector<models::Category> categories) {
    std::unique_lock lock(mutex_);
    all_ = Indexes();
    by_category_.clear();
    products_.clear();
    categories_.clear();
    search_generation_ = search_.clear();
    by_doc_id_.assign(1, nullptr);  // Xapian's document ids start at 1
    products_.reserve(products.size());
    by_doc_id_.reserve(products.size() + 1);
    for (auto& product : products) {
        const std::string id = product.id;
        auto [it, inserted] = products_.insert_or_assign(id, make_entry(std::move(product)));
        index(it->second);
        add_to_search(it->second);
    }
    for (auto& category : categories) {
        const std::string id = category.id;
        categories_.insert_or_assign(id, std::move(category));
    }
    search_.commit();
    refresh_all_category_facets();
    loaded_ = true;
}

bool CatalogReadModel::is_loaded() const {
    std::shared_lock lock(mutex_);
    return loaded_;
}

void CatalogReadModel::upsert_product(const models::Product& product) {
    Entry fresh = make_entry(product);
    std::unique_lock lock(mutex_);
    if (by_doc_id_.empty()) by_doc_id_.assign(1, nullptr);
    auto it = products_.find(product.id);
    if (it == products_.end()) {
        it = products_.emplace(product.id, std::move(fresh)).first;
    } else {
        // Stock and price move with every checkout; the search index holds only the text, so
        // it is left alone unless the name or the description changed.
        const bool same_text = it->second.product.name == product.name &&
                               it->second.product.description == product.description;
        const bool same_category = it->second.product.category_id == product.category_id;
        unindex(it->second);
        if (!same_text) remove_from_search(it->second);
        fresh.doc_id = it->second.doc_id;
        it->second = std::move(fresh);
        index(it->second);
        if (same_text) {
            by_doc_id_[it->second.doc_id] = &it->second;
        } else {
            add_to_search(it->second);
        }
        if (!same_category) refresh_all_category_facets();
        return;
    }
    index(it->second);
    add_to_search(it->second);
    refresh_all_category_facets();
}

void CatalogReadModel::remove_product(std::string_view id) {
    std::unique_lock lock(mutex_);
    auto it = products_.find(std::string(id));
    if (it == products_.end()) return;
    unindex(it->second);
    remove_from_search(it->second);
    by_doc_id_[it->second.doc_id] = nullptr;
    products_.erase(it);
    refresh_all_category_facets();
}

bool CatalogReadModel::adjust_stock(std::string_view id, std::int64_t delta) {
    std::unique_lock lock(mutex_);
    auto it = products_.find(std::string(id));
    if (it == products_.end()) return false;
    // Stock orders no index, but the in-stock counts follow it.
    unindex(it->second);
    it->second.product.stock += delta;
    index(it->second);
    if (renderer_) it->second.json = renderer_(it->second.product);
    return true;
}

void CatalogReadModel::upsert_category(const models::Category& category) {
    std::unique_lock lock(mutex_);
    categories_.insert_or_assign(category.id, category);
    refresh_all_category_facets();
}

void CatalogReadModel::remove_category(std::string_view id) {
    std::unique_lock lock(mutex_);
    categories_.erase(std::string(id));
    refresh_all_category_facets();
}

bool CatalogReadModel::passes_filters(const models::Product& product,
                                      const models::ProductQuery& query) {
    if (query.min_price_cents && product.price_cents < *query.min_price_cents) return false;
    if (query.max_price_cents && product.price_cents > *query.max_price_cents) return false;
    if (query.in_stock_only && product.stock <= 0) return false;
    return true;
}

std::vector<ListingFacets::CategoryCount> CatalogReadModel::category_facets(
    const std::unordered_map<std::string, std::int64_t>& counts) const {
    std::vector<ListingFacets::CategoryCount> out;
    for (const auto& [id, count] : counts) {
        auto category = categories_.find(id);
        if (count == 0 || category == categories_.end()) continue;
        out.push_back({id, category->second.name, count});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::tie(b.count, a.name, a.id) < std::tie(a.count, b.name, b.id);
    });
    return out;
}

void CatalogReadModel::refresh_all_category_facets() {
    std::unordered_map<std::string, std::int64_t> counts;
    for (const auto& [id, indexes] : by_category_) {
        counts[id] = static_cast<std::int64_t>(indexes.size());
    }
    all_category_facets_ = category_facets(counts);
    all_category_facets_json_ =
        category_facets_renderer_
            ? std::make_shared<const std::string>(category_facets_renderer_(all_category_facets_))
            : nullptr;
}

namespace {

// Adds a matching product to the price and stock facets.
void count_in_facets(ListingFacets& facets, const models::Product& product) {
    if (!facets.min_price_cents || product.price_cents < *facets.min_price_cents) {
        facets.min_price_cents = product.price_cents;
    }
    if (!facets.max_price_cents || product.price_cents > *facets.max_price_cents) {
        facets.max_price_cents = product.price_cents;
    }
    if (product.stock > 0) ++facets.in_stock;
}

}  // namespace

// Neither text nor price nor stock filter: the indexes know the total and the facets.
Listing<const CatalogReadModel::Entry*> CatalogReadModel::select_unfiltered(
    const models::ProductQuery& query, bool rendered) const {
    Listing<const Entry*> listing;
    if (rendered && all_category_facets_json_) {
        listing.facets.categories_json = all_category_facets_json_;
    } else {
        listing.facets.categories = all_category_facets_;
    }
    const Indexes* indexes = &all_;
    if (!query.category_id.empty()) {
        auto it = by_category_.find(query.category_id);
        if (it == by_category_.end()) return listing;
        indexes = &it->second;
    }
    listing.total = static_cast<std::int64_t>(indexes->size());
    if (listing.total == 0) return listing;
    listing.facets.min_price_cents = (*indexes->by_price.begin())->product.price_cents;
    listing.facets.max_price_cents = (*indexes->by_price.rbegin())->product.price_cents;
    listing.facets.in_stock = indexes->in_stock;
    const std::int64_t skip = (query.page - 1) * query.limit;
    if (skip >= listing.total) return listing;
    std::int64_t position = 0;
    auto visit = [&](const Entry* entry) {
        if (position++ >= skip) listing.items.push_back(entry);
        return static_cast<std::int64_t>(listing.items.size()) < query.limit;
    };
    switch (query.sort_key) {
        case models::ProductSortKey::kName:
            walk(indexes->by_name, query.descending, visit);
            break;
        case models::ProductSortKey::kPrice:
            walk(indexes->by_price, query.descending, visit);
            break;
        case models::ProductSortKey::kCreatedAt:
        case models::ProductSortKey::kRelevance:
            walk(indexes->by_created_at, query.descending, visit);
            break;
    }
    return listing;
}

// A price or stock filter without text: one walk over every product in the requested order,
// counting the category facet before the category filter applies.
Listing<const CatalogReadModel::Entry*> CatalogReadModel::select_filtered(
    const models::ProductQuery& query) const {
    Listing<const Entry*> listing;
    std::unordered_map<std::string, std::int64_t> counts;
    const std::int64_t skip = (query.page - 1) * query.limit;
    auto visit = [&](const Entry* entry) {
        const models::Product& product = entry->product;
        if (!passes_filters(product, query)) return true;
        if (!product.category_id.empty()) ++counts[product.category_id];
        if (!query.category_id.empty() && product.category_id != query.category_id) return true;
        count_in_facets(listing.facets, product);
        if (listing.total >= skip && listing.total < skip + query.limit) {
            listing.items.push_back(entry);
        }
        ++listing.total;
        return true;
    };
    switch (query.sort_key) {
        case models::ProductSortKey::kName:
            walk(all_.by_name, query.descending, visit);
            break;
        case models::ProductSortKey::kPrice:
            walk(all_.by_price, query.descending, visit);
            break;
        case models::ProductSortKey::kCreatedAt:
        case models::ProductSortKey::kRelevance:
            walk(all_.by_created_at, query.descending, visit);
            break;
    }
    listing.facets.categories = category_facets(counts);
    return listing;
}

std::vector<CatalogReadModel::Match> CatalogReadModel::search_matches(
    std::string_view text, SearchFields fields, std::shared_lock<std::shared_mutex>& lock,
    std::size_t best) const {
    std::vector<Match> matches;
    for (;;) {
        const SearchResult result =
            best > 0 ? search_.best_matches(text, fields, best) : search_.match(text, fields);
        lock.lock();
        if (result.generation == search_generation_) {
            // A write between the two steps is seen as if the read came just before it, except
            // that a product removed meanwhile is left out.
            for (const SearchHit& hit : result.hits) {
                if (hit.doc_id < by_doc_id_.size() && by_doc_id_[hit.doc_id] != nullptr) {
                    matches.push_back({by_doc_id_[hit.doc_id], hit.weight});
                }
            }
            return matches;
        }
        lock.unlock();
    }
}

namespace {

// Best first; equal weights by name, then _id, so pages are stable.
template <typename Match>
bool ranks_before(const Match& a, const Match& b) {
    if (a.weight != b.weight) return a.weight > b.weight;
    return std::tie(a.entry->name_lower, a.entry->product.id) <
           std::tie(b.entry->name_lower, b.entry->product.id);
}

}  // namespace

Listing<const CatalogReadModel::Entry*> CatalogReadModel::select_searched(
    const models::ProductQuery& query, std::shared_lock<std::shared_mutex>& lock) const {
    Listing<const Entry*> listing;
    std::unordered_map<std::string, std::int64_t> counts;
    std::vector<Match> matches =
        search_matches(query.text, SearchFields::kNameAndDescription, lock);
    std::erase_if(matches, [&](const Match& match) {
        const models::Product& product = match.entry->product;
        if (!passes_filters(product, query)) return true;
        if (!product.category_id.empty()) ++counts[product.category_id];
        if (!query.category_id.empty() && product.category_id != query.category_id) return true;
        count_in_facets(listing.facets, product);
        return false;
    });
    listing.facets.categories = category_facets(counts);
    listing.total = static_cast<std::int64_t>(matches.size());
    const auto before = [&query](const Match& a, const Match& b) {
        const bool desc = query.descending;
        switch (query.sort_key) {
            case models::ProductSortKey::kName:
                return desc ? ByName()(b.entry, a.entry) : ByName()(a.entry, b.entry);
            case models::ProductSortKey::kPrice:
                return desc ? ByPrice()(b.entry, a.entry) : ByPrice()(a.entry, b.entry);
            case models::ProductSortKey::kCreatedAt:
                return desc ? ByCreatedAt()(b.entry, a.entry) : ByCreatedAt()(a.entry, b.entry);
            case models::ProductSortKey::kRelevance:
                break;
        }
        return ranks_before(a, b);
    };
    const auto skip = static_cast<std::size_t>((query.page - 1) * query.limit);
    if (skip >= matches.size()) return listing;
    const std::size_t end = std::min(matches.size(), skip + static_cast<std::size_t>(query.limit));
    std::partial_sort(matches.begin(), matches.begin() + static_cast<long>(end), matches.end(),
                      before);
    for (std::size_t i = skip; i < end; ++i) listing.items.push_back(matches[i].entry);
    return listing;
}

Listing<const CatalogReadModel::Entry*> CatalogReadModel::select(
    const models::ProductQuery& query, std::shared_lock<std::shared_mutex>& lock,
    bool rendered) const {
    if (!query.text.empty()) return select_searched(query, lock);
    lock.lock();
    if (query.min_price_cents || query.max_price_cents || query.in_stock_only) {
        return select_filtered(query);
    }
    return select_unfiltered(query, rendered);
}

ProductListing CatalogReadModel::list(const models::ProductQuery& query) const {
    ProductListing page;
    std::shared_lock lock(mutex_, std::defer_lock);
    auto selected = select(query, lock, false);
    page.total = selected.total;
    page.facets = std::move(selected.facets);
    for (const Entry* entry : selected.items) page.items.push_back(entry->product);
    return page;
}

RenderedPage CatalogReadModel::list_rendered(const models::ProductQuery& query) const {
    RenderedPage page;
    std::shared_lock lock(mutex_, std::defer_lock);
    auto selected = select(query, lock, true);
    page.total = selected.total;
    page.facets = std::move(selected.facets);
    page.items.reserve(selected.items.size());
    for (const Entry* entry : selected.items) page.items.push_back(entry->json);
    return page;
}

std::vector<Suggestion> CatalogReadModel::suggest(std::string_view text, std::size_t limit) const {
    std::shared_lock lock(mutex_, std::defer_lock);
    if (limit == 0) return {};
    std::vector<Match> matches = search_matches(text, SearchFields::kNameOnly, lock, limit);
    const std::size_t end = std::min(limit, matches.size());
    std::partial_sort(matches.begin(), matches.begin() + static_cast<long>(end), matches.end(),
                      ranks_before<Match>);
    std::vector<Suggestion> out;
    out.reserve(end);
    for (std::size_t i = 0; i < end; ++i) {
        out.push_back({matches[i].entry->product.id, matches[i].entry->product.name});
    }
    return out;
}

std::optional<models::Product> CatalogReadModel::find_product(std::string_view id) const {
    std::shared_lock lock(mutex_);
    auto it = products_.find(std::string(id));
    if (it == products_.end()) return std::nullopt;
    return it->second.product;
}

std::optional<std::string> CatalogReadModel::find_rendered(std::string_view id) const {
    std::shared_lock lock(mutex_);
    auto it = products_.find(std::string(id));
    if (it == products_.end()) return std::nullopt;
    return it->second.json;
}

std::optional<models::Category> CatalogReadModel::find_category(std::string_view id) const {
    std::shared_lock lock(mutex_);
    auto it = categories_.find(std::string(id));
    if (it == categories_.end()) return std::nullopt;
    return it->second;
}

bool CatalogReadModel::has_category(std::string_view id) const {
    std::shared_lock lock(mutex_);
    return categories_.count(std::string(id)) > 0;
}

std::int64_t CatalogReadModel::count_in_category(std::string_view category_id) const {
    std::shared_lock lock(mutex_);
    auto it = by_category_.find(std::string(category_id));
    return it == by_category_.end() ? 0 : static_cast<std::int64_t>(it->second.size());
}

std::vector<CategoryWithCount> CatalogReadModel::categories() const {
    std::vector<std::pair<std::string, CategoryWithCount>> keyed;
    {
        std::shared_lock lock(mutex_);
        keyed.reserve(categories_.size());
        for (const auto& [id, category] : categories_) {
            auto counted = by_category_.find(id);
            keyed.emplace_back(models::category_name_key(category.name),
                               CategoryWithCount{category, counted == by_category_.end()
                                                               ? 0
                                                               : static_cast<std::int64_t>(
                                                                     counted->second.size())});
        }
    }
    std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
        return std::tie(a.first, a.second.category.id) < std::tie(b.first, b.second.category.id);
    });
    std::vector<CategoryWithCount> out;
    out.reserve(keyed.size());
    for (auto& item : keyed) out.push_back(std::move(item.second));
    return out;
}

std::size_t CatalogReadModel::product_count() const {
    std::shared_lock lock(mutex_);
    return products_.size();
}

std::size_t CatalogReadModel::category_count() const {
    std::shared_lock lock(mutex_);
    return categories_.size();
}

}  // namespace flaskcart::services
