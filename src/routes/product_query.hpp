#pragma once
// The query strings of GET /products and GET /products/suggest, read on the HTTP side into the
// catalog's query types. Each bad parameter is appended to `errors` under its own name, so a
// 422 lists them all.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/context.hpp"
#include "models/product_model.hpp"

namespace flaskcart::routes {

inline constexpr std::int64_t kMaxProductPageLimit = 100;
inline constexpr std::int64_t kDefaultSuggestionLimit = 8;
inline constexpr std::int64_t kMaxSuggestionLimit = 20;

// page, limit, q, category, min_price, max_price, in_stock, sort. A category that is not an
// ObjectId is an error; a well-formed id that matches nothing gives no items. With `q` and no
// `sort`, the order is relevance.
models::ProductQuery parse_product_query(const http::RequestContext& ctx,
                                         http::FieldErrors& errors);

struct SuggestQuery {
    std::string text;
    std::size_t limit = kDefaultSuggestionLimit;
};
// q (required, at most models::kMaxSearchLength characters) and limit (1..20, default 8).
SuggestQuery parse_suggest_query(const http::RequestContext& ctx, http::FieldErrors& errors);

// ?min_price / ?max_price as cents: money::parse_cents on plain decimals ("0", "10",
// "19.99"; no sign or exponent), 0 allowed, read exactly like a price in a body; `error` says
// why not.
std::optional<std::int64_t> parse_price_filter(std::string_view text, std::string& error);

}  // namespace flaskcart::routes
