#include "routes/product_query.hpp"

#include "utils/money.hpp"
#include "utils/object_id.hpp"
#include "utils/text.hpp"
#include "utils/validation.hpp"

namespace flaskcart::routes {

namespace {

using models::ProductSortKey;

// Trimmed search text, or nullopt with an error naming `q`.
std::optional<std::string> read_search_text(const std::string& text, http::FieldErrors& errors) {
    std::string trimmed = text::trim(text);
    if (text::utf8_length(trimmed) > models::kMaxSearchLength) {
        errors.emplace_back(
            "q", "must be at most " + std::to_string(models::kMaxSearchLength) + " characters");
        return std::nullopt;
    }
    if (trimmed.find('\0') != std::string::npos) {
        errors.emplace_back("q", "must not contain NUL characters");
        return std::nullopt;
    }
    return trimmed;
}

void read_price_range(const http::RequestContext& ctx, models::ProductQuery& query,
                      http::FieldErrors& errors) {
    // min_price above max_price is an empty range, not an error: the answer is an empty page.
    for (const char* name : {"min_price", "max_price"}) {
        auto text = ctx.query_param(name);
        if (!text) continue;
        std::string error;
        auto cents = parse_price_filter(*text, error);
        if (!cents) {
            errors.emplace_back(name, std::move(error));
        } else if (std::string_view(name) == "min_price") {
            query.min_price_cents = cents;
        } else {
            query.max_price_cents = cents;
        }
    }
}

void read_sort(const std::string& sort, models::ProductQuery& query, http::FieldErrors& errors) {
    std::string_view key = sort;
    query.descending = !key.empty() && key.front() == '-';
    if (query.descending) key.remove_prefix(1);
    if (key == "name") {
        query.sort_key = ProductSortKey::kName;
    } else if (key == "price") {
        query.sort_key = ProductSortKey::kPrice;
    } else if (key == "created_at") {
        query.sort_key = ProductSortKey::kCreatedAt;
    } else if (sort == "relevance") {
        query.sort_key = ProductSortKey::kRelevance;
        query.descending = true;  // without q: newest first, like the default
    } else {
        errors.emplace_back("sort",
                            "must be one of relevance, name, -name, price, -price, created_at, "
                            "-created_at");
    }
}

}  // namespace

std::optional<std::int64_t> parse_price_filter(std::string_view text, std::string& error) {
    return money::parse_cents(text, money::DecimalSyntax::kPlainDecimal, 0, error);
}

models::ProductQuery parse_product_query(const http::RequestContext& ctx,
                                         http::FieldErrors& errors) {
    models::ProductQuery query;
    const validation::Page page = validation::parse_page(
        ctx.query_param("page"), ctx.query_param("limit"), errors, kMaxProductPageLimit);
    query.page = page.page;
    query.limit = page.limit;
    if (auto text = ctx.query_param("q")) {
        if (auto search = read_search_text(*text, errors)) query.text = std::move(*search);
    }
    if (auto category = ctx.query_param("category")) {
        if (!db::ObjectId::parse(*category)) {
            errors.emplace_back("category", "must be a category id");
        } else {
            query.category_id = *category;
        }
    }
    read_price_range(ctx, query, errors);
    if (auto in_stock = ctx.query_param("in_stock")) {
        if (*in_stock == "true") {
            query.in_stock_only = true;
        } else if (*in_stock != "false") {
            errors.emplace_back("in_stock", "must be true or false");
        }
    }
    if (auto sort = ctx.query_param("sort")) {
        read_sort(*sort, query, errors);
    } else if (!query.text.empty()) {
        query.sort_key = ProductSortKey::kRelevance;
    }
    return query;
}

SuggestQuery parse_suggest_query(const http::RequestContext& ctx, http::FieldErrors& errors) {
    SuggestQuery query;
    if (auto text = ctx.query_param("q")) {
        if (auto search = read_search_text(*text, errors)) query.text = std::move(*search);
    } else {
        errors.emplace_back("q", "is required");
    }
    if (auto limit = ctx.query_param("limit")) {
        const auto n = validation::parse_int(*limit);
        if (!n || *n < 1 || *n > kMaxSuggestionLimit) {
            errors.emplace_back(
                "limit", "must be an integer from 1 to " + std::to_string(kMaxSuggestionLimit));
        } else {
            query.limit = static_cast<std::size_t>(*n);
        }
    }
    return query;
}

}  // namespace flaskcart::routes
