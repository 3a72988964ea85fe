#pragma once
// Method + path template → handler. Templates match segment by segment (`/products/{id}`);
// no regular expressions. dispatch() is the one place errors become problem+json.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace flaskcart::http {

class RequestContext;
using Handler = std::function<Response(RequestContext&)>;

// How a route runs and how its responses may be kept.
struct RouteOptions {
    // The handler is cheap and never blocks: no database, no password hashing, no file or
    // network I/O. It then runs on the network thread that read the request, with no hop to the
    // worker pool, so it answers even when database work fills the pool (/health, /openapi.json).
    bool runs_on_network_thread = false;
    // Its responses carry a token or personal data: `Cache-Control: no-store`. Every response
    // to a request with an Authorization header gets it anyway.
    bool is_private = false;
};

struct RouteMatch {
    const Handler* handler = nullptr;
    RouteOptions options;
    const std::string* path_template = nullptr;  // set with handler
    std::map<std::string, std::string> params;
    std::string allow;  // set when the path matched but the method did not
};

class Router {
  public:
    // Runs before every matched handler (after 404 and 405); throws ApiError to refuse.
    using Guard = std::function<void(const Request&)>;

    // Throws std::logic_error on a duplicate (method, template).
    void add(std::string method, std::string path_template, Handler handler,
             RouteOptions options = {});
    // `segments` as Request::path_segments holds them (decoded one by one).
    RouteMatch match(std::string_view method, const std::vector<std::string>& segments) const;
    // A path whose segments hold no '/': split_path(path), then as above.
    RouteMatch match(std::string_view method, std::string_view path) const;
    // Runs the matching handler and renders every failure; never throws. Adds
    // `Cache-Control: no-store` to private responses (RouteOptions::is_private, or the request
    // carries credentials) unless the handler chose a Cache-Control.
    Response dispatch(Request& request) const;
    // True when the request's route is marked runs_on_network_thread. Unknown paths and wrong
    // methods are too: their 404/405 needs no database either.
    bool runs_on_network_thread(const Request& request) const;
    // (method, template) pairs, in registration order: what the OpenAPI test compares with
    // openapi.json.
    std::vector<std::pair<std::string, std::string>> routes() const;
    // Set once, before the first request.
    void set_guard(Guard guard) { guard_ = std::move(guard); }

  private:
    Response run(Request& request, RouteMatch& found) const;
    struct Route {
        std::string method;
        std::string path_template;
        std::vector<std::string> segments;
        Handler handler;
        RouteOptions options;
    };
    std::vector<Route> routes_;
    Guard guard_;
};

// The non-empty '/'-separated segments of a path template (or of a path with no encoded '/').
std::vector<std::string> split_path(std::string_view path);

}  // namespace flaskcart::http
