#pragma once
// Request bodies as JSON objects that keep the source text of their numbers, so amounts are read
// from the decimal the client wrote, not from a double that has already rounded it.

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace flaskcart::http {

struct JsonBody {
    boost::json::object fields;
    // Member name → the number's text exactly as sent ("19.99", "1e2"), for every member of the
    // top-level object whose value is a number. With a repeated name the last one wins, as in
    // `fields`.
    std::map<std::string, std::string, std::less<>> number_texts;
};

// Parses a request body. Throws ApiError::bad_request when it is not valid JSON or not an object.
JsonBody parse_json_body(std::string_view text);

}  // namespace flaskcart::http
