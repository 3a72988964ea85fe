#pragma once
// The one error type of the API. Handlers throw it; the router renders it (RFC 9457) in one place.

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "utils/errors.hpp"

namespace flaskcart::http {

using flaskcart::FieldErrors;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A problem document lists at most this many field errors and counts the rest, so a body with
// 90,000 unknown keys costs a small answer, not a 3 MB one.
inline constexpr std::size_t kMaxListedFieldErrors = 20;

class ApiError : public std::exception {
  public:
    // Keeps the first kMaxListedFieldErrors of `errors`; omitted_errors() counts the others.
    ApiError(int status, std::string type, std::string title, std::string detail,
             FieldErrors errors = {}, HeaderList headers = {});

    static ApiError bad_request(std::string detail);
    static ApiError validation(FieldErrors errors);
    static ApiError validation(std::string field, std::string message);
    static ApiError unauthorized(std::string detail = "a valid bearer token is required");
    static ApiError forbidden(std::string detail = "you may not do this");
    static ApiError not_found(const std::string& what);
    static ApiError method_not_allowed(const std::string& allow);
    static ApiError conflict(std::string detail, FieldErrors errors = {});
    static ApiError payload_too_large(std::string detail);
    static ApiError unsupported_media_type(std::string detail);
    static ApiError unprocessable(std::string detail, FieldErrors errors = {});
    static ApiError too_many_requests(int retry_after_seconds, std::string detail);
    static ApiError unavailable(std::string detail = "the service is temporarily unavailable",
                                int retry_after_seconds = 1);
    static ApiError internal();

    int status() const noexcept { return status_; }
    const std::string& type() const noexcept { return type_; }
    const std::string& title() const noexcept { return title_; }
    const std::string& detail() const noexcept { return detail_; }
    const FieldErrors& errors() const noexcept { return errors_; }
    std::size_t omitted_errors() const noexcept { return omitted_errors_; }
    const HeaderList& headers() const noexcept { return headers_; }
    const char* what() const noexcept override { return detail_.c_str(); }

  private:
    int status_;
    std::string type_;
    std::string title_;
    std::string detail_;
    FieldErrors errors_;
    std::size_t omitted_errors_ = 0;
    HeaderList headers_;
};

// problem+json body for an error, with `instance` set to the request path. Always valid UTF-8
// JSON: bytes from the client that are not valid UTF-8 are replaced by U+FFFD.
// The one mapping from the domain's error kinds to HTTP statuses and problem types.
ApiError to_api_error(const DomainError& error);

std::string render_problem(const ApiError& error, const std::string& instance);

}  // namespace flaskcart::http
