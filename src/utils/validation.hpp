#pragma once
// Request input checks shared by the route modules: the fields of a JSON body (FieldReader,
// collecting every problem at once), email syntax, and ?page/&limit paging. Failures are 422
// problem documents naming the field.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "http/json_body.hpp"
#include "http/problem.hpp"

namespace flaskcart::validation {

// Deliberately simple (the only real test is a delivered mail): one @, a non-empty local part,
// a dotted domain of letters, digits and hyphens, no spaces.
bool is_valid_email(std::string_view email);

// What a FieldReader accepts for one field. Named at the call site
// (`fields.string("phone", {.max_length = kMaxPhoneLength})`): an absent or null field is an
// error only when `required`.
struct TextRule {
    bool required = false;
    std::size_t min_length = 0;  // characters, of the trimmed text
    std::size_t max_length = 0;  // characters, of the text as sent
};
struct IntegerRule {
    bool required = false;
    std::int64_t min = 0;
    std::int64_t max = 0;
};
struct PresenceRule {
    bool required = false;
};

// Reads and validates the fields of a JSON request object, collecting every problem so the
// client sees them all at once. Unknown fields are errors (no mass assignment).
class FieldReader {
  public:
    FieldReader(const boost::json::object& body, std::initializer_list<std::string_view> allowed);
    // Reads prices from the numbers' source text (see parse_price).
    FieldReader(const http::JsonBody& body, std::initializer_list<std::string_view> allowed);

    bool has(std::string_view name) const;
    // The field is present with the value null.
    bool is_null(std::string_view name) const;
    // A field that may be left out but not cleared: an explicit null is an error.
    void refuse_null(std::string_view name);
    // Strings are trimmed; length is counted in characters, the maximum on the text as sent and
    // the minimum on the trimmed text. Control characters other than tab and newline are
    // refused (leading and trailing ones are trimmed).
    std::optional<std::string> string(std::string_view name, const TextRule& rule);
    std::optional<std::int64_t> integer(std::string_view name, const IntegerRule& rule);
    std::optional<std::int64_t> price(std::string_view name, PresenceRule rule);
    // Lower-cased (the stored form of an email).
    std::optional<std::string> email(std::string_view name, PresenceRule rule);
    void add_error(std::string field, std::string message);
    bool ok() const noexcept { return errors_.empty(); }
    // Throws ApiError::validation when any field failed.
    void finish() const;

  private:
    const boost::json::object& body_;
    const std::map<std::string, std::string, std::less<>>* number_texts_ = nullptr;
    http::FieldErrors errors_;
};

// A partial update must change something: a 422 naming the body otherwise.
void require_some_change(bool changes_something);

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

}  // namespace flaskcart::validation
