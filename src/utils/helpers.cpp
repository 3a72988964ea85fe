#include "utils/helpers.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace flaskcart::helpers {

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

std::string iso8601_utc(std::int64_t epoch_ms) {
    // Calendar arithmetic from <chrono>: floor, not truncation, so instants before 1970 (negative
    // milliseconds) keep a millisecond field in 000..999 and land on the right day.
    using namespace std::chrono;
    const sys_time<milliseconds> instant{milliseconds(epoch_ms)};
    const auto day = std::chrono::floor<days>(instant);
    const year_month_day date{day};
    const hh_mm_ss time{instant - day};
    char buffer[96];
    const int length = std::snprintf(
        buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
        static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
        static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
    return std::string(buffer, static_cast<std::size_t>(length));
}

std::size_t utf8_length(std::string_view text) {
    std::size_t count = 0;
    for (unsigned char c : text) count += (c & 0xC0) != 0x80 ? 1 : 0;
    return count;
}

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

std::string to_lower_ascii(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool is_valid_email(std::string_view email) {
    // Deliberately simple (the only real test is a delivered mail): one @, a non-empty local
    // part, a dotted domain of letters, digits and hyphens, no spaces.
    if (email.size() < 3 || email.size() > 254) return false;
    const auto at = email.find('@');
    if (at == std::string_view::npos || at == 0 || at > 64 ||
        email.find('@', at + 1) != std::string_view::npos) {
        return false;
    }
    const std::string_view local = email.substr(0, at);
    const std::string_view domain = email.substr(at + 1);
    for (unsigned char c : local) {
        if (c <= ' ' || c >= 0x7F || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
            c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\') {
            return false;
        }
    }
    if (local.front() == '.' || local.back() == '.') return false;
    if (domain.empty() || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
        domain.back() == '.' || domain.find("..") != std::string_view::npos) {
        return false;
    }
    for (unsigned char c : domain) {
        if (!std::isalnum(c) && c != '-' && c != '.') return false;
    }
    return true;
}

std::string escape_regex(std::string_view text) {
    std::string out;
    out.reserve(text.size() * 2);
    for (char c : text) {
        if (std::string_view("\\^$.|?*+()[]{}-/").find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
    return out;
}

// --- FieldReader ------------------------------------------------------------------------------

FieldReader::FieldReader(const boost::json::object& body,
                         std::initializer_list<std::string_view> allowed)
    : body_(body) {
    for (const auto& entry : body_) {
        bool known = false;
        for (std::string_view name : allowed) known = known || entry.key() == name;
        if (!known) add_error(std::string(entry.key()), "is not a recognised field");
    }
}

FieldReader::FieldReader(const http::JsonBody& body,
                         std::initializer_list<std::string_view> allowed)
    : FieldReader(body.fields, allowed) {
    number_texts_ = &body.number_texts;
}

bool FieldReader::has(std::string_view name) const {
    return body_.contains(name);
}

void FieldReader::add_error(std::string field, std::string message) {
    errors_.emplace_back(std::move(field), std::move(message));
}

std::optional<std::string> FieldReader::string(std::string_view name, bool required,
                                               std::size_t min_length, std::size_t max_length) {
    const auto* value = body_.if_contains(name);
    if (value == nullptr || value->is_null()) {
        if (required) add_error(std::string(name), "is required");
        return std::nullopt;
    }
    if (!value->is_string()) {
        add_error(std::string(name), "must be a string");
        return std::nullopt;
    }
    std::string text = trim(value->as_string());
    for (unsigned char c : text) {
        if (c < 0x20 && c != '\n' && c != '\t') {
            add_error(std::string(name), "must not contain control characters");
            return std::nullopt;
        }
    }
    // The upper bound counts the text as sent and the lower one the trimmed text, so that both
    // are exactly what the contract's maxLength and pattern say.
    if (utf8_length(text) < min_length || utf8_length(value->as_string()) > max_length) {
        add_error(std::string(name), "must be " + std::to_string(min_length) + ".." +
                                         std::to_string(max_length) + " characters");
        return std::nullopt;
    }
    return text;
}

std::optional<std::int64_t> FieldReader::integer(std::string_view name, bool required,
                                                 std::int64_t min, std::int64_t max) {
    const auto* value = body_.if_contains(name);
    if (value == nullptr || value->is_null()) {
        if (required) add_error(std::string(name), "is required");
        return std::nullopt;
    }
    std::optional<std::int64_t> number;
    if (value->is_int64()) number = value->as_int64();
    if (value->is_uint64() && value->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        number = static_cast<std::int64_t>(value->as_uint64());
    }
    if (!number || *number < min || *number > max) {
        add_error(std::string(name),
                  "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
        return std::nullopt;
    }
    return number;
}

std::optional<std::int64_t> FieldReader::price(std::string_view name, bool required) {
    const auto* value = body_.if_contains(name);
    if (value == nullptr || value->is_null()) {
        if (required) add_error(std::string(name), "is required");
        return std::nullopt;
    }
    std::optional<std::string_view> source_text;
    if (number_texts_ != nullptr) {
        if (auto text = number_texts_->find(name); text != number_texts_->end()) {
            source_text = text->second;
        }
    }
    std::string error;
    auto cents = parse_price(*value, source_text, error);
    if (!cents) add_error(std::string(name), error);
    return cents;
}

std::optional<std::string> FieldReader::email(std::string_view name, bool required) {
    auto text = string(name, required, 3, 254);
    if (!text) return std::nullopt;
    if (!is_valid_email(*text)) {
        add_error(std::string(name), "must be a valid email address");
        return std::nullopt;
    }
    return to_lower_ascii(*text);
}

void FieldReader::finish() const {
    if (!errors_.empty()) throw http::ApiError::validation(errors_);
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
    return value;
}

Page parse_page(const std::optional<std::string>& page, const std::optional<std::string>& limit,
                http::FieldErrors& errors, std::int64_t max_limit) {
    Page out;
    if (page) {
        auto n = parse_int(*page);
        if (!n || *n < 1 || *n > 1'000'000) {
            errors.emplace_back("page", "must be an integer from 1 to 1000000");
        } else {
            out.page = *n;
        }
    }
    if (limit) {
        auto n = parse_int(*limit);
        if (!n || *n < 1 || *n > max_limit) {
            errors.emplace_back("limit",
                                "must be an integer from 1 to " + std::to_string(max_limit));
        } else {
            out.limit = *n;
        }
    }
    return out;
}

Page require_page(const std::optional<std::string>& page, const std::optional<std::string>& limit) {
    http::FieldErrors errors;
    const Page parsed = parse_page(page, limit, errors);
    if (!errors.empty()) throw http::ApiError::validation(std::move(errors));
    return parsed;
}

boost::json::object page_json(boost::json::array items, std::int64_t page, std::int64_t limit,
                              std::int64_t total) {
    return {{"items", std::move(items)}, {"page", page}, {"limit", limit}, {"total", total}};
}

}  // namespace flaskcart::helpers
