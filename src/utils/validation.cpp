#include "utils/validation.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>

#include "utils/money.hpp"
#include "utils/text.hpp"

namespace flaskcart::validation {

using text::to_lower_ascii;
using text::trim;
using text::utf8_length;

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

bool FieldReader::is_null(std::string_view name) const {
    const auto* value = body_.if_contains(name);
    return value != nullptr && value->is_null();
}

void FieldReader::refuse_null(std::string_view name) {
    if (is_null(name)) add_error(std::string(name), "must not be null");
}

void FieldReader::add_error(std::string field, std::string message) {
    errors_.emplace_back(std::move(field), std::move(message));
}

std::optional<std::string> FieldReader::string(std::string_view name, const TextRule& rule) {
    const auto* value = body_.if_contains(name);
    if (value == nullptr || value->is_null()) {
        if (rule.required) add_error(std::string(name), "is required");
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
    if (utf8_length(text) < rule.min_length || utf8_length(value->as_string()) > rule.max_length) {
        add_error(std::string(name), "must be " + std::to_string(rule.min_length) + ".." +
                                         std::to_string(rule.max_length) + " characters");
        return std::nullopt;
    }
    return text;
}

std::optional<std::int64_t> FieldReader::integer(std::string_view name, const IntegerRule& rule) {
    const auto* value = body_.if_contains(name);
    if (value == nullptr || value->is_null()) {
        if (rule.required) add_error(std::string(name), "is required");
        return std::nullopt;
    }
    std::optional<std::int64_t> number;
    if (value->is_int64()) number = value->as_int64();
    if (value->is_uint64() && value->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        number = static_cast<std::int64_t>(value->as_uint64());
    }
    if (!number || *number < rule.min || *number > rule.max) {
        add_error(std::string(name), "must be an integer from " + std::to_string(rule.min) +
                                         " to " + std::to_string(rule.max));
        return std::nullopt;
    }
    return number;
}

std::optional<std::int64_t> FieldReader::price(std::string_view name, PresenceRule rule) {
    const auto* value = body_.if_contains(name);
    if (value == nullptr || value->is_null()) {
        if (rule.required) add_error(std::string(name), "is required");
        return std::nullopt;
    }
    std::optional<std::string_view> source_text;
    if (number_texts_ != nullptr) {
        if (auto text = number_texts_->find(name); text != number_texts_->end()) {
            source_text = text->second;
        }
    }
    std::string error;
    auto cents = money::parse_price(*value, source_text, error);
    if (!cents) add_error(std::string(name), error);
    return cents;
}

std::optional<std::string> FieldReader::email(std::string_view name, PresenceRule rule) {
    auto text = string(name, {.required = rule.required, .min_length = 3, .max_length = 254});
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

void require_some_change(bool changes_something) {
    if (!changes_something) {
        throw http::ApiError::validation("body", "must contain at least one field to change");
    }
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

}  // namespace flaskcart::validation
