#pragma once
// Stock movements on `products`, recorded in the product document itself so that each one is a
// single conditional write — atomic on MongoDB, serialized per document in-process on FerretDB
// (Db::update_if) — and so safe to repeat after a crash:
//   stock_holds:   order ids whose units are taken from `stock` but not yet committed
//   stock_returns: order ids (cancelled) whose units have been put back into `stock`
// See services/checkout_service.hpp for how checkout and recovery use them.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace flaskcart::db {
class Db;
}

namespace flaskcart::models {

class WriteListener;

enum class ReserveResult { kReserved, kInsufficientStock, kNotFound };

struct ProductMarkers {
    std::string product_id;
    std::vector<std::string> order_ids;
};

// The seam checkout's compensation logic is tested through (a fake fails on the N-th call).
class StockLedger {
  public:
    virtual ~StockLedger() = default;
    // stock -= quantity and hold for `order_id`, only if stock ≥ quantity.
    virtual ReserveResult reserve(const std::string& product_id, std::int64_t quantity,
                                  const std::string& order_id) = 0;
    // Undo a hold: stock += quantity, only if `order_id` still holds units here. Idempotent.
    virtual void release_hold(const std::string& product_id, std::int64_t quantity,
                              const std::string& order_id) = 0;
    // The orders are placed: drop their hold markers, stock unchanged. One write however many
    // orders (the sweep gathers them per product). Idempotent.
    virtual void commit_holds(const std::string& product_id,
                              const std::vector<std::string>& order_ids) = 0;
    // A cancelled order's units go back: stock += quantity, once per (product, order).
    virtual void return_stock(const std::string& product_id, std::int64_t quantity,
                              const std::string& order_id) = 0;
    // After the order is marked restocked, the return marker is no longer needed.
    virtual void forget_return(const std::string& product_id, const std::string& order_id) = 0;
    // For the recovery sweep: products carrying hold / return markers.
    virtual std::vector<ProductMarkers> products_with_holds(std::int64_t limit) = 0;
    virtual std::vector<ProductMarkers> products_with_returns(std::int64_t limit) = 0;
};

class ProductStockLedger final : public StockLedger {
  public:
    explicit ProductStockLedger(db::Db& db) : db_(db) {}
    // Told about every stock movement while the product is still locked; set before serving.
    void set_listener(WriteListener* listener) noexcept { listener_ = listener; }
    ReserveResult reserve(const std::string& product_id, std::int64_t quantity,
                          const std::string& order_id) override;
    void release_hold(const std::string& product_id, std::int64_t quantity,
                      const std::string& order_id) override;
    void commit_holds(const std::string& product_id,
                      const std::vector<std::string>& order_ids) override;
    void return_stock(const std::string& product_id, std::int64_t quantity,
                      const std::string& order_id) override;
    void forget_return(const std::string& product_id, const std::string& order_id) override;
    std::vector<ProductMarkers> products_with_holds(std::int64_t limit) override;
    std::vector<ProductMarkers> products_with_returns(std::int64_t limit) override;

  private:
    // Runs the listener's stock_moved() inside Db::update_if, under the document's lock.
    std::function<void()> on_stock_moved(const std::string& product_id, std::int64_t delta);

    db::Db& db_;
    WriteListener* listener_ = nullptr;
};

}  // namespace flaskcart::models
