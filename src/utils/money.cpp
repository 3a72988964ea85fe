#include "utils/money.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

namespace flaskcart::money {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// The digits of a JSON number, split at the decimal point, with its exponent.
struct DecimalParts {
    bool negative = false;
    std::string_view integer;
    std::string_view fraction;
    std::int64_t exponent = 0;  // saturated at ±kExponentCap: beyond it only the sign matters
};

constexpr std::int64_t kExponentCap = 1'000'000'000'000;

// JSON number grammar (RFC 8259 §6): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// Plain decimals are the same without the sign and the exponent.
std::optional<DecimalParts> split_decimal(std::string_view text, DecimalSyntax syntax) {
    const bool is_json = syntax == DecimalSyntax::kJsonNumber;
    DecimalParts parts;
    std::size_t at = 0;
    const auto digits_from = [&text, &at]() {
        const std::size_t first = at;
        while (at < text.size() && is_digit(text[at])) ++at;
        return text.substr(first, at - first);
    };
    if (is_json && at < text.size() && text[at] == '-') {
        parts.negative = true;
        ++at;
    }
    parts.integer = digits_from();
    if (parts.integer.empty() || (parts.integer.size() > 1 && parts.integer.front() == '0')) {
        return std::nullopt;
    }
    if (at < text.size() && text[at] == '.') {
        ++at;
        parts.fraction = digits_from();
        if (parts.fraction.empty()) return std::nullopt;
    }
    if (is_json && at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
        ++at;
        bool negative_exponent = false;
        if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
            negative_exponent = text[at] == '-';
            ++at;
        }
        const std::string_view exponent = digits_from();
        if (exponent.empty()) return std::nullopt;
        for (char c : exponent) {
            parts.exponent = std::min(parts.exponent * 10 + (c - '0'), kExponentCap);
        }
        if (negative_exponent) parts.exponent = -parts.exponent;
    }
    if (at != text.size()) return std::nullopt;
    return parts;
}

}  // namespace

std::optional<std::int64_t> parse_cents(std::string_view decimal, DecimalSyntax syntax,
                                        std::int64_t min_cents, std::string& error) {
    const auto parts = split_decimal(decimal, syntax);
    if (!parts) {
        error = "must be a number";
        return std::nullopt;
    }
    // The value is significand × 10^(exponent − fraction digits); in cents the power grows by 2.
    // Leading and trailing zeros are dropped so that only the significant digits are multiplied.
    std::string significand;
    significand.reserve(parts->integer.size() + parts->fraction.size());
    significand.append(parts->integer).append(parts->fraction);
    const auto first = significand.find_first_not_of('0');
    std::int64_t cents = 0;
    if (first != std::string::npos) {
        const auto last = significand.find_last_not_of('0');
        const auto trailing_zeros = static_cast<std::int64_t>(significand.size() - 1 - last);
        const std::string_view digits =
            std::string_view(significand).substr(first, last - first + 1);
        const std::int64_t power = parts->exponent -
                                   static_cast<std::int64_t>(parts->fraction.size()) + 2 +
                                   trailing_zeros;
        if (parts->negative) {
            error = min_cents > 0 ? "must be a number greater than 0" : "must not be negative";
            return std::nullopt;
        }
        if (power < 0) {
            error = "must have at most two decimal places";
            return std::nullopt;
        }
        // 18 digits fit an int64 and are far above any bound, so longer amounts are just too big.
        if (static_cast<std::int64_t>(digits.size()) + power > 18) {
            error = "must be at most " + format_cents(kMaxPriceCents);
            return std::nullopt;
        }
        for (char c : digits) cents = cents * 10 + (c - '0');
        for (std::int64_t i = 0; i < power; ++i) cents *= 10;
    }
    if (cents < min_cents) {
        error = min_cents > 0 ? "must be a number greater than 0"
                              : "must be at least " + format_cents(min_cents);
        return std::nullopt;
    }
    if (cents > kMaxPriceCents) {
        error = "must be at most " + format_cents(kMaxPriceCents);
        return std::nullopt;
    }
    return cents;
}

std::optional<std::int64_t> parse_price(const boost::json::value& value,
                                        std::optional<std::string_view> source_text,
                                        std::string& error) {
    if (!value.is_number()) {
        error = "must be a number";
        return std::nullopt;
    }
    std::string text;
    if (source_text) {
        text = *source_text;
    } else if (value.is_int64()) {
        text = std::to_string(value.as_int64());
    } else if (value.is_uint64()) {
        text = std::to_string(value.as_uint64());
    } else {
        char buffer[32];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, value.as_double());
        text.assign(buffer, result.ptr);
    }
    return parse_cents(text, DecimalSyntax::kJsonNumber, 1, error);
}

boost::json::value cents_to_json(std::int64_t cents) {
    if (cents % 100 == 0) return boost::json::value(cents / 100);
    return boost::json::value(static_cast<double>(cents) / 100.0);
}

std::string format_cents(std::int64_t cents) {
    const bool negative = cents < 0;
    const std::int64_t magnitude = negative ? -cents : cents;
    std::string out = std::to_string(magnitude / 100) + ".";
    const std::int64_t fraction = magnitude % 100;
    if (fraction < 10) out += '0';
    out += std::to_string(fraction);
    return negative ? "-" + out : out;
}

}  // namespace flaskcart::money
