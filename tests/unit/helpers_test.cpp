#include "utils/helpers.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/message.hpp"

namespace flaskcart::helpers {
namespace {

std::optional<std::int64_t> price_of(const char* json, std::string* error_out = nullptr) {
    std::string error;
    auto cents = parse_price(boost::json::parse(json), error);
    if (error_out != nullptr) *error_out = error;
    return cents;
}

TEST(Money, ParsesTwoDecimalPricesExactly) {
    EXPECT_EQ(price_of("19.99"), 1999);
    EXPECT_EQ(price_of("0.1"), 10);
    EXPECT_EQ(price_of("0.01"), 1);
    EXPECT_EQ(price_of("10"), 1000);
    EXPECT_EQ(price_of("1000000"), 100'000'000);
    EXPECT_EQ(price_of("4.35"), 435);  // 4.35 * 100 = 434.99999999999994 in binary
    EXPECT_EQ(price_of("1.005e2"), 10050);
}

TEST(Money, RejectsBadPrices) {
    std::string error;
    EXPECT_FALSE(price_of("0", &error));
    EXPECT_EQ(error, "must be a number greater than 0");
    EXPECT_FALSE(price_of("-1"));
    EXPECT_FALSE(price_of("0.001", &error));
    EXPECT_EQ(error, "must have at most two decimal places");
    EXPECT_FALSE(price_of("1e309"));
    EXPECT_FALSE(price_of("\"10\"", &error));
    EXPECT_EQ(error, "must be a number");
    EXPECT_FALSE(price_of("1000000.01"));
    EXPECT_FALSE(price_of("null"));
    EXPECT_FALSE(price_of("true"));
}

TEST(Money, TotalsAreExactInCents) {
    // 3 × 19.99 + 0.10 = 60.07, where doubles would give 60.06999999999999.
    const std::int64_t total = 3 * *price_of("19.99") + *price_of("0.10");
    EXPECT_EQ(total, 6007);
    EXPECT_EQ(format_cents(total), "60.07");
    EXPECT_EQ(http::to_json_text(cents_to_json(total)), "60.07");
}

TEST(Money, FormatsCents) {
    EXPECT_EQ(format_cents(5), "0.05");
    EXPECT_EQ(format_cents(100), "1.00");
    EXPECT_EQ(format_cents(-250), "-2.50");
    EXPECT_EQ(http::to_json_text(cents_to_json(1000)), "10");
    EXPECT_EQ(http::to_json_text(cents_to_json(1999)), "19.99");
    EXPECT_EQ(http::to_json_text(cents_to_json(10)), "0.1");
}

TEST(Time, FormatsIso8601Utc) {
    EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(iso8601_utc(1700000000123), "2023-11-14T22:13:20.123Z");
}

TEST(Strings, ValidatesEmails) {
    EXPECT_TRUE(is_valid_email("a@b.co"));
    EXPECT_TRUE(is_valid_email("first.last+tag@example.org"));
    EXPECT_FALSE(is_valid_email("no-at-sign"));
    EXPECT_FALSE(is_valid_email("a@b"));
    EXPECT_FALSE(is_valid_email("a@@b.co"));
    EXPECT_FALSE(is_valid_email("a b@c.de"));
    EXPECT_FALSE(is_valid_email("@b.co"));
    EXPECT_FALSE(is_valid_email("a@.b.co"));
    EXPECT_FALSE(is_valid_email("a@b..co"));
}

TEST(Strings, EscapesRegexMetacharacters) {
    EXPECT_EQ(escape_regex(".*"), "\\.\\*");
    EXPECT_EQ(escape_regex("a(b)[c]{d}|e^f$g+h?i\\j"),
              "a\\(b\\)\\[c\\]\\{d\\}\\|e\\^f\\$g\\+h\\?i\\\\j");
    EXPECT_EQ(escape_regex("plain text"), "plain text");
}

TEST(Strings, CountsUtf8CharactersAndTrims) {
    EXPECT_EQ(utf8_length("héllo"), 5U);
    EXPECT_EQ(trim("  a b \n"), "a b");
    EXPECT_EQ(trim("   "), "");
}

TEST(FieldReader, CollectsEveryProblemAndRejectsUnknownFields) {
    auto body =
        boost::json::parse(R"({"name": 5, "email": {"$ne": null}, "role": "admin", "qty": 2.5})")
            .as_object();
    FieldReader fields(body, {"name", "email", "qty", "password"});
    EXPECT_FALSE(fields.string("name", true, 1, 10));
    EXPECT_FALSE(fields.email("email", true));
    EXPECT_FALSE(fields.integer("qty", true, 1, 10));
    EXPECT_FALSE(fields.string("password", true, 8, 128));
    try {
        fields.finish();
        FAIL() << "expected a validation error";
    } catch (const http::ApiError& error) {
        EXPECT_EQ(error.status(), 422);
        std::map<std::string, std::string> errors(error.errors().begin(), error.errors().end());
        EXPECT_EQ(errors["role"], "is not a recognised field");
        EXPECT_EQ(errors["name"], "must be a string");
        EXPECT_EQ(errors["email"], "must be a string");
        EXPECT_EQ(errors["qty"], "must be an integer from 1 to 10");
        EXPECT_EQ(errors["password"], "is required");
    }
}

TEST(FieldReader, AcceptsValidFields) {
    auto body = boost::json::parse(R"({"name": "  Ann  ", "email": "Ann@Example.COM", "qty": 3})")
                    .as_object();
    FieldReader fields(body, {"name", "email", "qty"});
    EXPECT_EQ(fields.string("name", true, 1, 10), "Ann");
    EXPECT_EQ(fields.email("email", true), "ann@example.com");
    EXPECT_EQ(fields.integer("qty", true, 1, 10), 3);
    EXPECT_NO_THROW(fields.finish());
}

TEST(Pagination, ParsesAndBoundsPageAndLimit) {
    http::FieldErrors errors;
    auto page = parse_page(std::string("3"), std::string("10"), errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(page.skip(), 20);
    parse_page(std::string("0"), std::string("1000"), errors);
    ASSERT_EQ(errors.size(), 2U);
    EXPECT_EQ(errors[0].first, "page");
    EXPECT_EQ(errors[1].first, "limit");
    errors.clear();
    parse_page(std::string("1x"), std::string("0"), errors);
    EXPECT_EQ(errors.size(), 2U);
}

}  // namespace
}  // namespace flaskcart::helpers
