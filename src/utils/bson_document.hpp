#pragma once
// Typed construction of BSON documents for the stores: no BCON_NEW, BSON_APPEND_* or bson_t
// juggling at the call site. A document is built by a DocumentBuilder and owned by db::Bson;
// it is read through db::BsonView's typed getters (utils/db.hpp).
//
//   db::Bson update = db::DocumentBuilder()
//                         .append_document("$set", [&](db::DocumentBuilder& set) {
//                             set.append("name", name).append("updated_at", db::now());
//                         })
//                         .build();
//   collection.update_one(db::id_filter(id), update);
//
// Keys are program constants (never client input). Appending fails only when a document would
// outgrow BSON's size limit: std::length_error.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "utils/db.hpp"

namespace flaskcart::db {

// TimePoint (utils/db.hpp) is a BSON date.
TimePoint time_from_ms(std::int64_t ms) noexcept;
TimePoint now() noexcept;

// Raw bytes stored as BSON binary (subtype 0, generic), e.g. an uploaded image. The bytes are
// copied on append; the view need only live until then.
struct Binary {
    std::string_view bytes;
};

class ArrayBuilder;

// Builds one document, field by field, in the order appended. A builder made with the default
// constructor owns its document until build(); the ones handed to append_document()/
// append_array() callbacks write into their parent and must not outlive the callback.
// Not thread-safe; move-only.
class DocumentBuilder {
  public:
    DocumentBuilder();
    // Continues `document`: appends go after the fields it already has.
    explicit DocumentBuilder(Bson document);
    DocumentBuilder(DocumentBuilder&& other) noexcept;
    DocumentBuilder& operator=(DocumentBuilder&&) = delete;
    DocumentBuilder(const DocumentBuilder&) = delete;
    DocumentBuilder& operator=(const DocumentBuilder&) = delete;
    ~DocumentBuilder() = default;

    DocumentBuilder& append(std::string_view key, std::string_view value);
    DocumentBuilder& append(std::string_view key, const char* value);  // a C string, not a bool
    DocumentBuilder& append(std::string_view key, std::int32_t value);
    DocumentBuilder& append(std::string_view key, std::int64_t value);
    DocumentBuilder& append(std::string_view key, bool value);
    DocumentBuilder& append(std::string_view key, double value);
    DocumentBuilder& append(std::string_view key, const bson_oid_t& value);
    DocumentBuilder& append(std::string_view key, TimePoint value);
    DocumentBuilder& append(std::string_view key, Binary value);
    // An embedded document (copied).
    DocumentBuilder& append(std::string_view key, const Bson& document);
    // Any other pointer would silently become a bool.
    template <typename T>
    DocumentBuilder& append(std::string_view key, const T* value) = delete;

    // Every field of `document`, in order, as fields of this one (e.g. {_id} ∪ a condition).
    DocumentBuilder& append_fields(const Bson& document);

    // Appends `value` when it holds one; an empty optional leaves the document unchanged.
    template <typename T>
    DocumentBuilder& append_if_present(std::string_view key, const std::optional<T>& value) {
        if (value) append(key, *value);
        return *this;
    }

    // An embedded document written in place: fill(DocumentBuilder&) appends its fields.
    template <typename Fill>
    DocumentBuilder& append_document(std::string_view key, Fill&& fill);
    // An embedded array written in place: fill(ArrayBuilder&) appends its elements.
    template <typename Fill>
    DocumentBuilder& append_array(std::string_view key, Fill&& fill);

    // The document built so far; the builder is spent afterwards (appending throws
    // std::logic_error). Only on a builder made with the default constructor.
    Bson build();

  private:
    friend class ArrayBuilder;
    explicit DocumentBuilder(bson_t* parent_owned_child) noexcept;  // a nested level
    bson_t* target();
    static void check(bool appended, std::string_view key);

    Bson owned_;
    bson_t* target_;
};

// Builds one array; elements get the keys "0", "1", ... in append order. Only reachable inside
// DocumentBuilder::append_array() / ArrayBuilder::append_array() callbacks, or standalone for
// a top-level array (an aggregation pipeline): then build() returns it.
class ArrayBuilder {
  public:
    ArrayBuilder();
    ArrayBuilder(ArrayBuilder&& other) noexcept;
    ArrayBuilder& operator=(ArrayBuilder&&) = delete;
    ArrayBuilder(const ArrayBuilder&) = delete;
    ArrayBuilder& operator=(const ArrayBuilder&) = delete;
    ~ArrayBuilder() = default;

    ArrayBuilder& append(std::string_view value) { return add(value); }
    ArrayBuilder& append(const char* value) { return add(value); }
    ArrayBuilder& append(std::int32_t value) { return add(value); }
    ArrayBuilder& append(std::int64_t value) { return add(value); }
    ArrayBuilder& append(bool value) { return add(value); }
    ArrayBuilder& append(double value) { return add(value); }
    ArrayBuilder& append(const bson_oid_t& value) { return add(value); }
    ArrayBuilder& append(TimePoint value) { return add(value); }
    ArrayBuilder& append(Binary value) { return add(value); }
    ArrayBuilder& append(const Bson& document) { return add(document); }
    template <typename T>
    ArrayBuilder& append(const T* value) = delete;

    template <typename Fill>
    ArrayBuilder& append_document(Fill&& fill) {
        elements_.append_document(next_key(), std::forward<Fill>(fill));
        return *this;
    }
    template <typename Fill>
    ArrayBuilder& append_array(Fill&& fill) {
        elements_.append_array(next_key(), std::forward<Fill>(fill));
        return *this;
    }

    std::uint32_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    // The array as a document with keys "0", "1", ... (what libmongoc takes for a pipeline).
    Bson build() { return elements_.build(); }

  private:
    friend class DocumentBuilder;
    explicit ArrayBuilder(bson_t* parent_owned_child) noexcept : elements_(parent_owned_child) {}
    std::string_view next_key();
    template <typename T>
    ArrayBuilder& add(const T& value) {
        elements_.append(next_key(), value);
        return *this;
    }

    DocumentBuilder elements_;  // an array is a document with index keys
    std::uint32_t size_ = 0;
    char key_[16] = {};
};

namespace detail {
// Begin/end of an embedded document or array inside `parent`; end() must follow begin().
void begin_document(bson_t* parent, std::string_view key, bson_t* child);
void end_document(bson_t* parent, bson_t* child);
void begin_array(bson_t* parent, std::string_view key, bson_t* child);
void end_array(bson_t* parent, bson_t* child);
}  // namespace detail

template <typename Fill>
DocumentBuilder& DocumentBuilder::append_document(std::string_view key, Fill&& fill) {
    bson_t* parent = target();
    bson_t child;
    detail::begin_document(parent, key, &child);
    DocumentBuilder nested(&child);
    std::forward<Fill>(fill)(nested);
    detail::end_document(parent, &child);
    return *this;
}

template <typename Fill>
DocumentBuilder& DocumentBuilder::append_array(std::string_view key, Fill&& fill) {
    bson_t* parent = target();
    bson_t child;
    detail::begin_array(parent, key, &child);
    ArrayBuilder nested(&child);
    std::forward<Fill>(fill)(nested);
    detail::end_array(parent, &child);
    return *this;
}

// {_id: id}: the filter of every single-document read and write by key.
Bson id_filter(const bson_oid_t& id);
Bson id_filter(std::string_view id);  // a string _id (revoked token, lease term, counter)

// {$in: [values...]} and {$nin: [values...]}, to append under the field they constrain:
//   DocumentBuilder().append("_id", db::in_array(ids)).build()
template <typename Range>
Bson in_array(const Range& values) {
    return DocumentBuilder()
        .append_array("$in",
                      [&](ArrayBuilder& array) {
                          for (const auto& value : values) array.append(value);
                      })
        .build();
}
template <typename Range>
Bson not_in_array(const Range& values) {
    return DocumentBuilder()
        .append_array("$nin",
                      [&](ArrayBuilder& array) {
                          for (const auto& value : values) array.append(value);
                      })
        .build();
}

}  // namespace flaskcart::db
