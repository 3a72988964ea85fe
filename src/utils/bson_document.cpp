#include "utils/bson_document.hpp"

#include <limits>
#include <stdexcept>
#include <string>

namespace flaskcart::db {

namespace {

// libbson takes key lengths as int; a key is a program constant, so this never truncates.
int key_length(std::string_view key) {
    if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw std::length_error("BSON key too long");
    }
    return static_cast<int>(key.size());
}

std::uint32_t byte_length(std::string_view bytes) {
    if (bytes.size() > std::numeric_limits<std::uint32_t>::max()) {
        throw std::length_error("BSON value too long");
    }
    return static_cast<std::uint32_t>(bytes.size());
}

}  // namespace

TimePoint time_from_ms(std::int64_t ms) noexcept {
    return TimePoint(std::chrono::milliseconds(ms));
}

TimePoint now() noexcept {
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// --- DocumentBuilder --------------------------------------------------------------------------

DocumentBuilder::DocumentBuilder() : target_(owned_.get()) {}

DocumentBuilder::DocumentBuilder(Bson document)
    : owned_(std::move(document)), target_(owned_.get()) {
    if (target_ == nullptr) throw std::logic_error("DocumentBuilder over a moved-from document");
}

DocumentBuilder::DocumentBuilder(bson_t* parent_owned_child) noexcept
    : owned_(nullptr), target_(parent_owned_child) {}

DocumentBuilder::DocumentBuilder(DocumentBuilder&& other) noexcept
    : owned_(std::move(other.owned_)), target_(std::exchange(other.target_, nullptr)) {}

bson_t* DocumentBuilder::target() {
    if (target_ == nullptr) throw std::logic_error("DocumentBuilder used after build()");
    return target_;
}

void DocumentBuilder::check(bool appended, std::string_view key) {
    if (!appended) {
        throw std::length_error("BSON document too large to append \"" + std::string(key) + "\"");
    }
}

DocumentBuilder& DocumentBuilder::append(std::string_view key, std::string_view value) {
    if (value.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw std::length_error("BSON string too long");
    }
    check(bson_append_utf8(target(), key.data(), key_length(key), value.data(),
                           static_cast<int>(value.size())),
          key);
    return *this;
}

DocumentBuilder& DocumentBuilder::append(std::string_view key, const char* value) {
    if (value == nullptr) throw std::invalid_argument("null C string for BSON field");
    return append(key, std::string_view(value));
}

DocumentBuilder& DocumentBuilder::append(std::string_view key, std::int32_t value) {
    check(bson_append_int32(target(), key.data(), key_length(key), value), key);
    return *this;
}

DocumentBuilder& DocumentBuilder::append(std::string_view key, std::int64_t value) {
    check(bson_append_int64(target(), key.data(), key_length(key), value), key);
    return *this;
}

DocumentBuilder& DocumentBuilder::append(std::string_view key, bool value) {
    check(bson_append_bool(target(), key.data(), key_length(key), value), key);
    return *this;
}

DocumentBuilder& DocumentBuilder::append(std::string_view key, double value) {
    check(bson_append_double(target(), key.data(), key_length(key), value), key);
    return *this;
}

DocumentBuilder& DocumentBuilder::append(std::string_view key, const bson_oid_t& value) {
    check(bson_append_oid(target(), key.data(), key_length(key), &value), key);
    return *this;
}

DocumentBuilder& DocumentBuilder::append(std::string_view key, TimePoint value) {
    check(bson_append_date_time(target(), key.data(), key_length(key),
                                value.time_since_epoch().count()),
          key);
    return *this;
}

DocumentBuilder& DocumentBuilder::append(std::string_view key, Binary value) {
    check(bson_append_binary(target(), key.data(), key_length(key), BSON_SUBTYPE_BINARY,
                             reinterpret_cast<const std::uint8_t*>(value.bytes.data()),
                             byte_length(value.bytes)),
          key);
    return *this;
}

DocumentBuilder& DocumentBuilder::append(std::string_view key, const Bson& document) {
    check(bson_append_document(target(), key.data(), key_length(key), document.get()), key);
    return *this;
}

DocumentBuilder& DocumentBuilder::append_fields(const Bson& document) {
    check(bson_concat(target(), document.get()), "(fields of a document)");
    return *this;
}

Bson DocumentBuilder::build() {
    if (owned_.get() == nullptr) {
        throw std::logic_error("DocumentBuilder::build() on a spent or nested builder");
    }
    target_ = nullptr;
    return std::move(owned_);
}

namespace detail {

void begin_document(bson_t* parent, std::string_view key, bson_t* child) {
    if (!bson_append_document_begin(parent, key.data(), key_length(key), child)) {
        throw std::length_error("BSON document too large to begin \"" + std::string(key) + "\"");
    }
}

void end_document(bson_t* parent, bson_t* child) {
    if (!bson_append_document_end(parent, child)) {
        throw std::length_error("BSON document too large to end an embedded document");
    }
}

void begin_array(bson_t* parent, std::string_view key, bson_t* child) {
    if (!bson_append_array_begin(parent, key.data(), key_length(key), child)) {
        throw std::length_error("BSON document too large to begin \"" + std::string(key) + "\"");
    }
}

void end_array(bson_t* parent, bson_t* child) {
    if (!bson_append_array_end(parent, child)) {
        throw std::length_error("BSON document too large to end an embedded array");
    }
}

}  // namespace detail

// --- ArrayBuilder -----------------------------------------------------------------------------

ArrayBuilder::ArrayBuilder() = default;

ArrayBuilder::ArrayBuilder(ArrayBuilder&& other) noexcept
    : elements_(std::move(other.elements_)), size_(std::exchange(other.size_, 0)) {}

std::string_view ArrayBuilder::next_key() {
    const char* key = nullptr;
    const std::size_t length = bson_uint32_to_string(size_, &key, key_, sizeof key_);
    ++size_;
    return {key, length};
}

// --- filters ----------------------------------------------------------------------------------

Bson id_filter(const bson_oid_t& id) {
    return DocumentBuilder().append("_id", id).build();
}

Bson id_filter(std::string_view id) {
    return DocumentBuilder().append("_id", id).build();
}

}  // namespace flaskcart::db
