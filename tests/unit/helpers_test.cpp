// The pure helpers split out of the old utils/helpers: money, time, text and request
// validation.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/message.hpp"
#include "utils/money.hpp"
#include "utils/text.hpp"
#include "utils/time.hpp"
#include "utils/validation.hpp"

namespace flaskcart {
namespace {

using namespace money;
using namespace text;
using namespace validation;
using time_format::iso8601_utc;

// A price as POST /products reads it: from the body's source text, through FieldReader.
std::optional<std::int64_t> price_of(const std::string& json, std::string* error_out = nullptr) {
    const http::JsonBody body = http::parse_json_body(R"({"price": )" + json + "}");
    FieldReader reader(body, {"price"});
    auto cents = reader.price("price", {.required = true});
    if (error_out != nullptr) {
        try {
            reader.finish();
            *error_out = "";
        } catch (const http::ApiError& error) {
            EXPECT_EQ(error.status(), 422);
            EXPECT_EQ(error.errors().at(0).first, "price");
            *error_out = error.errors().at(0).second;
        }
    }
    return cents;
}

std::optional<std::int64_t> cents_of(std::string_view text, std::int64_t min_cents = 1,
                                     std::string* error_out = nullptr,
                                     DecimalSyntax syntax = DecimalSyntax::kJsonNumber) {
    std::string error;
    auto cents = parse_cents(text, syntax, min_cents, error);
    if (error_out != nullptr) *error_out = error;
    EXPECT_EQ(cents.has_value(), error.empty()) << text;
    return cents;
}

constexpr const char* kDecimals = "must have at most two decimal places";
constexpr const char* kTooLarge = "must be at most 1000000.00";
constexpr const char* kNotPositive = "must be a number greater than 0";

TEST(Money, ParsesTwoDecimalPricesExactly) {
    EXPECT_EQ(price_of("19.99"), 1999);
    EXPECT_EQ(price_of("0.1"), 10);
    EXPECT_EQ(price_of("0.01"), 1);
    EXPECT_EQ(price_of("10"), 1000);
    EXPECT_EQ(price_of("1000000"), 100'000'000);
    EXPECT_EQ(price_of("4.35"), 435);  // 4.35 * 100 = 434.99999999999994 in binary
    EXPECT_EQ(price_of("1.005e2"), 10050);
    EXPECT_EQ(price_of("999999.99"), 99'999'999);
    EXPECT_EQ(price_of("999.99"), 99'999);
    EXPECT_EQ(price_of("19.990000"), 1999);
}

TEST(Money, ReadsExponentFormsExactly) {
    EXPECT_EQ(price_of("1e2"), 10'000);
    EXPECT_EQ(price_of("1E2"), 10'000);
    EXPECT_EQ(price_of("1e+2"), 10'000);
    EXPECT_EQ(price_of("19.99e0"), 1999);
    EXPECT_EQ(price_of("1999e-2"), 1999);
    EXPECT_EQ(price_of("0.1999e2"), 1999);
    EXPECT_EQ(price_of("1e6"), 100'000'000);
    EXPECT_EQ(price_of("1e-2"), 1);
    EXPECT_EQ(price_of("100000000e-2"), 100'000'000);
    // Zeros in the significand do not count as decimals, however many there are.
    EXPECT_EQ(price_of("0.00000000000000000000000000000000000001e38"), 100);
    EXPECT_EQ(price_of("12.3400000000000000000000000000000000000000"), 1234);
}

TEST(Money, RefusesTinyAndDenormalNumbersThatRoundToZero) {
    std::string error;
    for (const char* tiny : {"5e-324", "4.9406564584124654e-324", "2.2250738585072014e-308",
                             "1e-10", "1e-3", "0.001", "0.009", "1e-400"}) {
        EXPECT_FALSE(price_of(tiny, &error)) << tiny;
        EXPECT_EQ(error, kDecimals) << tiny;
    }
    // Boost.JSON refuses exponents beyond INT_MAX (400); query filters reach the parser.
    EXPECT_FALSE(cents_of("1e-99999999999999999999", 0, &error));
    EXPECT_EQ(error, kDecimals);
}

TEST(Money, RefusesThirdDecimalsAtEveryMagnitude) {
    std::string error;
    // A double-based check tolerates more error as the amount grows; these were stored rounded.
    for (const char* amount : {"999.999", "5000.004", "123456.789", "999999.999", "1.005", "19.999",
                               "0.015", "999999.991", "1000.0001", "19.99e-1"}) {
        EXPECT_FALSE(price_of(amount, &error)) << amount;
        EXPECT_EQ(error, kDecimals) << amount;
    }
}

TEST(Money, RefusesAmountsAboveTheMaximum) {
    std::string error;
    EXPECT_EQ(price_of("1000000.00"), 100'000'000);
    for (const char* amount : {"1000000.01", "1000001", "1.0000001e6", "1e7", "1e309", "1e400",
                               "18446744073709551616", "99999999999999999999999", "1e2147483647"}) {
        EXPECT_FALSE(price_of(amount, &error)) << amount;
        EXPECT_EQ(error, kTooLarge) << amount;
    }
    EXPECT_FALSE(cents_of("1e99999999999999999999", 0, &error));
    EXPECT_EQ(error, kTooLarge);
    EXPECT_EQ(cents_of("99999999e-2", 0), 99'999'999);
}

TEST(Money, RejectsBadPrices) {
    std::string error;
    for (const char* amount : {"0", "0.00", "-1", "-0", "-0.01", "0e5", "-1e2"}) {
        EXPECT_FALSE(price_of(amount, &error)) << amount;
        EXPECT_EQ(error, kNotPositive) << amount;
    }
    for (const char* value : {"\"10\"", "null", "true", "[1]", "{}"}) {
        EXPECT_FALSE(price_of(value, &error)) << value;
    }
    EXPECT_FALSE(price_of("\"10\"", &error));
    EXPECT_EQ(error, "must be a number");
    EXPECT_FALSE(price_of("null", &error));
    EXPECT_EQ(error, "is required");
}

TEST(Money, OneParserForText) {
    std::string error;
    EXPECT_EQ(cents_of("0", 0), 0);
    EXPECT_EQ(cents_of("-0", 0), 0);
    EXPECT_EQ(cents_of("19.99", 0), 1999);
    EXPECT_EQ(cents_of("1e2", 0), 10'000);
    EXPECT_FALSE(cents_of("-1", 0, &error));
    EXPECT_EQ(error, "must not be negative");
    // Only JSON number syntax: no signs but '-', no leading zeros, digits on both sides of '.'.
    for (const char* bad :
         {"",     "-",   ".",   "1.", ".5", "+1",  "01",  "00.5",     "1e",  "1e+",   "1.e2",
          "0x10", "abc", "1,5", " 1", "1 ", "NaN", "inf", "Infinity", "1_0", "1e2.5", "--1"}) {
        EXPECT_FALSE(cents_of(bad, 0, &error)) << bad;
        EXPECT_EQ(error, "must be a number") << bad;
    }
    EXPECT_FALSE(cents_of(std::string_view("1\0", 2), 0, &error));  // an embedded NUL
    // Plain decimals (query parameters): the same digits without sign or exponent.
    EXPECT_EQ(cents_of("19.990", 0, &error, DecimalSyntax::kPlainDecimal), 1999);
    EXPECT_EQ(cents_of("1000000.0", 0, &error, DecimalSyntax::kPlainDecimal), 100'000'000);
    for (const char* bad : {"-1", "-0", "1e2", "19.99e0", "01", "+1", "1."}) {
        EXPECT_FALSE(cents_of(bad, 0, &error, DecimalSyntax::kPlainDecimal)) << bad;
        EXPECT_EQ(error, "must be a number") << bad;
    }
    EXPECT_FALSE(cents_of("999.999", 0, &error, DecimalSyntax::kPlainDecimal));
    EXPECT_EQ(error, kDecimals);
}

TEST(Money, DoublesWithoutSourceTextUseTheirShortestForm) {
    std::string error;
    EXPECT_EQ(parse_price(boost::json::value(19.99), std::nullopt, error), 1999);
    EXPECT_EQ(parse_price(boost::json::value(4.35), std::nullopt, error), 435);
    EXPECT_EQ(parse_price(boost::json::value(std::int64_t{7}), std::nullopt, error), 700);
    EXPECT_FALSE(parse_price(boost::json::value(999.999), std::nullopt, error));
    EXPECT_FALSE(parse_price(boost::json::value(5e-324), std::nullopt, error));
    EXPECT_EQ(error, kDecimals);
}

TEST(JsonBody, KeepsTheTextOfTopLevelNumbers) {
    const auto body = http::parse_json_body(
        R"({"a": 19.990, "b": 1e2, "c": -7, "d": [1.5], "e": {"f": 2.25}, "g": "3", )"
        R"("h": 18446744073709551615, "a\u0062": 0.1, "i": 5e-324})");
    EXPECT_EQ(body.number_texts.at("a"), "19.990");
    EXPECT_EQ(body.number_texts.at("i"), "5e-324");
    EXPECT_EQ(body.number_texts.at("b"), "1e2");
    EXPECT_EQ(body.number_texts.at("c"), "-7");
    EXPECT_EQ(body.number_texts.at("h"), "18446744073709551615");
    EXPECT_EQ(body.number_texts.at("ab"), "0.1");
    EXPECT_EQ(body.number_texts.size(), 6U);
    EXPECT_EQ(body.fields.at("b").as_double(), 100.0);
    EXPECT_EQ(body.fields.at("e").at("f").as_double(), 2.25);
    EXPECT_EQ(body.fields.at("g").as_string(), "3");
}

TEST(JsonBody, RefusesAKeyRepeatedInOneObjectAtAnyDepth) {
    for (const char* text : {R"({"a": 1, "a": 2})", R"({"role": "user", "r\u006fle": "admin"})",
                             R"({"x": {"b": 1, "b": 1}})", R"({"x": [{"c": 1, "c": 2}]})"}) {
        try {
            http::parse_json_body(text);
            ADD_FAILURE() << text;
        } catch (const http::ApiError& error) {
            EXPECT_EQ(error.status(), 400) << text;
        }
    }
    // The same name in sibling objects is no repetition.
    EXPECT_NO_THROW(http::parse_json_body(R"({"x": {"b": 1}, "y": {"b": 2}, "b": 3})"));
}

TEST(JsonBody, RefusesWhatIsNotOneJsonObject) {
    for (const char* text : {"", "[]", "1", "\"x\"", "{", "{} {}", "{}x", "{\"a\":01}",
                             "{\"a\":1,}", "{\"a\":NaN}", "{/*c*/}"}) {
        try {
            http::parse_json_body(text);
            ADD_FAILURE() << text;
        } catch (const http::ApiError& error) {
            EXPECT_EQ(error.status(), 400) << text;
        }
    }
    EXPECT_TRUE(http::parse_json_body(" {} \n").fields.empty());
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
    EXPECT_FALSE(fields.string("name", {.required = true, .min_length = 1, .max_length = 10}));
    EXPECT_FALSE(fields.email("email", {.required = true}));
    EXPECT_FALSE(fields.integer("qty", {.required = true, .min = 1, .max = 10}));
    EXPECT_FALSE(fields.string("password", {.required = true, .min_length = 8, .max_length = 128}));
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
    EXPECT_EQ(fields.string("name", {.required = true, .min_length = 1, .max_length = 10}), "Ann");
    EXPECT_EQ(fields.email("email", {.required = true}), "ann@example.com");
    EXPECT_EQ(fields.integer("qty", {.required = true, .min = 1, .max = 10}), 3);
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
}  // namespace flaskcart
