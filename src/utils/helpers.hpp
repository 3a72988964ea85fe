#pragma once
// Small pure helpers shared by routes and models: money, time, request-field validation,
// pagination. No I/O.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "http/problem.hpp"

namespace flaskcart::helpers {

// --- money: integer minor units (cents) everywhere; JSON shows major units ---------------------
inline constexpr std::int64_t kMaxPriceCents = 100'000'000;  // 1,000,000.00

// A JSON number with at most two decimals, > 0 and ≤ the bound, as cents; otherwise a message.
// Doubles below 2^53 map to exactly one cent value, so 19.99 → 1999 without drift.
std::optional<std::int64_t> parse_price(const boost::json::value& value, std::string& error);
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

    bool has(std::string_view name) const;
    // Strings are trimmed; length is counted in characters. Control characters are refused.
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
