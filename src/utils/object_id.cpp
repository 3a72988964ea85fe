#include "utils/object_id.hpp"

#include <bson/bson.h>

#include <algorithm>

namespace flaskcart::db {

std::optional<ObjectId> ObjectId::parse(std::string_view text) noexcept {
    // bson_oid_is_valid also takes 25 bytes ending in NUL, which a string_view may hold.
    if (text.size() != 24 || !bson_oid_is_valid(text.data(), text.size())) return std::nullopt;
    std::array<char, 25> terminated{};
    std::copy(text.begin(), text.end(), terminated.begin());
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, terminated.data());
    ObjectId id;
    std::copy(std::begin(oid.bytes), std::end(oid.bytes), id.bytes_.begin());
    return id;
}

std::string ObjectId::to_string() const {
    bson_oid_t oid;
    std::copy(bytes_.begin(), bytes_.end(), std::begin(oid.bytes));
    std::array<char, 25> text{};
    bson_oid_to_string(&oid, text.data());
    return std::string(text.data(), 24);
}

}  // namespace flaskcart::db
