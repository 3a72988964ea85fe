#pragma once
// Transport-neutral request and response: what handlers see instead of Beast types.

#include <boost/json/fwd.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/problem.hpp"

namespace flaskcart::http {

struct Request {
    std::string method;                             // "GET", "POST", ...
    std::string target;                             // as sent: path + query
    std::string path;                               // percent-decoded path
    std::multimap<std::string, std::string> query;  // decoded parameters
    std::map<std::string, std::string> headers;     // names lower-cased
    // The path's non-empty segments, each decoded on its own: split before decoding, so a %2F
    // inside an id stays inside its segment. What the router matches.
    std::vector<std::string> path_segments;
    std::string body;
    std::string remote_address;
    std::string request_id;
    // Filled by Router::dispatch for the access log and metrics: "GET /products/{id}" (or
    // "unmatched"), and the database commands the handler issued.
    std::string route;
    int db_commands = 0;

    std::optional<std::string_view> header(const std::string& lower_name) const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    HeaderList headers;

    static Response json(int status, const boost::json::value& body);
    static Response no_content();
    static Response problem(const ApiError& error, const std::string& instance);
};

// JSON text with doubles in plain decimal form (19.99, not 1.999E1).
std::string to_json_text(const boost::json::value& value);

// Splits a request target into path, path segments and decoded query parameters. Throws ApiError:
// 400 when the target is malformed or its decoded path is not valid UTF-8 (or holds NUL); 422
// naming each query parameter whose decoded name or value is not. So no handler, log or database
// ever sees such bytes from a URL.
void parse_target(std::string_view target, Request& out);

}  // namespace flaskcart::http
