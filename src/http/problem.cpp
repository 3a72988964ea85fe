#include "http/problem.hpp"

#include <boost/json.hpp>

#include "utils/text.hpp"

namespace flaskcart::http {

ApiError::ApiError(int status, std::string type, std::string title, std::string detail,
                   FieldErrors errors, HeaderList headers)
    : status_(status),
      type_(std::move(type)),
      title_(std::move(title)),
      detail_(std::move(detail)),
      errors_(std::move(errors)),
      headers_(std::move(headers)) {
    if (errors_.size() > kMaxListedFieldErrors) {
        omitted_errors_ = errors_.size() - kMaxListedFieldErrors;
        errors_.resize(kMaxListedFieldErrors);
    }
}

ApiError ApiError::bad_request(std::string detail) {
    return {400, "bad-request", "Bad Request", std::move(detail)};
}
ApiError ApiError::validation(FieldErrors errors) {
    return {422, "validation-error", "Unprocessable Content", "the request has invalid fields",
            std::move(errors)};
}
ApiError ApiError::validation(std::string field, std::string message) {
    return validation(FieldErrors{{std::move(field), std::move(message)}});
}
ApiError ApiError::unauthorized(std::string detail) {
    return {401,
            "unauthorized",
            "Unauthorized",
            std::move(detail),
            {},
            {{"WWW-Authenticate", "Bearer realm=\"flaskcart\""}}};
}
ApiError ApiError::forbidden(std::string detail) {
    return {403, "forbidden", "Forbidden", std::move(detail)};
}
ApiError ApiError::not_found(const std::string& what) {
    return {404, "not-found", "Not Found", what + " not found"};
}
ApiError ApiError::method_not_allowed(const std::string& allow) {
    return {405, "method-not-allowed", "Method Not Allowed", "this resource supports: " + allow,
            {},  {{"Allow", allow}}};
}
ApiError ApiError::conflict(std::string detail, FieldErrors errors) {
    return {409, "conflict", "Conflict", std::move(detail), std::move(errors)};
}
ApiError ApiError::payload_too_large(std::string detail) {
    return {413, "payload-too-large", "Content Too Large", std::move(detail)};
}
ApiError ApiError::unsupported_media_type(std::string detail) {
    return {415, "unsupported-media-type", "Unsupported Media Type", std::move(detail)};
}
ApiError ApiError::unprocessable(std::string detail, FieldErrors errors) {
    return {422, "unprocessable", "Unprocessable Content", std::move(detail), std::move(errors)};
}
ApiError ApiError::too_many_requests(int retry_after_seconds, std::string detail) {
    return {429,
            "too-many-requests",
            "Too Many Requests",
            std::move(detail),
            {},
            {{"Retry-After", std::to_string(retry_after_seconds)}}};
}
ApiError ApiError::unavailable(std::string detail, int retry_after_seconds) {
    return {503,
            "service-unavailable",
            "Service Unavailable",
            std::move(detail),
            {},
            {{"Retry-After", std::to_string(retry_after_seconds)}}};
}

ApiError ApiError::internal() {
    return {500, "internal", "Internal Server Error",
            "an unexpected error occurred; it has been logged"};
}

ApiError to_api_error(const DomainError& error) {
    const auto& detail = error.detail();
    const auto retry_after = error.retry_after_seconds();
    switch (error.kind()) {
        case ErrorKind::kInvalid:
            return {422, "validation-error", "Unprocessable Content", detail, error.fields()};
        case ErrorKind::kUnauthenticated:
            return ApiError::unauthorized(detail);
        case ErrorKind::kForbidden:
            return {403, "forbidden", "Forbidden", detail, error.fields()};
        case ErrorKind::kNotFound:
            return {404, "not-found", "Not Found", detail, error.fields()};
        case ErrorKind::kConflict: {
            HeaderList headers;
            if (retry_after) headers.emplace_back("Retry-After", std::to_string(*retry_after));
            return {409, "conflict", "Conflict", detail, error.fields(), std::move(headers)};
        }
        case ErrorKind::kRateLimited:
            return ApiError::too_many_requests(retry_after.value_or(1), detail);
        case ErrorKind::kUnavailable:
            return ApiError::unavailable(detail, retry_after.value_or(1));
    }
    return ApiError::internal();
}

std::string render_problem(const ApiError& error, const std::string& instance) {
    boost::json::object body;
    body["type"] = "/problems/" + error.type();
    body["title"] = error.title();
    body["status"] = error.status();
    body["detail"] = text::to_valid_utf8(error.detail());
    if (!instance.empty()) body["instance"] = text::to_valid_utf8(instance);
    if (!error.errors().empty()) {
        boost::json::object fields;
        for (const auto& [field, message] : error.errors()) {
            fields[text::to_valid_utf8(field)] = text::to_valid_utf8(message);
        }
        body["errors"] = std::move(fields);
    }
    if (error.omitted_errors() > 0) body["errors_omitted"] = error.omitted_errors();
    return boost::json::serialize(body);
}

}  // namespace flaskcart::http
