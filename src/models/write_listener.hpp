#pragma once
// What the stores tell the in-process read models after a write has reached the database, so
// that the instance that wrote reads its own writes at once (see services/change_feed.hpp).
// Calls that carry a document's state are made while the store still holds that document's
// in-process write lock (db::Db::lock_document), so a reload of the same document by the change
// feed cannot interleave between the database write and the read model's update.

#include <cstdint>
#include <string>
#include <string_view>

namespace flaskcart::models {

struct Product;
struct Category;

class WriteListener {
  public:
    virtual ~WriteListener() = default;
    // The product's whole current state, read back (or known) after the write.
    virtual void product_saved(const Product& product) = 0;
    virtual void product_removed(std::string_view product_id) = 0;
    // Stock moved by checkout, cancellation or recovery: stock += delta.
    virtual void stock_moved(std::string_view product_id, std::int64_t delta) = 0;
    virtual void category_saved(const Category& category) = 0;
    virtual void category_removed(std::string_view category_id) = 0;
    // Many products changed at once (seed-demo): reload the catalog.
    virtual void catalog_replaced() = 0;
    // A user was created or changed role (`role` is the new one).
    virtual void user_saved(std::string_view user_id, std::string_view role,
                            std::int64_t updated_at_ms) = 0;
    virtual void token_revoked(std::string_view token_id, std::int64_t expires_at_ms) = 0;
};

}  // namespace flaskcart::models
