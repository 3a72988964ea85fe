#include "utils/db_error.hpp"

namespace flaskcart::db {

DbError::DbError(DbErrorKind kind, std::uint32_t domain, std::uint32_t code,
                 const std::string& message, int retry_after_seconds)
    : std::runtime_error(message),
      kind_(kind),
      domain_(domain),
      code_(code),
      retry_after_seconds_(retry_after_seconds) {}

std::string_view error_kind_name(DbErrorKind kind) noexcept {
    switch (kind) {
        case DbErrorKind::kDuplicateKey:
            return "duplicate_key";
        case DbErrorKind::kUnavailable:
            return "unavailable";
        case DbErrorKind::kTimeout:
            return "timeout";
        case DbErrorKind::kBadQuery:
            return "bad_query";
        case DbErrorKind::kCircuitOpen:
            return "circuit_open";
        case DbErrorKind::kBusy:
            return "busy";
        case DbErrorKind::kOther:
            break;
    }
    return "other";
}

}  // namespace flaskcart::db
