#include "services/catalog_read_model.hpp"

#include <algorithm>
#include <mutex>
#include <tuple>

#include "utils/text.hpp"

namespace flaskcart::services {

namespace {

char32_t fold_code_point(char32_t c) {
    if (c >= U'A' && c <= U'Z') return c + 32;
    if (c < 0xC0) return c;
    if (c <= 0xDE) return c == 0xD7 ? c : c + 32;  // Latin-1 (× is not a letter)
    if (c >= 0x100 && c <= 0x17F) {
        // Latin Extended-A: upper/lower pairs, even/odd except in the two shifted runs.
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
        if (c == 0x178) return 0xFF;
        const bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_upper) return (c % 2 == 1) ? c + 1 : c;
        return (c % 2 == 0) ? c + 1 : c;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;  // Greek capitals
    if (c >= 0x410 && c <= 0x42F) return c + 32;                // Cyrillic А–Я
    if (c >= 0x400 && c <= 0x40F) return c + 80;                // Cyrillic Ѐ–Џ
    return c;
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

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

std::string fold_case(std::string_view utf8) {
    std::string out;
    out.reserve(utf8.size());
    std::size_t i = 0;
    while (i < utf8.size()) {
        const auto lead = static_cast<unsigned char>(utf8[i]);
        if (lead < 0x80) {
            out += static_cast<char>(lead >= 'A' && lead <= 'Z' ? lead + 32 : lead);
            ++i;
            continue;
        }
        const std::size_t length = lead >= 0xF8   ? 1
                                   : lead >= 0xF0 ? 4
                                   : lead >= 0xE0 ? 3
                                   : lead >= 0xC0 ? 2
                                                  : 1;
        bool is_sequence = length > 1 && i + length <= utf8.size();
        for (std::size_t k = 1; is_sequence && k < length; ++k) {
            is_sequence = (static_cast<unsigned char>(utf8[i + k]) & 0xC0) == 0x80;
        }
        if (!is_sequence) {  // not UTF-8: copy the byte as it is
            out += static_cast<char>(lead);
            ++i;
            continue;
        }
        char32_t c = lead & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
        for (std::size_t k = 1; k < length; ++k) {
            c = (c << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
        }
        append_utf8(out, fold_code_point(c));
        i += length;
    }
    return out;
}

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
}

void CatalogReadModel::Indexes::erase(const Entry* entry) {
    by_name.erase(entry);
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
    entry.folded_name = fold_case(product.name);
    entry.folded_description = fold_case(product.description);
    if (renderer_) entry.json = renderer_(product);
    entry.product = std::move(product);
    return entry;
}

void CatalogReadModel::replace_all(std::vector<models::Product> products,
                                   std::vector<models::Category> categories) {
    std::unique_lock lock(mutex_);
    all_ = Indexes();
    by_category_.clear();
    products_.clear();
    categories_.clear();
    products_.reserve(products.size());
    for (auto& product : products) {
        const std::string id = product.id;
        auto [it, inserted] = products_.insert_or_assign(id, make_entry(std::move(product)));
        index(it->second);
    }
    for (auto& category : categories) {
        const std::string id = category.id;
        categories_.insert_or_assign(id, std::move(category));
    }
    loaded_ = true;
}

bool CatalogReadModel::is_loaded() const {
    std::shared_lock lock(mutex_);
    return loaded_;
}

void CatalogReadModel::upsert_product(const models::Product& product) {
    Entry fresh = make_entry(product);
    std::unique_lock lock(mutex_);
    auto it = products_.find(product.id);
    if (it == products_.end()) {
        it = products_.emplace(product.id, std::move(fresh)).first;
    } else {
        unindex(it->second);
        it->second = std::move(fresh);
    }
    index(it->second);
}

void CatalogReadModel::remove_product(std::string_view id) {
    std::unique_lock lock(mutex_);
    auto it = products_.find(std::string(id));
    if (it == products_.end()) return;
    unindex(it->second);
    products_.erase(it);
}

bool CatalogReadModel::adjust_stock(std::string_view id, std::int64_t delta) {
    std::unique_lock lock(mutex_);
    auto it = products_.find(std::string(id));
    if (it == products_.end()) return false;
    it->second.product.stock += delta;  // stock is no index key
    if (renderer_) it->second.json = renderer_(it->second.product);
    return true;
}

void CatalogReadModel::upsert_category(const models::Category& category) {
    std::unique_lock lock(mutex_);
    categories_.insert_or_assign(category.id, category);
}

void CatalogReadModel::remove_category(std::string_view id) {
    std::unique_lock lock(mutex_);
    categories_.erase(std::string(id));
}

bool CatalogReadModel::matches(const Entry& entry, const models::ProductQuery& query,
                               const std::string& folded_text) {
    const models::Product& product = entry.product;
    if (query.min_price_cents && product.price_cents < *query.min_price_cents) return false;
    if (query.max_price_cents && product.price_cents > *query.max_price_cents) return false;
    if (query.in_stock_only && product.stock <= 0) return false;
    if (!folded_text.empty() && entry.folded_name.find(folded_text) == std::string::npos &&
        entry.folded_description.find(folded_text) == std::string::npos) {
        return false;
    }
    return true;
}

template <typename Take>
std::int64_t CatalogReadModel::walk_page(const models::ProductQuery& query, Take&& take) const {
    const std::string folded_text = fold_case(query.text);
    const bool is_filtered = !folded_text.empty() || query.min_price_cents ||
                             query.max_price_cents || query.in_stock_only;
    const std::int64_t skip = (query.page - 1) * query.limit;
    const Indexes* indexes = &all_;
    if (!query.category_id.empty()) {
        auto it = by_category_.find(query.category_id);
        if (it == by_category_.end()) return 0;
        indexes = &it->second;
    }
    std::int64_t position = 0;
    std::int64_t taken = 0;
    auto visit = [&](const Entry* entry) {
        if (is_filtered && !matches(*entry, query, folded_text)) return true;
        if (position >= skip && taken < query.limit) {
            take(*entry);
            ++taken;
        }
        ++position;
        // Unfiltered, the total is the index size: stop once the page is full.
        return is_filtered || taken < query.limit;
    };
    if (!is_filtered) {
        const auto total = static_cast<std::int64_t>(indexes->size());
        if (skip >= total) return total;
    }
    switch (query.sort_key) {
        case models::ProductSortKey::kName:
            walk(indexes->by_name, query.descending, visit);
            break;
        case models::ProductSortKey::kPrice:
            walk(indexes->by_price, query.descending, visit);
            break;
        case models::ProductSortKey::kCreatedAt:
            walk(indexes->by_created_at, query.descending, visit);
            break;
    }
    return is_filtered ? position : static_cast<std::int64_t>(indexes->size());
}

models::ProductPage CatalogReadModel::list(const models::ProductQuery& query) const {
    models::ProductPage page;
    std::shared_lock lock(mutex_);
    page.total = walk_page(query, [&](const Entry& entry) { page.items.push_back(entry.product); });
    return page;
}

RenderedPage CatalogReadModel::list_rendered(const models::ProductQuery& query) const {
    RenderedPage page;
    page.items.reserve(static_cast<std::size_t>(std::min<std::int64_t>(query.limit, 100)));
    std::shared_lock lock(mutex_);
    page.total = walk_page(query, [&](const Entry& entry) { page.items.push_back(entry.json); });
    return page;
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
