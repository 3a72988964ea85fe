#pragma once
// The database's error type without the driver's types: the router and the composition root
// catch it, utils/db.* (which sees libmongoc) classifies the driver's errors into it.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace flaskcart::db {

// What a driver failure means to the service; classified once, in classify_error() (db.hpp).
// kUnavailable and kTimeout are transient (503 + Retry-After, and they open the circuit);
// kCircuitOpen is a call refused without reaching the driver while the circuit is open.
// kBusy is never a driver error: this process gave up waiting for one of its own resources
// (a document lock or a pooled client), so the database itself may be healthy.
enum class DbErrorKind {
    kDuplicateKey,
    kUnavailable,
    kTimeout,
    kBadQuery,
    kCircuitOpen,
    kOther,
    kBusy
};

// Thrown by every wrapper in utils/db.hpp. `what()` holds the driver's message: log it, never
// send it.
class DbError : public std::runtime_error {
  public:
    DbError(DbErrorKind kind, std::uint32_t domain, std::uint32_t code, const std::string& message,
            int retry_after_seconds = 2);
    DbErrorKind kind() const noexcept { return kind_; }
    std::uint32_t domain() const noexcept { return domain_; }
    std::uint32_t code() const noexcept { return code_; }
    bool is_unavailable() const noexcept {
        return kind_ == DbErrorKind::kUnavailable || kind_ == DbErrorKind::kTimeout ||
               kind_ == DbErrorKind::kCircuitOpen || kind_ == DbErrorKind::kBusy;
    }
    // For the 503's Retry-After when is_unavailable().
    int retry_after_seconds() const noexcept { return retry_after_seconds_; }

  private:
    DbErrorKind kind_;
    std::uint32_t domain_;
    std::uint32_t code_;
    int retry_after_seconds_;
};

// "duplicate_key", "unavailable", ... (the metrics label).
std::string_view error_kind_name(DbErrorKind kind) noexcept;

}  // namespace flaskcart::db
