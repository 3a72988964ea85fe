#include "http/message.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace flaskcart::http {

std::optional<std::string_view> Request::header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
}

Response Response::json(int status, const boost::json::value& body) {
    Response response;
    response.status = status;
    response.body = boost::json::serialize(body);
    return response;
}

Response Response::no_content() {
    Response response;
    response.status = 204;
    response.content_type.clear();
    return response;
}

Response Response::problem(const ApiError& error, const std::string& instance) {
    Response response;
    response.status = error.status();
    response.content_type = "application/problem+json";
    response.body = render_problem(error, instance);
    response.headers = error.headers();
    return response;
}

bool parse_target(std::string_view target, Request& out) {
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return false;
    const boost::urls::url_view& url = *parsed;
    out.path = url.path();
    if (out.path.empty()) out.path = "/";
    for (const auto& param : url.params()) {
        out.query.emplace(param.key, param.has_value ? param.value : std::string());
    }
    return true;
}

}  // namespace flaskcart::http
