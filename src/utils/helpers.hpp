#pragma once
// Small pure helpers shared by routes and models: money, time, request-field validation,
// pagination. No I/O.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "http/json_body.hpp"
#include "http/problem.hpp"

namespace flaskcart::helpers {

// --- money: integer minor units (cents) everywhere; JSON shows major units ---------------------
inline constexpr std::int64_t kMaxPriceCents = 100'000'000;  // 1,000,000.00

// kJsonNumber: RFC 8259 number syntax ("-1", "19.99", "1e2", "19.99e0"), for JSON bodies.
// kPlainDecimal: digits with an optional fraction ("0", "19.99"), for query parameters, where
// a sign or exponent in a URL is far more likely a mistake than intended.
enum class DecimalSyntax { kJsonNumber, kPlainDecimal };

// The one price parser, for bodies and query filters. Reads the decimal text exactly, digit by
// digit, and returns whole cents when the amount is ≥ min_cents, ≤ kMaxPriceCents and has
// nothing below the cent; otherwise sets `error` to the reason ("must have at most two decimal
// places", ...) and returns nullopt. No doubles, so 999.999 and 5e-324 are refused at every
// magnitude instead of rounded. Zeros after the cents do not count as decimals ("1.500").
std::optional<std::int64_t> parse_cents(std::string_view decimal, DecimalSyntax syntax,
                                        std::int64_t min_cents, std::string& error);
// A price in a JSON body: a number > 0 (parse_cents with min 1 cent). `source_text` is the
// number as the client wrote it (http::JsonBody keeps it); without it an integer is exact and a
// double is read through its shortest round-trip form.
std::optional<std::int64_t> parse_price(const boost::json::value& value,
                                        std::optional<std::string_view> source_text,
                                        std::string& error);
boost::json::value cents_to_json(std::int64_t cents);
// "19.99" for display and tests.
std::string format_cents(std::int64_t cents);

// --- time --------------------------------------------------------------------------------------
std::string iso8601_utc(std::int64_t epoch_ms);

// --- strings -----------------------------------------------------------------------------------
std::size_t utf8_length(std::string_view text);
std::string trim(std::string_view text);
std::string to_lower_ascii(std::string_view text);
bool is_valid_email(std::string_view email);
// Escapes every regular-expression metacharacter so user text matches literally.
std::string escape_regex(std::string_view text);

// Reads and validates the fields of a JSON request object, collecting every problem so the
// client sees them all at once. Unknown fields are errors (no mass assignment).
class FieldReader {
  public:
    FieldReader(const boost::json::object& body, std::initializer_list<std::string_view> allowed);
    // Reads prices from the numbers' source text (see parse_price).
    FieldReader(const http::JsonBody& body, std::initializer_list<std::string_view> allowed);

    bool has(std::string_view name) const;
    // Strings are trimmed; length is counted in characters, the maximum on the text as sent and
    // the minimum on the trimmed text. Control characters other than tab and newline are
    // refused (leading and trailing ones are trimmed).
    std::optional<std::string> string(std::string_view name, bool required, std::size_t min_length,
                                      std::size_t max_length);
    std::optional<std::int64_t> integer(std::string_view name, bool required, std::int64_t min,
                                        std::int64_t max);
    std::optional<std::int64_t> price(std::string_view name, bool required);
    std::optional<std::string> email(std::string_view name, bool required);
    void add_error(std::string field, std::string message);
    bool ok() const noexcept { return errors_.empty(); }
    // Throws ApiError::validation when any field failed.
    void finish() const;

  private:
    const boost::json::object& body_;
    const std::map<std::string, std::string, std::less<>>* number_texts_ = nullptr;
    http::FieldErrors errors_;
};

struct Page {
    std::int64_t page = 1;
    std::int64_t limit = 20;
    std::int64_t skip() const noexcept { return (page - 1) * limit; }
};

// Parses ?page (≥ 1) and ?limit (1..max_limit) text; errors name the parameter.
Page parse_page(const std::optional<std::string>& page, const std::optional<std::string>& limit,
                http::FieldErrors& errors, std::int64_t max_limit = 100);
std::optional<std::int64_t> parse_int(std::string_view text);
// ?page and ?limit as a Page, or a 422 naming the bad parameter.
Page require_page(const std::optional<std::string>& page, const std::optional<std::string>& limit);
// The envelope of every paginated list: {items, page, limit, total}.
boost::json::object page_json(boost::json::array items, std::int64_t page, std::int64_t limit,
                              std::int64_t total);

}  // namespace flaskcart::helpers
