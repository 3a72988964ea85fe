#pragma once
// The domain's error: what went wrong in the shop's terms, with no HTTP in it. Services and
// models throw it; the HTTP layer turns each kind into a status and a problem+json document in
// one place (http::to_api_error), so the rules can be unit-tested without a server.

#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flaskcart {

// Field → message, in the order they were found.
using FieldErrors = std::vector<std::pair<std::string, std::string>>;

enum class ErrorKind {
    kInvalid,          // the input breaks a rule of its own (a field is wrong)
    kUnauthenticated,  // no valid credentials
    kForbidden,        // valid credentials, not allowed
    kNotFound,         // the thing named does not exist (or is not visible to the caller)
    kConflict,         // valid input that conflicts with the current state
    kRateLimited,      // too many attempts; retry later
    kUnavailable,      // a dependency is down or overloaded; retry later
};

class DomainError : public std::exception {
  public:
    DomainError(ErrorKind kind, std::string detail, FieldErrors fields = {},
                std::optional<int> retry_after_seconds = std::nullopt)
        : kind_(kind),
          detail_(std::move(detail)),
          fields_(std::move(fields)),
          retry_after_seconds_(retry_after_seconds) {}

    static DomainError invalid(FieldErrors fields) {
        return {ErrorKind::kInvalid, "the request has invalid fields", std::move(fields)};
    }
    static DomainError invalid(std::string field, std::string message) {
        return invalid(FieldErrors{{std::move(field), std::move(message)}});
    }
    static DomainError unauthenticated(std::string detail) {
        return {ErrorKind::kUnauthenticated, std::move(detail)};
    }
    static DomainError forbidden(std::string detail) {
        return {ErrorKind::kForbidden, std::move(detail)};
    }
    // `what` names the missing thing: "product", "cart line", "order".
    static DomainError not_found(const std::string& what) {
        return {ErrorKind::kNotFound, what + " not found"};
    }
    static DomainError conflict(std::string detail, FieldErrors fields = {}) {
        return {ErrorKind::kConflict, std::move(detail), std::move(fields)};
    }
    static DomainError rate_limited(int retry_after_seconds, std::string detail) {
        return {ErrorKind::kRateLimited, std::move(detail), {}, retry_after_seconds};
    }
    static DomainError unavailable(std::string detail, int retry_after_seconds = 1) {
        return {ErrorKind::kUnavailable, std::move(detail), {}, retry_after_seconds};
    }

    ErrorKind kind() const noexcept { return kind_; }
    const std::string& detail() const noexcept { return detail_; }
    const FieldErrors& fields() const noexcept { return fields_; }
    std::optional<int> retry_after_seconds() const noexcept { return retry_after_seconds_; }
    const char* what() const noexcept override { return detail_.c_str(); }

  private:
    ErrorKind kind_;
    std::string detail_;
    FieldErrors fields_;
    std::optional<int> retry_after_seconds_;
};

}  // namespace flaskcart
