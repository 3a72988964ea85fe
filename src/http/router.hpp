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

struct RouteMatch {
    const Handler* handler = nullptr;
    const std::string* path_template = nullptr;  // set with handler
    std::map<std::string, std::string> params;
    std::string allow;  // set when the path matched but the method did not
};

class Router {
  public:
    // Throws std::logic_error on a duplicate (method, template).
    void add(std::string method, std::string path_template, Handler handler);
    RouteMatch match(std::string_view method, std::string_view path) const;
    // Runs the matching handler and renders every failure; never throws.
    Response dispatch(Request& request) const;
    // (method, template) pairs, for the OpenAPI completeness test and --list-routes.
    std::vector<std::pair<std::string, std::string>> routes() const;

  private:
    Response run_handler(Request& request, RouteMatch& found) const;
    struct Route {
        std::string method;
        std::string path_template;
        std::vector<std::string> segments;
        Handler handler;
    };
    std::vector<Route> routes_;
};

std::vector<std::string> split_path(std::string_view path);

}  // namespace flaskcart::http
