#pragma once
// Money: integer minor units (cents) everywhere; JSON shows major units. The one price parser
// reads decimal text exactly, without doubles. Pure functions; thread-safe.

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flaskcart::money {

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

}  // namespace flaskcart::money
