#pragma once
// What a handler gets: the request, its path parameters, and the caller once authenticated.

#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <string>

#include "http/json_body.hpp"
#include "http/message.hpp"
#include "services/principal.hpp"

namespace flaskcart::http {

// The authenticated caller, from a verified token (see services/auth).
using Principal = services::Principal;

class RequestContext {
  public:
    RequestContext(Request& request, std::map<std::string, std::string> params)
        : request_(request), params_(std::move(params)) {}

    const Request& request() const noexcept { return request_; }
    const std::string& path_param(const std::string& name) const;
    std::optional<std::string> query_param(const std::string& name) const;
    std::optional<std::string_view> header(const std::string& lower_name) const {
        return request_.header(lower_name);
    }
    // The body as a JSON object: 415 unless the content type is JSON, 400 when it is not valid
    // JSON or not an object.
    boost::json::object json_body() const;
    // Like json_body(), keeping the text of its top-level numbers so amounts are read exactly.
    JsonBody exact_json_body() const;
    // Like json_body(), but an absent body reads as {}.
    boost::json::object optional_json_body() const;

    std::optional<Principal> principal;

  private:
    Request& request_;
    std::map<std::string, std::string> params_;
};

}  // namespace flaskcart::http
