#include "http/context.hpp"

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

JsonBody RequestContext::exact_json_body() const {
    const auto content_type = request_.header("content-type");
    if (!content_type) throw ApiError::unsupported_media_type("send the body as application/json");
    std::string media(content_type->substr(0, content_type->find(';')));
    while (!media.empty() && media.back() == ' ') media.pop_back();
    for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (media != "application/json") {
        throw ApiError::unsupported_media_type("send the body as application/json");
    }
    return parse_json_body(request_.body);
}

boost::json::object RequestContext::json_body() const {
    return exact_json_body().fields;
}

boost::json::object RequestContext::optional_json_body() const {
    if (request_.body.empty()) return {};
    return json_body();
}

}  // namespace flaskcart::http
