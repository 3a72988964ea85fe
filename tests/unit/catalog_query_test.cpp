// GET /products and /products/suggest query parsing and the price filter grammar: pure logic,
// no database.
#include <gtest/gtest.h>

#include "routes/product_query.hpp"

namespace flaskcart::models {
namespace {

using Params = std::multimap<std::string, std::string>;
using routes::parse_price_filter;

// The parsers read a request's decoded query parameters.
ProductQuery parse_product_query(const Params& params, http::FieldErrors& errors) {
    http::Request request;
    request.query = params;
    const http::RequestContext ctx(request, {});
    return routes::parse_product_query(ctx, errors);
}

routes::SuggestQuery parse_suggest_query(const Params& params, http::FieldErrors& errors) {
    http::Request request;
    request.query = params;
    const http::RequestContext ctx(request, {});
    return routes::parse_suggest_query(ctx, errors);
}

bool names_field(const http::FieldErrors& errors, const std::string& field) {
    for (const auto& [name, message] : errors) {
        if (name == field) return true;
    }
    return false;
}

TEST(ProductQuery, DefaultsAreNewestFirstTwentyPerPage) {
    http::FieldErrors errors;
    const ProductQuery query = parse_product_query({}, errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(query.page, 1);
    EXPECT_EQ(query.limit, 20);
    EXPECT_EQ(query.sort_key, ProductSortKey::kCreatedAt);
    EXPECT_TRUE(query.descending);
    EXPECT_FALSE(query.in_stock_only);
    EXPECT_TRUE(query.text.empty());
}

TEST(ProductQuery, ReadsEveryParameter) {
    http::FieldErrors errors;
    const ProductQuery query = parse_product_query(Params{{"page", "3"},
                                                          {"limit", "100"},
                                                          {"q", "  a.*b  "},
                                                          {"category", "0123456789abcdef01234567"},
                                                          {"min_price", "10"},
                                                          {"max_price", "19.99"},
                                                          {"in_stock", "true"},
                                                          {"sort", "-price"}},
                                                   errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(query.page, 3);
    EXPECT_EQ(query.limit, 100);
    EXPECT_EQ(query.text, "a.*b");
    EXPECT_EQ(query.category_id, "0123456789abcdef01234567");
    EXPECT_EQ(query.min_price_cents, 1000);
    EXPECT_EQ(query.max_price_cents, 1999);
    EXPECT_TRUE(query.in_stock_only);
    EXPECT_EQ(query.sort_key, ProductSortKey::kPrice);
    EXPECT_TRUE(query.descending);

    for (const auto& [text, key, descending] :
         std::vector<std::tuple<std::string, ProductSortKey, bool>>{
             {"name", ProductSortKey::kName, false},
             {"-name", ProductSortKey::kName, true},
             {"price", ProductSortKey::kPrice, false},
             {"created_at", ProductSortKey::kCreatedAt, false},
             {"-created_at", ProductSortKey::kCreatedAt, true},
             {"relevance", ProductSortKey::kRelevance, true}}) {
        http::FieldErrors none;
        const ProductQuery sorted = parse_product_query(Params{{"sort", text}}, none);
        EXPECT_TRUE(none.empty()) << text;
        EXPECT_EQ(sorted.sort_key, key) << text;
        EXPECT_EQ(sorted.descending, descending) << text;
    }
}

TEST(ProductQuery, EachBadParameterIsNamed) {
    const std::vector<std::pair<Params, std::string>> cases{
        {{{"limit", "0"}}, "limit"},
        {{{"limit", "1000"}}, "limit"},
        {{{"limit", " 5"}}, "limit"},
        {{{"page", "0"}}, "page"},
        {{{"page", "x"}}, "page"},
        {{{"sort", "--name"}}, "sort"},
        {{{"sort", "Name"}}, "sort"},
        {{{"sort", "-"}}, "sort"},
        {{{"in_stock", "1"}}, "in_stock"},
        {{{"category", "abc"}}, "category"},
        {{{"category", "{\"$ne\":null}"}}, "category"},
        {{{"min_price", "1e2"}}, "min_price"},
        {{{"max_price", "-5"}}, "max_price"},
        {{{"q", std::string(201, 'x')}}, "q"},
        {{{"sort", "-relevance"}}, "sort"},
        {{{"q", std::string("a\0b", 3)}}, "q"},
    };
    for (const auto& [params, field] : cases) {
        http::FieldErrors errors;
        parse_product_query(params, errors);
        EXPECT_TRUE(names_field(errors, field)) << field << " " << params.begin()->second;
    }
    http::FieldErrors several;
    parse_product_query(Params{{"limit", "0"}, {"sort", "x"}, {"page", "-1"}}, several);
    EXPECT_EQ(several.size(), 3U);
}

TEST(ProductQuery, SearchTextOrdersByRelevanceUnlessASortIsGiven) {
    http::FieldErrors errors;
    EXPECT_EQ(parse_product_query(Params{{"q", "skillet"}}, errors).sort_key,
              ProductSortKey::kRelevance);
    EXPECT_EQ(parse_product_query(Params{{"q", "skillet"}, {"sort", "price"}}, errors).sort_key,
              ProductSortKey::kPrice);
    // A blank q is no search: the default order stays.
    EXPECT_EQ(parse_product_query(Params{{"q", "   "}}, errors).sort_key,
              ProductSortKey::kCreatedAt);
    EXPECT_TRUE(errors.empty());
}

TEST(SuggestQuery, ReadsTextAndLimitWithDefaults) {
    http::FieldErrors errors;
    const auto defaults = parse_suggest_query(Params{{"q", "  skil "}}, errors);
    EXPECT_EQ(defaults.text, "skil");
    EXPECT_EQ(defaults.limit, 8U);
    EXPECT_EQ(parse_suggest_query(Params{{"q", "x"}, {"limit", "20"}}, errors).limit, 20U);
    EXPECT_EQ(parse_suggest_query(Params{{"q", "x"}, {"limit", "1"}}, errors).limit, 1U);
    EXPECT_TRUE(errors.empty());
}

TEST(SuggestQuery, EachBadParameterIsNamed) {
    const std::vector<std::pair<Params, std::string>> cases{
        {{}, "q"},
        {{{"q", std::string(201, 'x')}}, "q"},
        {{{"q", "x"}, {"limit", "0"}}, "limit"},
        {{{"q", "x"}, {"limit", "21"}}, "limit"},
        {{{"q", "x"}, {"limit", "-1"}}, "limit"},
        {{{"q", "x"}, {"limit", "abc"}}, "limit"},
        {{{"q", "x"}, {"limit", ""}}, "limit"},
        {{{"q", "x"}, {"limit", "1.5"}}, "limit"},
    };
    for (const auto& [params, field] : cases) {
        http::FieldErrors errors;
        parse_suggest_query(params, errors);
        ASSERT_EQ(errors.size(), 1U) << field;
        EXPECT_EQ(errors[0].first, field);
    }
}

std::optional<std::int64_t> filter_of(std::string_view text) {
    std::string error;
    auto cents = parse_price_filter(text, error);
    EXPECT_EQ(cents.has_value(), error.empty()) << text;
    return cents;
}

TEST(PriceFilter, ReadsDecimalsExactlyLikeBodyPrices) {
    EXPECT_EQ(filter_of("0"), 0);
    EXPECT_EQ(filter_of("10"), 1000);
    EXPECT_EQ(filter_of("10.5"), 1050);
    EXPECT_EQ(filter_of("19.99"), 1999);
    EXPECT_EQ(filter_of("0.01"), 1);
    EXPECT_EQ(filter_of("1000000"), 100'000'000);
    EXPECT_EQ(filter_of("19.990"), 1999);
    for (const char* bad : {"",
                            ".",
                            "1.",
                            ".5",
                            "0.001",
                            "-1",
                            "+1",
                            "abc",
                            "1,5",
                            " 1",
                            "1 ",
                            "1e3",
                            "19.99e0",
                            "-0",
                            "01",
                            "1000000.01",
                            "99999999999999999999",
                            "NaN",
                            "inf",
                            "999.999",
                            "5000.004",
                            "123456.789",
                            "5e-324",
                            "1e-10"}) {
        EXPECT_FALSE(filter_of(bad)) << bad;
    }
}

TEST(PriceFilter, AnEmptyRangeIsNotAnError) {
    http::FieldErrors errors;
    const ProductQuery query =
        parse_product_query(Params{{"min_price", "5"}, {"max_price", "4.99"}}, errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(query.min_price_cents, 500);
    EXPECT_EQ(query.max_price_cents, 499);
}

TEST(PriceFilter, NamesTheParameterAndTheReason) {
    http::FieldErrors errors;
    parse_product_query(Params{{"min_price", "999.999"}, {"max_price", "10000000"}}, errors);
    ASSERT_EQ(errors.size(), 2U);
    EXPECT_EQ(errors[0], (std::pair<std::string, std::string>{
                             "min_price", "must have at most two decimal places"}));
    EXPECT_EQ(errors[1],
              (std::pair<std::string, std::string>{"max_price", "must be at most 1000000.00"}));
}

}  // namespace
}  // namespace flaskcart::models
