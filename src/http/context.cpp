#include "http/context.hpp"

#include <boost/json.hpp>

namespace flaskcart::http {

const std::string& RequestContext::path_param(const std::string& name) const {
    static const std::string kEmpty;
    auto it = params_.find(name);
    return it == params_.end() ? kEmpty : it->second;
}

std::optional<std::string> RequestContext::query_param(const std::string& name) const {
    auto it = request_.query.find(name);
    if (it == request_.query.end()) return std::nullopt;
    return it->second;
}

boost::json::object RequestContext::json_body() const {
    const auto content_type = request_.header("content-type");
    if (!content_type) throw ApiError::unsupported_media_type("send the body as application/json");
    std::string media(content_type->substr(0, content_type->find(';')));
    while (!media.empty() && media.back() == ' ') media.pop_back();
    for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (media != "application/json") {
        throw ApiError::unsupported_media_type("send the body as application/json");
    }
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(request_.body, ec);
    if (ec) throw ApiError::bad_request("the body is not valid JSON");
    if (!value.is_object()) throw ApiError::bad_request("the body must be a JSON object");
    return std::move(value.as_object());
}

boost::json::object RequestContext::optional_json_body() const {
    if (request_.body.empty()) return {};
    return json_body();
}

}  // namespace flaskcart::http
