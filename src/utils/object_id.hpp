#pragma once
// A MongoDB ObjectId without the driver's types, for the code that must not see libbson (routes,
// http, app.hpp). utils/db.hpp keeps the bson_oid_t forms the models build queries with.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flaskcart::db {

// Twelve bytes; written as 24 lower-case hex digits. A value type, cheap to copy.
class ObjectId {
  public:
    static constexpr std::size_t kBytes = 12;

    // Exactly 24 hex digits (either case), checked by libbson's bson_oid_is_valid; std::nullopt
    // for anything else. Never throws, so a client's id can never become a query.
    static std::optional<ObjectId> parse(std::string_view text) noexcept;

    std::string to_string() const;
    const std::array<std::uint8_t, kBytes>& bytes() const noexcept { return bytes_; }
    friend bool operator==(const ObjectId&, const ObjectId&) = default;

  private:
    std::array<std::uint8_t, kBytes> bytes_{};
};

}  // namespace flaskcart::db
