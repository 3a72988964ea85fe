#include "http/router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "http/context.hpp"
#include "utils/db_error.hpp"
#include "utils/metrics.hpp"

namespace flaskcart::http {

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> segments;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t slash = path.find('/', start);
        const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
        if (end > start) segments.emplace_back(path.substr(start, end - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return segments;
}

namespace {

bool is_param(const std::string& segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& actual,
             std::map<std::string, std::string>* params) {
    if (pattern.size() != actual.size()) return false;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (is_param(pattern[i])) {
            if (params != nullptr)
                (*params)[pattern[i].substr(1, pattern[i].size() - 2)] = actual[i];
        } else if (pattern[i] != actual[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

void Router::add(std::string method, std::string path_template, Handler handler,
                 RouteOptions options) {
    for (const Route& route : routes_) {
        if (route.method == method && route.path_template == path_template) {
            throw std::logic_error("duplicate route " + method + " " + path_template);
        }
    }
    auto segments = split_path(path_template);
    routes_.push_back({std::move(method), std::move(path_template), std::move(segments),
                       std::move(handler), options});
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
    return match(method, split_path(path));
}

RouteMatch Router::match(std::string_view method, const std::vector<std::string>& segments) const {
    RouteMatch result;
    // The most specific templates that match win, whatever the method: a literal segment beats
    // a parameter, so `/cart/add` is POST /cart/add (GET → 405), never GET /cart/{user_id}.
    std::vector<const Route*> candidates;
    int fewest_params = 1 << 30;
    for (const Route& route : routes_) {
        if (!matches(route.segments, segments, nullptr)) continue;
        const int params =
            static_cast<int>(std::count_if(route.segments.begin(), route.segments.end(), is_param));
        if (params < fewest_params) {
            candidates.clear();
            fewest_params = params;
        }
        if (params == fewest_params) candidates.push_back(&route);
    }
    std::set<std::string> allowed;
    for (const Route* route : candidates) {
        if (route->method == method) {
            matches(route->segments, segments, &result.params);
            result.handler = &route->handler;
            result.options = route->options;
            result.path_template = &route->path_template;
            return result;
        }
        allowed.insert(route->method);
    }
    if (allowed.count("GET") > 0) allowed.insert("HEAD");
    for (const auto& m : allowed) result.allow += (result.allow.empty() ? "" : ", ") + m;
    return result;
}

namespace {

void mark_private(Response& response) {
    for (const auto& [name, value] : response.headers) {
        if (name.size() == 13 &&
            std::equal(name.begin(), name.end(), "cache-control", [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == b;
            })) {
            return;
        }
    }
    response.headers.emplace_back("Cache-Control", "no-store");
}

}  // namespace

Response Router::dispatch(Request& request) const {
    RouteMatch found = match(request.method, request.path_segments);
    request.route = found.path_template != nullptr ? request.method + " " + *found.path_template
                                                   : std::string("unmatched");
    metrics::RequestScope scope(request.route);
    Response response = run(request, found);
    request.db_commands = scope.db_commands();
    if (found.options.is_private || request.header("authorization")) mark_private(response);
    return response;
}

bool Router::runs_on_network_thread(const Request& request) const {
    const RouteMatch found = match(request.method, request.path_segments);
    return found.handler == nullptr || found.options.runs_on_network_thread;
}

Response Router::run(Request& request, RouteMatch& found) const {
    try {
        if (found.handler == nullptr) {
            if (!found.allow.empty()) throw ApiError::method_not_allowed(found.allow);
            throw ApiError::not_found("resource " + request.path);
        }
        if (guard_) guard_(request);
        RequestContext context(request, std::move(found.params));
        return (*found.handler)(context);
    } catch (const ApiError& error) {
        return Response::problem(error, request.path);
    } catch (const DomainError& error) {
        return Response::problem(to_api_error(error), request.path);
    } catch (const db::DbError& error) {
        const bool unavailable = error.is_unavailable();
        // While the circuit is open every refused call would log the same line: the breaker
        // logs when it opens and closes instead.
        spdlog::log(error.kind() == db::DbErrorKind::kCircuitOpen ? spdlog::level::debug
                                                                  : spdlog::level::err,
                    "request_id={} {} {}: database error ({}): {}", request.request_id,
                    request.method, request.path, unavailable ? "unavailable" : "failed",
                    error.what());
        if (error.kind() == db::DbErrorKind::kBusy) {
            // A bounded wait for a document lock or a pooled client ran out: load, not outage.
            return Response::problem(ApiError::unavailable("the service is busy; retry shortly", 1),
                                     request.path);
        }
        return Response::problem(
            unavailable ? ApiError::unavailable("the database is unavailable; retry shortly",
                                                error.retry_after_seconds())
                        : ApiError::internal(),
            request.path);
    } catch (const std::exception& error) {
        spdlog::error("request_id={} {} {}: unhandled error: {}", request.request_id,
                      request.method, request.path, error.what());
        return Response::problem(ApiError::internal(), request.path);
    }
}

std::vector<std::pair<std::string, std::string>> Router::routes() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Route& route : routes_) out.emplace_back(route.method, route.path_template);
    return out;
}

}  // namespace flaskcart::http
